"""The audit chain under concurrent readers: read events are queued without waiting for the chain's
lock and chained in order by whoever holds it next; nothing is lost, nothing is chained twice.

The 50-reader test needs real connections at once: it runs on PostgreSQL (the PostgreSQL leg of
make test); the queue's guards and the lock-free read are checked on both databases.
"""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction

from kapstone.audit.models import AuditEntry, AuditHead, QueuedAuditEvent
from kapstone.audit.trail import drain_read_queue, queued_reads, record, verify_chain
from kapstone.clinical.access import Role
from kapstone.patients.selectors import open_chart
from tests.conftest import make_patient, make_staff

READERS = 50
WRITERS = 10


def _people():
    from kapstone.accounts.models import Site

    site = Site.objects.create(name="Riverside")
    nurse = make_staff("nurse", Role.NURSE, [site])
    coordinator = make_staff("coordinator", Role.INTAKE_COORDINATOR, [site])
    patient = make_patient(by=coordinator, mrn="MRN-5001", site=site, nurse=nurse)
    return nurse, patient


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_chart_views_leave_the_chain_whole() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("50 connections at once: the PostgreSQL leg runs this")
    nurse, patient = _people()
    before, broken = verify_chain()
    assert broken is None
    start = threading.Barrier(READERS + WRITERS)
    errors: list[BaseException] = []
    seen: list[object] = []

    def view() -> None:
        try:
            start.wait(timeout=60)
            with transaction.atomic():
                chart = open_chart(user=nurse, patient=patient)
            seen.append(chart.patient.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def write(n: int) -> None:
        # Changes meanwhile: each chains the queue first, then itself, under the lock.
        try:
            start.wait(timeout=60)
            with transaction.atomic():
                record(actor=nurse, action="test.concurrent_write", summary=f"write {n}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=view) for _ in range(READERS)]
    threads += [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(seen) == READERS

    # Events still queued (their reader found the lock taken by a drainer that had already read
    # the queue) are chained by the next writer, here the drain a command would run.
    drain_read_queue()
    assert queued_reads() == (0, None)
    checked, broken = verify_chain()
    assert broken is None, broken.describe()
    assert checked == before + READERS + WRITERS
    views = list(AuditEntry.objects.filter(action="chart.viewed", patient=patient))
    assert len(views) == READERS
    # One entry per view: every reader ran with its own request id, and each queued event was
    # chained once.
    assert len({v.request_id for v in views}) == READERS
    queued = [v.queued_id for v in views]
    assert None not in queued and len(set(queued)) == READERS
    seqs = sorted(AuditEntry.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, checked + 1))
    assert AuditHead.objects.get(pk=1).last_seq == checked


@pytest.mark.django_db(transaction=True)
def test_a_reader_does_not_wait_for_the_chain_lock_and_the_next_write_chains_its_view() -> None:
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("in-memory SQLite is one connection; the PostgreSQL leg runs this")
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks (its writers take turns): PostgreSQL only")
    nurse, patient = _people()
    drain_read_queue()
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        try:
            with transaction.atomic():
                AuditHead.objects.select_for_update().get(pk=1)
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    assert holding.wait(timeout=30)
    done: list[object] = []

    def read() -> None:
        try:
            with transaction.atomic():
                done.append(
                    record(actor=nurse, action="chart.viewed", patient=patient, obj=patient)
                )
        finally:
            connections.close_all()

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(timeout=10)
    try:
        # The reader finished while the lock was held: its event waits in the queue.
        assert not reader.is_alive()
        assert len(done) == 1 and isinstance(done[0], QueuedAuditEvent)
        assert queued_reads()[0] == 1
        assert verify_chain()[1] is None
    finally:
        release.set()
        holder.join(timeout=30)
        reader.join(timeout=30)
    # The next change chains the queued view first, then itself.
    entry = record(actor=nurse, action="test.after_the_view", patient=patient)
    assert isinstance(entry, AuditEntry)
    before = AuditEntry.objects.get(seq=entry.seq - 1)
    assert before.action == "chart.viewed" and before.queued_id == done[0].pk
    assert queued_reads() == (0, None)
    assert verify_chain()[1] is None


@pytest.mark.django_db
def test_a_chart_view_is_chained_at_once_when_the_lock_is_free(clinic) -> None:
    seen = record(
        actor=clinic.staff["nurse"], action="chart.viewed", patient=clinic.on_team, summary="x"
    )
    assert isinstance(seen, AuditEntry)
    assert seen.queued_id is not None
    assert not QueuedAuditEvent.objects.exists()
    assert verify_chain()[1] is None


@pytest.mark.django_db
def test_a_rolled_back_view_leaves_neither_a_queued_event_nor_an_entry(clinic) -> None:
    count = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        record(actor=clinic.staff["nurse"], action="chart.viewed", patient=clinic.on_team)
        raise RuntimeError("the page failed")
    assert AuditEntry.objects.count() == count
    assert not QueuedAuditEvent.objects.exists()
    assert verify_chain()[1] is None


@pytest.mark.django_db
def test_a_queued_event_leaves_the_queue_only_into_the_chain(clinic) -> None:
    from django.utils import timezone

    event = QueuedAuditEvent.objects.create(
        at=timezone.now(), actor_label="nurse", action="chart.viewed", patient=clinic.on_team
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        QueuedAuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        QueuedAuditEvent.objects.filter(pk=event.pk).update(summary="changed")
    assert drain_read_queue() == 1
    chained = AuditEntry.objects.get(queued_id=event.pk)
    assert chained.action == "chart.viewed" and chained.patient_id == clinic.on_team.pk
    assert verify_chain()[1] is None


@pytest.mark.django_db
def test_verify_finds_an_event_both_chained_and_still_queued(clinic) -> None:
    record(actor=clinic.staff["nurse"], action="chart.viewed", patient=clinic.on_team)
    chained = AuditEntry.objects.filter(queued_id__isnull=False).latest("seq")
    # Someone with database access puts the event back into the queue behind the guard.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_queuedauditevent (id, at, actor_label, action, object_type,"
            " object_id, request_id, summary) VALUES (%s, %s, 'x', 'chart.viewed', '', '', '', '')",
            [chained.queued_id, chained.at],
        )
    _, broken = verify_chain()
    assert broken is not None
    assert "still in the queue" in broken.describe()
