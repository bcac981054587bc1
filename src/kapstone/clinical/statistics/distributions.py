"""The two distribution functions the outcome statistics need, written out (the core has no scipy).

* :func:`normal_quantile` — Acklam's rational approximation (relative error < 1.2e-9) polished
  by one Halley step against ``math.erfc``, which brings it to about machine precision.
* :func:`chi_square_survival` — ``P(X > x)`` for a chi-square variable, the regularized upper
  incomplete gamma ``Q(df/2, x/2)``, by its power series when ``x < a + 1`` and by the modified
  Lentz continued fraction otherwise (Numerical Recipes, 3rd ed., §6.2).
"""

from __future__ import annotations

import math

from kapstone.clinical.statistics.errors import refuse

_A = (
    -3.969683028665376e01,
    2.209460984245205e02,
    -2.759285104469687e02,
    1.383577518672690e02,
    -3.066479806614716e01,
    2.506628277459239e00,
)
_B = (
    -5.447609879822406e01,
    1.615858368580409e02,
    -1.556989798598866e02,
    6.680131188771972e01,
    -1.328068155288572e01,
)
_C = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549732539343734e00,
    4.374664141464968e00,
    2.938163982698783e00,
)
_D = (
    7.784695709041462e-03,
    3.224671290700398e-01,
    2.445134137142996e00,
    3.754408661907416e00,
)
_P_LOW = 0.02425


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def normal_quantile(p: float) -> float:
    """The z with ``P(Z <= z) = p`` for a standard normal Z, for ``0 < p < 1``."""
    if not (0.0 < p < 1.0):
        raise refuse("p", f"{p!r} is not a probability strictly between 0 and 1", "0 < p < 1")
    if p < _P_LOW:
        q = math.sqrt(-2.0 * math.log(p))
        x = (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
            (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0
        )
    elif p <= 1.0 - _P_LOW:
        q = p - 0.5
        r = q * q
        x = (
            (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5])
            * q
            / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0)
        )
    else:
        q = math.sqrt(-2.0 * math.log1p(-p))
        x = -(((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
            (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0
        )
    # One Halley step: Acklam's own refinement.
    e = normal_cdf(x) - p
    u = e * math.sqrt(2.0 * math.pi) * math.exp(x * x / 2.0)
    return x - u / (1.0 + x * u / 2.0)


def two_sided_z(confidence: float) -> float:
    """The normal quantile for a two-sided interval at ``confidence`` (1.959964 for 0.95)."""
    if not (0.0 < confidence < 1.0):
        raise refuse(
            "confidence", f"{confidence!r} is not strictly between 0 and 1", "for example 0.95"
        )
    return normal_quantile(1.0 - (1.0 - confidence) / 2.0)


_EPS = 1e-15
_MAX_ITERATIONS = 10_000


def _lower_gamma_series(a: float, x: float) -> float:
    """Regularized lower incomplete gamma P(a, x) by its series; converges fast for x < a + 1."""
    term = 1.0 / a
    total = term
    denominator = a
    for _ in range(_MAX_ITERATIONS):
        denominator += 1.0
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _upper_gamma_continued_fraction(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) by modified Lentz; fast for x >= a + 1."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITERATIONS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def regularized_upper_gamma(a: float, x: float) -> float:
    """Q(a, x) = Γ(a, x) / Γ(a) for a > 0, x >= 0."""
    if not a > 0.0:
        raise refuse("a", f"shape {a!r} is not positive", "a > 0")
    if not x >= 0.0:
        raise refuse("x", f"{x!r} is negative or not a number", "x >= 0")
    if x == 0.0:
        return 1.0
    if math.isinf(x):
        return 0.0
    if x < a + 1.0:
        return 1.0 - _lower_gamma_series(a, x)
    return _upper_gamma_continued_fraction(a, x)


def chi_square_survival(statistic: float, degrees_of_freedom: int) -> float:
    """P(X > statistic) for X chi-square with ``degrees_of_freedom`` (a positive integer)."""
    if degrees_of_freedom < 1:
        raise refuse(
            "degrees_of_freedom",
            f"{degrees_of_freedom!r} is not a positive integer",
            "1, 2, 3, ...",
        )
    return regularized_upper_gamma(degrees_of_freedom / 2.0, statistic / 2.0)
