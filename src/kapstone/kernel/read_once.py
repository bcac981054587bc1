"""Reads that a page asks for several times, done once per page.

A page such as the chair-side console asks several selectors for the same facts (the signed plan,
the session's readings, the monitoring policy): each selector stays self-contained, and a view
that renders without writing wraps its work in :func:`reading_once`. Inside it, a function marked
:func:`once_per_page` runs once per set of arguments (model instances count by class and primary
key) and later calls get the same answer (a list or dict as a fresh copy of it); outside it, the
function runs every time, as before. Nothing is kept past the block, and a view that writes does
not use it (its later reads must see its own writes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

_MEMO: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar(
    "kapstone_read_once", default=None
)


@contextmanager
def reading_once() -> Iterator[None]:
    """Within the block, functions marked :func:`once_per_page` read once per set of arguments."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


class _Unkeyed(Exception):
    pass


def _key(value: Any) -> Any:
    pk = getattr(value, "pk", None)
    if pk is not None and hasattr(value, "_meta"):
        return (type(value).__qualname__, pk)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise _Unkeyed  # anything else (an unsaved row, a date, a list): read as usual


def _call_key(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...]:
    return (
        fn.__module__,
        fn.__qualname__,
        tuple(_key(a) for a in args),
        tuple(sorted((k, _key(v)) for k, v in kwargs.items())),
    )


def remember[**P, R](fn: Callable[P, R], answer: R, *args: P.args, **kwargs: P.kwargs) -> None:
    """Within a :func:`reading_once`, records ``answer`` as what ``fn(*args, **kwargs)`` reads.

    For a page listing many rows (the day board's sessions in progress) that reads their facts in
    one query each and hands every row's share to the per-row functions, which then do not query.
    Outside the block it does nothing, so the per-row functions read as usual.
    """
    memo = _MEMO.get()
    if memo is None:
        return
    try:
        memo[_call_key(fn, args, kwargs)] = answer
    except _Unkeyed:
        return


def once_per_page[**P, R](fn: Callable[P, R]) -> Callable[P, R]:
    """Marks a read-only function whose answer may be shared within a :func:`reading_once`."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        memo = _MEMO.get()
        if memo is None:
            return fn(*args, **kwargs)
        try:
            key = _call_key(fn, args, kwargs)
        except _Unkeyed:
            return fn(*args, **kwargs)
        if key not in memo:
            memo[key] = fn(*args, **kwargs)
        result: R = memo[key]
        if isinstance(result, list):
            return list(result)  # type: ignore[return-value]
        if isinstance(result, dict):
            return dict(result)  # type: ignore[return-value]
        return result

    return wrapper
