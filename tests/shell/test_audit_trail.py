"""The audit trail: append-only in the database, hash-chained, verified by `kapstone audit verify`."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from kapstone.audit import triggers
from kapstone.audit.models import AuditEntry, AuditHead
from kapstone.audit.trail import record, verify_chain
from kapstone.patients.models import Patient


def test_every_registration_leaves_a_chained_row(clinic):
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    registered = AuditEntry.objects.get(action="patient.registered", patient=clinic.on_team)
    assert registered.after["mrn"] == "MRN-1001"
    assert registered.actor == clinic.staff["intake_coordinator"]
    assert registered.request_id
    assert verify_chain() == (len(entries), None)


def test_verify_command_reports_an_intact_chain(clinic, capsys):
    call_command("audit", "verify")
    assert "Audit chain intact" in capsys.readouterr().out


def test_the_database_refuses_update(clinic):
    entry = AuditEntry.objects.order_by("seq").first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(summary="tampered")
    entry.refresh_from_db()
    assert entry.summary != "tampered"


def test_the_database_refuses_delete(clinic):
    count = AuditEntry.objects.count()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditentry")
    assert AuditEntry.objects.count() == count


def test_altering_a_row_by_hand_is_found_and_named(clinic):
    victim = AuditEntry.objects.get(action="patient.registered", patient=clinic.elsewhere)
    triggers.remove(connection)  # what someone with database access could do
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET summary = %s WHERE id = %s", ["nothing to see", victim.pk]
        )
    triggers.install(connection)
    with pytest.raises(CommandError) as failure:
        call_command("audit", "verify")
    assert f"#{victim.seq} (id {victim.pk})" in str(failure.value)
    assert "contents were changed" in str(failure.value)


def test_deleting_the_newest_row_by_hand_is_found(clinic):
    newest = AuditEntry.objects.order_by("-seq").first()
    triggers.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [newest.pk])
    triggers.install(connection)
    _, broken = verify_chain()
    assert broken is not None
    assert f"should reach #{newest.seq}" in broken.problem


def test_deleting_a_middle_row_by_hand_is_found(clinic):
    middle = AuditEntry.objects.order_by("seq")[2]
    triggers.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [middle.pk])
    triggers.install(connection)
    _, broken = verify_chain()
    assert broken is not None and broken.seq == middle.seq


def test_an_audit_row_rolls_back_with_its_change(clinic):
    head_before = AuditHead.objects.get(pk=1).last_seq
    count = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        Patient.objects.filter(pk=clinic.on_team.pk).update(given_name="Changed")
        record(actor=None, action="patient.details_changed", patient=clinic.on_team)
        raise RuntimeError("the change fails after its audit row was written")
    assert AuditEntry.objects.count() == count
    assert AuditHead.objects.get(pk=1).last_seq == head_before
    assert Patient.objects.get(pk=clinic.on_team.pk).given_name == "Ada"
    assert verify_chain()[1] is None


def test_opening_a_chart_is_recorded_with_the_request_id(clinic, as_role):
    client = as_role("prescriber")
    response = client.get(reverse("patients:chart", kwargs={"patient_id": clinic.on_team.pk}))
    assert response.status_code == 200
    seen = AuditEntry.objects.filter(action="chart.viewed").latest("seq")
    assert seen.patient_id == clinic.on_team.pk
    assert seen.actor == clinic.staff["prescriber"]
    assert seen.request_id == response["X-Request-ID"]


def test_audit_browser_filters_by_patient_and_action(clinic, as_role):
    client = as_role("administrator")
    response = client.get(reverse("audit:browse"), {"mrn": "mrn-1002", "action": "patient."})
    assert response.status_code == 200
    rows = list(response.context["page"])
    assert rows and all(e.patient_id == clinic.elsewhere.pk for e in rows)
    assert all(e.action.startswith("patient.") for e in rows)


def test_audit_browser_filters_by_actor_and_days(clinic, as_role):
    coordinator = clinic.staff["intake_coordinator"]
    client = as_role("administrator")
    # The days are the clinic's local days, as the browser's date fields are.
    today = timezone.localdate(AuditEntry.objects.latest("seq").at)
    by_actor = client.get(reverse("audit:browse"), {"actor": coordinator.pk})
    rows = list(by_actor.context["page"])
    assert rows and all(e.actor_id == coordinator.pk for e in rows)
    # The registrations are today's: the days up to 1 January 2000 hold none of them.
    none_before = client.get(
        reverse("audit:browse"), {"actor": coordinator.pk, "until": "2000-01-01"}
    )
    assert list(none_before.context["page"]) == []
    since_today = client.get(reverse("audit:browse"), {"actor": coordinator.pk, "since": today})
    assert len(since_today.context["page"]) == len(rows)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_chain():
    """Appends from several threads (separate connections) never fork the chain."""
    import threading

    from django.db import connections

    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(5):
                with transaction.atomic():
                    record(actor=None, action="test.concurrent", summary=f"{n}-{i}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("in-memory SQLite is one connection; the PostgreSQL leg runs this")
    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert verify_chain() == (20, None)
