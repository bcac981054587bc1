"""The vital-signs reads of the chair-side console and of a patient's chart, as the table grows.

    .venv/bin/python bench/vitals_query.py --database-url postgres://postgres@127.0.0.1:5432/kapstone_bench_copy
        [--samples 50] [--seed 0]

On a copy of the 100 000-patient network (``kapstone demo_network``; never the database others
use), for ``--samples`` chair-side records picked at random (seeded), runs with EXPLAIN (ANALYZE,
BUFFERS) the queries the pages run:

- console: one session's readings, as ``kapstone.chairside.selectors.readings_panel`` reads them
  (``record.vitals`` with the strike, its author and the recorder, by ``taken_at``);
- chart: every reading of one patient's sessions, as the research export and the REMS report read
  them (``record_id IN`` the patient's records, not struck);

and prints the table's size, the plan's access path, and the median and p95 execution time and
shared buffers touched. Run it, grow the table (other sessions' readings), run it again: a query
that stays flat touches the same few pages whatever the table's size.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    name = urlsplit(args.database_url).path.lstrip("/")
    if not name or name.startswith(("test", "postgres", "template")) or name == "kapstone_bench":
        raise SystemExit(f"refusing to use database {name!r}: give the bench a copy of its own")
    os.environ["KAPSTONE_DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapstone.settings")
    import django

    django.setup()
    from django.db import connection

    from kapstone.chairside.models import ChairsideRecord, VitalReading

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
            "WHERE relname = 'chairside_vitalreading'"
        )
        rows, size = cursor.fetchone()
        cursor.execute("SELECT max(id) FROM chairside_chairsiderecord")
        (top,) = cursor.fetchone()
    rng = random.Random(args.seed)
    ids: list[int] = []
    while len(ids) < args.samples:
        found = (
            ChairsideRecord.objects.filter(pk__gte=rng.randint(1, top))
            .order_by("pk")
            .values_list("pk", "session__patient_id")
            .first()
        )
        if found is not None and found[0] not in ids:
            ids.append(found)  # type: ignore[arg-type]

    def explain(sql: str, params: list[object]) -> tuple[float, int, str]:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
            (plan,) = cursor.fetchone()
        top_plan = plan[0]
        node = top_plan["Plan"]
        paths: list[str] = []

        def walk(n: dict) -> None:  # type: ignore[type-arg]
            if "Index Name" in n and n.get("Relation Name") == "chairside_vitalreading":
                paths.append(f"{n['Node Type']} on {n['Index Name']}")
            elif n.get("Relation Name") == "chairside_vitalreading":
                paths.append(n["Node Type"])
            for child in n.get("Plans", []):
                walk(child)

        walk(node)
        buffers = node.get("Shared Hit Blocks", 0) + node.get("Shared Read Blocks", 0)
        return float(top_plan["Execution Time"]), int(buffers), ", ".join(paths)

    results: dict[str, list[tuple[float, int, str]]] = {"console": [], "chart": []}
    for record_id, patient_id in ids:  # type: ignore[misc]
        console = (
            VitalReading.objects.filter(record_id=record_id)
            .select_related("strike__by", "recorded_by", "verification__by")
            .order_by("taken_at", "pk")
        )
        sql, params = console.query.sql_with_params()
        results["console"].append(explain(sql, list(params)))
        chart = VitalReading.objects.filter(
            record__in=ChairsideRecord.objects.filter(session__patient_id=patient_id),
            strike__isnull=True,
        ).order_by("record_id", "taken_at", "pk")
        sql, params = chart.query.sql_with_params()
        results["chart"].append(explain(sql, list(params)))

    print(
        f"vitals queries: {platform.node()}, {os.cpu_count()} CPUs, load "
        f"{os.getloadavg()[0]:.1f}; chairside_vitalreading ~{rows:,} rows, {size}; "
        f"{len(ids)} records"
    )
    for query, measured in results.items():
        times = sorted(t for t, _, _ in measured)
        buffers = sorted(b for _, b, _ in measured)
        paths = {p for _, _, p in measured}
        print(
            f"{query:<8} median {statistics.median(times):.3f} ms, "
            f"p95 {times[int(0.95 * (len(times) - 1))]:.3f} ms, "
            f"buffers median {statistics.median(buffers):.0f}; {' | '.join(sorted(paths))}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
