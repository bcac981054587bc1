"""Means with Student t intervals, for score trajectories (mean PHQ-9 before each session).

* Interval: ``mean ± t(1 - α/2, n - 1) · SD / √n``, SD the sample standard deviation (n - 1 in the
  denominator). With the small groups a clinic has at a late session (n of 3 to 10) the normal
  quantile 1.96 would be far too narrow (t(0.975, 4) = 2.776), so the t quantile is computed, not
  approximated.
* Student t CDF: ``1 - I_x(ν/2, 1/2) / 2`` for t > 0 with ``x = ν / (ν + t²)``, I the regularized
  incomplete beta function, evaluated by its continued fraction (modified Lentz; Press et al.,
  *Numerical Recipes*, 3rd ed., §6.4). The quantile is found by bisection on that CDF to 1e-12.
* From sums: dashboards accumulate ``n, Σx, Σx²`` per session in one pass; with integer scores
  those sums are exact, so ``SD² = (Σx² - (Σx)²/n) / (n - 1)`` loses nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from kapstone.clinical.checks import is_real, is_whole
from kapstone.clinical.statistics.errors import refuse

_EPSILON = 1e-15
_TINY = 1e-300


@dataclass(frozen=True, slots=True)
class MeanEstimate:
    n: int
    mean: float
    standard_deviation: float | None  # None when n = 1
    lower: float | None  # None when n = 1: one value gives no spread
    upper: float | None
    confidence: float
    method: str = "Student t interval (mean ± t · SD / √n)"


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = _TINY if abs(d) < _TINY else d
    d = 1.0 / d
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1.0 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1.0 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPSILON:
            break
    return h


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    # The continued fraction converges fast for x < (a + 1) / (a + b + 2); use symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def student_t_cdf(t: float, degrees_of_freedom: float) -> float:
    nu = float(degrees_of_freedom)
    tail = 0.5 * regularized_incomplete_beta(nu / 2.0, 0.5, nu / (nu + t * t))
    return 1.0 - tail if t > 0 else tail


def student_t_quantile(p: float, degrees_of_freedom: int) -> float:
    """The t with P(T <= t) = p, for 0 < p < 1 and at least one degree of freedom."""
    if not 0.0 < p < 1.0:
        raise refuse("p", f"{p!r} is not strictly between 0 and 1", "0 < p < 1")
    if isinstance(degrees_of_freedom, bool) or degrees_of_freedom < 1:
        raise refuse(
            "degrees_of_freedom", f"{degrees_of_freedom!r} is below 1", "a whole number >= 1"
        )
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -student_t_quantile(1.0 - p, degrees_of_freedom)
    low, high = 0.0, 1.0
    while student_t_cdf(high, degrees_of_freedom) < p:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if student_t_cdf(middle, degrees_of_freedom) < p:
            low = middle
        else:
            high = middle
        if high - low < 1e-12:
            break
    return (low + high) / 2.0


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise refuse("confidence", f"{confidence!r} is not between 0 and 1", "e.g. 0.95")


def mean_interval_from_sums(
    n: int, total: float, total_of_squares: float, *, confidence: float = 0.95
) -> MeanEstimate:
    """The mean of ``n`` values given their sum and sum of squares, with its t interval."""
    _check_confidence(confidence)
    if not is_whole(n, at_least=1):
        raise refuse("n", f"{n!r} is not a positive whole number", "1, 2, 3, ...")
    mean = total / n
    if n == 1:
        return MeanEstimate(1, mean, None, None, None, confidence)
    # Rounding can leave a hair below zero when every value is equal.
    variance = max(0.0, (total_of_squares - total * total / n) / (n - 1))
    sd = math.sqrt(variance)
    half = student_t_quantile(1.0 - (1.0 - confidence) / 2.0, n - 1) * sd / math.sqrt(n)
    return MeanEstimate(n, mean, sd, mean - half, mean + half, confidence)


def mean_interval(values: Sequence[float], *, confidence: float = 0.95) -> MeanEstimate:
    """The mean of ``values`` with its Student t interval."""
    if not values:
        raise refuse("values", "there are no values", "at least one value")
    for i, v in enumerate(values):
        if not is_real(v):
            raise refuse(f"values[{i}]", f"{v!r} is not a finite number", "a number")
    _check_confidence(confidence)
    n = len(values)
    mean = math.fsum(values) / n
    if n == 1:
        return MeanEstimate(1, mean, None, None, None, confidence)
    # Two-pass variance for float input (the sums form is for exact integer sums).
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = student_t_quantile(1.0 - (1.0 - confidence) / 2.0, n - 1) * sd / math.sqrt(n)
    return MeanEstimate(n, mean, sd, mean - half, mean + half, confidence)
