"""Web load: Kapstone's interactive pages under gunicorn against a bare Django view (the floor).

    .venv/bin/python bench/web_load.py --database-url postgres://postgres@127.0.0.1:5432/kap_perf_net
    .venv/bin/python bench/web_load.py --demo            # quick try: the demo clinic on SQLite
    .venv/bin/python bench/web_load.py --demo --seconds 5 --staff 20

Serves Kapstone with gunicorn (deploy/gunicorn.conf.py, KAPSTONE_PROFILE=production, DEBUG off,
two sync workers per core, as deployed) on the given database (the 100 000-patient network: a copy of the one
bench/outcomes.py builds, never that database itself), or with ``--demo`` on a fresh SQLite file
holding the demo clinic. Before serving it adds, through the services, what the pages need: a site
with a medical director (who sees every chart; the sites of the network too), ``--chairs`` (8)
patients whose dosing sessions are in progress at as many chairs (signed plan, checklist, baseline
reading, a dose; in the mix staff n works at chair n mod chairs), one more in progress whose
session takes the saturation run's hundreds of vital-sign saves a second, and
signs the director in with MFA the way the tests do (a confirmed TOTP device named in the
session): one stored session per simulated member of staff, sent as the session cookie.

The floor is ``/bench/floor/``, a view that returns two bytes, routed only when
``KAPSTONE_BENCH_FLOOR`` is on, served by the same gunicorn workers behind the same middleware
(sessions, CSRF, authentication, OTP, CSP, the idle timeout, ...): what Django costs here before
any page's own work. A separate WSGI callable would have measured a different process.

It measures, with an asyncio/aiohttp load generator in a separate process:

1. the database queries per page (Django's test client in this process, before gunicorn starts);
2. each page alone: one connection, ``--alone`` requests after a warm-up, median and p95;
3. saturation: ``--connections`` (50) connections back to back for ``--seconds`` per page,
   requests/s and its ratio to the floor measured in the same run; the generator's own CPU time is
   reported with it (a generator near one full core would be the bottleneck, not the server);
4. a clinic day: ``--staff`` (50) members of staff, each opening a page drawn in proportion to use
   (MIX below), then thinking for a random 0.5x-1.5x ``--think`` seconds, for ``--mix-seconds``
   (default 3 x ``--seconds``, or 15 think times if longer): p50/p95/p99 latency and errors.
   ``--think`` takes one or more mean think times (comma-separated), one mix each; the default
   ``2,10`` runs both the first version's aggressive 2 s (each of 50 staff opening a page every
   2 s all day: 25 pages/s, far busier than any clinic) and the clinic think time of 10 s
   (5-15 s; docs/benchmarks.md, "Web load", says why), and reports both.
5. the PDFs, timed alone (``ALONE_ONLY``): the plan, the ledger's dispensing log (after
   ``--ledger-draws`` (500) draws through the ledger's services at a site of its own: two months
   of a site dosing eight sessions a day) and the cohort program report.

Every response is checked (200, or the redirect after a save): anything else is an error.
Exit status 0 when the targets hold: the chart at saturation >= 10 % of the floor, the mix's p95
< 150 ms and p99 < 300 ms with no errors, and every page alone (median) under 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

# Pages in proportion to how often staff open them on a clinic day (a guess, stated): the chair-side
# console is open at every chair and reloaded after each entry, the chart is the next most opened.
MIX = {
    "console": 25,
    "vitals save": 10,
    "chart": 20,
    "day board": 12,
    "patient list": 8,
    "alert board": 8,
    "outcomes tab": 12,
    "cohort dashboard": 5,
}
# Timed alone only: not part of the saturation runs or the mix.
ALONE_ONLY = {"plan pdf", "dispensing log pdf", "program report pdf"}
# The mix's default mean think times: the first version's aggressive 2 s, and the clinic's 10 s.
THINK_TIMES = "2,10"
PDF_TARGET = 1.0
CHART_TARGET = 0.10
P95_TARGET = 0.150
P99_TARGET = 0.300
ALONE_TARGET = 0.150


# --- the load generator (a separate process: `web_load.py --generate`, spec on stdin) ----------


def _request_args(target: dict[str, Any], base: str, cookie: str) -> dict[str, Any]:
    headers = {
        "Cookie": cookie,
        "X-Forwarded-Proto": "https",
        "Host": urlsplit(base).netloc,
    }
    data = None
    if target["method"] == "POST":
        headers["Origin"] = "https://" + urlsplit(base).netloc
        headers["X-CSRFToken"] = target["csrf"]
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        data = target["body"]() if callable(target["body"]) else target["body"]
    return {
        "method": target["method"],
        "url": base + target["path"],
        "headers": headers,
        "data": data,
    }


async def _one(
    session: Any, target: dict[str, Any], base: str, cookie: str
) -> tuple[float, bool, str]:
    args = _request_args(target, base, cookie)
    started = time.perf_counter()
    try:
        async with session.request(**args, allow_redirects=False) as response:
            await response.read()
            status = response.status
            location = response.headers.get("Location", "")
    except Exception as exc:
        return time.perf_counter() - started, False, type(exc).__name__
    seconds = time.perf_counter() - started
    ok = status == target["expect"] and (status != 302 or "login" not in location)
    return seconds, ok, "" if ok else f"{status} {location}"


async def _alone(session: Any, spec: dict[str, Any]) -> dict[str, Any]:
    base, cookie, results = spec["base"], spec["cookies"][0], {}
    for name in spec["pages"]:
        target = spec["targets"][name]
        for _ in range(3):
            await _one(session, target, base, cookie)
        lat, errors = [], []
        for _ in range(spec["requests"]):
            seconds, ok, why = await _one(session, target, base, cookie)
            lat.append(seconds)
            if not ok:
                errors.append(why)
        results[name] = {"latencies": lat, "errors": errors[:5], "error_count": len(errors)}
    return results


async def _saturate(session: Any, spec: dict[str, Any]) -> dict[str, Any]:
    target, cookies = spec["targets"][spec["page"]], spec["cookies"]
    deadline = time.perf_counter() + spec["seconds"]
    lat: list[float] = []
    errors: list[str] = []

    async def worker(n: int) -> None:
        cookie = cookies[n % len(cookies)]
        while time.perf_counter() < deadline:
            seconds, ok, why = await _one(session, target, spec["base"], cookie)
            lat.append(seconds)
            if not ok:
                errors.append(why)

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(spec["connections"])))
    return {
        "requests": len(lat),
        "seconds": time.perf_counter() - started,
        "latencies": lat,
        "errors": errors[:5],
        "error_count": len(errors),
    }


async def _mix(session: Any, spec: dict[str, Any]) -> dict[str, Any]:
    rng = random.Random(spec["seed"])
    names = list(spec["weights"])
    weights = [spec["weights"][n] for n in names]
    deadline = time.perf_counter() + spec["seconds"]
    per_page: dict[str, list[float]] = {n: [] for n in names}
    errors: list[str] = []

    async def staff(n: int) -> None:
        cookie = spec["cookies"][n % len(spec["cookies"])]
        await asyncio.sleep(rng.uniform(0, spec["think"]))
        while time.perf_counter() < deadline:
            name = rng.choices(names, weights)[0]
            target = spec["targets"][name]
            if spec.get("chairs") and name in spec["chairs"][0]:
                target = {**target, "path": spec["chairs"][n % len(spec["chairs"])][name]}
            seconds, ok, why = await _one(session, target, spec["base"], cookie)
            per_page[name].append(seconds)
            if not ok:
                errors.append(f"{name}: {why}")
            await asyncio.sleep(spec["think"] * rng.uniform(0.5, 1.5))

    started = time.perf_counter()
    await asyncio.gather(*(staff(n) for n in range(spec["staff"])))
    return {
        "seconds": time.perf_counter() - started,
        "per_page": per_page,
        "errors": errors[:5],
        "error_count": len(errors),
    }


async def _generate(spec: dict[str, Any]) -> dict[str, Any]:
    import aiohttp

    for target in spec["targets"].values():
        if target["method"] == "POST" and target.get("vitals"):
            target["body"] = _vitals_body(target)
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=60)
    cpu_start = time.process_time()
    wall_start = time.perf_counter()
    modes = {"alone": _alone, "saturate": _saturate, "mix": _mix}
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        results = await modes[spec["mode"]](session, spec)
    results["generator_cpu"] = (time.process_time() - cpu_start) / (
        time.perf_counter() - wall_start
    )
    return results


def _vitals_body(target: dict[str, Any]) -> Any:
    def body() -> str:
        # The form's "Taken at" is a local time to the minute; a minute ago is inside the session.
        local = dt.datetime.fromtimestamp(time.time(), dt.UTC).astimezone(
            _zone(target["zone"])
        ) - dt.timedelta(minutes=1)
        fields = {
            "v-taken_at": local.strftime("%Y-%m-%dT%H:%M"),
            "v-systolic": "122",
            "v-diastolic": "79",
            "v-heart_rate": "74",
            "v-spo2": "98",
            "v-respiratory_rate": "14",
            "v-sedation": "",
            "csrfmiddlewaretoken": target["csrf"],
        }
        return "&".join(f"{k}={v}" for k, v in fields.items())

    return body


def _zone(name: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _generator_main() -> int:
    spec = json.load(sys.stdin)
    json.dump(asyncio.run(_generate(spec)), sys.stdout)
    return 0


def _run_generator(spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--generate"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"load generator failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


# --- the clinic the pages need ----------------------------------------------------------------


def _ledger(staff: dict[str, Any], draws: int) -> int:
    """A site of the ledger's own with a safe, stock and ``draws`` draws for dosing sessions of one
    patient there, through the ledger's services (the sessions are added directly, in the past
    month, at a site no bench page shows). Returns the number of draws."""
    from tests.conftest import make_patient
    from tests.shell.ledger_support import receive_vials, session_for

    from kapstone.accounts.models import Site
    from kapstone.clinical.ledger_entries import micrograms
    from kapstone.ledger import services

    if draws <= 0:
        return 0
    site = Site.objects.create(name=f"Bench ledger {secrets.token_hex(3)}")
    patient = make_patient(
        by=staff["intake_coordinator"], mrn=f"LEDGER-{site.name.split()[-1]}", site=site
    )
    stocked = receive_vials(
        by=staff["nurse"],
        witness=staff["prescriber"],
        site=site,
        vials=draws // 10 + 1,
        lot_number=f"B{site.pk}",
    )
    now = dt.datetime.fromtimestamp(time.time(), dt.UTC)
    for n in range(draws):
        # Eight sessions a day, back from yesterday.
        session = session_for(patient, site=site, now=now - dt.timedelta(days=1, hours=3 * n))
        services.draw_for_session(
            by=staff["nurse"],
            session=session,
            location=stocked.location,
            lot=stocked.lot,
            quantity=micrograms(35),
        )
    return draws


def _prepare(staff_count: int, ledger_draws: int = 0, chairs_count: int = 1) -> dict[str, Any]:
    """Adds the bench's site, director, nurse and session in progress (and the ledger's draws);
    returns targets and cookies."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db.models import Count
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from tests.conftest import make_patient, make_staff
    from tests.shell.chairside_support import ready_to_dose

    from kapstone.accounts.models import Room, Site
    from kapstone.assessments.models import QuestionnaireResponse
    from kapstone.chairside.services import give_dose
    from kapstone.clinical.access import Role
    from kapstone.dosing.models import DosingSession
    from kapstone.patients.models import Patient
    from kapstone.web.middleware import LAST_ACTION, RENEWED

    # The staff work at the bench's site and at the network's busiest site (a director sees every
    # chart whatever their sites; the day board shows the sites they work at).
    busiest_site = (
        DosingSession.objects.values("site_id").annotate(n=Count("pk")).order_by("-n").first()
    )
    sites = list(Site.objects.filter(pk=busiest_site["site_id"])) if busiest_site else []
    site = Site.objects.create(name=f"Bench {secrets.token_hex(3)}")
    tag = site.name.split()[-1]
    staff = {r.value: make_staff(f"{r.value}-{tag}", r, [site, *sites]) for r in Role}
    director = staff[Role.MEDICAL_DIRECTOR.value]

    def in_progress(k: int, mrn: str) -> Any:
        """A patient of the bench's care team whose session is in progress at chair k: checklist,
        baseline reading, a dose given."""
        patient = make_patient(
            by=staff["intake_coordinator"],
            mrn=mrn,
            site=site,
            prescriber=staff["prescriber"],
            therapist=staff["therapist"],
            nurse=staff["nurse"],
        )
        record = ready_to_dose(SimpleNamespace(on_team=patient, staff=staff))
        room = Room.objects.create(site=site, name=f"Bench chair {k}", routes=["iv"])
        DosingSession.objects.filter(pk=record.session_id).update(room=room)
        give_dose(
            by=staff["nurse"],
            record=record,
            dose_mg=Decimal(35),
            started_at=record.session.starts_at + dt.timedelta(minutes=15),
        )
        return record

    # The clinic day's chairs, each a patient of its own: in the mix a member of staff works at one
    # chair (staff n at chair n mod chairs) and opens and saves that chair's console.
    chairs = [in_progress(k, f"BENCH-{tag}" + (f"-{k}" if k else "")) for k in range(chairs_count)]
    record, patient = chairs[0], chairs[0].session.patient
    # The saturation run of the vital-sign save writes hundreds of readings a second: into a
    # session of its own, so that the consoles of the mix show a session's readings, not those.
    saturated = in_progress(chairs_count, f"BENCH-{tag}-SAT")

    # The chart and the Outcomes tab of the patient with the longest history: most sessions, and
    # of those the one with the most questionnaire responses.
    busiest = (
        DosingSession.objects.values("patient_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "patient_id")
        .first()
    )
    chart_id = busiest["patient_id"] if busiest else patient.pk
    scored = (
        QuestionnaireResponse.objects.values("questionnaire_set__patient_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "questionnaire_set__patient_id")
        .first()
    )
    outcomes_id = scored["questionnaire_set__patient_id"] if scored else chart_id
    drawn = _ledger(staff, ledger_draws)

    device = TOTPDevice.objects.create(user=director, name="bench", confirmed=True)
    cookies = []
    for _ in range(staff_count):
        store = SessionStore()
        store[SESSION_KEY] = str(director.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = director.get_session_auth_hash()
        store["otp_device_id"] = device.persistent_id
        store[LAST_ACTION] = store[RENEWED] = time.time()
        store.set_expiry(6 * 3600)
        store.create()
        cookies.append(store.session_key)
    csrf = secrets.token_hex(16)  # 32 characters: a CSRF secret, sent as cookie and header

    def console_of(record: Any) -> str:
        return f"/patients/{record.session.patient_id}/dosing/{record.session_id}/console/"

    console = console_of(record)
    get = {"method": "GET", "expect": 200}
    targets = {
        "floor": {**get, "path": "/bench/floor/"},
        "chart": {**get, "path": f"/patients/{chart_id}/"},
        "console": {**get, "path": console},
        "vitals save": {
            "method": "POST",
            "expect": 302,
            "path": console_of(saturated) + "vitals/",
            "vitals": True,
            "csrf": csrf,
            "zone": settings.TIME_ZONE,
        },
        "day board": {**get, "path": "/today/"},
        "patient list": {**get, "path": "/patients/"},
        "alert board": {**get, "path": "/alerts/"},
        "outcomes tab": {**get, "path": f"/patients/{outcomes_id}/outcomes/"},
        "cohort dashboard": {**get, "path": "/cohorts/"},
        # Measured alone only (a document, not a page staff load all day).
        "plan pdf": {
            **get,
            "path": f"/patients/{patient.pk}/plan/{record.session.plan_id}/pdf/",
        },
        # The ledger's long report: every dispensing entry of every site (no filter).
        "dispensing log pdf": {**get, "path": "/ledger/reports/dispensing/?format=pdf"},
        "program report pdf": {**get, "path": "/cohorts/report.pdf"},
    }
    name = settings.SESSION_COOKIE_NAME
    return {
        "targets": targets,
        "chairs": [
            {"console": console_of(r), "vitals save": console_of(r) + "vitals/"} for r in chairs
        ],
        "cookies": [f"{name}={key}; {settings.CSRF_COOKIE_NAME}={csrf}" for key in cookies],
        "director": director.pk,
        "device": device.persistent_id,
        "patients": {
            "chart": chart_id,
            "outcomes": outcomes_id,
            "console": patient.pk,
            "chairs": len(chairs),
            "total": Patient.objects.count(),
            "ledger draws added": drawn,
        },
    }


def _query_counts(prepared: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """(queries, status) per page, through Django's test client in this process."""
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from kapstone.accounts.models import StaffUser

    client = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=False)
    client.force_login(StaffUser.objects.get(pk=prepared["director"]))
    session = client.session
    session["otp_device_id"] = prepared["device"]
    session.save()
    counts = {}
    for name, target in prepared["targets"].items():
        if name == "floor":
            continue
        for _ in range(2):  # the second request: caches warm, the session already renewed
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                if target["method"] == "GET":
                    response = client.get(target["path"], secure=True)
                else:
                    body = _vitals_body(target)()
                    response = client.post(
                        target["path"],
                        body,
                        content_type="application/x-www-form-urlencoded",
                        secure=True,
                    )
        counts[name] = (len(queries.captured_queries), response.status_code)
    return counts


# --- the server --------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(env: dict[str, str], workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **env,
        "KAPSTONE_BIND": f"127.0.0.1:{port}",
        "KAPSTONE_WEB_WORKERS": str(workers),
        "KAPSTONE_ALLOWED_HOSTS": "127.0.0.1",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            request = urllib.request.Request(  # noqa: S310 - loopback only
                base + "/bench/floor/", headers={"X-Forwarded-Proto": "https"}
            )
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 60 s")


def _drain(base: str) -> None:
    """Waits (at most 3 minutes) until the floor answers at once again: the workers may still be
    serving requests a slow page's run left queued after its clients gave up."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        started = time.perf_counter()
        request = urllib.request.Request(  # noqa: S310 - loopback only
            base + "/bench/floor/", headers={"X-Forwarded-Proto": "https"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                response.read()
        except OSError:
            continue
        if time.perf_counter() - started < 0.25:
            return
        time.sleep(0.5)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


# --- report ------------------------------------------------------------------------------------


def _q(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f}"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


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


def _header(args: argparse.Namespace, connection: Any) -> None:
    print(f"date: {args.date or time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(_machine())
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(f"at start: {_load()}", flush=True)


def _database_url(args: argparse.Namespace, workdir: Path) -> str:
    if args.demo:
        return f"sqlite:///{workdir / 'demo.sqlite3'}"
    url = args.database_url
    name = urlsplit(url).path.lstrip("/")
    if not name or name.startswith(("test", "postgres", "template")) or name == "kapstone_bench":
        raise SystemExit(
            f"refusing to use database {name!r}: give the bench a copy of the network "
            "(createdb -T kapstone_bench kap_web_load), it writes sessions and readings"
        )
    return url


def _report(
    args: argparse.Namespace,
    pages: list[str],
    counts: dict[str, tuple[int, int]],
    alone: dict[str, Any],
    saturation: dict[str, Any],
    mixes: dict[float, dict[str, Any]],
    loads: tuple[str, dict[float, str]],
    errors_in_log: list[str],
) -> int:
    """Prints the tables and the targets; 0 when every target holds."""
    load_saturated, load_mixes = loads
    code = 0
    floor = saturation["floor"]["requests"] / saturation["floor"]["seconds"]
    print()
    print(
        f"| page | queries | alone p50 ms | alone p95 ms | rps at {args.connections} conn "
        "| x floor | p50 ms | p99 ms | errors | generator CPU |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    alone_ok = True
    for page in ["floor", *[p for p in pages if p != "floor"]]:
        run = saturation.get(page) or {
            "requests": 0,
            "seconds": 1.0,
            "latencies": [],
            "errors": [],
            "error_count": 0,
            "generator_cpu": 0.0,
        }
        rps = run["requests"] / run["seconds"]
        single = alone.get(page, {"latencies": [], "errors": [], "error_count": 0})
        p50_alone = statistics.median(single["latencies"]) if single["latencies"] else 0.0
        limit = PDF_TARGET if page in ALONE_ONLY else ALONE_TARGET
        if page != "floor" and p50_alone >= limit:
            alone_ok = False
        queries = counts.get(page, (0, 200))
        print(
            f"| {page} | {queries[0]} | {_ms(p50_alone)} | {_ms(_q(single['latencies'], 0.95))} "
            f"| {rps:7.1f} | {rps / floor:6.1%} | {_ms(_q(run['latencies'], 0.5))} "
            f"| {_ms(_q(run['latencies'], 0.99))} | {run['error_count'] + single['error_count']} "
            f"| {run['generator_cpu']:.0%} |"
        )
        for why in run["errors"][:2] + single["errors"][:2]:
            print(f"    error: {why}")
    print(f"(saturation runs of {args.seconds:.0f} s each; {load_saturated} at their end)")
    mix_checks = []
    for think, mix in mixes.items():
        every = [s for values in mix["per_page"].values() for s in values]
        p95, p99 = _q(every, 0.95), _q(every, 0.99)
        print()
        print(
            f"clinic-day mix: {args.staff} staff, think {think:.1f} s (0.5-1.5x), "
            f"{mix['seconds']:.0f} s, {len(every)} requests ({len(every) / mix['seconds']:.1f}/s), "
            f"generator CPU {mix['generator_cpu']:.0%}; {load_mixes[think]} at its end"
        )
        print(
            f"  all pages: p50 {_ms(_q(every, 0.5))} ms, p95 {_ms(p95)} ms, p99 {_ms(p99)} ms, "
            f"errors {mix['error_count']}"
        )
        for page, values in mix["per_page"].items():
            print(
                f"  {page:<17} n={len(values):5d} p50 {_ms(_q(values, 0.5))} "
                f"p95 {_ms(_q(values, 0.95))} p99 {_ms(_q(values, 0.99))}"
            )
        for why in mix["errors"]:
            print(f"    error: {why}")
        at = f"think {think:g} s"
        mix_checks += [
            (p95 < P95_TARGET, f"mix ({at}) p95 < 150 ms ({p95 * 1000:.0f} ms)"),
            (p99 < P99_TARGET, f"mix ({at}) p99 < 300 ms ({p99 * 1000:.0f} ms)"),
            (mix["error_count"] == 0, f"mix ({at}) without errors ({mix['error_count']})"),
        ]
    if errors_in_log:
        first = json.loads(errors_in_log[0])
        print(f"gunicorn logged {len(errors_in_log)} errors, first: {first['message']}")
        print(first.get("exc_info", "")[-2500:])
    print()
    chart = saturation.get("chart")
    checks = []
    if chart:
        ratio = chart["requests"] / chart["seconds"] / floor
        checks.append(
            (ratio >= CHART_TARGET, f"chart at saturation >= 10 % of floor ({ratio:.1%})")
        )
    checks += mix_checks
    checks.append((alone_ok, "every page alone: median under 150 ms (a PDF under 1 s)"))
    for ok, text in checks:
        print(f"[{'met' if ok else 'MISSED'}] {text}")
        if not ok:
            code = 1
    return code


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("KAPSTONE_BENCH_WEB_DATABASE_URL", "")
    )
    parser.add_argument("--demo", action="store_true", help="the demo clinic on a SQLite file")
    parser.add_argument("--demo-patients", type=int, default=36)
    # As deployed: deploy/gunicorn.conf.py's default, two sync workers per core (a worker waiting
    # on PostgreSQL leaves its core to the other).
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument(
        "--chairs",
        type=int,
        default=8,
        help="sessions in progress at as many chairs; in the mix staff n works at chair n mod chairs",
    )
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--staff", type=int, default=50)
    parser.add_argument(
        "--think",
        default=THINK_TIMES,
        help="mean seconds between a member of staff's pages, one mix per value (comma-separated;"
        " default 2,10: the aggressive first setting and the clinic's)",
    )
    parser.add_argument(
        "--mix-seconds",
        type=float,
        default=0.0,
        help="per mix (default: 3 x --seconds, or 15 x the think time if longer)",
    )
    parser.add_argument(
        "--ledger-draws", type=int, default=500, help="ledger draws added for the dispensing log"
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="per saturation run")
    parser.add_argument("--alone", type=int, default=20, help="requests per page alone")
    parser.add_argument("--pages", default="", help="comma-separated subset of the pages")
    parser.add_argument("--date", help="date to print (default: now)")
    args = parser.parse_args(argv)
    try:
        args.think = [float(t) for t in str(args.think).split(",") if t.strip()]
    except ValueError:
        parser.error("--think takes seconds, comma-separated (e.g. 2,10)")
    if not args.think or min(args.think) <= 0:
        parser.error("--think takes positive seconds")
    if not args.demo and not args.database_url:
        parser.error("give --database-url (a copy of the 100 000-patient network) or --demo")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)

    # A stop (Ctrl-C, kill) ends the run through `finally`, which stops gunicorn.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="kapstone-web-load-"))
    url = _database_url(args, workdir)
    env = {
        **os.environ,
        "KAPSTONE_DATABASE_URL": url,
        "KAPSTONE_SECRET_KEY": secrets.token_urlsafe(48),
        "KAPSTONE_BENCH_FLOOR": "1",
        "KAPSTONE_STATIC_ROOT": str(workdir / "static"),
        # The bench's sessions must outlive a run (pages are renewed as actions anyway).
        "KAPSTONE_IDLE_MINUTES": "240",
        "KAPSTONE_DEBUG": "0",
        # Steady state: no worker restarts. With the deployed 2 000 requests a worker, the floor's
        # ~7 000 requests in 15 s restarted every worker at the start of the next page's run, and
        # a restart's start-up (the URLconf, WeasyPrint: seconds of CPU) was measured as that page.
        "KAPSTONE_WEB_MAX_REQUESTS": "0",
        "DJANGO_SETTINGS_MODULE": "kapstone.settings",
        # gunicorn and the generator import this checkout's code, whatever the venv points at.
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    env.pop("KAPSTONE_DEMO_MODE", None)
    # As installed in production: compiled modules are kept (a worker compiling every module of
    # the project at start would be measured, not the pages).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    _header(args, connection)
    call_command("migrate", verbosity=0)
    if args.demo:
        from django.utils import timezone

        from kapstone.demo.generator import build_demo_clinic

        build_demo_clinic(
            patients=args.demo_patients,
            seed=2026,
            today=timezone.localdate(),
            history_until=timezone.now(),
        )
    prepared = _prepare(max(args.staff, args.connections), args.ledger_draws, args.chairs)
    pages = [p.strip() for p in args.pages.split(",") if p.strip()] or list(prepared["targets"])
    print(f"patients: {prepared['patients']}")
    counts = _query_counts(prepared)
    print(f"queries per page (count, status), test client: {counts}")
    connection.close()
    log = workdir / "gunicorn.log"
    production = {**env, "KAPSTONE_PROFILE": "production", "KAPSTONE_DEBUG": "0"}
    kapstone = Path(sys.executable).with_name("kapstone")
    subprocess.run([str(kapstone), "collectstatic", "--noinput", "-v0"], env=production, check=True)
    process, base = _serve(production, args.workers, log)
    try:
        spec = {
            "base": base,
            "cookies": prepared["cookies"],
            "targets": prepared["targets"],
            "chairs": prepared["chairs"],
        }
        print(
            f"gunicorn: {args.workers} sync workers (deploy/gunicorn.conf.py), "
            "KAPSTONE_PROFILE=production, DEBUG off"
        )
        alone = _run_generator({**spec, "mode": "alone", "pages": pages, "requests": args.alone})
        saturation: dict[str, Any] = {}
        for page in ["floor", *[p for p in pages if p not in ("floor", *ALONE_ONLY)]]:
            _drain(base)
            saturation[page] = _run_generator(
                {
                    **spec,
                    "mode": "saturate",
                    "page": page,
                    "seconds": args.seconds,
                    "connections": args.connections,
                }
            )
        load_saturated = _load()
        weights = {k: v for k, v in MIX.items() if k in pages and k not in ALONE_ONLY}
        mixes: dict[float, dict[str, Any]] = {}
        load_mixes: dict[float, str] = {}
        for think in args.think:
            _drain(base)
            mixes[think] = _run_generator(
                {
                    **spec,
                    "mode": "mix",
                    "weights": weights,
                    # Long enough for a p99 of a few hundred requests at a long think time.
                    "seconds": args.mix_seconds or max(args.seconds * 3, think * 15),
                    "staff": args.staff,
                    "think": think,
                    "seed": 2026,
                }
            )
            load_mixes[think] = _load()
    finally:
        _stop(process)
    errors_in_log = [
        line for line in log.read_text(errors="replace").splitlines() if '"level": "ERROR"' in line
    ]

    code = _report(
        args, pages, counts, alone, saturation, mixes, (load_saturated, load_mixes), errors_in_log
    )
    shutil.rmtree(workdir, ignore_errors=True)
    return code


if __name__ == "__main__":
    if sys.argv[1:] == ["--generate"]:
        raise SystemExit(_generator_main())
    raise SystemExit(main())
