"""Refusals of bad input to the outcome statistics: what is wrong and what is accepted."""

from __future__ import annotations

from kapstone.clinical.problems import Problem, Refused


class StatisticsInputError(Refused):
    """Raised with every problem found, so a caller can show them all at once."""


def refuse(field: str, message: str, accepted: str) -> StatisticsInputError:
    return StatisticsInputError((Problem(field, message, accepted),))
