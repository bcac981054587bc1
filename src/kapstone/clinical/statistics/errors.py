"""Refusals of bad input to the outcome statistics: what is wrong and what is accepted."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StatisticsProblem:
    field: str
    message: str
    accepted: str


class StatisticsInputError(ValueError):
    """Raised with every problem found, so a caller can show them all at once."""

    def __init__(self, problems: tuple[StatisticsProblem, ...]) -> None:
        self.problems = problems
        super().__init__(
            "; ".join(f"{p.field}: {p.message} (accepted: {p.accepted})" for p in problems)
        )


def refuse(field: str, message: str, accepted: str) -> StatisticsInputError:
    return StatisticsInputError((StatisticsProblem(field, message, accepted),))
