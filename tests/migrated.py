"""The migrated database, built once and copied: every test database starts from one.

Running every migration from an empty database costs ~15-20 s of CPU (Django re-renders thousands of
model states). The suite needs that empty-then-migrated database many times over: once per xdist
worker and leg, and again in the tests that drive `kapstone` in subprocesses on a database of their
own (backups, the upgrade's fresh comparison, the release command). So the migrations run once, into a
*template* named after a fingerprint of every migration file; each test database is then a copy of it
(a file copy on SQLite; ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), and Django's own `migrate`
at test-database creation finds nothing to apply.

The template is what `kapstone migrate` builds on an empty database, by the same command, so a copy
is indistinguishable from a fresh migrate (tests/backups/test_migrations_self_contained.py and the
upgrade test compare against it). Changing any migration changes the fingerprint, so a stale template
is never used: a new one is built and the older ones of that name are removed. Workers and legs
running at once take a lock, so one builds and the others wait for it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

KAPSTONE = str(Path(sys.executable).parent / "kapstone")


def fingerprint() -> str:
    """A digest of every installed app's migration files (ours, Django's, third parties')."""
    import django
    from django.apps import apps

    digest = hashlib.sha256(django.get_version().encode())
    for config in sorted(apps.get_app_configs(), key=lambda c: c.label):
        folder = Path(config.path) / "migrations"
        for path in sorted(folder.glob("*.py")) if folder.is_dir() else ():
            digest.update(f"{config.label}/{path.name}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _migrate(url: str) -> None:
    """`kapstone migrate` on an empty database, in its own process as a clinic would run it."""
    env = {**os.environ, "KAPSTONE_DATABASE_URL": url}
    result = subprocess.run(
        [KAPSTONE, "migrate", "--no-input", "-v", "0"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if result.returncode != 0:
        raise RuntimeError(f"migrating the template failed:\n{result.stdout}\n{result.stderr}")


# SQLite ---------------------------------------------------------------------------------------------


def _remove_sqlite(path: Path | str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def sqlite_template(beside: Path | str) -> Path:
    """The migrated SQLite file for ``beside`` (a test database's path), built if missing."""
    beside = Path(beside)
    stem = f"{beside.name}.migrated-"
    template = beside.with_name(f"{stem}{fingerprint()}")
    if template.exists():
        return template
    with open(f"{beside}.migrated.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if template.exists():  # another worker built it while this one waited
            return template
        building = Path(f"{template}.building")
        _remove_sqlite(building)
        _migrate(f"sqlite:///{building}")
        # Everything into the main file, so that a copy of that file alone is the whole database.
        with closing(sqlite3.connect(building)) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        Path(f"{building}-wal").unlink(missing_ok=True)
        Path(f"{building}-shm").unlink(missing_ok=True)
        os.replace(building, template)
        for older in beside.parent.glob(f"{stem}*"):
            if older != template and not older.name.endswith(".building"):
                _remove_sqlite(older)
    return template


def copy_sqlite(template: Path, to: Path | str) -> None:
    """``to`` becomes a copy of the template (any old file there, and its journal, are removed)."""
    _remove_sqlite(to)
    shutil.copyfile(template, to)


# PostgreSQL -----------------------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


@contextmanager
def _postgres_admin(url: str):
    """A connection to the server's maintenance database (the test databases may not exist yet)."""
    import psycopg

    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        yield conn


def postgres_template(url: str, base: str) -> str:
    """The name of the migrated database on ``url``'s server for test databases named after
    ``base``, built if missing. Built under a different name and renamed when complete, so an
    interrupted build never leaves a half-migrated template behind."""
    # PostgreSQL cuts names at 63 bytes: room for the fingerprint and "_building".
    prefix = f"{base[:32]}_migrated_"
    template = f"{prefix}{fingerprint()}"
    key = int(hashlib.sha256(prefix.encode()).hexdigest()[:15], 16)
    with _postgres_admin(url) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", [key])
        try:
            found = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{prefix}%"]
            ).fetchall()
            names = {row[0] for row in found}
            if template not in names:
                building = f"{template}_building"
                conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{building}"')
                _migrate(_with_database(url, building))
                conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
            for older in names - {template}:
                conn.execute(f'DROP DATABASE IF EXISTS "{older}" WITH (FORCE)')
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", [key])
    return template


# The leg's own database -----------------------------------------------------------------------------


def prepare_test_database(connection) -> None:
    """Makes Django's creation of the test database for ``connection`` a copy of the template.

    Called before pytest-django sets the test databases up; Django still runs `migrate` on the
    copy (nothing to apply) and everything else it does at creation."""
    test = connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "postgresql":
        url = os.environ["KAPSTONE_DATABASE_URL"]  # scripts/test-postgres sets it
        test["TEMPLATE"] = postgres_template(url, f"test_{connection.settings_dict['NAME']}")
        return
    if connection.vendor != "sqlite":
        return
    creation = connection.creation
    name = creation._get_test_db_name()
    if creation.is_in_memory_db(name):
        return  # no file to copy into: Django migrates its in-memory database as before
    # One template for the leg's workers (test.sqlite3_gw0, _gw1, ...): beside the leg's name.
    template = sqlite_template(os.environ.get("KAPSTONE_TEST_SQLITE_NAME") or name)
    plain = creation._create_test_db

    def from_template(verbosity, autoclobber, keepdb=False):
        created = plain(verbosity, autoclobber, keepdb)
        if not keepdb:
            copy_sqlite(template, created)
        return created

    creation._create_test_db = from_template
