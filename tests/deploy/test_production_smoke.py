"""The production smoke test: docs/deployment.md's steps, as a script would follow them.

On its own fresh PostgreSQL database, with the production profile: `kapstone release`,
`kapstone bootstrap`, gunicorn with deploy/gunicorn.conf.py behind nginx with the shipped site
(deploy/nginx/kapstone.conf, rendered with test ports and a self-signed certificate), the task
worker; then over HTTPS a medical director signs in with the one-time password, changes it, sets up
TOTP, registers a patient and opens the chart; the worker runs a task and readiness turns green;
the security headers, the HTTP redirect and the JSON request log are checked.

Runs in the PostgreSQL leg of `make test` only (the SQLite leg skips it). Without nginx it skips,
except in CI (CI or KAPSTONE_REQUIRE_POSTGRES set), where .ci/run installs it and it must run.
"""

from __future__ import annotations

import base64
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# It runs on the PostgreSQL leg's own server, found by itself (and skips, saying so, on SQLite).
pytestmark = pytest.mark.each_database

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SITE_CONF = REPO / "deploy" / "nginx" / "kapstone.conf"
GUNICORN_CONF = REPO / "deploy" / "gunicorn.conf.py"


def _required() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("KAPSTONE_REQUIRE_POSTGRES") == "1"


def _postgres_url() -> str:
    url = os.environ.get("KAPSTONE_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip(
            "the production smoke test runs in the PostgreSQL leg of make test "
            "(KAPSTONE_DATABASE_URL=postgres://...)"
        )
    # The server's maintenance database: the leg's own database may not exist yet.
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path="/postgres"))


def _admin_connect(url: str):
    import psycopg

    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if _required():
            pytest.fail(f"PostgreSQL does not answer at {url}: {exc}")
        pytest.skip(f"PostgreSQL does not answer at {url}")


def _nginx() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if found is None:
        if _required():
            pytest.fail("nginx is not installed: .ci/run installs it (apt-get install nginx)")
        pytest.skip("nginx is not installed (apt-get install --no-install-recommends nginx)")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _replace(text: str, old: str, new: str, count: int = 1) -> str:
    """Rewrites the shipped config; fails loudly if it no longer has what the test rewrites."""
    assert text.count(old) == count, f"{SITE_CONF.name}: expected {count}× {old!r}"
    return text.replace(old, new)


def render_nginx(
    prefix: Path, *, http_port: int, https_port: int, upstream: int, cert: Path, key: Path
) -> Path:
    site = SITE_CONF.read_text()
    site = _replace(site, "server_name kapstone.example.org;", "server_name localhost;", 2)
    site = _replace(site, "    listen 80;\n", f"    listen 127.0.0.1:{http_port};\n")
    site = _replace(site, "    listen [::]:80;\n", "")
    site = _replace(
        site, "    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{https_port} ssl http2;\n"
    )
    site = _replace(site, "    listen [::]:443 ssl http2;\n", "")
    site = _replace(site, "/etc/letsencrypt/live/kapstone.example.org/fullchain.pem", str(cert))
    site = _replace(site, "/etc/letsencrypt/live/kapstone.example.org/privkey.pem", str(key))
    site = _replace(site, "server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};")
    site = _replace(site, "root /var/www/letsencrypt;", f"root {prefix / 'acme'};")
    (prefix / "kapstone.conf").write_text(site)
    temp = "\n".join(
        f"    {name}_temp_path {prefix / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, nginx's workers would switch to nobody, who cannot read this private folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'};\n"
        f"events {{ worker_connections 64; }}\nhttp {{\n{temp}\n"
        f"    access_log {prefix / 'access.log'};\n    include {prefix / 'kapstone.conf'};\n}}\n"
    )
    return conf


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Response:
    status: int
    headers: object
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


@dataclass
class Browser:
    """Cookies, CSRF and no automatic redirects, over TLS checked against the test certificate."""

    origin: str
    context: ssl.SSLContext
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=self.context),
            urllib.request.HTTPCookieProcessor(self.jar),
            NoRedirects(),
        )

    def request(self, path: str, data: dict[str, str] | None = None) -> Response:
        url = path if path.startswith("http") else self.origin + path
        headers = {"User-Agent": "kapstone-smoke"}
        body = None
        if data is not None:
            token = next(c.value for c in self.jar if c.name == "csrftoken")
            body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **data}).encode()
            headers |= {"Origin": self.origin, "Referer": url}
        request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - https only
        try:
            with self.opener.open(request, timeout=30) as answer:
                return Response(answer.status, answer.headers, answer.read().decode())
        except urllib.error.HTTPError as answer:
            return Response(answer.code, answer.headers, answer.read().decode())

    def get(self, path: str) -> Response:
        return self.request(path)

    def post(self, path: str, data: dict[str, str]) -> Response:
        return self.request(path, data)

    def follow(self, path: str, limit: int = 8) -> tuple[str, Response]:
        for _ in range(limit):
            response = self.get(path)
            if response.status not in (301, 302, 303):
                return path, response
            path = urllib.parse.urljoin(self.origin + path, response.location).removeprefix(
                self.origin
            )
        raise AssertionError(f"too many redirects from {path}")


