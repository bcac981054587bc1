"""The demo clinic's held sessions each have a full signed chair-side record, consistent with the
ledger, with alerts graded by the core and acknowledged, and the demo stays quick to build."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.audit.trail import verify_chain
from kapstone.chairside.models import (
    AdverseEvent,
    ChairsideRecord,
    DischargeSignoff,
    DoseAdministration,
    SessionAlert,
)
from kapstone.chairside.selectors import dose_and_dissociation
from kapstone.clinical.ledger_entries import EntryKind
from kapstone.demo.generator import build_demo_clinic
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.ledger.models import DrawAccount, LedgerEntry


def test_every_held_demo_session_has_a_signed_chairside_record(db):
    now = timezone.now()
    build_demo_clinic(patients=14, seed=2026, today=timezone.localdate(now), history_until=now)

    held = DosingSession.objects.filter(ends_at__lte=now).exclude(status=SessionStatus.CANCELLED)
    assert held.count() > 10
    assert set(held.values_list("status", flat=True)) == {SessionStatus.COMPLETED}
    records = ChairsideRecord.objects.filter(session__in=held)
    assert records.count() == held.count()
    assert not records.filter(signed_at__isnull=True).exists()
    assert DischargeSignoff.objects.filter(record__in=records).count() == records.count()
    assert AuditEntry.objects.filter(action="chairside.signed").count() == records.count()

    # The dose on the chart is the ledger's 'administered' entry, linked to it.
    for entry in LedgerEntry.objects.filter(kind=EntryKind.ADMINISTERED, dosing_session__in=held):
        dose = entry.dosing_session.chairside.doses.get()
        assert dose.ledger_entry == entry
        assert dose.dose_mg == entry.lot.product.milligrams(entry.quantity)  # µg or devices

    # Vitals at the protocol's cadence; a few alerts, each graded by the core and acknowledged.
    record = records.first()
    assert record.vitals.count() >= 6 and record.vitals.filter(is_baseline=True).count() == 1
    alerts = SessionAlert.objects.filter(record__in=records)
    assert alerts.exists() and not alerts.filter(acknowledgement__isnull=True).exists()
    assert AdverseEvent.objects.filter(record__in=records).exists()
    facts = dose_and_dissociation(held.values_list("pk", flat=True))
    assert all(f.dissociation_scale == "cadss_6" and f.dissociation_score for f in facts.values())

    assert verify_chain()[1] is None

    # One entry for each dose: every charted dose is a 'given' entry of the same amount, every
    # draw of a signed session is closed, and `kapstone verify_ledger` agrees.
    doses = DoseAdministration.objects.filter(record__in=records).select_related(
        "ledger_entry__lot__product"
    )
    assert doses.count() == records.count()
    for dose in doses:
        entry = dose.ledger_entry
        assert entry.kind == EntryKind.ADMINISTERED
        assert entry.lot.product.milligrams(entry.quantity) == dose.dose_mg
    assert not DrawAccount.objects.filter(draw__dosing_session__in=held, closed=False).exists()
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    assert "every charted dose with its 'given' entry" in out.getvalue()
