"""What /healthz/ready checks: each check answers ok or not, with a short detail and no data."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from kapstone.ops.heartbeat import latest_beat


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        # The error names hosts and roles; the logs have it, the public answer does not.
        return Check("database", False, "unreachable")
    return Check("database", True, "reachable")


def migrations() -> Check:
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return Check("migrations", False, "could not be read")
    if plan:
        return Check("migrations", False, f"{len(plan)} not applied: run kapstone release")
    return Check("migrations", True, "all applied")


def worker() -> Check:
    try:
        last = latest_beat()
    except DatabaseError:
        return Check("worker", False, "could not be read")
    if last is None:
        return Check("worker", False, "no heartbeat: is kapstone db_worker running?")
    age = (timezone.now() - last).total_seconds()
    limit = settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS
    if age > limit:
        return Check("worker", False, f"last heartbeat {age:.0f} s ago (limit {limit} s)")
    return Check("worker", True, f"last heartbeat {age:.0f} s ago")


def readiness() -> list[Check]:
    first = database()
    if not first.ok:
        return [
            first,
            Check("migrations", False, "database unreachable"),
            Check("worker", False, "database unreachable"),
        ]
    return [first, migrations(), worker()]
