"""Time per read of a patient's treatment plan: the staff members it names joined, or read after.

    .venv/bin/python bench/plan_read.py --database-url postgres://postgres@127.0.0.1:5432/kapstone_bench_plan
    .venv/bin/python bench/plan_read.py                        # a SQLite file of its own
        [--reads 300] [--rounds 5]

Every plan page reads the patient's plan (``kapstone.plans.selectors``). Until 2026-12-07 the read
joined all seven relations the pages show (program, weight, signature, its signer and four staff
members) into one query; on PostgreSQL planning that join cost far more than running it. The read
now joins the program, the weight and the signature, and reads the five staff members after in one
``IN`` query (``kapstone.kernel.related.load_related``). The baseline is the earlier queryset, kept
here. Both run in one process, on one database, in alternating rounds of ``--reads`` reads of every
demo patient's plan in force; it prints the wall time per read (the database server's planning is
not in this process's CPU time, so wall time, on a quiet machine), and the ratio.

The database is the bench's own: a temporary SQLite file by default; a PostgreSQL database named
in ``--database-url`` is migrated and given a demo clinic if it has none (names starting with
``test``, ``postgres`` or ``template`` are refused).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench.own_database import machine_line, own_database_url, start_django  # noqa: E402


def _setup(url: str) -> None:
    start_django(
        url,
        # The demo's staff passwords: no bench reads them, and Argon2 would take most of the build.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        # No query log kept in memory (it slows the timed reads), no demo e-mail on the console.
        DEBUG=False,
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )


def _patients() -> list:  # type: ignore[type-arg]
    from django.utils import timezone

    from kapstone.demo.generator import build_demo_clinic
    from kapstone.patients.models import Patient

    signed = Patient.objects.filter(treatment_plans__signature__isnull=False).distinct()
    if not signed.exists():
        now = timezone.now()
        build_demo_clinic(patients=12, today=timezone.localdate(now), history_until=now)
    return list(signed.order_by("pk"))


def _joined(patient):  # type: ignore[no-untyped-def]
    """The read as it was before 2026-12-07 (the baseline)."""
    from kapstone.plans.models import TreatmentPlan

    return (
        TreatmentPlan.objects.filter(patient=patient, signature__isnull=False)
        .select_related(
            "program",
            "created_by",
            "modalities_confirmed_by",
            "prep_held_by",
            "consent_witness",
            "weight",
            "signature__signed_by",
        )
        .order_by("-revision")
        .first()
    )


def _current(patient):  # type: ignore[no-untyped-def]
    from kapstone.plans.selectors import plan_in_force

    return plan_in_force(patient)


def _names(plan) -> tuple:  # type: ignore[no-untyped-def, type-arg]
    """What a plan page shows of the read: every name must come without another query."""
    return (
        plan.program.key,
        plan.created_by.pk,
        plan.modalities_confirmed_by_id and plan.modalities_confirmed_by.pk,
        plan.prep_held_by_id and plan.prep_held_by.pk,
        plan.consent_witness_id and plan.consent_witness.pk,
        plan.signature.signed_by.pk,
    )


def _round(read, patients: list, reads: int) -> float:  # type: ignore[no-untyped-def, type-arg]
    """Wall seconds per read (and its names)."""
    started = time.perf_counter()
    for n in range(reads):
        _names(read(patients[n % len(patients)]))
    return (time.perf_counter() - started) / reads


def _queries(read, patient) -> int:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        _names(read(patient))
    return len(queries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    _setup(own_database_url(parser, args.database_url, "plan.sqlite3"))

    from django.db import connection

    patients = _patients()
    if not patients:
        print("no patient with a signed plan: the demo clinic did not build one")
        return 1
    for patient in patients:  # both reads give the same plan and the same names
        assert _names(_joined(patient)) == _names(_current(patient)), patient.pk
    queries = {
        "joined": _queries(_joined, patients[0]),
        "read after": _queries(_current, patients[0]),
    }
    wall: dict[str, list[float]] = {"joined": [], "read after": []}
    for _ in range(args.rounds):
        wall["joined"].append(_round(_joined, patients, args.reads))
        wall["read after"].append(_round(_current, patients, args.reads))

    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(machine_line(connection.vendor))
    print(
        f"{args.rounds} rounds of {args.reads} reads each over {len(patients)} patients' plans, "
        "alternating; wall time per read (median)"
    )
    for mode in ("joined", "read after"):
        print(
            f"  {mode:<10} {statistics.median(wall[mode]) * 1000:6.2f} ms per read, "
            f"{queries[mode]} queries"
        )
    ratio = statistics.median(wall["read after"]) / statistics.median(wall["joined"])
    print(f"  read after / joined: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
