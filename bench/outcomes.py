"""Outcomes at scale: the cohort dashboard on a 100 000-patient network against a plain SQL scan.

    .venv/bin/python bench/outcomes.py [--patients N] [--seed S] [--runs R] [--rebuild]
        [--all-filters] [--database-url postgres://postgres@127.0.0.1:5432/kapstone_bench]

Uses a dedicated PostgreSQL database (``$KAPSTONE_BENCH_DATABASE_URL``, default ``kapstone_bench``
on 127.0.0.1:5432 with trust authentication), creates it when missing, migrates it, and builds the
synthetic network (``kapstone.demo.network``) unless the one recorded in its ``bench_network``
table has the same size, seed and present; otherwise the database is dropped and built again.
Then, in this one process, it times (median of ``--runs`` after one warm-up run):

- baseline A, a plain SQL scan of the clinical records the dashboard's figures come from (sessions,
  PHQ-9 scores with their patient, signed plans with their program, care plans, intake
  conditions, eligibility screens, chair-side records with their doses, dissociation ratings and
  adverse events), for the whole network, every row fetched, nothing computed;
- rebuilding every course summary (``kapstone.cohorts.summaries``) from those records, once;
- baseline B, a plain SQL scan of the kept rows the dashboard counts (course summaries with
  their safety and dissociation cells), every column it reads, every row fetched;
- bringing the summaries up to date with nothing changed, and after 1 000 courses' next session
  started (what the page does before counting);
- the full ``cohort_dashboard`` (``kapstone.cohorts.dashboard``) for the whole network,
  unfiltered and with a program filter (``--all-filters``: also a route and a modality filter);
- with ``--records``, the same dashboard computed from the records without the summaries, and
  whether the two are equal;

and prints each as seconds and as a ratio to its baseline, with the machine, the load and the date.
Exit status 0 when the full dashboard takes under 2 s and at most 5x either scan (and, with
``--records``, equals the dashboard computed from the records).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kapstone_bench"
# The network's present: fixed, so a rebuilt network has the same rows.
NETWORK_NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)
REFUSED_NAMES = ("postgres", "template0", "template1")


def _database(url: str) -> tuple[str, str]:
    """(database name, URL of the maintenance database used to create or drop it)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in REFUSED_NAMES or name.startswith("test"):
        raise SystemExit(f"refusing to use database {name!r}: give the bench its own database")
    return name, urlunsplit(parts._replace(path="/template1"))


def _create(url: str, *, drop: bool) -> None:
    name, maintenance = _database(url)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and drop:
            print(f"dropping {name} (its network is not the one asked for)")
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _recorded(url: str) -> dict[str, Any] | None:
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_network (patients int, seed int, now timestamptz,"
            " seconds double precision, rows jsonb, built_at timestamptz)"
        )
        row = conn.execute(
            "SELECT patients, seed, now, seconds, rows, built_at FROM bench_network"
        ).fetchone()
    if row is None:
        return None
    keys = ("patients", "seed", "now", "seconds", "rows", "built_at")
    return dict(zip(keys, row, strict=True))


