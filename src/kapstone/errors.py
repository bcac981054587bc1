"""The error services raise for bad input: every problem, keyed by the field it concerns.

The pure core refuses with :class:`kapstone.clinical.problems.Problem` s; :func:`problem_errors`
is the one place they become field errors, in the shell's field names (``fields``) and in the
clinic's words (``say``). ``kapstone.web.forms.show_service_errors`` puts them on a form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from kapstone.clinical.problems import Problem


class InputError(Exception):
    """Raised before anything is written; ``errors`` maps field name ('' for the whole form) to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k or 'form'}: {' '.join(v)}" for k, v in errors.items()))

    @classmethod
    def single(cls, field: str, message: str) -> InputError:
        return cls({field: [message]})

    @classmethod
    def from_problems[P: Problem](
        cls,
        problems: Iterable[P],
        *,
        fields: Fields | None = None,
        default: str | None = None,
        say: Callable[[P], str] | None = None,
    ) -> InputError:
        """The core's refusal as an InputError (see :func:`problem_errors`)."""
        return cls(problem_errors(problems, fields=fields, default=default, say=say))


def sentence(problem: Problem) -> str:
    """The core's message as a sentence: "Systolic must be 50-250 mmHg, got 300."."""
    text = problem.message
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# The shell's name for a core field: a mapping, or a function (None: it does not know the name).
Fields = Mapping[str, str] | Callable[[str], str | None]

# Where a problem sits inside its field: "session 2: mg", "doses[0].dose_mg", "lot.product".
_PLACE = re.compile(r"^.*: |\[.*$")


def bare_field(field: str) -> str:
    """A core field without where it sits: 'session 2: mg' -> 'mg', 'doses[0].dose_mg' -> 'doses'."""
    return _PLACE.sub("", field)


def problem_errors[P: Problem](
    problems: Iterable[P],
    *,
    fields: Fields | None = None,
    default: str | None = None,
    say: Callable[[P], str] | None = None,
) -> dict[str, list[str]]:
    """Each problem's message keyed by the shell's field for it, every message once.

    ``fields`` maps the core's field names to the service's (looked up by the exact name, then
    by :func:`bare_field`; a function answers None for a name it does not know); a name it lacks
    goes to ``default`` ('' for the whole form), or keeps the core's name when ``default`` is
    None. ``say`` words the message (default: the core's message as a sentence).
    """
    errors: dict[str, list[str]] = {}
    for problem in problems:
        key = _field(problem.field, fields)
        if key is None:
            key = problem.field if default is None else default
        message = say(problem) if say is not None else sentence(problem)
        found = errors.setdefault(key, [])
        if message not in found:
            found.append(message)
    return errors


def _field(name: str, fields: Fields | None) -> str | None:
    if fields is None:
        return None
    for candidate in (name, bare_field(name)):
        found = fields(candidate) if callable(fields) else fields.get(candidate)
        if found is not None:
            return found
    return None
