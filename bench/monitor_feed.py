"""Monitor feed: what the MLLP listener stores and grades per second, and frame-to-alert latency.

    .venv/bin/python bench/monitor_feed.py [--chairs 100] [--interval 15] [--duration 120]
        [--burst 20] [--workers 4] [--database-url postgres://postgres@127.0.0.1:5432/kapstone_bench_feed]

Builds a clinic in a database of its own (a temporary SQLite file in WAL mode, as in production,
unless ``--database-url`` names a PostgreSQL database, which is dropped and created afresh; names
starting with ``test`` or ``postgres`` are refused): ``--chairs`` IV chairs, each with a patient
whose dosing session is in progress there (signed eligibility and plan, checklist, baseline,
dose 15 minutes in), and a registered monitor per chair. Then, against the listener running in
this process on a free port (``--workers`` database threads), with one raw-socket client thread
per chair:

1. sustained: every chair sends an ORU^R01 every ``--interval`` seconds for ``--duration``
   seconds, each reading 182/112 mmHg (graded into a "stop dosing" alert), waiting for its ACK;
   each chair starts at a random moment within the interval (seeded), as monitors do;
2. aligned: the worst case, every chair sending at the same instant, twice;
3. burst: every chair sends ``--burst`` messages back to back (the most the listener takes).

Latency is from the frame leaving the client to its ACK arriving. The listener sends the ACK after
the message's transaction (the reading, its grading and its alert) has committed, so this is an
upper bound of "frame received to alert stored". Prints messages per second, the latency's p50,
p95, p99 and maximum, and how many readings raised an alert. Exit status 0 when the sustained
run's p99 is under 1 s and every message was acknowledged AA.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


def _database(args: argparse.Namespace) -> str:
    if not args.database_url:
        path = Path(tempfile.mkdtemp(prefix="kapstone-bench-feed-")) / "bench.sqlite3"
        return f"sqlite:///{path}"
    import psycopg

    parts = urlsplit(args.database_url)
    name = parts.path.lstrip("/")
    if not name or name.startswith(("test", "postgres", "template")):
        raise SystemExit(f"refusing to use database {name!r}: give the bench its own database")
    maintenance = urlunsplit(parts._replace(path="/template1"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return args.database_url


def _clinic(chairs: int) -> list[str]:
    """``chairs`` chairs with a session in progress and a monitor each; their MSH-3 names."""
    from django.core.management import call_command
    from django.utils import timezone
    from tests.conftest import make_patient, make_staff
    from tests.shell.chairside_support import ready_to_dose

    from kapstone.accounts.models import Room, Site
    from kapstone.chairside.services import give_dose
    from kapstone.clinical.access import Role
    from kapstone.dosing.models import DosingSession
    from kapstone.monitors.services import register_device

    call_command("migrate", verbosity=0)
    site = Site.objects.create(name="Riverside")
    staff = {r.value: make_staff(r.value, r, [site]) for r in Role}
    names = []
    for n in range(chairs):
        patient = make_patient(
            by=staff["intake_coordinator"],
            mrn=f"MRN-{5000 + n}",
            site=site,
            prescriber=staff["prescriber"],
            therapist=staff["therapist"],
            nurse=staff["nurse"],
        )
        record = ready_to_dose(SimpleNamespace(on_team=patient, staff=staff))
        room = Room.objects.create(site=site, name=f"Chair {n + 1}", routes=["iv"])
        DosingSession.objects.filter(pk=record.session_id).update(room=room)
        give_dose(
            by=staff["nurse"],
            record=record,
            dose_mg=Decimal(35),
            started_at=record.session.starts_at + dt.timedelta(minutes=15),
        )
        register_device(
            by=staff["administrator"],
            label=f"Chair {n + 1} monitor",
            sending_application=f"MON{n + 1}",
            sending_facility="",
            room=room,
            local_codes={},
            now=timezone.now(),
        )
        names.append(f"MON{n + 1}")
    return names


def _message(app: str, control_id: str) -> bytes:
    from django.utils import timezone
    from tests.monitors.support import ge_style

    return ge_style(app, control_id, timezone.now(), sys=182, dia=112)


def _client(
    port: int, app: str, count: int, every: float, offset: float, out: list[tuple[float, str]]
) -> None:
    from tests.monitors.support import Client

    client = Client(port)
    client.sock.settimeout(120)
    start = time.monotonic() + offset
    for k in range(count):
        if every:
            pause = start + k * every - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        message = _message(app, f"{app}-{every}-{k}")
        sent = time.perf_counter()
        try:
            ack = client.send(message)
        except OSError as exc:
            # Counted, never lost: a message without its ACK fails the run.
            out.append((time.perf_counter() - sent, f"no ACK ({type(exc).__name__})"))
            break
        out.append((time.perf_counter() - sent, ack["MSA"][1]))
    client.close()


def _run(
    port: int, apps: list[str], count: int, every: float, aligned: bool = True
) -> tuple[float, list[tuple[float, str]]]:
    """Every chair's client in a thread; ``aligned`` False: each chair's first message at a random
    moment within the interval (seeded), as monitors switched on at different times send."""
    results: dict[str, list[tuple[float, str]]] = {app: [] for app in apps}
    rng = random.Random(2026)
    offsets = {app: 0.0 if aligned else rng.uniform(0, every) for app in apps}
    threads = [
        threading.Thread(target=_client, args=(port, app, count, every, offsets[app], results[app]))
        for app in apps
    ]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - began, [r for rows in results.values() for r in rows]


def _listener(args: argparse.Namespace) -> tuple[object, subprocess.Popen[bytes] | None, int]:
    """One listener in this process (threads), or ``--processes`` of them as the command runs them."""
    from kapstone.monitors.listener import Listener

    if args.processes <= 1:
        listener = Listener("127.0.0.1", 0, workers=args.workers)
        return listener, None, listener.start_in_thread()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "kapstone"),
            "monitor_listener",
            "--port",
            str(port),
            "--processes",
            str(args.processes),
            "--workers",
            str(args.workers),
            "-v",
            "0",
        ],
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + 30
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
        if time.monotonic() > deadline:
            raise SystemExit("the listener processes did not start")
        time.sleep(0.2)
    time.sleep(1)  # every process bound
    return None, process, port


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _row(name: str, seconds: float, rows: list[tuple[float, str]]) -> str:
    latencies = [r[0] for r in rows]
    codes = {c: sum(1 for r in rows if r[1] == c) for c in sorted({r[1] for r in rows})}
    return (
        f"| {name:<10} | {len(rows):>8} | {len(rows) / seconds:>10.1f} | "
        f"{statistics.median(latencies) * 1000:>7.0f} | {_quantile(latencies, 0.95) * 1000:>7.0f} | "
        f"{_quantile(latencies, 0.99) * 1000:>7.0f} | {max(latencies) * 1000:>7.0f} | {codes} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chairs", type=int, default=100)
    parser.add_argument("--interval", type=float, default=15.0)
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--processes", type=int, default=1, help="listener processes (kapstone monitor_listener)"
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("KAPSTONE_BENCH_FEED_DATABASE_URL")
    )
    args = parser.parse_args()

    os.environ["KAPSTONE_DATABASE_URL"] = _database(args)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapstone.settings")
    import logging

    import django

    django.setup()
    logging.getLogger("kapstone.monitors").setLevel(logging.WARNING)
    from django.db import connection
    from django.utils import timezone

    from kapstone.chairside.models import SessionAlert
    from kapstone.monitors.models import InboundMessage, Placement

    print(f"date: {timezone.now():%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}; python {platform.python_version()}; database {connection.vendor}"
    )
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    built = time.perf_counter()
    apps = _clinic(args.chairs)
    print(
        f"built {args.chairs} chairs with a session in progress in {time.perf_counter() - built:.1f} s"
    )

    listener, process, port = _listener(args)
    alerts_before = SessionAlert.objects.count()
    count = max(1, int(args.duration / args.interval))
    seconds, sustained = _run(port, apps, count, args.interval, aligned=False)
    alerts = SessionAlert.objects.count() - alerts_before
    aligned_seconds, aligned = _run(port, apps, 2, args.interval, aligned=True)
    burst_seconds, burst = _run(port, apps, args.burst, 0)
    if listener is not None:
        listener.stop()
    if process is not None:
        process.terminate()
        process.wait(30)
    placed = InboundMessage.objects.filter(placement=Placement.SESSION).count()

    print(
        f"\n{args.chairs} chairs; sustained: a message every {args.interval:g} s for "
        f"{args.duration:g} s; burst: {args.burst} back to back per chair; "
        f"{args.processes} listener process(es) of {args.workers} database threads"
    )
    print("| run        | messages | messages/s |  p50 ms |  p95 ms |  p99 ms |  max ms | ACKs |")
    print("|------------|----------|------------|---------|---------|---------|---------|------|")
    print(_row("sustained", seconds, sustained))
    print(_row("aligned", aligned_seconds, aligned))
    print(_row("burst", burst_seconds, burst))
    print(
        f"\nreadings charted into sessions: {placed}; alerts stored in the sustained run: {alerts}"
    )
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    p99 = _quantile([r[0] for r in sustained], 0.99)
    expected = len(apps) * (count + 2 + args.burst)
    answered = sustained + aligned + burst
    all_accepted = len(answered) == expected and all(r[1] == "AA" for r in answered)
    met = p99 < 1.0 and all_accepted
    print(f"\n[{'met' if met else 'MISSED'}] sustained p99 frame-to-ACK under 1 s ({p99:.3f} s)")
    print(
        f"[{'met' if all_accepted else 'MISSED'}] every message acknowledged AA "
        f"({sum(1 for r in answered if r[1] == 'AA')} of {expected})"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