def wait_for(what: str, check, seconds: float = 60.0, procs: list[subprocess.Popen] | None = None):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        for proc in procs or []:
            assert proc.poll() is None, (
                f"{proc.args[0]} exited with {proc.returncode} while waiting for {what}"
            )
        try:
            last = check()
            if last:
                return last
        except (OSError, urllib.error.URLError) as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}: {last!r}")


def totp_now(base32_key: str) -> str:
    from django_otp.oath import totp

    key = base64.b32decode(base32_key + "=" * (-len(base32_key) % 8))
    return f"{totp(key, step=30, t0=0, digits=6):06d}"


@pytest.fixture
def smoke_database() -> Iterator[str]:
    admin_url = _postgres_url()
    name = f"kap_smoke_{secrets.token_hex(4)}"
    with _admin_connect(admin_url) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(admin_url)
    try:
        yield urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with _admin_connect(admin_url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for proc in reversed(started):
        if proc.poll() is None:
            proc.send_signal(signal.SIGQUIT if "nginx" in str(proc.args[0]) else signal.SIGTERM)
    for proc in reversed(started):
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_deployment_guide_runs_in_production(smoke_database, processes, tmp_path):
    nginx = _nginx()
    http_port, https_port, app_port = _free_port(), _free_port(), _free_port()
    origin = f"https://localhost:{https_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAPSTONE_", "DJANGO_"))}
    env |= {
        "KAPSTONE_PROFILE": "production",
        "KAPSTONE_SECRET_KEY": secrets.token_urlsafe(64),
        "KAPSTONE_ALLOWED_HOSTS": "localhost",
        "KAPSTONE_CSRF_TRUSTED_ORIGINS": origin,
        "KAPSTONE_BASE_URL": origin,
        "KAPSTONE_DATABASE_URL": smoke_database,
        "KAPSTONE_STATIC_ROOT": str(tmp_path / "static"),
        "KAPSTONE_RESEARCH_EXPORT_DIR": str(tmp_path / "exports"),
        "KAPSTONE_BIND": f"127.0.0.1:{app_port}",
        "KAPSTONE_WEB_WORKERS": "2",
        "KAPSTONE_WORKER_HEARTBEAT_MAX_AGE_SECONDS": "30",
    }

    def kapstone(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "kapstone"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    # The guide: release, then refuse the demo, then bootstrap the first accounts.
    release = kapstone("release")
    assert release.returncode == 0, release.stdout + release.stderr
    assert "[3/3] check" in release.stdout
    assert (tmp_path / "static" / "staticfiles.json").exists()  # the manifest the 500 was about

    demo = kapstone("demo_clinic", "--patients", "2")
    assert demo.returncode != 0 and "refused under KAPSTONE_PROFILE=production" in demo.stderr

    boot = kapstone(
        "bootstrap",
        "--director", "dr.smoke", "--director-email", "dr.smoke@example.org",
        "--administrator", "it.smoke", "--administrator-email", "it.smoke@example.org",
        "--site", "Smoke clinic",
    )  # fmt: skip
    assert boot.returncode == 0, boot.stdout + boot.stderr
    passwords = dict(re.findall(r"username (\S+)\s+one-time password (\S+)", boot.stdout))
    assert set(passwords) == {"dr.smoke", "it.smoke"}  # and the demo wrote no staff before
    again = kapstone("bootstrap", "--director", "x.smoke", "--director-email", "x@example.org")
    assert again.returncode != 0 and "Staff accounts exist already" in again.stderr

    # nginx (the shipped site) in front of gunicorn (the shipped config).
    prefix = tmp_path / "nginx"
    for sub in ("", "acme", "client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / sub).mkdir(exist_ok=True)
    cert, key = prefix / "cert.pem", prefix / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    conf = render_nginx(
        prefix, http_port=http_port, https_port=https_port, upstream=app_port, cert=cert, key=key
    )
    nginx_args = [nginx, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")]
    checked = subprocess.run([*nginx_args, "-t"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    web_log = tmp_path / "gunicorn.log"
    with web_log.open("w") as log:
        processes.append(
            subprocess.Popen(
                [str(BIN / "gunicorn"), "--config", str(GUNICORN_CONF)],
                env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
    processes.append(
        subprocess.Popen(
            [*nginx_args, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    )

    context = ssl.create_default_context(cafile=str(cert))
    browser = Browser(origin=origin, context=context)
    wait_for("/healthz/live", lambda: browser.get("/healthz/live").status == 200, procs=processes)

    # Plain HTTP only redirects to HTTPS.
    plain = urllib.request.build_opener(NoRedirects())
    with pytest.raises(urllib.error.HTTPError) as redirected:
        plain.open(f"http://localhost:{http_port}/accounts/sign-in/", timeout=10)
    assert redirected.value.code == 301
    assert redirected.value.headers["Location"] == "https://localhost/accounts/sign-in/"

    # Not ready before the worker runs: the database and migrations are fine, the heartbeat not.
    not_ready = browser.get("/healthz/ready")
    assert not_ready.status == 503
    checks = json.loads(not_ready.body)["checks"]
    assert checks["database"]["ok"] and checks["migrations"]["ok"] and not checks["worker"]["ok"]

    # Signing in: one-time password, then a new password, then the authenticator.
    page = browser.get("/accounts/sign-in/")
    assert page.status == 200
    headers = page.headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert re.search(r"script-src 'self' 'nonce-[\w+/=-]+'", headers["Content-Security-Policy"])
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "no-store" in headers["Cache-Control"].split(", ")
    assert "Server" not in headers or "nginx/" not in headers["Server"]

    signed_in = browser.post(
        "/accounts/sign-in/", {"username": "dr.smoke", "password": passwords["dr.smoke"]}
    )
    assert signed_in.status == 302, signed_in.body[:2000]
    session_cookie = next(
        c for c in signed_in.headers.get_all("Set-Cookie") if c.startswith("sessionid=")
    )
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie

    where, page = browser.follow("/")
    assert where.startswith("/accounts/password/"), where
    new_password = secrets.token_urlsafe(16)
    changed = browser.post(
        where,
        {
            "old_password": passwords["dr.smoke"],
            "new_password": new_password,
            "new_password_again": new_password,
        },
    )
    assert changed.status == 302, changed.body[:2000]

    where, page = browser.follow("/")
    assert where == "/accounts/mfa/set-up/", where
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page.body).group(1)
    enrolled = browser.post(where, {"token": totp_now(secret)})
    assert enrolled.status == 200 and "backup" in enrolled.body.lower()

    where, home = browser.follow("/")
    assert where == "/" and home.status == 200

    # A patient registered and the chart opened.
    form = browser.get("/patients/new/")
    assert form.status == 200
    site_id = re.search(r'<option value="(\d+)"[^>]*>Smoke clinic</option>', form.body).group(1)
    director_id = re.search(r'name="t-prescriber".*?<option value="(\d+)"', form.body, re.S).group(
        1
    )
    registered = browser.post(
        "/patients/new/",
        {
            "p-mrn": "KAP-SMOKE-1",
            "p-given_name": "Grace",
            "p-family_name": "Hopper",
            "p-date_of_birth": "1980-12-09",
            "p-sex_at_birth": "female",
            "p-referral_source": "self",
            "p-home_site": site_id,
            "t-prescriber": director_id,
            "m-measured_on": "2026-11-02",
            "m-weight_kg": "68.0",
            "m-height_cm": "170.0",
        },
    )
    assert registered.status == 302, registered.body[:3000]
    chart = browser.get(registered.location)
    assert chart.status == 200 and "KAP-SMOKE-1" in chart.body

    # A search whose query string names the patient: the request log keeps the path only.
    search = browser.get("/patients/?q=Hopper")
    assert search.status == 200
    search_id = search.headers["X-Request-ID"]

    # The worker: its heartbeat makes readiness green, and it runs a real task.
    worker_log = tmp_path / "worker.log"
    with worker_log.open("w") as log:
        processes.append(
            subprocess.Popen(
                [str(BIN / "kapstone"), "db_worker", "--no-reload", "--interval", "0.5"],
                env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
    ready = wait_for(
        "/healthz/ready",
        lambda: (r := browser.get("/healthz/ready")).status == 200 and r,
        procs=processes,
    )
    assert json.loads(ready.body)["status"] == "ready"

    queued = kapstone("remind_measures", "--enqueue")
    assert queued.returncode == 0, queued.stderr
    task_id = queued.stdout.split()[-1]
    import psycopg

    def task_status() -> str | None:
        with psycopg.connect(smoke_database) as db:
            row = db.execute(
                "SELECT status FROM django_tasks_database_dbtaskresult WHERE id = %s", (task_id,)
            ).fetchone()
        return row[0] if row and row[0] in {"SUCCESSFUL", "FAILED"} else None

    assert (
        wait_for("the worker to run the reminder task", task_status, procs=processes)
        == "SUCCESSFUL"
    )

    # The request log: one JSON object per line, no query string, the response's request id.
    records = [json.loads(line) for line in web_log.read_text().splitlines() if line.strip()]
    assert {"gunicorn.access", "gunicorn.error"} <= {r["logger"] for r in records}
    worker_records = [json.loads(line) for line in worker_log.read_text().splitlines() if line]
    assert any("Starting worker" in r["message"] for r in worker_records)
    searched = [r for r in records if r.get("request_id") == search_id]
    assert searched and searched[0]["path"] == "/patients/" and searched[0]["status"] == 200
    assert "Hopper" not in web_log.read_text() and "q=" not in web_log.read_text()
    assert all("Hopper" not in line for line in worker_log.read_text().splitlines())
