"""The demo clinic shows measurement-based care at work: realistic score trajectories with responders
and non-responders, one relapse warning, one open suicide-risk alert, a reviewed dosing hold, and
measures missed so the work queue has something to chase."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kapstone.audit.trail import verify_chain
from kapstone.demo.generator import build_demo_clinic
from kapstone.dosing.models import DosingSession
from kapstone.ledger.models import DrawAccount, LedgerEntry, StockBalance
from kapstone.ledger.verify import verify_caches as ledger_caches
from kapstone.ledger.verify import verify_chain as ledger_chain
from kapstone.measures.selectors import schedule_for
from kapstone.outcomes.selectors import patient_outcomes
from kapstone.safety.models import DosingHold, SafetyAlert


def phq9(patient, now):
    cards = [c for c in patient_outcomes(patient, now).cards if c.name == "PHQ-9"]
    return cards[0] if cards else None


def test_the_demo_history_shows_every_part_of_measurement_based_care(db):
    # The history is laid out on local clock hours (doses at 09:00, follow-ups through the day):
    # build it as of yesterday's early afternoon so the picture does not depend on when CI runs.
    now = timezone.make_aware(
        dt.datetime.combine(timezone.localdate() - dt.timedelta(days=1), dt.time(13, 30))
    )
    clinic = build_demo_clinic(
        patients=14, seed=2026, today=timezone.localdate(now), history_until=now
    )

    # Trajectories: responders, remitters, non-responders, and exactly one relapse warning.
    outcomes = [c.outcome for p in clinic.patients if (c := phq9(p, now)) is not None]
    assert len(outcomes) >= 8
    assert any(o.response for o in outcomes)
    assert any(o.remission for o in outcomes)
    assert any(o.response is False and o.follow_up_count >= 2 for o in outcomes)
    assert sum(len(o.relapse_warnings) > 0 for o in outcomes) == 1
    assert all(0 <= o.latest.total <= 27 for o in outcomes)

    # One open alert, fresh enough not to have escalated; earlier ones acknowledged.
    (open_alert,) = SafetyAlert.objects.filter(acknowledgement__isnull=True)
    assert "PHQ-9" in open_alert.reason
    assert now - open_alert.raised_at < dt.timedelta(minutes=open_alert.escalate_after_minutes)
    assert SafetyAlert.objects.filter(acknowledgement__isnull=False).count() >= 2

    # A high C-SSRS at intake held dosing; sessions were booked only after the prescriber's review.
    hold = DosingHold.objects.get()
    assert not hold.is_active and hold.review.by.staff_role == "prescriber"
    sessions = list(hold.patient.dosing_sessions.all())
    assert sessions and all(s.booked_at >= hold.review.at for s in sessions)

    # A few measures were missed, so the work queue has something to chase.
    schedules = [schedule_for(p, now) for p in clinic.patients]
    assert sum(len(s.work_queue) for s in schedules if s is not None) > 0

    assert verify_chain()[1] is None

    # The ledger balances with the sessions: one closed draw per session held, given equal to its
    # dose and everything else witnessed waste, and each safe's book what was received less drawn.
    # Esketamine is drawn and given as whole nasal devices; today's day-board patients (KAP-91xx)
    # are mid-session, their draws still open.
    held = (
        DosingSession.objects.filter(starts_at__lte=now)
        .exclude(status="cancelled")
        .exclude(patient__mrn__startswith="KAP-91")
    )
    accounts = DrawAccount.objects.select_related("draw__dosing_session").exclude(
        draw__dosing_session__patient__mrn__startswith="KAP-91"
    )
    assert sorted(a.draw.dosing_session_id for a in accounts) == sorted(s.pk for s in held)
    for account in accounts:
        assert account.closed and account.given + account.wasted == account.drawn
        assert account.draw.witness_id is None  # the draw itself; the waste is witnessed
    wastes = LedgerEntry.objects.filter(kind="waste")
    # Solution left in the syringe is wasted; sealed devices are given whole, nothing to waste.
    assert wastes.count() == sum(1 for a in accounts if a.wasted) > 0
    assert all(w.witness_id for w in wastes)
    received = sum(e.quantity for e in LedgerEntry.objects.filter(kind="receipt"))
    drawn = sum(a.drawn for a in DrawAccount.objects.all())
    assert sum(b.balance for b in StockBalance.objects.all()) == received - drawn > 0
    assert ledger_chain()[1] is None and ledger_caches() is None
