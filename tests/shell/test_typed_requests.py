"""Views take an ``AuthenticatedHttpRequest`` whose ``user`` is a ``StaffUser`` (``kapstone.web.http``),
so mypy checks every use of ``request.user``: no ``type: ignore`` may hide one again (issue 16). The
ignores left in the shell are each checked by mypy's ``warn_unused_ignores``; this test keeps the
ones on ``request.user`` at none, listed as ``file:line`` when one comes back."""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "src" / "kapstone"


def ignores_on_request_user(text: str) -> list[int]:
    """The lines of ``text`` whose code names ``request.user`` and whose comment is a ``type: ignore``
    (a string or a comment that only mentions them does not count)."""
    names: set[int] = set()
    ignored: set[int] = set()
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    for before, dot, after in zip(tokens, tokens[1:], tokens[2:], strict=False):
        if (before.string, dot.string, after.string) == ("request", ".", "user"):
            names.add(before.start[0])
    for token in tokens:
        if token.type == tokenize.COMMENT and token.string.lstrip("# ").startswith("type: ignore"):
            ignored.add(token.start[0])
    return sorted(names & ignored)


def test_the_check_finds_an_ignore_on_request_user():
    text = (
        "save(by=request.user, **data)  # type: ignore[arg-type]\n"
        "save(by=request.user)\n"
        "x = 1  # type: ignore[assignment]\n"
        "'request.user'  # type: ignore\n"
        "# request.user  # type: ignore\n"
    )
    assert ignores_on_request_user(text) == [1]


def test_no_type_ignore_on_request_user():
    found = [
        f"{path.relative_to(SOURCE)}:{line}"
        for path in sorted(SOURCE.rglob("*.py"))
        for line in ignores_on_request_user(path.read_text())
    ]
    assert not found, (
        "type: ignore on request.user (type the view's request instead):\n" + "\n".join(found)
    )
