"""CPU per audited change: the audit trail's append as it is, against its earlier querysets.

    .venv/bin/python bench/audit_append.py                      # a SQLite file of its own
    .venv/bin/python bench/audit_append.py --database-url postgres://postgres@127.0.0.1:5432/kapstone_bench_append
        [--appends 2000] [--rounds 5]

Every service that writes appends an audit row (``kapstone.audit.trail.record``): it locks the
chain's head, chains any queued read events, inserts the entry and moves the head. The trail does
the head and the queue with plain statements; until 2026-12-06 it did them with querysets. This
runs both in one process, on one database, in alternating rounds of ``--appends`` appends each
(each round one transaction, as a service's), and prints the CPU time per append of each, their
ratio, and the statements per append. The baseline is that earlier code, kept here.

The database is the bench's own: a temporary SQLite file by default; a PostgreSQL database named
in ``--database-url`` is migrated if it is not (names starting with ``test``, ``postgres`` or
``template`` are refused). At the end the whole chain is verified: exit status 1 if it is broken.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench.own_database import machine_line, own_database_url, start_django  # noqa: E402


@contextmanager
def _querysets() -> Iterator[None]:
    """The trail's head and queue as they were done before 2026-12-06 (the baseline)."""
    from kapstone.audit import trail
    from kapstone.audit.models import AuditHead, QueuedAuditEvent

    def lock_head():  # type: ignore[no-untyped-def]
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
        if head is not None:
            return head
        trail._create_head()
        return AuditHead.objects.select_for_update().get(pk=1)

    def queue_is_empty() -> bool:
        return False  # the earlier code always read the whole queue

    def save_head(head, steps):  # type: ignore[no-untyped-def]
        for entry in steps:
            AuditHead.objects.filter(pk=1).update(last_seq=entry.seq, last_hash=entry.hash)
        if steps:
            head.last_seq, head.last_hash = steps[-1].seq, steps[-1].hash

    saved = (trail._lock_head, trail._queue_is_empty, trail._save_head)
    trail._lock_head, trail._queue_is_empty, trail._save_head = (
        lock_head,
        queue_is_empty,
        save_head,
    )
    assert QueuedAuditEvent.objects.exists() is False
    try:
        yield
    finally:
        trail._lock_head, trail._queue_is_empty, trail._save_head = saved


def _appends(appends: int, user, patient) -> None:  # type: ignore[no-untyped-def]
    """``appends`` audit rows in one transaction, as a service writes them."""
    from django.db import transaction

    from kapstone.audit.trail import record

    with transaction.atomic():
        for n in range(appends):
            record(
                actor=user,
                action="bench.changed",
                patient=patient,
                obj=patient,
                summary="A bench change",
                after={"n": n},
            )


def _round(appends: int, user, patient) -> float:  # type: ignore[no-untyped-def]
    """CPU seconds per append."""
    started = time.process_time()
    _appends(appends, user, patient)
    return (time.process_time() - started) / appends


def _statements(user, patient) -> float:  # type: ignore[no-untyped-def]
    """Statements per append (counted apart: counting slows the timed rounds)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as statements:
        _appends(100, user, patient)
    return len(statements) / 100


def _clinic():  # type: ignore[no-untyped-def]
    from bench.audit_chain import _clinic as bench_clinic

    from kapstone.accounts.models import StaffUser
    from kapstone.patients.models import Patient

    nurse_pk, patients = bench_clinic()
    return StaffUser.objects.get(pk=nurse_pk), Patient.objects.get(pk=patients[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    start_django(own_database_url(parser, args.database_url, "append.sqlite3"))

    from django.db import connection

    from kapstone.audit.trail import verify_chain

    user, patient = _clinic()
    per_append = {"statements": _statements(user, patient)}
    with _querysets():
        per_append["querysets"] = _statements(user, patient)
    cpu: dict[str, list[float]] = {"statements": [], "querysets": []}
    for _ in range(args.rounds):
        cpu["statements"].append(_round(args.appends, user, patient))
        with _querysets():
            cpu["querysets"].append(_round(args.appends, user, patient))

    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(machine_line(connection.vendor))
    print(f"{args.rounds} rounds of {args.appends} appends each, alternating; CPU time (median)")
    for mode in ("querysets", "statements"):
        print(
            f"  {mode:<10} {statistics.median(cpu[mode]) * 1000:6.3f} ms per append, "
            f"{per_append[mode]:.2f} statements"
        )
    ratio = statistics.median(cpu["statements"]) / statistics.median(cpu["querysets"])
    print(f"  statements / querysets: {ratio:.2f}")
    checked, broken = verify_chain()
    if broken is not None:
        print(f"audit chain broken: {broken.describe()}")
        return 1
    print(f"audit chain intact: {checked} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
