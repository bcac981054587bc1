"""Reads on a PostgreSQL streaming replica, chosen explicitly, with read-your-writes.

``KAPSTONE_READ_REPLICA_URL`` adds the ``replica`` database alias. Nothing goes there by default:
only code run under :func:`reading_from_replica` (or a function decorated with :func:`replica_reads`:
the cohort dashboard, its CSV tables and program report, the research export page and the export
builder) reads from it. Writes always go to the primary, and migrations never run on the replica.

Read-your-writes, by LSN (exact, not a time window): when a request writes anything, the middleware
reads the primary's WAL insert position after the view (its transactions have committed by then) and
gives it to the browser in a cookie. A later block asks the replica how far it has replayed
(``pg_last_wal_replay_lsn()``) and reads there only if the replica has replayed at least the user's
last write, and this request's own writes if it made any. Outside a request (the task worker, a
command) the block asks the same of the primary's position at its start, waiting briefly for the
replica to catch up: everything committed before the block is visible in it.

The replica is never a reason for an error: if it does not answer (connect timeout), is not
streaming, is not in recovery (promoted: not ours any more), lags more than
``KAPSTONE_READ_REPLICA_MAX_LAG_SECONDS``, or fails during a decorated read, the read runs on the
primary, and a replica that failed is left alone for a few seconds before it is tried again.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

REPLICA = "replica"
LSN_COOKIE = "kapstone_lsn"
# A replica that failed is not tried again for this long (per process).
RETRY_AFTER_SECONDS = 5.0
# A block outside a request waits at most this long for the replica to reach the primary's position;
# one in a request that has itself written (the dashboard refreshes its summaries first), this long.
CATCH_UP_WAIT_SECONDS = 1.0
OWN_WRITE_WAIT_SECONDS = 0.5
_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE")


@dataclass
class _RequestWrites:
    """What the request in progress has written, and the LSN of the user's last write (cookie)."""

    cookie_lsn: str | None
    wrote: bool = False
    own_lsn: str | None = field(default=None)


_request: ContextVar[_RequestWrites | None] = ContextVar("kapstone_replica_request", default=None)
_on_replica: ContextVar[bool] = ContextVar("kapstone_on_replica", default=False)
# Where the last decision sent the reads, and why (for tests and the logs).
_last_choice: ContextVar[tuple[str, str]] = ContextVar(
    "kapstone_replica_choice", default=(DEFAULT_DB_ALIAS, "")
)
_down_until = 0.0
_down_lock = threading.Lock()


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def last_choice() -> tuple[str, str]:
    """The alias the last :func:`reading_from_replica` block in this context read from, and why."""
    return _last_choice.get()


class ReplicaRouter:
    """Reads go to the replica only inside :func:`reading_from_replica`; everything else, to the
    primary (explicitly, so an object read from the replica does not pull its relations from
    there after the block)."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        return REPLICA if _on_replica.get() else DEFAULT_DB_ALIAS

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica holds the primary's rows: the same objects

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPLICA else None


def _mark_down(reason: str) -> None:
    global _down_until
    with _down_lock:
        _down_until = time.monotonic() + RETRY_AFTER_SECONDS
    logger.warning("read replica not used for %.0f s: %s", RETRY_AFTER_SECONDS, reason)
    with suppress(DatabaseError):
        connections[REPLICA].close()


def _is_down() -> bool:
    return time.monotonic() < _down_until


def primary_lsn() -> str:
    """The primary's WAL insert position: past every transaction committed so far."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        row = cursor.fetchone()
    return str(row[0])


_STATUS = """
SELECT pg_is_in_recovery(),
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'),
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
       END::float8,
       %s::pg_lsn IS NULL OR pg_last_wal_replay_lsn() >= %s::pg_lsn
"""


