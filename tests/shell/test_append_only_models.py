"""Every AppendOnly model refuses, in Python and before any SQL, to change or delete a stored row;
the safety and ledger rows, once guarded only by their triggers, now do too. The triggers still
refuse what goes around the model (a bulk update)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from kapstone.kernel.append_only import AppendOnly, AppendOnlyError, append_only_tables
from kapstone.ledger.models import LedgerEntry, ReceiptDetail
from kapstone.safety.models import AlertNotice, DosingHold, SafetyAlert
from kapstone.safety.services import raise_alert
from tests.shell.ledger_support import receive_vials


def refused_without_sql(row, django_assert_num_queries, **changes):
    """Changing ``row`` and saving it, saving only the changed fields, and deleting it each raise
    AppendOnlyError without a query reaching the database."""
    for name, value in changes.items():
        setattr(row, name, value)
    with django_assert_num_queries(0):
        with pytest.raises(AppendOnlyError, match="append-only: add a new row"):
            row.save()
        with pytest.raises(AppendOnlyError, match="append-only: add a new row"):
            row.save(update_fields=list(changes))
        with pytest.raises(AppendOnlyError, match="never deleted"):
            row.delete()


def test_a_stored_suicide_risk_alert_and_its_hold_refuse_change_and_delete(
    clinic, django_assert_num_queries
):
    raised = raise_alert(patient=clinic.on_team, reason="PHQ-9 item 9", hold_dosing=True)
    alert = SafetyAlert.objects.get(pk=raised.pk)
    hold = DosingHold.objects.get(alert=alert)
    assert isinstance(alert, AppendOnly) and isinstance(hold, AppendOnly)

    refused_without_sql(alert, django_assert_num_queries, reason="nothing to see")
    refused_without_sql(hold, django_assert_num_queries, reason="lifted")
    # The row returned by the service is stored too: it is no more changeable than one read back.
    refused_without_sql(raised, django_assert_num_queries, escalate_after_minutes=600)

    assert SafetyAlert.objects.get(pk=alert.pk).reason == "PHQ-9 item 9"
    assert DosingHold.objects.filter(pk=hold.pk).exists()


def test_a_stored_ledger_entry_and_its_receipt_refuse_change_and_delete(
    clinic, django_assert_num_queries
):
    stocked = receive_vials(
        by=clinic.staff["nurse"], witness=clinic.staff["prescriber"], site=clinic.sites[0]
    )
    entry = LedgerEntry.objects.get(seq=stocked.receipt.seq)
    detail = ReceiptDetail.objects.get(entry=entry)

    refused_without_sql(entry, django_assert_num_queries, quantity=1)
    refused_without_sql(detail, django_assert_num_queries, reference="CSOS-0000")

    entry.refresh_from_db()
    detail.refresh_from_db()
    assert (entry.quantity, detail.reference) == (stocked.receipt.quantity, "CSOS-4411")


def test_a_bulk_update_goes_around_the_model_and_meets_the_trigger(clinic):
    alert = raise_alert(patient=clinic.on_team, reason="PHQ-9 item 9")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        SafetyAlert.objects.filter(pk=alert.pk).update(reason="nothing to see")
    # Notices are the leaves (nothing protects them), so their delete reaches the database.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AlertNotice.objects.filter(alert=alert).delete()
    assert SafetyAlert.objects.get(pk=alert.pk).reason == "PHQ-9 item 9"
    assert AlertNotice.objects.filter(alert=alert).count() == 2


def test_the_append_only_tables_are_the_append_only_models_tables():
    tables = append_only_tables()
    assert list(tables) == sorted(set(tables))
    assert {"safety_safetyalert", "safety_dosinghold", "ledger_ledgerentry"} <= set(tables)
    # Caches derived from the ledger are updated in place with each entry: not append-only.
    assert "ledger_stockbalance" not in tables and "ledger_drawaccount" not in tables
    # The audit trail's tables have guards of their own (the head advances in place).
    assert not {"audit_auditentry", "audit_audithead"} & set(tables)
