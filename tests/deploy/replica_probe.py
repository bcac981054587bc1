"""Run by tests/deploy/test_replica.py in a process of its own, with KAPSTONE_DATABASE_URL on the
test's primary and KAPSTONE_READ_REPLICA_URL on its streaming replica; prints what it saw as JSON.

``scenario``: the cohort dashboard and the research export page through Django's test client, with
every SQL statement logged with the alias (the connection) that ran it. ``outage``: the same
dashboard once the replica has been stopped.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from kapstone.ops import db_router  # noqa: E402

setup_test_environment()
# (alias, statement, whether it ran inside a transaction on the primary: the dashboard's refresh of
# its summaries reads them in its own transaction there, as it must, before the figures are read).
LOG: list[tuple[str, str, bool]] = []


def _logger(alias: str) -> Any:
    def log(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        LOG.append((alias, sql, connections["default"].in_atomic_block))
        return execute(sql, params, many, context)

    return log


for _alias in ("default", "replica"):
    connections[_alias].execute_wrappers.append(_logger(_alias))


def _server(alias: str) -> list[Any]:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), inet_server_port()")
        row = cursor.fetchone()
    assert row is not None
    return list(row)


def _served(table: str, start: int) -> list[str]:
    """The aliases that ran the reads of ``table`` since LOG[start], outside a transaction."""
    return sorted(
        {
            alias
            for alias, sql, in_transaction in LOG[start:]
            if f'"{table}"' in sql and sql.lstrip().startswith("SELECT") and not in_transaction
        }
    )


def _get(client: Client, url: str, table: str) -> dict[str, Any]:
    start = len(LOG)
    response = client.get(url)
    return {
        "status": response.status_code,
        "served_by": _served(table, start),
        "statements": [(alias, sql[:160], atomic) for alias, sql, atomic in LOG[start:]],
        "text": response.content.decode(),
    }


def _replayed(lsn: str) -> bool:
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn])
        row = cursor.fetchone()
    return bool(row and row[0])


def _wait_for_replay(lsn: str) -> None:
    deadline = time.monotonic() + 20
    while not _replayed(lsn):
        assert time.monotonic() < deadline, f"the replica did not replay {lsn} in 20 s"
        time.sleep(0.05)


def _staff() -> Any:
    from kapstone.accounts.models import Site, StaffUser
    from kapstone.accounts.services import create_staff
    from kapstone.clinical.access import Role

    found = StaffUser.objects.filter(username="director").first()
    if found is not None:
        return found
    site = Site.objects.create(name="Riverside")
    return create_staff(
        by=None,
        username="director",
        first_name="Dana",
        last_name="Director",
        email="director@example.invalid",
        role=Role.MEDICAL_DIRECTOR,
        password="correct-horse-battery-staple",
        sites=[site],
    )


DASHBOARD = "/cohorts/?start=2026-01-01&end=2026-12-31&instrument=phq9"
EXPORTS = "/research/exports/"
# The export the user requests: its period is shown in the export list.
PERIOD = {"period_start": "2019-03-07", "period_end": "2019-04-07"}
PERIOD_TEXT = "7 Mar 2019"


def scenario() -> dict[str, Any]:
    out: dict[str, Any] = {
        "primary_server": _server("default"),
        "replica_server": _server("replica"),
    }
    user = _staff()
    _wait_for_replay(db_router.primary_lsn())

    # (a) The dashboard, for a user with no write of their own: read on the replica.
    reader = Client()
    reader.force_login(user)
    out["dashboard"] = _get(reader, DASHBOARD, "cohorts_coursesummary")
    out["dashboard"]["has_dashboard"] = "cohort" in out["dashboard"].pop("text").lower()

    # The replica stops replaying: from now on it shows the database as it was at this moment.
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")

    # (b) The user requests an export (a write), then sees the list: read on the primary, because
    # the replica has not replayed that write.
    writer = Client()
    writer.force_login(user)
    posted = writer.post(EXPORTS, PERIOD)
    out["post_status"] = posted.status_code
    cookie = writer.cookies.get(db_router.LSN_COOKIE)
    out["lsn_cookie"] = cookie.value if cookie is not None else None
    own = _get(writer, EXPORTS, "research_researchexport")
    out["after_own_write"] = {**own, "shows_export": PERIOD_TEXT in own.pop("text")}

    # Another user's view of the same list, at the same moment: read on the (paused) replica,
    # which does not have the export yet; the rows differ, so the replica really served it.
    other = _get(reader, EXPORTS, "research_researchexport")
    out["other_reader"] = {**other, "shows_export": PERIOD_TEXT in other.pop("text")}

    # A replica lagging past the limit is not used.
    settings.READ_REPLICA_MAX_LAG_SECONDS = 0
    lagging = _get(reader, EXPORTS, "research_researchexport")
    out["lagging"] = {**lagging, "shows_export": PERIOD_TEXT in lagging.pop("text")}
    settings.READ_REPLICA_MAX_LAG_SECONDS = 600

    # Outside a request (the task worker): the replica must have everything committed before the
    # block; paused, it does not, so the primary serves it.
    from kapstone.research.models import ResearchExport

    with db_router.reading_from_replica() as alias:
        out["worker_paused"] = {"alias": alias, "exports": ResearchExport.objects.count()}

    # Replay resumes: once the replica has the user's write, the user's reads go there again.
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_resume()")
    if out["lsn_cookie"]:
        _wait_for_replay(out["lsn_cookie"])
    again = _get(writer, EXPORTS, "research_researchexport")
    out["after_catch_up"] = {**again, "shows_export": PERIOD_TEXT in again.pop("text")}
    with db_router.reading_from_replica() as alias:
        out["worker_caught_up"] = {"alias": alias, "exports": ResearchExport.objects.count()}
    out["replica_writes"] = [
        sql for alias, sql, _ in LOG if alias == "replica" and not sql.lstrip().startswith("SELECT")
    ]
    return out


def outage() -> dict[str, Any]:
    user = _staff()
    client = Client()
    client.force_login(user)
    started = time.monotonic()
    first = _get(client, DASHBOARD, "cohorts_coursesummary")
    first.pop("text")
    first["seconds"] = round(time.monotonic() - started, 2)
    first["why"] = db_router.last_choice()[1]
    return {"dashboard": first}


if __name__ == "__main__":
    result = {"scenario": scenario, "outage": outage}[sys.argv[1]]()
    sys.stdout.write(json.dumps(result) + "\n")
