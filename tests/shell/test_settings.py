"""Settings from the environment: the production profile passes Django's deploy checks."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

KAPSTONE = Path(sys.executable).with_name("kapstone")


def run_kapstone(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KAPSTONE_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    return subprocess.run(
        [str(KAPSTONE), *args], capture_output=True, text=True, env=clean | env, check=False
    )


def test_production_profile_passes_check_deploy(tmp_path):
    result = run_kapstone(
        "check",
        "--deploy",
        "--fail-level",
        "DEBUG",
        KAPSTONE_PROFILE="production",
        KAPSTONE_SECRET_KEY=secrets.token_urlsafe(64),
        KAPSTONE_ALLOWED_HOSTS="kapstone.example.org",
        KAPSTONE_DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_profile_refuses_a_missing_secret():
    result = run_kapstone("check", KAPSTONE_PROFILE="production")
    assert result.returncode != 0
    assert "KAPSTONE_SECRET_KEY" in result.stderr


def test_production_profile_refuses_demo_mode():
    result = run_kapstone(
        "check",
        KAPSTONE_PROFILE="production",
        KAPSTONE_DEMO_MODE="1",
        KAPSTONE_SECRET_KEY="s" * 60,
    )
    assert result.returncode != 0 and "Demo mode" in result.stderr


def test_a_malformed_yes_no_value_is_refused_by_name():
    result = run_kapstone("check", KAPSTONE_DEMO_MODE="perhaps")
    assert result.returncode != 0 and "KAPSTONE_DEMO_MODE" in result.stderr


@pytest.mark.django_db
def test_sqlite_runs_in_wal_with_immediate_transactions():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite leg only")
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1


@pytest.mark.django_db
def test_each_worker_has_a_test_database_of_its_own(worker_id):
    """`make test` runs each leg on several workers (pytest-xdist): a shared database would let one
    worker's flush empty the tables under another's tests."""
    name = str(connection.settings_dict["NAME"])
    if worker_id == "master":
        pytest.skip("one process: nothing to share the database with")
    if "mode=memory" in name:
        pytest.skip("an in-memory SQLite database is its process's own")
    assert name.endswith(f"_{worker_id}"), name
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"


def test_a_file_database_is_put_in_wal_mode(tmp_path):
    # The journal mode is the connection's (settings' init_command), set before the first write: one
    # small app's migrations create the file and write to it. Migrating every app (~90 migrations,
    # Django re-rendering thousands of model states) took ~35 s and tested nothing more.
    path = tmp_path / "wal.sqlite3"
    result = run_kapstone(
        "migrate",
        "contenttypes",
        "--skip-checks",
        "-v",
        "0",
        KAPSTONE_DATABASE_URL=f"sqlite:///{path}",
    )
    assert result.returncode == 0, result.stderr
    import sqlite3

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        migrated = db.execute("SELECT count(*) FROM django_migrations WHERE app = 'contenttypes'")
        assert migrated.fetchone()[0] > 0


def test_logged_request_lines_lose_their_query_strings():
    from kapstone.web.logging import StripQueryStrings

    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        "",
        0,
        '"%s" %s %s',
        ("GET /patients/?q=Lovelace&dob=1985-12-10 HTTP/1.1", 200, 512),
        None,
    )
    StripQueryStrings().filter(record)
    assert "Lovelace" not in record.getMessage()
    assert "/patients/?…" in record.getMessage()


def test_htmx_is_served_from_our_own_static_files(client, db):
    body = client.get("/accounts/sign-in/").content.decode()
    assert 'src="/static/django_htmx/htmx' in body
    assert "https://" not in body and "//cdn" not in body
