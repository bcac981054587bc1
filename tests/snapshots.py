"""Rows a fixture builds, captured once per worker and inserted again for every later test.

The ``clinic`` fixture builds the same two sites, sixteen staff and two patients for about 900 tests
per leg, each time through the real services (about 220 queries and their audit rows). Built that
way once, its rows are the same every time: so the first build on a worker is captured (every row it
added, table by table, as the database stores it) and each later test gets those rows inserted
again, a statement per table, then its objects read back by primary key.

A capture is used only on the database state it was taken from: the tables it adds rows to must
hold as many rows as they did before the captured build (the rows seeded by the migrations). A test
that wrote to one of them first (a staff member, an audit row) builds for real. A build that changed
or deleted a row instead of only adding rows is not captured at all: it is built every time.
Same rows, same primary keys: a restored clinic is the captured one, audit chain and all (its
timestamps are those of the captured build, minutes earlier).

Not Django's fixtures (`dumpdata` and `loaddata`): loading goes through every model's
deserialisation and save, not much cheaper than the build itself, and the append-only guards refuse
the order it saves in.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

Row = tuple[Any, ...]


@dataclass(frozen=True)
class _Capture:
    vendor: str
    counts: dict[str, int]  # table -> rows it held before the captured build
    added: dict[str, tuple[tuple[str, ...], list[Any]]]  # table -> (columns, rows or COPY data)
    sequences: dict[str, tuple[str, str]]  # PostgreSQL: sequence -> (table, column) it numbers
    refs: Any  # what ``to_refs`` made of the build's result


_CAPTURES: dict[tuple[str, Hashable], _Capture | None] = {}


def _quote(name: str) -> str:
    from django.db import connection

    return connection.ops.quote_name(name)


def _tables() -> list[str]:
    from django.db import connection

    return sorted(connection.introspection.table_names())


def _columns(cursor, table: str) -> tuple[str, ...]:
    from django.db import connection

    return tuple(c.name for c in connection.introspection.get_table_description(cursor, table))


def _rows_sqlite(cursor, table: str, columns: tuple[str, ...]) -> list[Row]:
    # `+column` has no declared type, so no converter runs: the values come back exactly as stored
    # and go back in unchanged (no date or decimal round trip through Python types).
    cursor.execute(f"SELECT {', '.join('+' + _quote(c) for c in columns)} FROM {_quote(table)}")
    return [tuple(row) for row in cursor.fetchall()]


def _rows_postgres(cursor, table: str, columns: tuple[str, ...]) -> list[bytes]:
    # COPY's text form: one line per row, exactly what COPY ... FROM reads back.
    quoted = ", ".join(_quote(c) for c in columns)
    with cursor.cursor.copy(f"COPY {_quote(table)} ({quoted}) TO STDOUT") as copy:
        data = b"".join(bytes(chunk) for chunk in copy)
    return data.splitlines(keepends=True)


def _read_all(cursor, vendor: str) -> dict[str, tuple[tuple[str, ...], list[Any]]]:
    read = _rows_postgres if vendor == "postgresql" else _rows_sqlite
    state = {}
    for table in _tables():
        columns = _columns(cursor, table)
        state[table] = (columns, read(cursor, table, columns))
    return state


def _counts(cursor, tables: list[str]) -> dict[str, int]:
    if not tables:
        return {}
    cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {_quote(t)})" for t in tables))
    return dict(zip(tables, cursor.fetchone(), strict=True))


def _capture(
    build: Callable[[], Any], to_refs: Callable[[Any], Any]
) -> tuple[Any, _Capture | None]:
    from django.db import connection

    vendor = connection.vendor
    with connection.cursor() as cursor:
        before = _read_all(cursor, vendor)
        built = build()
        after = _read_all(cursor, vendor)
    added: dict[str, tuple[tuple[str, ...], list[Any]]] = {}
    for table, (columns, rows) in after.items():
        old_columns, old_rows = before.get(table, (columns, []))
        old = set(old_rows)
        if old_columns != columns or not old <= set(rows):
            return built, None  # the build changed or removed a row: never replayed
        new = [row for row in rows if row not in old]
        if new:
            added[table] = (columns, new)
    counts = {table: len(before.get(table, ((), []))[1]) for table in added}
    with connection.cursor() as cursor:
        sequences = _sequences(cursor, list(added)) if vendor == "postgresql" else {}
    return built, _Capture(vendor, counts, added, sequences, to_refs(built))


def _restore(capture: _Capture) -> bool:
    """Inserts the captured rows if the database is as it was before the captured build."""
    from django.db import DatabaseError, connection, transaction

    with connection.cursor() as cursor:
        if _counts(cursor, list(capture.counts)) != capture.counts:
            return False
        for guarded in (False, True):
            try:
                with transaction.atomic():
                    if guarded:
                        with _guards_lifted(cursor, capture.vendor):
                            _insert(cursor, capture)
                    else:
                        _insert(cursor, capture)
                return True
            except (DatabaseError, connection.Database.Error):
                # A guard refused a row in its final state (an answer to a record already
                # signed, as the build signed it after): insert again with the guards lifted.
                continue
    return False  # a row of the same key is there after all: build for real


def _insert(cursor, capture: _Capture) -> None:
    for table, (columns, rows) in capture.added.items():
        quoted = ", ".join(_quote(c) for c in columns)
        if capture.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {_quote(table)} ({quoted}) FROM STDIN") as copy:
                copy.write(b"".join(rows))
        else:
            marks = ", ".join("%s" for _ in columns)
            cursor.executemany(f"INSERT INTO {_quote(table)} ({quoted}) VALUES ({marks})", rows)
    if capture.sequences:
        _catch_up(cursor, capture.sequences)


@contextmanager
def _guards_lifted(cursor, vendor: str) -> Iterator[None]:
    """The database's triggers off while the rows go in, on again after (inside the caller's
    savepoint: on failure nothing of this stays)."""
    if vendor == "postgresql":
        cursor.execute("SET LOCAL session_replication_role = replica")
        yield
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        return
    cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    triggers = cursor.fetchall()
    for name, _ in triggers:
        cursor.execute(f"DROP TRIGGER {_quote(name)}")
    yield
    for _, sql in triggers:
        cursor.execute(sql)


def _sequences(cursor, tables: list[str]) -> dict[str, tuple[str, str]]:
    cursor.execute(
        "SELECT pg_get_serial_sequence(quote_ident(c.relname), a.attname), c.relname, a.attname "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE c.relname = ANY(%s) AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped "
        "AND pg_get_serial_sequence(quote_ident(c.relname), a.attname) IS NOT NULL",
        [tables],
    )
    return {sequence: (table, column) for sequence, table, column in cursor.fetchall()}


def _catch_up(cursor, sequences: dict[str, tuple[str, str]]) -> None:
    """Each sequence at least at its table's highest key, in one statement: the captured rows came
    in with their own keys, and the next row a test inserts must not take one of them."""
    cursor.execute(
        "SELECT "
        + ", ".join(
            f"setval('{sequence}', GREATEST((SELECT MAX({_quote(column)}) FROM {_quote(table)}), "
            f"(SELECT last_value FROM {sequence})))"
            for sequence, (table, column) in sequences.items()
        )
    )


def built_once(
    key: Hashable,
    build: Callable[[], Any],
    *,
    to_refs: Callable[[Any], Any],
    from_refs: Callable[[Any], Any],
) -> Any:
    """``build()``'s result: built (and captured) the first time on this worker and database, and
    after that its captured rows inserted again and ``from_refs`` reading the objects back.
    Call it inside the test's transaction (or a module's kept one), never a committing test's."""
    from django.db import connection

    slot = (connection.settings_dict["NAME"], key)
    if slot not in _CAPTURES:
        built, _CAPTURES[slot] = _capture(build, to_refs)
        return built
    capture = _CAPTURES[slot]
    if capture is not None and _restore(capture):
        return from_refs(capture.refs)
    return build()
