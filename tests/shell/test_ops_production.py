"""Production refusals at start, `kapstone release`, JSON logs, and the shipped deploy files."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import random
import re
import secrets
import string
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kapstone.settings_checks import GENERATE_SECRET, production_problems, secret_key_problem
from kapstone.web.logging import JsonFormatter
from tests.shell.test_settings import run_kapstone

REPO = Path(__file__).resolve().parents[2]
STRONG = secrets.token_urlsafe(64)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "is not set"),
        (secrets.token_urlsafe(30), "has only 40 characters"),
        ("ab" * 40, "only 2 different characters"),
        (
            secrets.token_urlsafe(40)[:30] + "zzzzzz" + secrets.token_urlsafe(40)[:30],
            "run of repeated",
        ),
        (
            secrets.token_urlsafe(40)[:30] + "abcdef" + secrets.token_urlsafe(40)[:30],
            "run of repeated or counting",
        ),
        ("Kapstone-production-secret-key-2026!!" * 2, "repeats a stretch"),
        # Half of it one character: 26 different ones, no run, no repeat, about 166 bits.
        ("".join(f"x{c}" for c in "ACEGIKMOQSUWY02468bdfhjlnp"), "guessable"),
    ],
    # Named by the reason: random keys in test names differ between pytest-xdist's workers.
    ids=["unset", "short", "two-characters", "repeated", "counting", "stretch", "guessable"],
)
def test_weak_secret_keys_are_refused_with_the_reason(key, reason):
    problem = secret_key_problem(key)
    assert problem is not None and reason in problem


def test_random_keys_pass():
    # Seeded, so the test cannot fail on the one key in millions that holds a long run.
    rng = random.Random(2026)
    urlsafe = string.ascii_letters + string.digits + "-_"
    django_alphabet = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"
    for _ in range(500):
        assert secret_key_problem("".join(rng.choices(urlsafe, k=86))) is None
        assert secret_key_problem("".join(rng.choices(django_alphabet, k=50))) is None
    assert secret_key_problem(STRONG) is None


def test_debug_is_refused_in_production():
    problems = production_problems(secret_key=STRONG, debug=True)
    assert len(problems) == 1 and "KAPSTONE_DEBUG" in problems[0]
    assert production_problems(secret_key=STRONG, debug=False) == []


def test_settings_refuse_debug_with_the_production_profile_at_start():
    result = run_kapstone(
        "check", KAPSTONE_PROFILE="production", KAPSTONE_SECRET_KEY=STRONG, KAPSTONE_DEBUG="true"
    )
    assert result.returncode != 0
    assert "KAPSTONE_DEBUG is on: the production profile refuses it" in result.stderr


def test_settings_refuse_a_weak_secret_at_start_and_say_how_to_make_one():
    result = run_kapstone(
        "check", KAPSTONE_PROFILE="production", KAPSTONE_SECRET_KEY="changeme-" * 7
    )
    assert result.returncode != 0
    assert "KAPSTONE_SECRET_KEY" in result.stderr and GENERATE_SECRET in result.stderr


@pytest.fixture(scope="module")
def release_place(tmp_path_factory):
    """One database file and static folder for both release tests: whichever runs second finds the
    migrations applied and the files collected, and its steps run just as quickly as a real re-release
    (each release is a fresh `kapstone` process; only the slow first migrate is not paid twice).
    The database starts as the last release left it, migrated (a copy of the run's template,
    tests/migrated.py): the release on an empty database is the production smoke test's
    (tests/deploy/test_production_smoke.py), and migrating from nothing here cost ~15 s of CPU."""
    from tests.migrated import copy_sqlite, sqlite_template

    place = tmp_path_factory.mktemp("release")
    leg = os.environ.get("KAPSTONE_TEST_SQLITE_NAME") or str(place / "test.sqlite3")
    copy_sqlite(sqlite_template(leg), place / "release.sqlite3")
    return place


def test_release_stops_at_the_first_failing_step_and_says_which(release_place):
    tmp_path = release_place
    # The production profile without an SMTP host is fine; a console mail backend fails the
    # deploy checks, so collectstatic and migrate run and the third step stops the release.
    result = run_kapstone(
        "release",
        KAPSTONE_PROFILE="production",
        KAPSTONE_SECRET_KEY=STRONG,
        KAPSTONE_ALLOWED_HOSTS="kapstone.example.org",
        KAPSTONE_DATABASE_URL=f"sqlite:///{tmp_path / 'release.sqlite3'}",
        KAPSTONE_STATIC_ROOT=str(tmp_path / "static"),
        KAPSTONE_EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
    )
    assert result.returncode == 1
    assert "[1/3] collectstatic" in result.stdout and "[2/3] migrate" in result.stdout
    assert "Release stopped at step 3 (check)" in result.stderr and "mail.E001" in result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()


def test_release_runs_all_three_steps_in_order(release_place):
    tmp_path = release_place
    result = run_kapstone(
        "release",
        KAPSTONE_PROFILE="production",
        KAPSTONE_SECRET_KEY=STRONG,
        KAPSTONE_ALLOWED_HOSTS="kapstone.example.org",
        KAPSTONE_DATABASE_URL=f"sqlite:///{tmp_path / 'release.sqlite3'}",
        KAPSTONE_STATIC_ROOT=str(tmp_path / "static"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    steps = re.findall(r"\[(\d)/3\] (\w+)", result.stdout)
    assert steps == [("1", "collectstatic"), ("2", "migrate"), ("3", "check")]
    assert "Release ready" in result.stdout
    # The htmx the pages load is collected; django-htmx's other builds and extensions are not.
    htmx = {p.name for p in (tmp_path / "static" / "django_htmx").rglob("*.js")}
    assert "htmx-2.min.js" in htmx
    assert not {"htmx-2.js", "htmx-4.min.js", "htmax-4.js", "hx-sse-2.js"} & htmx


@pytest.mark.django_db
def test_release_stops_when_collectstatic_fails(settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.STATIC_ROOT = blocker / "static"
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"step 1 \(collectstatic\)"):
        call_command("release", stdout=out, stderr=io.StringIO())
    assert "[2/3]" not in out.getvalue()


def _log_through_settings(logger_name: str, *args, extra=None) -> str:
    """Formats one record through the LOGGING config's console handler, JSON flavour."""
    from django.conf import settings

    from kapstone.web.logging import RequestIdFilter, StripQueryStrings

    config = settings.LOGGING
    assert config["handlers"]["console"]["filters"] == ["no_query_strings", "request_id"]
    assert config["formatters"]["json"]["()"] == "kapstone.web.logging.JsonFormatter"
    record = logging.getLogger(logger_name).makeRecord(
        logger_name, logging.WARNING, __file__, 1, args[0], args[1:], None, extra=extra
    )
    for check in (StripQueryStrings(), RequestIdFilter()):
        check.filter(record)
    return JsonFormatter().format(record)


