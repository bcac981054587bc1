"""Golden values for the outcome statistics: published worked examples, or worked out by hand.

Where a figure comes from a publication the test says which; where it does not, the expected value
is recomputed in the test from the textbook formula, independently of the module's code path.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from kapstone.clinical.statistics import (
    StatisticsInputError,
    SurvivalObservation,
    chi_square_survival,
    kaplan_meier,
    log_rank_test,
    normal_quantile,
    proportion_difference,
    two_sided_z,
    wilson_interval,
)

Obs = SurvivalObservation

# Freireich et al. 1963 remission times (weeks) in acute leukaemia, as tabulated by Gehan
# (Biometrika 1965) and reused by Kleinbaum & Klein, Survival Analysis (Self-Learning Text), ch 2.
SIX_MP = [Obs(t, True) for t in (6, 6, 6, 7, 10, 13, 16, 22, 23)] + [
    Obs(t, False) for t in (6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35)
]
PLACEBO = [
    Obs(t, True) for t in (1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23)
]


# --- normal and chi-square ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("confidence", "z"),
    [(0.95, 1.959963984540054), (0.99, 2.5758293035489004), (0.90, 1.6448536269514722)],
)
def test_two_sided_z_matches_standard_tables(confidence: float, z: float) -> None:
    assert two_sided_z(confidence) == pytest.approx(z, abs=1e-12)


def test_normal_quantile_in_the_far_tails() -> None:
    # Tail regions use a different branch of Acklam's approximation; check against erfc directly.
    for p in (1e-12, 1e-6, 0.01, 0.99, 1 - 1e-6):
        z = normal_quantile(p)
        assert 0.5 * math.erfc(-z / math.sqrt(2)) == pytest.approx(p, rel=1e-12)


@pytest.mark.parametrize(
    ("statistic", "df", "p"),
    [
        # Standard chi-square critical values (any statistics table).
        (3.841458820694124, 1, 0.05),
        (6.634896601021214, 1, 0.01),
        (5.991464547107979, 2, 0.05),
        (7.814727903251178, 3, 0.05),
        (18.307038053275146, 10, 0.05),
        (37.56623478662507, 20, 0.01),
    ],
)
def test_chi_square_survival_matches_critical_values(statistic: float, df: int, p: float) -> None:
    assert chi_square_survival(statistic, df) == pytest.approx(p, rel=1e-9)


@pytest.mark.parametrize("x", [0.0, 0.01, 0.5, 1.9, 2.1, 7.0, 40.0, 200.0])
def test_chi_square_survival_closed_forms(x: float) -> None:
    # df = 1: P(X > x) = erfc(sqrt(x / 2)); df = 2: exp(-x / 2). Both series and fraction branches.
    assert chi_square_survival(x, 1) == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=1e-10)
    assert chi_square_survival(x, 2) == pytest.approx(math.exp(-x / 2), rel=1e-10)


# --- proportions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "trials", "lower", "upper"),
    [
        # Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of seven
        # methods. Stat Med 1998;17:857-872, Table II, method 3 (Wilson score, no continuity
        # correction), examples (a)-(d).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_newcombe_1998_examples(
    successes: int, trials: int, lower: float, upper: float
) -> None:
    result = wilson_interval(successes, trials)
    assert (round(result.lower, 4), round(result.upper, 4)) == (lower, upper)
    assert result.estimate == successes / trials


def test_wilson_interval_at_all_successes_ends_at_exactly_one() -> None:
    result = wilson_interval(20, 20)
    assert result.upper == 1.0
    # Mirror of 0/20: the lower limit is 1 - 0.1611.
    assert result.lower == pytest.approx(1 - wilson_interval(0, 20).upper, abs=1e-12)


@pytest.mark.parametrize(
    ("counts", "lower", "upper"),
    [
        # Newcombe RG. Interval estimation for the difference between independent proportions:
        # comparison of eleven methods. Stat Med 1998;17:873-890, Table II, method 10. Examples
        # (a) and (b) are also asserted by the propint R package's tests; (e)-(h) are edge cases.
        ((56, 70, 48, 80), 0.0524, 0.3339),
        ((9, 10, 3, 10), 0.1705, 0.8090),
        ((0, 10, 0, 20), -0.1611, 0.2775),
        ((0, 10, 0, 10), -0.2775, 0.2775),
        ((10, 10, 0, 20), 0.6791, 1.0000),
        ((10, 10, 0, 10), 0.6075, 1.0000),
    ],
)
def test_newcombe_difference_published_examples(
    counts: tuple[int, int, int, int], lower: float, upper: float
) -> None:
    result = proportion_difference(*counts)
    assert (round(result.lower, 4), round(result.upper, 4)) == (lower, upper)


def test_newcombe_difference_by_hand_for_6_of_7_versus_2_of_7() -> None:
    # Not relying on memory of the published table for this example: Wilson limits by hand.
    z = 1.959963984540054

    def wilson(x: int, n: int) -> tuple[float, float]:
        centre = (2 * x + z * z) / (2 * (n + z * z))
        half = z * math.sqrt(z * z + 4 * x * (1 - x / n)) / (2 * (n + z * z))
        return centre - half, centre + half

    l1, u1 = wilson(6, 7)
    l2, u2 = wilson(2, 7)
    p1, p2 = 6 / 7, 2 / 7
    result = proportion_difference(6, 7, 2, 7)
    assert result.estimate == pytest.approx(p1 - p2)
    assert result.lower == pytest.approx(p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2))
    assert result.upper == pytest.approx(p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def test_wilson_99_percent_is_wider_than_95() -> None:
    narrow, wide = wilson_interval(30, 60), wilson_interval(30, 60, confidence=0.99)
    assert wide.lower < narrow.lower
    assert wide.upper > narrow.upper
    assert wide.confidence == 0.99


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((5, 0), "trials"),
        ((-1, 10), "successes"),
        ((11, 10), "successes"),
    ],
)
def test_bad_counts_are_refused_by_name(args: tuple[int, int], field: str) -> None:
    with pytest.raises(StatisticsInputError) as refused:
        wilson_interval(*args)
    assert [p.field for p in refused.value.problems] == [field]


def test_bad_confidence_is_refused() -> None:
    with pytest.raises(StatisticsInputError) as refused:
        wilson_interval(1, 2, confidence=95)
    assert refused.value.problems[0].field == "confidence"


def test_difference_reports_problems_of_both_groups() -> None:
    with pytest.raises(StatisticsInputError) as refused:
        proportion_difference(3, 2, 1, 0)
    assert {p.field for p in refused.value.problems} == {"first_successes", "second_trials"}


# --- Kaplan-Meier ------------------------------------------------------------------------------


def test_kaplan_meier_6mp_arm_textbook_estimates() -> None:
    # Kleinbaum & Klein, ch. 2 (and Gehan 1965): KM for the 6-MP arm at its event times.
    curve = kaplan_meier(SIX_MP)
    published = {6: 0.857, 7: 0.807, 10: 0.753, 13: 0.690, 16: 0.627, 22: 0.538, 23: 0.448}
    for time, survival in published.items():
        assert round(curve.survival_at(time), 3) == survival
    assert curve.survival_at(5.9) == 1.0
    assert curve.survival_at(100) == pytest.approx(0.448, abs=5e-4)
    assert (curve.subjects, curve.events) == (21, 9)


def test_kaplan_meier_6mp_arm_greenwood_and_log_log_by_hand() -> None:
    # The Greenwood SEs printed by textbooks for this arm are 0.076, 0.087, 0.096, 0.107, 0.114,
    # 0.128, 0.135; recomputed here from the formula rather than trusted from memory.
    risk_table = [
        (6, 21, 3),
        (7, 17, 1),
        (10, 15, 1),
        (13, 12, 1),
        (16, 11, 1),
        (22, 7, 1),
        (23, 6, 1),
    ]
    printed_se = [0.076, 0.087, 0.096, 0.107, 0.114, 0.128, 0.135]
    steps = {s.time: s for s in kaplan_meier(SIX_MP).steps}
    survival, greenwood = 1.0, 0.0
    z = 1.959963984540054
    for (time, n, d), se in zip(risk_table, printed_se, strict=True):
        survival *= 1 - d / n
        greenwood += d / (n * (n - d))
        step = steps[time]
        assert (step.at_risk, step.events) == (n, d)
        assert step.survival == pytest.approx(survival, rel=1e-12)
        assert step.standard_error == pytest.approx(survival * math.sqrt(greenwood), rel=1e-12)
        assert round(step.standard_error or 0.0, 3) == se
        # log(-log S) +- z * sqrt(greenwood) / |log S|, transformed back.
        theta = math.log(-math.log(survival))
        spread = z * math.sqrt(greenwood) / abs(math.log(survival))
        assert step.lower == pytest.approx(math.exp(-math.exp(theta + spread)), rel=1e-12)
        assert step.upper == pytest.approx(math.exp(-math.exp(theta - spread)), rel=1e-12)


def test_censored_only_times_are_steps_without_a_drop() -> None:
    steps = {s.time: s for s in kaplan_meier(SIX_MP).steps}
    assert (steps[9].events, steps[9].censored, steps[9].at_risk) == (0, 1, 16)
    assert steps[9].survival == steps[7].survival
    assert steps[32].censored == 2


def test_medians_and_their_log_log_intervals() -> None:
    six_mp = kaplan_meier(SIX_MP).median
    # S(22) = 0.538 > 0.5 >= S(23) = 0.448. Lower band first <= 0.5 at 13 (0.432; at 10 it is
    # 0.503); the upper band never reaches 0.5 (0.680 at the last event), so no upper limit.
    assert (six_mp.estimate, six_mp.lower, six_mp.upper) == (23, 13, None)
    placebo_curve = kaplan_meier(PLACEBO)
    placebo = placebo_curve.median
    # S(5) = 12/21 > 0.5 >= S(8) = 8/21. Lower band at 4 is 0.425 (at 3: 0.519); upper band at 11 is
    # 0.482 (at 8: 0.578).
    assert (placebo.estimate, placebo.lower, placebo.upper) == (8, 4, 11)
    bands = {s.time: (s.lower, s.upper) for s in placebo_curve.steps}
    assert round(bands[3][0] or 0, 3) == 0.519
    assert round(bands[4][0] or 0, 3) == 0.425
    assert round(bands[8][1] or 0, 3) == 0.578
    assert round(bands[11][1] or 0, 3) == 0.482


def test_ties_put_events_before_censorings() -> None:
    # Four subjects; at t=1 one event and one censoring. Events first: 4 at risk, S = 3/4; then at
    # t=2 two remain at risk, S = 3/4 * 1/2. (Censoring first would give 2/3 at t=1.)
    curve = kaplan_meier([Obs(1, True), Obs(1, False), Obs(2, True), Obs(3, False)])
    assert [s.survival for s in curve.steps] == [0.75, 0.375, 0.375]
    assert [s.at_risk for s in curve.steps] == [4, 2, 1]


def test_curve_reaching_zero() -> None:
    curve = kaplan_meier([Obs(1, True), Obs(2, True)])
    last = curve.steps[-1]
    assert last.survival == 0.0
    assert (last.variance, last.lower, last.upper) == (None, None, None)
    assert curve.median.estimate == 1  # S(1) = 0.5 exactly
    assert curve.median.upper == 2  # upper band undefined at S = 0: counts as 0


@pytest.mark.parametrize(
    "observations",
    [
        [Obs(3, False), Obs(5, False), Obs(5, False)],  # all censored
        [Obs(0, False)],
    ],
)
def test_no_events_gives_a_flat_curve_and_no_median(
    observations: list[SurvivalObservation],
) -> None:
    curve = kaplan_meier(observations)
    assert all(s.survival == 1.0 and s.variance == 0.0 for s in curve.steps)
    assert all(s.lower is None and s.upper is None for s in curve.steps)
    assert (curve.median.estimate, curve.median.lower, curve.median.upper) == (None, None, None)
    assert curve.events == 0


def test_bad_observations_are_refused_with_every_problem() -> None:
    with pytest.raises(StatisticsInputError) as refused:
        kaplan_meier([Obs(-1, True), Obs(math.nan, False), Obs(2, True)])
    assert [p.field for p in refused.value.problems] == [
        "observations[0].time",
        "observations[1].time",
    ]
    with pytest.raises(StatisticsInputError):
        kaplan_meier([])


# --- log-rank ----------------------------------------------------------------------------------


def test_log_rank_6mp_versus_placebo_textbook() -> None:
    # Kleinbaum & Klein, ch. 2: O1 = 9, E1 = 19.25; O2 = 21, E2 = 10.75; log-rank = 16.79 on 1 df.
    result = log_rank_test({"6-MP": SIX_MP, "placebo": PLACEBO})
    six_mp, placebo = result.groups
    assert (six_mp.group, six_mp.observed, round(six_mp.expected, 2)) == ("6-MP", 9, 19.25)
    assert (placebo.group, placebo.observed, round(placebo.expected, 2)) == ("placebo", 21, 10.75)
    assert round(result.statistic, 2) == 16.79
    assert result.degrees_of_freedom == 1
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(result.statistic / 2)), rel=1e-10)
    assert result.p_value < 1e-4


def test_log_rank_three_groups_against_a_direct_matrix_computation() -> None:
    # Hand-built data; the expected statistic is worked out here with the textbook formulas and a
    # numpy inverse of the (k-1) x (k-1) covariance, independently of the module's LDL code.
    groups = {
        "IV": [Obs(2, True), Obs(3, True), Obs(3, False), Obs(7, True), Obs(9, False)],
        "IM": [Obs(1, True), Obs(3, True), Obs(4, True), Obs(6, False), Obs(8, True)],
        "oral": [
            Obs(5, True),
            Obs(6, True),
            Obs(10, False),
            Obs(11, True),
            Obs(12, False),
            Obs(12, True),
        ],
    }
    labels = list(groups)
    times = sorted({o.time for obs in groups.values() for o in obs if o.event})
    u = np.zeros(3)
    v = np.zeros((3, 3))
    for t in times:
        n_j = np.array([sum(o.time >= t for o in groups[g]) for g in labels], dtype=float)
        d_j = np.array(
            [sum(o.time == t and o.event for o in groups[g]) for g in labels], dtype=float
        )
        n, d = n_j.sum(), d_j.sum()
        u += d_j - d * n_j / n
        v += d * (n - d) / (n - 1) * (np.diag(n_j / n) - np.outer(n_j, n_j) / n**2)
    expected = float(u[:2] @ np.linalg.inv(v[:2, :2]) @ u[:2])
    result = log_rank_test(groups)
    assert result.degrees_of_freedom == 2
    assert result.statistic == pytest.approx(expected, rel=1e-10)
    assert result.p_value == pytest.approx(math.exp(-expected / 2), rel=1e-10)  # df 2 closed form
    assert sum(g.observed for g in result.groups) == pytest.approx(
        sum(g.expected for g in result.groups)
    )


def test_log_rank_refuses_a_single_group_and_an_incomparable_pair() -> None:
    with pytest.raises(StatisticsInputError) as refused:
        log_rank_test({"only": SIX_MP})
    assert refused.value.problems[0].field == "groups"
    # The only event happens after the other group has left follow-up: nothing to compare.
    with pytest.raises(StatisticsInputError, match="cannot be compared"):
        log_rank_test({"a": [Obs(10, True)], "b": [Obs(1, False)]})