def _machine() -> list[str]:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return [
        f"machine: {platform.machine()}, {os.cpu_count()} cores ({cpu}), {mem_kb / 2**20:.0f} GiB;"
        f" {platform.system()} {platform.release()}; python {platform.python_version()}",
    ]


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, float, Any]:
    fn()  # warm-up: caches, plans, the first page-in of the tables
    seconds = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), min(seconds), max(seconds), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="build the network again")
    parser.add_argument(
        "--all-filters", action="store_true", help="also time the route and modality filters"
    )
    parser.add_argument(
        "--records",
        action="store_true",
        help="also time the dashboard computed from the records, and compare the two",
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("KAPSTONE_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--date", help="date to print (default: now)")
    args = parser.parse_args(argv)

    url = args.database_url
    _create(url, drop=False)
    recorded = _recorded(url)
    wanted = {"patients": args.patients, "seed": args.seed, "now": NETWORK_NOW}
    if args.rebuild or (recorded is not None and any(recorded[k] != v for k, v in wanted.items())):
        _create(url, drop=True)
        recorded = _recorded(url)

    os.environ["KAPSTONE_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapstone.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    run_date = args.date or time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"date: {run_date}")
    for line in _machine():
        print(line)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (pg_version,) = cursor.fetchone()
        cursor.execute("SHOW shared_buffers")
        (shared_buffers,) = cursor.fetchone()
        cursor.execute("SHOW work_mem")
        (work_mem,) = cursor.fetchone()
    print(
        f"postgresql {pg_version} (shared_buffers {shared_buffers}, work_mem {work_mem}), "
        f"psycopg {psycopg.__version__}, django {django.get_version()}"
    )
    print(f"at start: {_load()}")

    call_command("migrate", verbosity=0)
    if recorded is None:
        from kapstone.demo.network import build_network

        print(f"building the network: {args.patients} patients, seed {args.seed} ...")
        sys.stdout.flush()
        result = build_network(
            patients=args.patients,
            seed=args.seed,
            now=NETWORK_NOW,
            progress=lambda line: print(f"  {line}", flush=True),
        )
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        vacuum = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_network VALUES (%s, %s, %s, %s, %s, now())",
                [args.patients, args.seed, NETWORK_NOW, result.seconds, json.dumps(result.rows)],
            )
        recorded = _recorded(url)
        assert recorded is not None
        print(
            f"built in {result.seconds:.1f} s (+ VACUUM ANALYZE {vacuum:.1f} s): "
            f"{sum(result.rows.values())} rows; {_load()}"
        )
    else:
        print(
            f"reusing the network built {recorded['built_at']:%Y-%m-%d %H:%M} "
            f"({recorded['patients']} patients, seed {recorded['seed']}, built in "
            f"{recorded['seconds']:.1f} s)"
        )
    rows = recorded["rows"]
    print(f"rows: {sum(rows.values())} in all")
    for table, count in sorted(rows.items(), key=lambda kv: -kv[1]):
        print(f"  {table:<38} {count:>10}")
    print()
    return _time_dashboard(args.runs, all_filters=args.all_filters, records=args.records)


# The baseline: the dashboard's columns of the dashboard's tables, for the whole network, fetched.
SCAN = (
    (
        "sessions",
        "SELECT patient_id, starts_at, site_id, route, plan_id FROM dosing_dosingsession"
        " WHERE status <> 'cancelled'",
    ),
    (
        "scores",
        "SELECT s.patient_id, r.submitted_at, r.total FROM assessments_questionnaireresponse r"
        " JOIN assessments_questionnaireset s ON s.id = r.questionnaire_set_id"
        " WHERE r.instrument = 'phq9' AND r.status = 'submitted'",
    ),
    (
        "signed plans",
        "SELECT p.patient_id, g.signed_at, p.id, v.key, p.route, p.modalities"
        " FROM plans_plansignature g JOIN plans_treatmentplan p ON p.id = g.plan_id"
        " JOIN plans_programtemplateversion v ON v.id = p.program_id",
    ),
    ("care plans", "SELECT patient_id, plan FROM measures_measurementcareplan"),
    (
        "conditions",
        "SELECT patient_id, facts -> 'presenting_conditions' FROM intake_intakeversion",
    ),
    (
        "resistance",
        "SELECT patient_id, derived -> 'treatment_resistant_depression'"
        " FROM intake_eligibilityreview",
    ),
    (
        "chair-side records",
        "SELECT r.id, s.patient_id, r.route FROM chairside_chairsiderecord r"
        " JOIN dosing_dosingsession s ON s.id = r.session_id",
    ),
    ("doses", "SELECT record_id, dose_mg FROM chairside_doseadministration"),
    (
        "dissociation",
        "SELECT record_id, scale, score FROM chairside_dissociationrating WHERE NOT is_baseline",
    ),
    ("adverse events", "SELECT record_id, severity FROM chairside_adverseevent"),
)


def _fetch_all(queries: tuple[tuple[str, str], ...]) -> int:
    from django.db import connection

    fetched = 0
    with connection.cursor() as cursor:
        for _, sql in queries:
            cursor.execute(sql)
            fetched += len(cursor.fetchall())
    return fetched


def _summary_scan() -> tuple[tuple[str, str], ...]:
    """The kept rows the dashboard counts: every column it reads, for the whole network."""
    from kapstone.cohorts import selectors
    from kapstone.cohorts.models import before_column, point_column

    policy = selectors.COHORT_POLICY
    columns = [
        "first_dose_at",
        "site_id",
        "program",
        "route",
        "modalities",
        "conditions",
        "resistant",
        "severity",
        "usable_baseline",
        "completed",
        "durability_days",
        "durability_lost",
    ]
    for i in range(len(policy.time_points)):
        columns += [point_column(i), f"{point_column(i)}_closes"]
    columns += [before_column(k) for k in range(policy.trajectory_sessions)]
    return (
        (
            "course summaries",
            f"SELECT {', '.join(columns)} FROM cohorts_coursesummary"
            " WHERE instrument = 'phq9' AND first_dose_at IS NOT NULL",
        ),
        (
            "safety cells",
            "SELECT c.route, c.dose_band, c.sessions, c.with_adverse_event,"
            " c.with_moderate_or_severe FROM cohorts_coursesafety c"
            " JOIN cohorts_coursesummary s ON s.id = c.summary_id WHERE s.instrument = 'phq9'",
        ),
        (
            "dissociation cells",
            "SELECT c.route, c.dose_band, c.scale, c.ratings, c.total, c.squares"
            " FROM cohorts_coursedissociation c"
            " JOIN cohorts_coursesummary s ON s.id = c.summary_id WHERE s.instrument = 'phq9'",
        ),
    )


def _mark_due(count: int, now: dt.datetime) -> None:
    """As if ``count`` courses' next dosing session had just started."""
    from kapstone.cohorts.models import CourseSummary

    ids = list(
        CourseSummary.objects.filter(instrument="phq9", first_dose_at__isnull=False)
        .order_by("?")
        .values_list("pk", flat=True)[:count]
    )
    CourseSummary.objects.filter(pk__in=ids).update(stale_after=now)


def _time_dashboard(runs: int, *, all_filters: bool, records: bool) -> int:
    from kapstone.cohorts import selectors, summaries
    from kapstone.cohorts.dashboard import cohort_dashboard

    now = NETWORK_NOW
    start = (now - dt.timedelta(days=4 * 365)).date()
    end = now.date()

    # (name, median, min, max)
    results: list[tuple[str, float, float, float]] = []

    def row(name: str, fn: Callable[[], Any], times: int = runs) -> Any:
        median, low, high, value = _timed(fn, times)
        results.append((name, median, low, high))
        print(f"  timed {name}: {median:.3f} s", flush=True)
        return value

    fetched = row("A: plain SQL scan of the clinical records", lambda: _fetch_all(SCAN))
    # A rebuild takes a minute: timed once after its warm-up (which builds them the first time).
    refresh = row(
        "rebuild every course summary from the records",
        lambda: summaries.bring_up_to_date(instrument="phq9", now=now, rebuild=True),
        times=1,
    )
    kept = row("B: plain SQL scan of the kept summaries", lambda: _fetch_all(_summary_scan()))
    row(
        "bring up to date: nothing changed",
        lambda: summaries.bring_up_to_date(instrument="phq9", now=now),
    )
    row(
        "bring up to date: 1 000 courses' next session started",
        lambda: (_mark_due(1000, now), summaries.bring_up_to_date(instrument="phq9", now=now)),
    )
    assert summaries.is_current(instrument="phq9", now=now)
    full = row(
        "full cohort_dashboard, whole network",
        lambda: cohort_dashboard(start=start, end=end, now=now),
    )
    row(
        "cohort_dashboard, program = standard IV induction",
        lambda: cohort_dashboard(start=start, end=end, now=now, program="standard_iv_induction"),
    )
    if all_filters:
        row(
            "cohort_dashboard, route = IM",
            lambda: cohort_dashboard(start=start, end=end, now=now, route="im"),
        )
        row(
            "cohort_dashboard, modality = CBT",
            lambda: cohort_dashboard(start=start, end=end, now=now, modality="cbt"),
        )
    from_records = None
    if records:
        from_records = row(
            "the same computed from the records (no summaries)",
            lambda: selectors.cohort_dashboard_from_records(start=start, end=end, now=now),
            times=1,
        )

    baselines = {"A": results[0][1], "B": results[2][1]}
    print()
    print(
        f"period {start} to {end}; {full.started} courses; scan A fetched {fetched} rows, "
        f"scan B {kept}; the rebuild recomputed {refresh.patients} patients"
    )
    print(f"median of {runs} runs after one warm-up (rebuild and records: 1 run); {_load()}")
    print()
    header = (
        f"| {'computation':55} | {'median s':>8} | {'min s':>7} | {'max s':>7} "
        f"| {'x scan A':>8} | {'x scan B':>8} |"
    )
    print(header)
    print("|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|")
    for name, median, low, high in results:
        print(
            f"| {name:55} | {median:>8.3f} | {low:>7.3f} | {high:>7.3f} "
            f"| {median / baselines['A']:>8.2f} | {median / baselines['B']:>8.2f} |"
        )
    print()
    _summary(full)
    full_s = next(r[1] for r in results if r[0] == "full cohort_dashboard, whole network")
    targets = [
        (f"full dashboard under 2 s ({full_s:.2f} s)", full_s < 2.0),
        (
            f"full dashboard within 5x scan B, the rows it reads ({full_s / baselines['B']:.2f}x)",
            full_s <= 5 * baselines["B"],
        ),
        (
            f"full dashboard within 5x scan A, the clinical records ({full_s / baselines['A']:.2f}x)",
            full_s <= 5 * baselines["A"],
        ),
    ]
    if from_records is not None:
        targets.append(("summaries and records give the same dashboard", from_records == full))
    for name, ok in targets:
        print(f"[{'met' if ok else 'MISSED'}] {name}")
    return 0 if all(ok for _, ok in targets) else 1


def _summary(dashboard: Any) -> None:
    """A few of the dashboard's own figures, so a reader sees the network is realistic."""
    print(f"started {dashboard.started}, completed {dashboard.completed}")
    for point in dashboard.time_points:
        response = point.response
        remission = point.remission
        print(
            f"  {point.time_point.key:>14}: measured {point.measured:>6}, missing {point.missing:>6}"
            + (f", response {response.estimate:.1%}" if response else "")
            + (f", remission {remission.estimate:.1%}" if remission else "")
        )
    print()


if __name__ == "__main__":
    raise SystemExit(main())