def test_a_logged_request_line_is_json_with_the_request_id_and_no_query(client, db):
    from kapstone.audit.request_context import reset_request_id, set_request_id

    token = set_request_id("req-42")
    try:
        line = _log_through_settings(
            "django.request",
            "Not Found: %s",
            "/patients/?q=Lovelace&dob=1985-12-10",
            extra={"status_code": 404, "request": object()},
        )
    finally:
        reset_request_id(token)
    record = json.loads(line)
    assert record["request_id"] == "req-42" and record["level"] == "WARNING"
    assert record["logger"] == "django.request"
    assert "Lovelace" not in line and "dob" not in line and "?…" in record["message"]
    assert set(record) <= set(JsonFormatter.FIELDS)


def test_the_production_profile_logs_json_and_development_text():
    from django.conf import settings

    assert settings.LOG_FORMAT == "text"  # the tests run in development
    result = run_kapstone(
        "shell", "-c", "import logging; logging.getLogger('kapstone').warning('hello %s', 'x')",
        KAPSTONE_LOG_FORMAT="json",
    )  # fmt: skip
    line = [entry for entry in result.stderr.splitlines() if entry.startswith("{")][-1]
    record = json.loads(line)
    assert record["message"] == "hello x" and record["request_id"].startswith("-")
    refused = run_kapstone("check", KAPSTONE_LOG_FORMAT="xml")
    assert refused.returncode != 0 and "KAPSTONE_LOG_FORMAT" in refused.stderr


