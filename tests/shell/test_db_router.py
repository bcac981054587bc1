"""The replica router without a replica (the SQLite leg, and any clinic that sets none): every read
and write on the primary, no migration on a replica alias. tests/deploy/test_replica.py runs it
against a real streaming replica."""

from __future__ import annotations

import pytest
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS

from kapstone.ops import db_router
from kapstone.ops.db_router import REPLICA, ReadYourWritesMiddleware, ReplicaRouter


def test_without_a_replica_everything_is_read_and_written_on_the_primary(db) -> None:
    from kapstone.patients.models import Patient

    assert not db_router.replica_configured()
    with db_router.reading_from_replica() as alias:
        assert alias == DEFAULT_DB_ALIAS
        assert ReplicaRouter().db_for_read(Patient) == DEFAULT_DB_ALIAS
    assert db_router.last_choice() == (DEFAULT_DB_ALIAS, "no replica configured")
    assert ReplicaRouter().db_for_write(Patient) == DEFAULT_DB_ALIAS
    with pytest.raises(MiddlewareNotUsed):
        ReadYourWritesMiddleware(lambda request: None)  # type: ignore[arg-type, return-value]


def test_migrations_never_run_on_the_replica_alias() -> None:
    router = ReplicaRouter()
    assert router.allow_migrate(REPLICA, "patients") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "patients") is None


def test_the_write_position_cookie_is_read_as_an_lsn_or_ignored() -> None:
    assert db_router._parse_cookie("16/B374D848") == "16/B374D848"
    assert db_router._parse_cookie("not an lsn") is None
    assert db_router._parse_cookie("") is None
    assert db_router._max_lsn("0/FF", "1/0", None) == "1/0"
    assert db_router._lsn_value("1/0") > db_router._lsn_value("0/FFFFFFFF")
