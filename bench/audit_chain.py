"""The audit chain's lock under concurrent chart views, on PostgreSQL.

    .venv/bin/python bench/audit_chain.py --database-url postgres://postgres@127.0.0.1:5432/kapstone_bench_audit
        [--connections 50] [--processes 5] [--duration 10] [--modes reads,chart,chained]

Every chart view writes a read-audit row (``chart.viewed``). The chain's rows are appended one at a
time under a lock on the single head row (``kapstone.audit.trail.record``): under many readers, they
queue there. This drives ``--connections`` database connections at once (``--processes`` processes,
each with connections/processes threads, each thread its own connection) for ``--duration`` seconds
per mode, each calling a service in a loop, and prints operations per second and latency:

- ``reads``: the chart overview's reads alone (those of ``open_chart``), no audit row: the floor;
- ``chart``: ``open_chart`` as the chart page calls it: the reads and the read-audit row, as the
  trail writes read events now;
- ``chained``: the same reads with the read-audit row appended to the chain under the head's lock
  (``record``), as every chart view did before read events were queued;
- ``drain``: after the run, how long chaining the queued read events takes (one writer).

The database is the bench's own: migrated if it is not, one clinic made in it (a site, a nurse,
20 patients); names starting with ``test``, ``postgres`` or ``template`` are refused. At the end the
whole chain is verified (``verify_chain``): the exit status is 1 if it is broken.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
MODES = ("reads", "chart", "chained")


def _setup(url: str) -> None:
    os.environ["KAPSTONE_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapstone.settings")
    import django

    django.setup()


def _clinic() -> tuple[int, list[int]]:
    import datetime as dt
    from decimal import Decimal

    from kapstone.accounts.models import Site, StaffUser
    from kapstone.accounts.services import create_staff
    from kapstone.clinical.access import Role
    from kapstone.patients.models import Patient
    from kapstone.patients.services import register_patient

    nurse = StaffUser.objects.filter(username="bench-nurse").first()
    if nurse is None:
        site = Site.objects.create(name="Bench")
        nurse = create_staff(
            by=None,
            username="bench-nurse",
            first_name="Bench",
            last_name="Nurse",
            email="bench@example.invalid",
            role=Role.NURSE,
            password="bench-password-not-secret",  # noqa: S106 - a bench account
            sites=[site],
        )
        for n in range(20):
            register_patient(
                by=None,
                details={
                    "mrn": f"BENCH-{n:04d}",
                    "given_name": "Bench",
                    "family_name": f"Patient{n}",
                    "preferred_name": "",
                    "date_of_birth": dt.date(1980, 1, 1) + dt.timedelta(days=n),
                    "sex_at_birth": "female",
                    "gender_identity": "",
                    "pronouns": "",
                    "phone": "",
                    "email": "",
                    "address": "",
                    "emergency_contact_name": "",
                    "emergency_contact_relationship": "",
                    "emergency_contact_phone": "",
                    "referral_source": "self",
                    "referrer_name": "",
                    "home_site": site,
                },
                care_team={"prescriber": None, "therapist": None, "nurse": nurse},
                weight_kg=Decimal("70.0"),
                height_cm=Decimal("170.0"),
                measured_on=dt.date(2026, 1, 5),
                check_duplicates=False,
            )
    patients = list(
        Patient.objects.filter(mrn__startswith="BENCH-").order_by("pk").values_list("pk", flat=True)
    )
    return nurse.pk, patients


def _chart_reads(patient):  # type: ignore[no-untyped-def]
    """The reads of ``kapstone.patients.selectors.open_chart``, without its audit row."""
    from kapstone.audit.models import AuditEntry

    measurements = list(patient.measurements.all()[:20])
    activity = list(
        AuditEntry.objects.filter(patient=patient)
        .exclude(action="chart.viewed")
        .select_related("actor")[:10]
    )
    return measurements, activity


def _operation(mode: str):  # type: ignore[no-untyped-def]
    from django.db import transaction

    from kapstone.audit.trail import record
    from kapstone.patients import selectors

    if mode == "reads":
        return lambda user, patient: _chart_reads(patient)
    if mode == "chart":
        return lambda user, patient: selectors.open_chart(user=user, patient=patient)

    def chained(user, patient):  # type: ignore[no-untyped-def]
        with transaction.atomic():
            record(
                actor=user,
                action="chart.viewed",
                patient=patient,
                obj=patient,
                summary="Opened chart",
            )
        return _chart_reads(patient)

    return chained


def _process(url: str, mode: str, threads: int, duration: float, ready, go, out) -> None:  # type: ignore[no-untyped-def]
    _setup(url)
    from django.db import connections

    from kapstone.accounts.models import StaffUser
    from kapstone.patients.models import Patient

    user = StaffUser.objects.get(username="bench-nurse")
    patients = list(Patient.objects.filter(mrn__startswith="BENCH-"))
    connections.close_all()
    operation = _operation(mode)
    ready.put(os.getpid())
    go.wait()
    start_at = time.time()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def loop(n: int) -> None:
        mine: list[float] = []
        try:
            end = start_at + duration
            i = n
            while time.time() < end:
                began = time.perf_counter()
                operation(user, patients[i % len(patients)])
                mine.append(time.perf_counter() - began)
                i += threads
        except Exception as exc:  # a bench reports, it does not stop at the first error
            with lock:
                errors.append(repr(exc))
        finally:
            connections.close_all()
            with lock:
                latencies.extend(mine)

    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((latencies, errors))


def run(
    url: str, mode: str, connections_: int, processes: int, duration: float
) -> dict[str, float]:
    context = multiprocessing.get_context("spawn")
    out, ready, go = context.Queue(), context.Queue(), context.Event()
    per = [
        connections_ // processes + (1 if n < connections_ % processes else 0)
        for n in range(processes)
    ]
    procs = [
        context.Process(target=_process, args=(url, mode, threads, duration, ready, go, out))
        for threads in per
        if threads
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get()  # every process set up (Django loaded) before the clock starts
    go.set()
    latencies: list[float] = []
    errors: list[str] = []
    for _ in procs:
        got, failed = out.get()
        latencies += got
        errors += failed
    for p in procs:
        p.join()
    latencies.sort()

    def pct(q: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0.0
        )

    return {
        "ops": len(latencies),
        "per_second": len(latencies) / duration,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else 0.0,
        "errors": len(errors),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args()
    name = urlsplit(args.database_url).path.lstrip("/")
    if not name or name.startswith(("test", "postgres", "template")):
        raise SystemExit(f"refusing to use database {name!r}: give the bench its own database")
    _setup(args.database_url)
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("the bench measures PostgreSQL's row lock: give it a PostgreSQL database")
    call_command("migrate", verbosity=0, interactive=False)
    _clinic()
    connection.close()
    print(
        f"audit chain bench: {args.connections} connections ({args.processes} processes), "
        f"{args.duration:.0f} s a mode; {platform.node()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print(f"{'mode':<10}{'ops/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for mode in args.modes.split(","):
        r = run(args.database_url, mode, args.connections, args.processes, args.duration)
        print(
            f"{mode:<10}{r['per_second']:>10.0f}{r['p50_ms']:>10.1f}{r['p95_ms']:>10.1f}"
            f"{r['p99_ms']:>10.1f}{r['errors']:>8}"
        )
    from kapstone.audit import trail

    began = time.perf_counter()
    drained = trail.drain_read_queue() if hasattr(trail, "drain_read_queue") else 0
    took = time.perf_counter() - began
    print(f"drain     {drained} queued read events chained in {took:.2f} s")
    checked, broken = trail.verify_chain()
    print(f"verify    {checked} entries; " + ("intact" if broken is None else broken.describe()))
    return 0 if broken is None else 1


if __name__ == "__main__":
    sys.exit(main())
