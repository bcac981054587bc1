"""The request id every audit row carries: set per request by middleware, per run by commands."""

from __future__ import annotations

import uuid
from contextvars import ContextVar, Token

_request_id: ContextVar[str | None] = ContextVar("kapstone_request_id", default=None)


def new_request_id(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex}"


def set_request_id(value: str) -> Token[str | None]:
    return _request_id.set(value)


def reset_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


def current_request_id() -> str:
    value = _request_id.get()
    if value is None:
        # Outside a request (a command, a task): one id for the whole run.
        value = new_request_id("run-")
        _request_id.set(value)
    return value


def request_id_if_any() -> str | None:
    """The id of the request or run in progress, without starting one (for log records)."""
    return _request_id.get()
