"""FHIR Bulk $export at scale, against the research export's own NDJSON writer in the same run.

    .venv/bin/python bench/fhir_api.py --database-url postgres://postgres@127.0.0.1:5432/NAME
        [--site PK] [--types Patient,Observation,...] [--skip-research] [--skip-export]
        [--folder DIR]

Runs against a PostgreSQL database that already holds a synthetic network (``kapstone.demo.network``,
e.g. a copy of the one ``bench/outcomes.py`` builds: ``createdb -T kapstone_bench NAME``) and is
migrated to this branch; it writes (an API client, export jobs, audit rows), so never point it at a
database someone else uses. By default over the WHOLE network; in this one run it times, each in a
child process of its own (so each peak memory is its own):

- the research export's FHIR NDJSON for every patient (or, with ``--site PK``, the site's), as its
  task builds it: the pass over the patients alone (``services.plan``: read them, draw
  pseudonyms and site codes, k-anonymity), then a slice of patients at a time reading their events
  (``selectors.events``), de-identifying them (``build_slice``), building the resources and
  writing NDJSON lines to files (``files.FhirFiles``, the export's own writer); the writer alone is
  the last step;
- the FHIR ``$export`` job (``kapstone.fhirapi.bulk.run_export``, what the task worker runs) for
  the whole network at system level (or, with ``--site PK``, at Group level for ``Group/site-PK``),
  every served type or ``--types``;

and prints resources per second for each and the ratio of ``$export``'s rate to each research rate,
with each peak memory, the machine, the load before, between and after, and the date. NDJSON goes
to a temporary folder in ``--folder`` (default the system's), counted and removed after each step:
the whole network's ``$export`` is about 35 GB. The research export covers fewer resource types and
only de-identified fields, so the ratio compares throughput of two NDJSON writers over the same
database, not identical output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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


def _start(step: Any, *args: Any) -> tuple[str, int, int]:
    """Runs ``step(*args)`` in a forked child (its own peak memory, no memory left behind);
    :func:`_result` waits for what it returns."""
    from django.db import connections

    connections.close_all()  # the child opens its own
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        code = 0
        try:
            result = step(*args)
            result["peak_mib"] = _peak_mib()
        except BaseException as exc:  # reported to the parent, which stops the run
            result, code = {"error": repr(exc)}, 1
        with os.fdopen(write_end, "w") as out:
            json.dump(result, out)
        os._exit(code)
    os.close(write_end)
    return step.__name__, pid, read_end


def _result(started: tuple[str, int, int]) -> dict[str, Any]:
    name, pid, read_end = started
    with os.fdopen(read_end) as given:
        found: dict[str, Any] = json.loads(given.read() or '{"error": "no answer"}')
    os.waitpid(pid, 0)
    if "error" in found:
        raise SystemExit(f"{name} failed: {found['error']}")
    return found


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


def _research(site: int | None, folder: Path) -> dict[str, Any]:
    import random

    from django.utils import timezone

    from kapstone.interop.deidentify import Dataset, build_slice
    from kapstone.research import selectors, services
    from kapstone.research.files import FhirFiles
    from kapstone.research.models import ResearchExport

    now = timezone.now()
    asked = ResearchExport(  # what the task reads of a request; not saved
        period_start=dt.date(1900, 1, 1),
        period_end=timezone.localdate(),
        site_ids=[] if site is None else [site],
        programs=[],
        suppress=False,
    )
    started = time.perf_counter()
    planned = services.plan(export=asked, now=now, rng=random.Random(1))
    order = planned.order()
    planning = time.perf_counter() - started
    read = deidentify = writer = 0.0
    fhir = FhirFiles(folder)
    for first in range(0, len(order), selectors.SLICE):
        keys = order[first : first + selectors.SLICE]
        at = time.perf_counter()
        found = selectors.events(keys)
        read_at = time.perf_counter()
        piece = Dataset(
            build_slice(
                planned,
                keys=keys,
                scores=found.scores,
                dosing=found.dosing,
                integration=found.integration,
            ),
            planned.report,
            planned.policy,
            planned.outcome_policy.version,
        )
        built_at = time.perf_counter()
        fhir.add(piece)
        written_at = time.perf_counter()
        read += read_at - at
        deidentify += built_at - read_at
        writer += written_at - built_at
    fhir.close()
    seconds = time.perf_counter() - started
    size = sum(path.stat().st_size for path in fhir.paths)
    for path in fhir.paths:
        path.unlink()
    return {
        "seconds": seconds,
        "plan": planning,
        "patients": len(order),
        "read": read,
        "deidentify": deidentify,
        "writer": writer,
        "counts": fhir.counts,
        "bytes": size,
    }


def _fhir_step(types: list[str], site: int | None, folder: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="fhir-bench-", dir=folder) as tmp:
        return _fhir_export(types, site, Path(tmp))


def _research_step(site: int | None, folder: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="research-bench-", dir=folder) as tmp:
        return _research(site, Path(tmp))


def _print_research(research: dict[str, Any]) -> tuple[float, float]:
    total = sum(research["counts"].values())
    end_to_end = total / research["seconds"]
    writer = total / research["writer"]
    print(
        f"research FHIR NDJSON: {total} resources, {research['bytes'] / 2**20:.0f} MiB for "
        f"{research['patients']} patients in {research['seconds']:.1f} s (patients pass "
        f"{research['plan']:.1f}, read {research['read']:.1f}, de-identify "
        f"{research['deidentify']:.1f}, resources+NDJSON {research['writer']:.1f}) = "
        f"{end_to_end:,.0f} resources/s end to end, {writer:,.0f} resources/s writer alone; "
        f"peak RSS {research['peak_mib']:.0f} MiB"
    )
    print("  " + ", ".join(f"{t} {n}" for t, n in research["counts"].items()))
    return end_to_end, writer


def _print_fhir(fhir: dict[str, Any]) -> float:
    total = sum(fhir["counts"].values())
    rate: float = total / fhir["seconds"]
    print(
        f"$export: {total} resources, {fhir['bytes'] / 2**20:.0f} MiB NDJSON in "
        f"{fhir['seconds']:.1f} s = {rate:,.0f} resources/s; peak RSS {fhir['peak_mib']:.0f} MiB"
    )
    print(
        f"  this process's CPU time {fhir['cpu']:.1f} s = {total / fhir['cpu']:,.0f} "
        "resources per CPU second (the database server's time not counted)"
    )
    print("  " + ", ".join(f"{t} {n}" for t, n in fhir["counts"].items()))
    return rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--site", type=int, default=None, help="Group level: one site's patients")
    parser.add_argument("--types", default="", help="comma list (default: every served type)")
    parser.add_argument("--skip-research", action="store_true")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--folder", default=tempfile.gettempdir(), help="where NDJSON goes")
    parser.add_argument(
        "--parallel",
        action="store_true",
        help="run the two at once, under the same load (else the research export, then $export)",
    )
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

    print(f"date: {timezone.now():%Y-%m-%d %H:%M} UTC", flush=True)
    print(_machine())
    print(f"{_load()} (before)")
    print(
        f"network: {total_patients} patients; exported: "
        f"{exported} patients" + ("" if args.site is None else f" (Group/site-{args.site})"),
        flush=True,
    )
    rates: dict[str, float] = {}
    research = fhir = None
    if not args.skip_research:
        research = _start(_research_step, args.site, args.folder)
    if args.parallel and not args.skip_export:
        fhir = _start(_fhir_step, types, args.site, args.folder)
        print("research export and $export started together", flush=True)
    if research is not None:
        rates["end"], rates["writer"] = _print_research(_result(research))
        print(f"{_load()} (after the research export)", flush=True)
    if not args.skip_export:
        rates["fhir"] = _print_fhir(
            _result(fhir or _start(_fhir_step, types, args.site, args.folder))
        )
        print(f"{_load()} (after $export)", flush=True)
    if len(rates) == 3:
        print(
            f"ratio $export / research: {rates['fhir'] / rates['end']:.2f}x end to end, "
            f"{rates['fhir'] / rates['writer']:.2f}x writer alone"
        )
    print(f"date: {timezone.now():%Y-%m-%d %H:%M} UTC (end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
