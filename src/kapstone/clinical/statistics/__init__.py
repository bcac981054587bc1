"""Outcome statistics for cohort dashboards: proportions, Kaplan-Meier curves, group comparisons."""

from __future__ import annotations

from kapstone.clinical.statistics.distributions import (
    chi_square_survival,
    normal_quantile,
    two_sided_z,
)
from kapstone.clinical.statistics.errors import StatisticsInputError
from kapstone.clinical.statistics.logrank import GroupEvents, LogRankTest, log_rank_test
from kapstone.clinical.statistics.proportions import (
    ProportionDifference,
    ProportionEstimate,
    proportion_difference,
    wilson_interval,
)
from kapstone.clinical.statistics.survival import (
    MedianSurvival,
    SurvivalCurve,
    SurvivalObservation,
    SurvivalStep,
    kaplan_meier,
)

__all__ = [
    "GroupEvents",
    "LogRankTest",
    "MedianSurvival",
    "ProportionDifference",
    "ProportionEstimate",
    "StatisticsInputError",
    "SurvivalCurve",
    "SurvivalObservation",
    "SurvivalStep",
    "chi_square_survival",
    "kaplan_meier",
    "log_rank_test",
    "normal_quantile",
    "proportion_difference",
    "two_sided_z",
    "wilson_interval",
]