def _replica_refusal(required_lsn: str | None, *, wait: float = 0.0) -> str | None:
    """None if the replica may serve a read that must see ``required_lsn``; else why not."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with connections[REPLICA].cursor() as cursor:
                cursor.execute(_STATUS, [required_lsn, required_lsn])
                row = cursor.fetchone()
        except DatabaseError as exc:
            _mark_down(f"it does not answer ({exc.__class__.__name__}: {exc})".strip())
            return "the replica does not answer"
        assert row is not None
        in_recovery, streaming, lag, caught_up = row
        if not in_recovery:
            _mark_down("it is not in recovery (promoted, or not a replica)")
            return "the replica is not in recovery"
        if not streaming:
            return "the replica is not streaming from the primary"
        if lag > settings.READ_REPLICA_MAX_LAG_SECONDS:
            return f"the replica lags {lag:.1f} s"
        if caught_up:
            return None
        if time.monotonic() >= deadline:
            return "the replica has not yet replayed the user's last write"
        time.sleep(0.02)


def _choose() -> tuple[str, str]:
    if not replica_configured():
        return DEFAULT_DB_ALIAS, "no replica configured"
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS, "inside a transaction on the primary"
    if _is_down():
        return DEFAULT_DB_ALIAS, "the replica failed moments ago"
    state = _request.get()
    if state is None:
        # A task or command: see everything committed before this block.
        refusal = _replica_refusal(primary_lsn(), wait=CATCH_UP_WAIT_SECONDS)
    else:
        if state.wrote:
            state.own_lsn = primary_lsn()
            state.wrote = False
        # Milliseconds old, this request's own write is worth a short wait; the user's earlier
        # write (the cookie) is older: a replica that has not replayed it yet is behind.
        wait = OWN_WRITE_WAIT_SECONDS if state.own_lsn is not None else 0.0
        refusal = _replica_refusal(_max_lsn(state.cookie_lsn, state.own_lsn), wait=wait)
    if refusal is not None:
        return DEFAULT_DB_ALIAS, refusal
    return REPLICA, "the replica has replayed the user's writes"


@contextmanager
def reading_from_replica() -> Iterator[str]:
    """Reads in the block go to the replica when it is safe to (see the module's docstring);
    yields the alias chosen. Only for reads: writes in the block still go to the primary."""
    if _on_replica.get():
        yield REPLICA
        return
    alias, why = _choose()
    _last_choice.set((alias, why))
    if alias != REPLICA:
        yield alias
        return
    token = _on_replica.set(True)
    try:
        yield alias
    finally:
        _on_replica.reset(token)


def replica_reads[**P, R](function: Callable[P, R]) -> Callable[P, R]:
    """Runs a read-only function under :func:`reading_from_replica`; if the replica fails during
    it, runs it again on the primary. The function must not write, and must return its results
    evaluated (lists, not querysets): the routing ends when it returns."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with reading_from_replica() as alias:
            if alias != REPLICA:
                return function(*args, **kwargs)
            try:
                return function(*args, **kwargs)
            except (OperationalError, InterfaceError) as exc:
                # The replica went away, or cancelled the query (a conflict with recovery); a
                # query that is wrong (ProgrammingError, DataError) is raised as it would be on
                # the primary.
                if not connections[REPLICA].is_usable():
                    _mark_down(f"it failed during a read ({exc.__class__.__name__})")
                _last_choice.set((DEFAULT_DB_ALIAS, "the replica failed during the read"))
        token = _on_replica.set(False)
        try:
            return function(*args, **kwargs)
        finally:
            _on_replica.reset(token)

    return wrapper


def _max_lsn(*lsns: str | None) -> str | None:
    known = [lsn for lsn in lsns if lsn]
    return max(known, key=_lsn_value) if known else None


def _lsn_value(lsn: str) -> int:
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def _parse_cookie(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        _lsn_value(raw)
    except ValueError:
        return None
    return raw


class ReadYourWritesMiddleware:
    """Tracks the request's writes on the primary; after a request that wrote, sends the primary's
    WAL position back as a cookie, so that the user's next reads wait for the replica to have it.
    Not used at all without a replica."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        if not replica_configured():
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        state = _RequestWrites(cookie_lsn=_parse_cookie(request.COOKIES.get(LSN_COOKIE)))
        token = _request.set(state)

        def track(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
            if sql.lstrip()[:6].upper().rstrip() in _WRITES:
                state.wrote = True
            return execute(sql, *args)

        try:
            with connections[DEFAULT_DB_ALIAS].execute_wrapper(track):
                response = self.get_response(request)
            if state.wrote or state.own_lsn is not None:
                lsn = primary_lsn() if state.wrote else state.own_lsn
                response.set_cookie(
                    LSN_COOKIE,
                    _max_lsn(lsn, state.cookie_lsn) or "",
                    max_age=3600,
                    httponly=True,
                    samesite="Lax",
                    secure=settings.SESSION_COOKIE_SECURE,
                )
            return response
        finally:
            _request.reset(token)
