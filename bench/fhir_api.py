"""FHIR Bulk $export at scale, against the research export's own NDJSON writer in the same run.

    .venv/bin/python bench/fhir_api.py --database-url postgres://postgres@127.0.0.1:5432/NAME
        [--site PK] [--types Patient,Observation,...] [--skip-research]

Runs against a PostgreSQL database that already holds a synthetic network (``kapstone.demo.network``,
e.g. a copy of the one ``bench/outcomes.py`` builds: ``createdb -T kapstone_bench NAME``) and is
migrated to this branch; it writes (an API client, export jobs, audit rows), so never point it at a
database someone else uses. In this one process it times:

- the FHIR ``$export`` job (``kapstone.fhirapi.bulk.run_export``, what the task worker runs) for
  the whole network at system level (or, with ``--site PK``, at Group level for ``Group/site-PK``,
  the site's patients), every served type or ``--types``; NDJSON written to a temporary folder;
- the research export's FHIR NDJSON for the same patients as its task builds it: reading the
  sources, de-identifying (``build_dataset``), building the resources (``bulk_resources``) and
  serialising them (``kapstone.research.files.ndjson``); and the writer alone (resources and
  NDJSON from the built dataset);

and prints resources per second for each and the ratio of ``$export``'s rate to each research rate,
with peak memory, the machine, the load and the date. The research export covers fewer resource
types and only de-identified fields, so the ratio compares throughput of two NDJSON writers over
the same database, not identical output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REFUSED = ("kapstone_bench", "postgres", "template0", "template1")


def _machine() -> str:
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
    return (
        f"machine: {platform.machine()}, {os.cpu_count()} cores ({cpu}), {mem_kb / 2**20:.0f} GiB;"
        f" {platform.system()} {platform.release()}; python {platform.python_version()}"
    )


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fhir_export(types: list[str], site: int | None, folder: Path) -> dict[str, Any]:
    from django.conf import settings
    from django.utils import timezone

    from kapstone.fhirapi import bulk
    from kapstone.fhirapi.models import ApiClient, BulkExport, ExportLevel
    from kapstone.fhirapi.registry import KINDS

    settings.FHIR_EXPORT_DIR = folder
    client = ApiClient.objects.filter(client_id="bench-warehouse").first()
    if client is None:
        now = timezone.now()
        client = ApiClient.objects.create(
            client_id="bench-warehouse",
            name="Bench warehouse",
            scopes="system/*.rs",
            jwks_url="https://bench.invalid/jwks",
            created_at=now,
            updated_at=now,
        )
    level = ExportLevel.SYSTEM if site is None else ExportLevel.GROUP
    chosen = types if site is None else [t for t in types if KINDS[t].in_patient_compartment]
    job = BulkExport.objects.create(
        client=client,
        level=level,
        group_id="" if site is None else f"site-{site}",
        types=chosen,
        request_url="bench",
        requested_at=timezone.now(),
    )
    started, cpu = time.perf_counter(), time.process_time()
    finished = bulk.run_export(str(job.pk), now=timezone.now())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert finished is not None and finished.state == "complete", finished and finished.error
    counts = {str(o["type"]): int(o["count"]) for o in finished.output}
    size = sum(p.stat().st_size for p in (folder / str(job.pk)).glob("*.ndjson"))
    return {"seconds": seconds, "cpu": cpu, "counts": counts, "bytes": size}


def _research(site: int | None) -> dict[str, Any]:
    import random

    from django.utils import timezone

    from kapstone.interop.deidentify import DEFAULT_POLICY, build_dataset
    from kapstone.interop.fhir_research import bulk_resources
    from kapstone.outcomes.selectors import OUTCOME_POLICY
    from kapstone.research import selectors
    from kapstone.research.files import ndjson

    started = time.perf_counter()
    found = selectors.sources(
        start=dt.date(1900, 1, 1),
        end=timezone.localdate(),
        site_ids=[] if site is None else [site],
        programs=[],
    )
    read = time.perf_counter()
    dataset = build_dataset(
        patients=found.patients,
        scores=found.scores,
        dosing=found.dosing,
        integration=found.integration,
        zone=timezone.get_current_timezone(),
        rng=random.Random(1),
        now=timezone.now(),
        policy=DEFAULT_POLICY,
        outcome_policy=OUTCOME_POLICY,
    )
    built = time.perf_counter()
    size = 0
    counts: dict[str, int] = {}
    for resource_type, resources in bulk_resources(dataset).items():
        size += len(ndjson(resources))
        counts[resource_type] = len(resources)
    written = time.perf_counter()
    return {
        "seconds": written - started,
        "read": read - started,
        "deidentify": built - read,
        "writer": written - built,
        "counts": counts,
        "bytes": size,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--site", type=int, default=None, help="Group level: one site's patients")
    parser.add_argument("--types", default="", help="comma list (default: every served type)")
    parser.add_argument("--skip-research", action="store_true")
    args = parser.parse_args(argv)
    name = args.database_url.rsplit("/", 1)[-1]
    if name in REFUSED or name.startswith("test"):
        raise SystemExit(f"refusing database {name!r}: the bench writes; give it its own copy")
    os.environ["KAPSTONE_DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapstone.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django

    django.setup()
    from kapstone.fhirapi.registry import KINDS
    from kapstone.patients.models import Patient

    types = [t for t in args.types.split(",") if t] or list(KINDS)
    total_patients = Patient.objects.count()
    exported = (
        total_patients
        if args.site is None
        else Patient.objects.filter(home_site_id=args.site).count()
    )
    from django.utils import timezone

    print(f"date: {timezone.now():%Y-%m-%d %H:%M} UTC")
    print(_machine())
    print(f"{_load()} (before)")
    print(
        f"network: {total_patients} patients; exported: "
        f"{exported} patients" + ("" if args.site is None else f" (Group/site-{args.site})")
    )
    with tempfile.TemporaryDirectory(prefix="fhir-bench-") as tmp:
        fhir = _fhir_export(types, args.site, Path(tmp))
    fhir_total = sum(fhir["counts"].values())
    fhir_rate = fhir_total / fhir["seconds"]
    print(
        f"$export: {fhir_total} resources, {fhir['bytes'] / 2**20:.0f} MiB NDJSON in "
        f"{fhir['seconds']:.1f} s = {fhir_rate:,.0f} resources/s; peak RSS {_peak_mib():.0f} MiB"
    )
    print(
        f"  this process's CPU time {fhir['cpu']:.1f} s = {fhir_total / fhir['cpu']:,.0f} "
        "resources per CPU second (the database server's time not counted)"
    )
    print("  " + ", ".join(f"{t} {n}" for t, n in fhir["counts"].items()))
    print(f"{_load()} (after $export)")
    if args.skip_research:
        return 0
    research = _research(args.site)
    research_total = sum(research["counts"].values())
    end_to_end = research_total / research["seconds"]
    writer = research_total / research["writer"]
    print(
        f"research FHIR NDJSON: {research_total} resources, {research['bytes'] / 2**20:.0f} MiB in "
        f"{research['seconds']:.1f} s (read {research['read']:.1f}, de-identify "
        f"{research['deidentify']:.1f}, resources+NDJSON {research['writer']:.1f}) = "
        f"{end_to_end:,.0f} resources/s end to end, {writer:,.0f} resources/s writer alone; "
        f"peak RSS {_peak_mib():.0f} MiB"
    )
    print("  " + ", ".join(f"{t} {n}" for t, n in research["counts"].items()))
    print(
        f"ratio $export / research: {fhir_rate / end_to_end:.2f}x end to end, "
        f"{fhir_rate / writer:.2f}x writer alone"
    )
    print(f"{_load()} (after)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
