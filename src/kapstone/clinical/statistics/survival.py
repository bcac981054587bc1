"""The Kaplan-Meier estimator of durability curves (time from response to relapse, for example).

* Ties: at a time with both events and censorings, the events are taken first, so those censored at
  ``t`` still count as at risk at ``t`` (the usual convention; Kaplan & Meier 1958).
* Variance: Greenwood's formula, ``Var S(t) = S(t)² Σ d / (n (n - d))`` over event times ``<= t``.
* Pointwise intervals: the log-log ("log(-log)") transform,
  ``S(t) ^ exp(± z s(t) / log S(t))`` with ``s(t)² = Σ d / (n (n - d))`` (Kalbfleisch & Prentice;
  Collett, *Modelling Survival Data*, §2.2). They stay inside [0, 1]. They are undefined where
  ``S(t)`` is 1 (no event yet) or 0 (the last at risk failed), and are ``None`` there; Greenwood's
  variance is likewise ``None`` once ``S(t)`` is 0.
* Median: the smallest observed time with ``S(t) <= 0.5``; ``None`` if the curve never gets there.
* Its interval (Brookmeyer & Crowley 1982, using the log-log pointwise band, as R's survfit does):
  the set of times where the band straddles 0.5, i.e. lower limit = first time the band's *lower*
  curve is ``<= 0.5``, upper limit = first time the band's *upper* curve is ``<= 0.5``; either is
  ``None`` when the band never gets there within follow-up. A band undefined because ``S(t) = 0``
  counts as 0 (everyone left had failed).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kapstone.clinical.checks import is_real, is_whole
from kapstone.clinical.problems import Problem
from kapstone.clinical.statistics.distributions import two_sided_z
from kapstone.clinical.statistics.errors import StatisticsInputError


@dataclass(frozen=True, slots=True)
class SurvivalObservation:
    """One subject: time followed (any unit, the same for all) and whether the event happened."""

    time: float
    event: bool


@dataclass(frozen=True, slots=True)
class SurvivalStep:
    """The curve just after ``time``: every distinct observed time appears, censor-only ones too."""

    time: float
    at_risk: int
    events: int
    censored: int
    survival: float
    variance: float | None
    lower: float | None
    upper: float | None

    @property
    def standard_error(self) -> float | None:
        return None if self.variance is None else math.sqrt(self.variance)


@dataclass(frozen=True, slots=True)
class MedianSurvival:
    estimate: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True, slots=True)
class SurvivalCurve:
    subjects: int
    events: int
    steps: tuple[SurvivalStep, ...]
    confidence: float
    median: MedianSurvival
    method: str = "Kaplan-Meier; Greenwood variance; log-log pointwise intervals"

    def survival_at(self, time: float) -> float:
        """S(time): 1 before the first step, then the last step at or before ``time``."""
        value = 1.0
        for step in self.steps:
            if step.time > time:
                break
            value = step.survival
        return value


def validate_observations(
    observations: Sequence[SurvivalObservation], field: str = "observations"
) -> list[Problem]:
    problems: list[Problem] = []
    if not observations:
        problems.append(Problem(field, "there are no observations", "at least one observation"))
    for i, o in enumerate(observations):
        t = o.time
        if not is_real(t, at_least=0):
            problems.append(
                Problem(f"{field}[{i}].time", f"{t!r} is not a finite time >= 0", "a number >= 0")
            )
        if not isinstance(o.event, bool):
            problems.append(
                Problem(f"{field}[{i}].event", f"{o.event!r} is not True or False", "True or False")
            )
    return problems


def event_table(observations: Sequence[SurvivalObservation]) -> list[tuple[float, int, int, int]]:
    """(time, at risk, events, censored) at each distinct time, in time order."""
    return _table(counts_of(observations))


# Counts at each distinct time: time -> (events, censored).
Counts = Mapping[float, tuple[int, int]]


def counts_of(observations: Iterable[SurvivalObservation]) -> dict[float, tuple[int, int]]:
    cells: dict[float, list[int]] = {}
    for o in observations:
        cell = cells.setdefault(o.time, [0, 0])
        cell[0 if o.event else 1] += 1
    return {time: (events, censored) for time, (events, censored) in cells.items()}


def validate_counts(counts: Counts, field: str = "counts") -> list[Problem]:
    problems: list[Problem] = []
    subjects = 0
    for t, pair in counts.items():
        if not is_real(t, at_least=0):
            problems.append(
                Problem(f"{field}[{t!r}]", f"{t!r} is not a finite time >= 0", "a number >= 0")
            )
        if len(pair) != 2 or not all(is_whole(n, at_least=0) for n in pair):
            problems.append(
                Problem(
                    f"{field}[{t!r}]", f"{pair!r} are not two counts >= 0", "(events, censored)"
                )
            )
        else:
            subjects += pair[0] + pair[1]
    if not problems and subjects == 0:
        problems.append(Problem(field, "there are no observations", "at least one observation"))
    return problems


def _table(counts: Counts) -> list[tuple[float, int, int, int]]:
    at_risk = sum(events + censored for events, censored in counts.values())
    rows: list[tuple[float, int, int, int]] = []
    for time in sorted(counts):
        events, censored = counts[time]
        if events + censored == 0:
            continue
        rows.append((time, at_risk, events, censored))
        at_risk -= events + censored
    return rows


def kaplan_meier(
    observations: Iterable[SurvivalObservation], *, confidence: float = 0.95
) -> SurvivalCurve:
    data = tuple(observations)
    problems = validate_observations(data)
    StatisticsInputError.refuse_if_any(problems)
    return _curve(_table(counts_of(data)), confidence)


def kaplan_meier_counts(counts: Counts, *, confidence: float = 0.95) -> SurvivalCurve:
    """The same estimator from counts at each distinct time (many subjects, few distinct times)."""
    problems = validate_counts(counts)
    StatisticsInputError.refuse_if_any(problems)
    return _curve(_table(counts), confidence)


def _curve(table: Sequence[tuple[float, int, int, int]], confidence: float) -> SurvivalCurve:
    z = two_sided_z(confidence)
    survival = 1.0
    greenwood_sum = 0.0  # Σ d / (n (n - d)); infinite once everyone at risk has failed
    steps: list[SurvivalStep] = []
    for time, at_risk, events, censored in table:
        if events:
            survival *= (at_risk - events) / at_risk
            if events == at_risk:
                greenwood_sum = math.inf
            else:
                greenwood_sum += events / (at_risk * (at_risk - events))
        variance: float | None
        lower: float | None
        upper: float | None
        if math.isinf(greenwood_sum):
            variance = lower = upper = None
        else:
            variance = survival * survival * greenwood_sum
            if 0.0 < survival < 1.0:
                half_width = z * math.sqrt(greenwood_sum) / math.log(survival)  # negative
                lower = survival ** math.exp(-half_width)
                upper = survival ** math.exp(half_width)
            else:
                lower = upper = None
        steps.append(
            SurvivalStep(time, at_risk, events, censored, survival, variance, lower, upper)
        )
    return SurvivalCurve(
        subjects=table[0][1] if table else 0,
        events=sum(row[2] for row in table),
        steps=tuple(steps),
        confidence=confidence,
        median=_median(steps),
    )


def _first_time_at_or_below_half(times_and_values: Iterable[tuple[float, float]]) -> float | None:
    for time, value in times_and_values:
        if value <= 0.5:
            return time
    return None


def _band_value(step: SurvivalStep, bound: float | None) -> float:
    if bound is not None:
        return bound
    # Undefined band: S is 1 (no event yet) or 0 (everyone left failed); either way the band is S.
    return step.survival


def _median(steps: Sequence[SurvivalStep]) -> MedianSurvival:
    return MedianSurvival(
        estimate=_first_time_at_or_below_half((s.time, s.survival) for s in steps),
        lower=_first_time_at_or_below_half((s.time, _band_value(s, s.lower)) for s in steps),
        upper=_first_time_at_or_below_half((s.time, _band_value(s, s.upper)) for s in steps),
    )
