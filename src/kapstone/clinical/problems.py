"""How the pure core refuses input: every problem found, each naming its field, never just the first.

One shape for every module (doses, ledger entries, schedules, charts, FHIR exports ...), so the
shell has one way to turn a refusal into form errors (``kapstone.errors.InputError.from_problems``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input.

    ``field`` is the core's name for what is wrong ("weight_kg", "emdr.sud_before", "session 2:
    mg"), ``message`` what is wrong with it, ``accepts`` (when it helps) what would be accepted, and
    ``code`` a stable name for callers that explain some refusals in their own words.
    """

    field: str
    message: str
    accepts: str = ""
    code: str = ""

    def __str__(self) -> str:
        accepted = f" (accepted: {self.accepts})" if self.accepts else ""
        return f"{self.field}: {self.message}{accepted}"


class Refused(ValueError):
    """The core will not work with this input; ``problems`` lists every fault found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self.describe())

    @classmethod
    def refuse_if_any(cls, problems: Sequence[Problem]) -> None:
        """Raises with every problem found, if any was: a check's last line."""
        if problems:
            raise cls(problems)

    def describe(self) -> str:
        return "; ".join(str(p) for p in self.problems)

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(p.field for p in self.problems)
