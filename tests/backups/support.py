"""Independent databases for the backup and upgrade tests.

pytest-django wraps tests in transactions a subprocess cannot see, so these tests build their own
databases (fresh SQLite files, or fresh PostgreSQL databases with unique names dropped at the end)
and drive the real ``kapstone`` command in subprocesses.

The suite runs twice (SQLite leg, then PostgreSQL leg with KAPSTONE_DATABASE_URL set); each engine's
tests run in its own leg only, so every round trip runs once.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

KAPSTONE = str(Path(sys.executable).parent / "kapstone")
LEG_URL = os.environ.get("KAPSTONE_DATABASE_URL", "")
POSTGRES_LEG = LEG_URL.startswith(("postgres://", "postgresql://"))

# `kapstone` as its console script runs it (kapstone.cli.main), but hashing staff passwords with MD5
# as tests/conftest.py does in-process: for building a demo clinic to back up or upgrade. Argon2, the
# production hasher, costs ~0.25 s of CPU a password, ~40 % of `demo_clinic --patients 4` (17 staff),
# and no backup or upgrade test reads a password hash. With PYTHONPATH set it runs that kapstone.
QUICK_PASSWORDS_CLI = [
    sys.executable,
    "-c",
    "import os\n"
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'kapstone.settings')\n"
    "from django.conf import settings\n"
    "settings.PASSWORD_HASHERS = ['django.contrib.auth.hashers.MD5PasswordHasher']\n"
    "from kapstone.cli import main\n"
    "raise SystemExit(main())\n",
]


def run(
    *args: str,
    url: str,
    exports: Path | None = None,
    umask: int = 0o022,
    argv0: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Runs ``kapstone ARGS`` (or ``argv0 + ARGS``) against the database at ``url``."""
    full_env = {**os.environ, "KAPSTONE_DATABASE_URL": url, **(env or {})}
    if exports is not None:
        full_env["KAPSTONE_RESEARCH_EXPORT_DIR"] = str(exports)
    return subprocess.run(
        [*(argv0 or [KAPSTONE]), *args],
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
        umask=umask,
        timeout=900,
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


@dataclass
class SqliteServer:
    folder: Path
    vendor = "sqlite"

    def create(self, prefix: str) -> str:
        return str(self.folder / f"{prefix}_{secrets.token_hex(4)}.sqlite3")

    def migrated(self, prefix: str) -> str:
        """A new database as `kapstone migrate` leaves an empty one: a copy of the leg's template."""
        from tests.migrated import copy_sqlite, sqlite_template

        name = self.create(prefix)
        leg = os.environ.get("KAPSTONE_TEST_SQLITE_NAME") or str(self.folder / "test.sqlite3")
        copy_sqlite(sqlite_template(leg), name)
        return name

    def clone(self, name: str, prefix: str) -> str:
        copy = self.create(prefix)
        with closing(sqlite3.connect(name)) as src, closing(sqlite3.connect(copy)) as dst:
            src.backup(dst)
        return copy

    def url(self, name: str) -> str:
        return f"sqlite:///{name}"

    def drop(self, name: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)

    def execute(self, name: str, *statements: str) -> None:
        with closing(sqlite3.connect(name)) as conn:
            for sql in statements:
                conn.execute(sql)
            conn.commit()

    def query(self, name: str, sql: str) -> list[tuple]:
        with closing(sqlite3.connect(name)) as conn:
            return conn.execute(sql).fetchall()

    def tables(self, name: str) -> list[str]:
        if not Path(name).exists():
            return []
        rows = self.query(
            name, "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
        return sorted(r[0] for r in rows)


@dataclass
class PostgresServer:
    admin_url: str
    vendor = "postgresql"

    def _connect(self, name: str | None = None):  # type: ignore[no-untyped-def]
        import psycopg

        return psycopg.connect(self.url(name) if name else self.admin_url, autocommit=True)

    def url(self, name: str) -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))

    def create(self, prefix: str, template: str | None = None) -> str:
        name = f"{prefix}_{secrets.token_hex(4)}"
        with self._connect() as conn:
            conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return name

    def clone(self, name: str, prefix: str) -> str:
        return self.create(prefix, template=name)

    def migrated(self, prefix: str) -> str:
        """A new database as `kapstone migrate` leaves an empty one: a copy of the leg's template."""
        from tests.migrated import postgres_template

        leg = urlsplit(LEG_URL).path.lstrip("/")
        return self.create(prefix, template=postgres_template(self.admin_url, f"test_{leg}"))

    def drop(self, name: str) -> None:
        with self._connect() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def execute(self, name: str, *statements: str) -> None:
        with self._connect(name) as conn:
            for sql in statements:
                conn.execute(sql)

    def query(self, name: str, sql: str) -> list[tuple]:
        with self._connect(name) as conn:
            return conn.execute(sql).fetchall()

    def tables(self, name: str) -> list[str]:
        rows = self.query(name, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return sorted(r[0] for r in rows)


Server = SqliteServer | PostgresServer


def drop_all(server: Server, names: list[str]) -> None:
    """Drops the databases at once: on PostgreSQL each DROP DATABASE waits for a checkpoint of the
    whole server (seconds when the suite is writing), and requests made together share one."""
    with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
        list(pool.map(server.drop, names))


def server_for_this_leg(tmp_folder: Path) -> Server:
    """SQLite in the SQLite leg; in the PostgreSQL leg the server the leg runs on (or a skip)."""
    if not POSTGRES_LEG:
        return SqliteServer(tmp_folder)
    import psycopg

    parts = urlsplit(LEG_URL)
    # The server's maintenance database: the leg's own database may exist only as test_<name>.
    admin_url = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    try:
        psycopg.connect(admin_url, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        if os.environ.get("KAPSTONE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL does not answer at {admin_url}: {error}")
        pytest.skip(f"PostgreSQL does not answer at {admin_url}; its backup tests need it")
    return PostgresServer(admin_url)


def row_counts(server: Server, name: str) -> dict[str, int]:
    return {
        table: server.query(name, f'SELECT COUNT(*) FROM "{table}"')[0][0]
        for table in server.tables(name)
    }


def audit_head(server: Server, name: str) -> tuple:
    """The chain's newest entry and the head row: what a restore must bring back unchanged."""
    newest = server.query(name, "SELECT seq, hash FROM audit_auditentry ORDER BY seq DESC LIMIT 1")
    head = server.query(name, "SELECT last_seq, last_hash FROM audit_audithead")
    return (newest[0] if newest else None, head[0] if head else None)