def test_the_gunicorn_access_line_is_json_without_query_or_link_tokens():
    from kapstone.web.access_log import access_line

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/q/Zx81secretToken/phq9/",
        "QUERY_STRING": "name=Lovelace",
        "HTTP_X_FORWARDED_PROTO": "https",
        "REMOTE_ADDR": "127.0.0.1",
    }
    line = access_line(environ=environ, status="200 OK", request_id="abc", micros=1500, size=10)
    record = json.loads(line)
    assert record["path"] == "/q/…/phq9/" and record["status"] == 200
    assert record["request_id"] == "abc" and record["duration_ms"] == 1.5
    assert "Lovelace" not in line and "Zx81secretToken" not in line
    assert dt.datetime.fromisoformat(record["time"]).tzinfo is not None


def test_the_env_example_lists_every_setting_a_clinic_sets():
    settings_source = (REPO / "src" / "kapstone" / "settings.py").read_text()
    names = set(re.findall(r'env_(?:str|int|bool|list)\(\s*"([A-Z_]+)"', settings_source))
    names |= {"BIND", "WEB_WORKERS", "WEB_TIMEOUT", "WEB_MAX_REQUESTS"}  # deploy/gunicorn.conf.py
    example = (REPO / "deploy" / "kapstone.env.example").read_text()
    development_only = {"TEST_SQLITE_NAME"}
    missing = sorted(n for n in names - development_only if f"KAPSTONE_{n}" not in example)
    assert missing == []
    assert re.search(r"^KAPSTONE_PROFILE=production$", example, re.M)


UNITS = REPO / "deploy" / "systemd"
JOBS = {
    "escalate-alerts": "kapstone escalate_alerts",
    "remind-measures": "kapstone remind_measures",
    "send-reminders": "kapstone send_reminders",
    "send-notifications": "kapstone send_notifications",
    "prepare-rems-forms": "kapstone prepare_rems_forms",
    "cohort-summaries": "kapstone cohort_summaries",
    "backup": "kapstone backup --output-dir /var/backups/kapstone",
    "audit-anchor": "kapstone audit anchor --output /var/lib/kapstone/anchors/",
}


@pytest.mark.parametrize(
    "unit",
    [
        "kapstone-web.service",
        "kapstone-worker.service",
        "kapstone-monitor-listener.service",
        *(f"kapstone-{j}.service" for j in JOBS),
    ],
)
def test_every_service_runs_hardened_as_the_kapstone_user(unit):
    text = (UNITS / unit).read_text()
    for line in (
        "User=kapstone",
        "EnvironmentFile=/etc/kapstone/kapstone.env",
        "NoNewPrivileges=true",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/kapstone",
        "PrivateTmp=true",
        "UMask=0077",
    ):
        assert re.search(rf"^{re.escape(line)}$", text, re.M), f"{unit}: {line}"


@pytest.mark.parametrize(("job", "command"), JOBS.items())
def test_each_periodic_job_is_a_oneshot_with_its_timer(job, command):
    service = (UNITS / f"kapstone-{job}.service").read_text()
    timer = (UNITS / f"kapstone-{job}.timer").read_text()
    assert "Type=oneshot" in service and f"/opt/kapstone/.venv/bin/{command}\n" in service
    assert (
        "OnCalendar=" in timer and "Persistent=true" in timer and "WantedBy=timers.target" in timer
    )


def test_the_web_and_worker_units_start_the_shipped_commands():
    web = (UNITS / "kapstone-web.service").read_text()
    assert "gunicorn --config /opt/kapstone/deploy/gunicorn.conf.py" in web
    assert "kapstone db_worker" in (UNITS / "kapstone-worker.service").read_text()
    listener = (UNITS / "kapstone-monitor-listener.service").read_text()
    assert "kapstone monitor_listener --host" in listener
    conf = (REPO / "deploy" / "gunicorn.conf.py").read_text()
    assert 'os.environ.get("KAPSTONE_BIND", "127.0.0.1:8000")' in conf
    assert 'logger_class = "kapstone.web.access_log.JsonLogger"' in conf
