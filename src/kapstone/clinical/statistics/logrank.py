"""The log-rank test comparing survival (durability) curves of two or more groups.

At each distinct event time with ``d`` events among ``n`` at risk, group ``j`` with ``n_j`` at risk
expects ``e_j = d n_j / n`` events. With ``U = O - E`` and the hypergeometric covariance

    V_jl = Σ d (n - d) / (n - 1) · n_j / n · (δ_jl - n_l / n)

the statistic is ``U' V⁻ U`` over the groups, ``V⁻`` a generalized inverse, with degrees of
freedom the rank of ``V`` (``k - 1`` when every group has someone at risk at some event time). This
is Mantel's form as in R's ``survdiff``, which also drops singular directions the same way (a
Cholesky factorisation that skips pivots below a tolerance). Ties are handled as in the Kaplan-Meier
estimator: those censored at ``t`` are at risk at ``t``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kapstone.clinical.problems import Problem
from kapstone.clinical.statistics.distributions import chi_square_survival
from kapstone.clinical.statistics.errors import StatisticsInputError
from kapstone.clinical.statistics.survival import (
    Counts,
    SurvivalObservation,
    counts_of,
    validate_counts,
    validate_observations,
)

_PIVOT_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class GroupEvents:
    group: str
    subjects: int
    observed: int
    expected: float


@dataclass(frozen=True, slots=True)
class LogRankTest:
    groups: tuple[GroupEvents, ...]
    statistic: float
    degrees_of_freedom: int
    p_value: float
    method: str = "log-rank (Mantel); chi-square on rank(V) degrees of freedom"


def _quadratic_form_generalized(
    u: Sequence[float], v: Sequence[Sequence[float]]
) -> tuple[float, int]:
    """``u' V⁻ u`` and ``rank(V)`` for positive semi-definite V, by LDLᵀ skipping tiny pivots."""
    k = len(u)
    scale = max((abs(v[i][i]) for i in range(k)), default=0.0)
    lower = [[0.0] * k for _ in range(k)]
    diagonal = [0.0] * k
    for j in range(k):
        pivot = v[j][j] - sum(lower[j][m] ** 2 * diagonal[m] for m in range(j))
        if scale == 0.0 or pivot <= _PIVOT_TOLERANCE * scale:
            continue  # singular direction: column j stays zero, as in survdiff's cholesky2
        diagonal[j] = pivot
        lower[j][j] = 1.0
        for i in range(j + 1, k):
            lower[i][j] = (
                v[i][j] - sum(lower[i][m] * lower[j][m] * diagonal[m] for m in range(j))
            ) / pivot
    # Solve L y = u over the kept pivots; u' V⁻ u = Σ y_j² / D_j.
    y = [0.0] * k
    statistic = 0.0
    rank = 0
    for j in range(k):
        if diagonal[j] == 0.0:
            continue
        y[j] = u[j] - sum(lower[j][m] * y[m] for m in range(j) if diagonal[m] != 0.0)
        statistic += y[j] * y[j] / diagonal[j]
        rank += 1
    return statistic, rank


def log_rank_test(groups: Mapping[str, Sequence[SurvivalObservation]]) -> LogRankTest:
    """Compare two or more groups' survival; ``groups`` maps a label to its observations."""
    problems = _too_few(groups)
    for label, observations in groups.items():
        problems += validate_observations(observations, f"groups[{label!r}]")
    StatisticsInputError.refuse_if_any(problems)
    return _test({label: counts_of(observations) for label, observations in groups.items()})


def log_rank_test_counts(groups: Mapping[str, Counts]) -> LogRankTest:
    """The same test from each group's counts at each distinct time: time -> (events, censored)."""
    problems = _too_few(groups)
    for label, counts in groups.items():
        problems += validate_counts(counts, f"groups[{label!r}]")
    StatisticsInputError.refuse_if_any(problems)
    return _test(groups)


def _too_few(groups: Mapping[str, object]) -> list[Problem]:
    if len(groups) < 2:
        return [Problem("groups", f"{len(groups)} group(s) given", "two or more labelled groups")]
    return []


def _test(groups: Mapping[str, Counts]) -> LogRankTest:
    labels = list(groups)
    k = len(labels)
    tables = [groups[label] for label in labels]
    subjects = [sum(e + c for e, c in table.values()) for table in tables]
    at_risk = list(subjects)
    observed = [0] * k
    expected = [0.0] * k
    covariance = [[0.0] * k for _ in range(k)]
    nothing = (0, 0)
    for time in sorted({t for table in tables for t in table}):
        events = [0] * k
        leaving = [0] * k
        for g, table in enumerate(tables):
            e, c = table.get(time, nothing)
            events[g] = e
            leaving[g] = e + c
        d = sum(events)
        n = sum(at_risk)
        if d:
            for j in range(k):
                observed[j] += events[j]
                expected[j] += d * at_risk[j] / n
            if n > 1:
                factor = d * (n - d) / (n - 1)
                for j in range(k):
                    share_j = at_risk[j] / n
                    for m in range(k):
                        share_m = at_risk[m] / n
                        covariance[j][m] += factor * share_j * ((1.0 if j == m else 0.0) - share_m)
        for j in range(k):
            at_risk[j] -= leaving[j]

    u = [observed[j] - expected[j] for j in range(k)]
    statistic, rank = _quadratic_form_generalized(u, covariance)
    if rank == 0:
        raise StatisticsInputError(
            (
                Problem(
                    "groups",
                    "no event happened while more than one group was at risk, so the groups cannot "
                    "be compared",
                    "groups followed over a common time with at least one event",
                ),
            )
        )
    return LogRankTest(
        groups=tuple(
            GroupEvents(label, subjects[j], observed[j], expected[j])
            for j, label in enumerate(labels)
        ),
        statistic=statistic,
        degrees_of_freedom=rank,
        p_value=chi_square_survival(statistic, rank),
    )
