"""Two staff charting the same session at once lose nothing: every entry is its own row.

First two signed-in clients interleave their posts through the views; then two threads on separate
database connections append readings at the same moment (SQLite from a file, as the clinic runs
it, and PostgreSQL through scripts/test-postgres)."""

from __future__ import annotations

import datetime as dt
import threading

from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kapstone.accounts.models import Site
from kapstone.audit.models import AuditEntry
from kapstone.chairside import services
from kapstone.chairside.models import AdverseEvent, ChairsideRecord, VitalReading
from kapstone.clinical.access import Role
from kapstone.dosing.models import DosingSession
from tests.conftest import make_patient, make_staff, verified_client
from tests.shell.test_ledger_concurrency import separate_connections  # noqa: F401 (a fixture)


def _record(patient, by) -> ChairsideRecord:  # type: ignore[no-untyped-def]
    now = timezone.now()
    session = DosingSession.objects.create(
        patient=patient,
        site=patient.home_site,
        route="iv",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1),
        booked_at=now - dt.timedelta(days=1),
    )
    return services.open_record(by=by, session=session)


def _local(when: dt.datetime) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def test_two_clients_interleaving_their_charting_both_land(clinic):
    nurse, prescriber = clinic.staff["nurse"], clinic.staff["prescriber"]
    record = _record(clinic.on_team, nurse)
    session = record.session
    kwargs = {"patient_id": clinic.on_team.pk, "session_id": session.pk}
    ann = verified_client(Client(), nurse)
    dee = verified_client(Client(), prescriber)
    # Both opened the console before either wrote: each posts from a page that is now stale.
    assert ann.get(reverse("chairside:console", kwargs=kwargs)).status_code == 200
    assert dee.get(reverse("chairside:console", kwargs=kwargs)).status_code == 200
    for i in range(3):
        taken = session.starts_at + dt.timedelta(minutes=10 + 5 * i)
        response = ann.post(
            reverse("chairside:vitals", kwargs=kwargs),
            {
                "v-taken_at": _local(taken),
                "v-systolic": str(120 + i),
                "v-diastolic": "80",
                "v-heart_rate": "70",
                "v-spo2": "98",
                "v-respiratory_rate": "14",
                "v-sedation": "alert",
            },
        )
        assert response.status_code == 302, response.content.decode()[:500]
        response = dee.post(
            reverse("chairside:adverse_event", kwargs=kwargs),
            {
                "ae-kind": "nausea",
                "ae-severity": "mild",
                "ae-action": f"Reassured ({i})",
                "ae-onset_at": _local(taken),
                "ae-description": "",
                "ae-sedation": "",
            },
        )
        assert response.status_code == 302, response.content.decode()[:500]
    assert sorted(
        VitalReading.objects.filter(record=record).values_list("systolic", flat=True)
    ) == [
        120,
        121,
        122,
    ]
    assert AdverseEvent.objects.filter(record=record).count() == 3
    page = ann.get(reverse("chairside:console", kwargs=kwargs)).content.decode()
    assert "Reassured (2)" in page and "122/80" in page


def test_concurrent_appends_on_separate_connections_all_land(separate_connections):  # noqa: F811
    site = Site.objects.create(name="Riverside")
    ann = make_staff("nurse-ann", Role.NURSE, [site])
    dee = make_staff("dr-dee", Role.PRESCRIBER, [site])
    patient = make_patient(by=dee, mrn="MRN-9", site=site, nurse=ann, prescriber=dee)
    record = _record(patient, ann)
    start = record.session.starts_at
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def chart(by, offset: int) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait(timeout=10)
            for i in range(5):
                services.record_vitals(
                    by=by,
                    record=record,
                    taken_at=start + dt.timedelta(minutes=offset + 2 * i),
                    systolic=120 + offset + i,
                    diastolic=80,
                    heart_rate=70,
                    spo2=98,
                    respiratory_rate=14,
                )
        except BaseException as exc:  # the test inspects whatever happened
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=chart, args=(by, o)) for by, o in ((ann, 10), (dee, 11))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    rows = VitalReading.objects.filter(record=record)
    assert rows.count() == 10
    assert {r.recorded_by_id for r in rows} == {ann.pk, dee.pk}
    assert AuditEntry.objects.filter(action="chairside.vitals_recorded").count() == 10
