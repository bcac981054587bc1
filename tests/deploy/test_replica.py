"""Reads on a real PostgreSQL streaming replica (kapstone.ops.db_router, docs/scaling.md).

The test makes a primary of its own (``initdb`` into a temporary folder, on a free port, with
``wal_level=replica`` and replication trusted from 127.0.0.1: the leg's own server may not allow
replication, and its configuration is not the test's to change), copies it with ``pg_basebackup -R``
into a second folder, starts that copy as a streaming replica on another port and waits until it
streams. The primary gets Kapstone's schema as migrated in the leg's test database (``pg_dump`` of it:
running every migration again would take most of a minute), then ``kapstone migrate`` runs on the
primary with the replica configured (it has nothing left to do, and must not touch the replica).

Then tests/deploy/replica_probe.py, in a process with KAPSTONE_DATABASE_URL on the primary and
KAPSTONE_READ_REPLICA_URL on the replica, shows (a) the cohort dashboard's reads run on the replica
(every statement is logged with the connection that ran it, and that connection's server says it is
in recovery, on the replica's port), (b) after the user's own write, the page that lists it is read on
the primary, while the replica, its replay paused, serves another user the list without that row;
the same user reads from the replica again once it has replayed the write. Stopped, the replica
costs nothing but a connection refused: the dashboard is served from the primary.

Runs in the PostgreSQL leg (the SQLite leg skips it). Both servers are stopped and their folders
removed whatever happens. In CI (KAPSTONE_REQUIRE_POSTGRES=1) missing server binaries fail it.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("replica_probe.py")
pytestmark = pytest.mark.django_db
SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")
CLIENT_TOOLS = ("pg_basebackup", "pg_dump", "psql")


def _required() -> bool:
    return os.environ.get("KAPSTONE_REQUIRE_POSTGRES") == "1" or bool(os.environ.get("CI"))


def _major(binary: Path) -> int | None:
    try:
        text = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=10
        ).stdout
    except OSError:
        return None
    found = re.search(r"\)\s+(\d+)", text)
    return int(found.group(1)) if found else None


def _candidate_dirs() -> list[Path]:
    """Where PostgreSQL's programs may be: Debian's versioned folders (newest first: what
    scripts/ensure-postgres installs), /usr/local/bin, pg_config's bindir, then PATH."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", path.parent.name)) or (0,)

    dirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    dirs.append(Path("/usr/local/bin"))
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout
        if bindir.strip():
            dirs.append(Path(bindir.strip()))
    dirs += [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    return list(dict.fromkeys(dirs))


def find_tools() -> dict[str, Path]:
    """One PostgreSQL's programs, all of the same major version: the server's first (initdb,
    pg_ctl, postgres from one folder), then pg_basebackup, pg_dump and psql of that version."""
    dirs = _candidate_dirs()
    for folder in dirs:
        if not all((folder / name).is_file() for name in SERVER_TOOLS):
            continue
        major = _major(folder / "postgres")
        if major is None:
            continue
        tools = {name: folder / name for name in SERVER_TOOLS}
        for name in CLIENT_TOOLS:
            tools[name] = next(
                (
                    d / name
                    for d in [folder, *dirs]
                    if (d / name).is_file() and _major(d / name) == major
                ),
                Path(),
            )
        if all(str(path) != "." for path in tools.values()):
            return tools
    message = (
        "PostgreSQL's server programs (initdb, pg_ctl, postgres with pg_basebackup, pg_dump and "
        "psql of the same version) were not found; scripts/ensure-postgres installs them"
    )
    if _required():
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    tools: dict[str, Path]
    root: Path
    primary_port: int
    replica_port: int
    as_user: str | None  # initdb and postgres refuse to run as root: they run as this user

    def run(self, name: str, *args: str, timeout: float = 60, **kwargs: Any) -> str:
        done = subprocess.run(
            [str(self.tools[name]), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            user=self.as_user,
            cwd=self.root,
            **kwargs,
        )
        assert done.returncode == 0, f"{name} {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
        return done.stdout

    def url(self, port: int, database: str = "kapstone") -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{database}"

    def sql(self, port: int, statement: str, database: str = "postgres") -> str:
        return self.run(
            "psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", database,
            "-AtX", "-v", "ON_ERROR_STOP=1", "-c", statement,
        ).strip()  # fmt: skip

    def start(self, folder: str, port: int) -> None:
        self.run(
            "pg_ctl", "-D", str(self.root / folder), "-l", str(self.root / f"{folder}.log"),
            "-o", f"-p {port}", "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self, folder: str) -> None:
        if (self.root / folder / "postmaster.pid").exists():
            subprocess.run(
                [str(self.tools["pg_ctl"]), "-D", str(self.root / folder), "-m", "immediate",
                 "-w", "-t", "30", "stop"],
                capture_output=True, user=self.as_user, cwd=self.root, timeout=60,
            )  # fmt: skip

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
            for log in sorted(self.root.glob("*.log"))
        )


def _leg_database() -> dict[str, Any]:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the replica test runs in the PostgreSQL leg of make test")
    return dict(connection.settings_dict)


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker) -> Iterator[Cluster]:
    with django_db_blocker.unblock():
        leg = _leg_database()
    tools = find_tools()
    as_user = None
    if os.geteuid() == 0:
        try:
            as_user = pwd.getpwnam("postgres").pw_name
        except KeyError:
            pytest.fail("running as root, and there is no postgres user to run the servers as")
    root = Path(tempfile.mkdtemp(prefix="kapstone-replica-"))
    if as_user is not None:
        os.chown(root, pwd.getpwnam(as_user).pw_uid, -1)
    made = Cluster(tools, root, _free_port(), _free_port(), as_user)
    try:
        made.run("initdb", "-D", str(root / "primary"), "-U", "postgres", "--auth=trust",
                 "-E", "UTF8", "--no-sync")  # fmt: skip
        with (root / "primary" / "postgresql.conf").open("a") as conf:
            conf.write(
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{root}'\n"
                "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
                # A throwaway cluster: no waiting for the disk.
                "fsync = off\nfull_page_writes = off\n"
            )
        with (root / "primary" / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        made.start("primary", made.primary_port)
        made.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(made.primary_port), "-U",
                 "postgres", "-D", str(root / "replica"), "-R", "-X", "stream", "-c", "fast")  # fmt: skip
        made.start("replica", made.replica_port)
        deadline = time.monotonic() + 30
        while made.sql(made.primary_port, "SELECT count(*) FROM pg_stat_replication "
                       "WHERE state = 'streaming'") != "1":  # fmt: skip
            assert time.monotonic() < deadline, "the replica did not start streaming in 30 s"
            time.sleep(0.1)
        # Kapstone's schema as the leg migrated it (with django_migrations), into the primary.
        made.sql(made.primary_port, "CREATE DATABASE kapstone")
        leg_url = (
            f"postgres://{leg['USER'] or 'postgres'}@{leg['HOST'] or '127.0.0.1'}:"
            f"{leg['PORT'] or 5432}/{leg['NAME']}"
        )
        dump = subprocess.run(
            [str(tools["pg_dump"]), "--no-owner", "--no-privileges", "-d", leg_url],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "PGPASSWORD": str(leg.get("PASSWORD") or "")},
        )  # fmt: skip
        assert dump.returncode == 0, dump.stderr
        made.run("psql", "-h", "127.0.0.1", "-p", str(made.primary_port), "-U", "postgres",
                 "-d", "kapstone", "-qX", "-v", "ON_ERROR_STOP=1", input=dump.stdout)  # fmt: skip
        yield made
    except BaseException:
        sys.stderr.write(made.logs())
        raise
    finally:
        made.stop("replica")
        made.stop("primary")
        shutil.rmtree(root, ignore_errors=True)


