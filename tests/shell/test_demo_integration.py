"""The demo clinic's integration sessions: one signed note after every retreat dose held, inside the
window, in a modality the therapist holds, with SUD falling for responders; built quickly."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kapstone.demo.generator import build_demo_clinic
from kapstone.demo.integration import build_integration
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.integration import selectors
from kapstone.integration.models import IntegrationNote, IntegrationSession, IntegrationStatus
from kapstone.integration.services import signing_warnings
from kapstone.measures.models import MeasurementCarePlan


def test_every_held_retreat_dose_has_a_signed_integration_note(db):
    now = timezone.now().replace(microsecond=0)
    clinic = build_demo_clinic(
        patients=14, seed=2026, today=timezone.localdate(now), history_until=now
    )
    retreats = {
        plan.patient_id
        for plan in MeasurementCarePlan.objects.filter(superseded_by__isnull=True)
        if plan.plan == "intensive-retreat"
    }
    held = DosingSession.objects.filter(
        patient_id__in=retreats, starts_at__lte=now - dt.timedelta(hours=6)
    ).exclude(status=SessionStatus.CANCELLED)
    # Today's day-board patients (KAP-91xx) have integration booked after today's dose, not held.
    sessions = IntegrationSession.objects.exclude(patient__mrn__startswith="KAP-91")
    assert held.count() > 20
    assert sessions.count() == held.count()
    assert set(sessions.values_list("dosing_session_id", flat=True)) == set(
        held.values_list("pk", flat=True)
    )
    assert not sessions.exclude(status=IntegrationStatus.COMPLETED).exists()
    for note in IntegrationNote.objects.select_related("session", "dosing_session", "author"):
        assert note.signature.signed_by == note.author == note.session.therapist
        assert (
            dt.timedelta(0) < note.held_at - note.dosing_session.starts_at <= dt.timedelta(hours=24)
        )
        assert 60 <= note.minutes <= 90
        assert note.structured["homework"]
        assert signing_warnings(note) == ()
    # Somebody's EMDR course shows SUD falling from its first to its last session.
    falling = []
    for patient in clinic.patients:
        rows = [r for r in selectors.course_trend(patient) if r.measures.sud_before is not None]
        if len(rows) >= 4:
            falling.append(rows[-1].measures.sud_before < rows[0].measures.sud_before)
            assert rows[-1].measures.voc_before >= rows[0].measures.voc_before - 1
    assert falling and any(falling)


def test_the_integration_step_runs_alone_after_the_history(db):
    # Speed is for benchmarks, not tests (no timing assertions): this checks the step on its own.
    now = timezone.now().replace(microsecond=0)
    build_demo_clinic(patients=36, seed=2026, today=timezone.localdate(now))
    # The history without the integration step, then the step alone, timed.
    import random

    from kapstone.demo.history import build_history
    from kapstone.patients.models import Patient

    build_history(patients=list(Patient.objects.order_by("mrn")), rng=random.Random(2027), now=now)
    count = build_integration(now=now)
    assert count > 40