def _kapstone_env(made: Cluster) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPSTONE_")}
    env.update(
        KAPSTONE_DATABASE_URL=made.url(made.primary_port),
        KAPSTONE_READ_REPLICA_URL=made.url(made.replica_port),
        KAPSTONE_READ_REPLICA_MAX_LAG_SECONDS="600",
        KAPSTONE_DEMO_MODE="1",
        DJANGO_SETTINGS_MODULE="kapstone.settings",
    )
    return env


def _probe(made: Cluster, phase: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(PROBE), phase],
        capture_output=True, text=True, timeout=120, env=_kapstone_env(made), cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, f"the probe ({phase}) failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_dashboard_from_the_replica_and_own_writes_from_the_primary(cluster: Cluster) -> None:
    # Migrations run on the primary only: the replica alias is configured and must be left alone.
    migrate = subprocess.run(
        [str(Path(sys.executable).with_name("kapstone")), "migrate", "--no-input"],
        capture_output=True, text=True, timeout=120, env=_kapstone_env(cluster), cwd=REPO,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr
    assert "No migrations to apply" in migrate.stdout

    seen = _probe(cluster, "scenario")
    # The two connections reach the two servers: the replica's is in recovery, on its own port.
    assert seen["primary_server"] == [False, cluster.primary_port]
    assert seen["replica_server"] == [True, cluster.replica_port]

    # (a) The dashboard: its figures' reads of the summaries ran on the replica, none on the
    # primary (the page first brings the summaries up to date on the primary, in a transaction
    # there, and then waits the few milliseconds the replica takes to replay that).
    dashboard = seen["dashboard"]
    assert dashboard["status"] == 200
    assert dashboard["has_dashboard"]
    assert dashboard["served_by"] == ["replica"], dashboard["statements"]
    on_replica = [sql for alias, sql, _ in dashboard["statements"] if alias == "replica"]
    assert any('"cohorts_coursesafety"' in sql for sql in on_replica)

    # (b) After the user's own write (replica paused): the list is read on the primary, and shows it.
    assert seen["post_status"] == 302
    assert re.fullmatch(r"[0-9A-F]+/[0-9A-F]+", seen["lsn_cookie"] or "")
    assert seen["after_own_write"]["served_by"] == ["default"]
    assert seen["after_own_write"]["shows_export"]
    # Another user, at the same moment, reads the paused replica: the export is not there yet.
    assert seen["other_reader"]["served_by"] == ["replica"]
    assert not seen["other_reader"]["shows_export"]
    # Past the lag limit the replica is not used.
    assert seen["lagging"]["served_by"] == ["default"]
    assert seen["lagging"]["shows_export"]
    # Outside a request, a block sees everything committed before it: primary while paused.
    assert seen["worker_paused"] == {"alias": "default", "exports": 1}
    # Replayed: the same user's reads go to the replica again, and it has the export.
    assert seen["after_catch_up"]["served_by"] == ["replica"]
    assert seen["after_catch_up"]["shows_export"]
    assert seen["worker_caught_up"] == {"alias": "replica", "exports": 1}
    assert seen["replica_writes"] == []

    # The replica goes down: the dashboard is served from the primary, without an error.
    cluster.stop("replica")
    down = _probe(cluster, "outage")["dashboard"]
    assert down["status"] == 200
    assert down["served_by"] == ["default"]
    assert "does not answer" in down["why"]
