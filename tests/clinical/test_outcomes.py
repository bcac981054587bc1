from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.outcomes import (
    DEFAULT_OUTCOME_POLICY,
    BaselineRule,
    OutcomeInputError,
    OutcomePolicy,
    RelapseCriterion,
    RelapseRule,
    ScorePoint,
    iapt_outcome,
    instrument_outcome,
)
from kapstone.clinical.reliable_change import ReliableChangeCategory
from tests.reference import REFERENCE

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # first dose


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def hour(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def pts(*pairs: tuple[datetime, int]) -> list[ScorePoint]:
    return [ScorePoint(at, total) for at, total in pairs]


# --- baseline, change, percent change, response ----------------------------------------------


def test_baseline_is_last_score_at_or_before_first_dose() -> None:
    scores = pts((day(-10), 20), (day(0), 18), (day(7), 9))
    out = instrument_outcome("phq9", scores, [day(3), T0])
    assert out.baseline == ScorePoint(T0, 18)
    assert out.baseline_rule is BaselineRule.LAST_AT_OR_BEFORE_FIRST_DOSE
    assert out.latest == ScorePoint(day(7), 9)
    assert out.change == -9
    assert out.percent_change == -50.0
    assert out.response is True  # exactly 50 % counts
    assert out.policy_version == "default-2026-11"


def test_baseline_falls_back_to_first_score_and_says_so() -> None:
    no_dosing = instrument_outcome("phq9", pts((day(1), 12), (day(8), 10)))
    assert no_dosing.baseline.total == 12
    assert no_dosing.baseline_rule is BaselineRule.FIRST_SCORE_NO_DOSING
    late = instrument_outcome("phq9", pts((day(1), 12), (day(8), 10)), [T0])
    assert late.baseline_rule is BaselineRule.FIRST_SCORE_AFTER_DOSING_STARTED


def test_response_just_under_fifty_percent_is_not_response() -> None:
    # 18 -> 10 is 44.4 %; 18 -> 9 is 50 %; 17 -> 9 is 47.1 %.
    assert instrument_outcome("phq9", pts((day(0), 18), (day(7), 10)), [T0]).response is False
    assert instrument_outcome("phq9", pts((day(0), 17), (day(7), 9)), [T0]).response is False
    assert instrument_outcome("phq9", pts((day(0), 17), (day(7), 8)), [T0]).response is True


def test_zero_baseline_gives_none_not_a_division_error() -> None:
    out = instrument_outcome("phq9", pts((day(0), 0), (day(7), 3)), [T0])
    assert out.change == 3
    assert out.percent_change is None
    assert out.response is None
    assert {u.outcome for u in out.unavailable} >= {"percent_change", "response"}


def test_single_score_has_no_follow_up_outcomes() -> None:
    out = instrument_outcome("phq9", pts((day(0), 15)), [T0])
    assert out.latest == out.baseline
    assert (out.change, out.response, out.remission, out.reliable_change) == (
        None,
        None,
        None,
        None,
    )
    assert any(u.outcome == "change" for u in out.unavailable)


# --- remission --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "remitted", "not_remitted"),
    [("phq9", 4, 5), ("gad7", 4, 5), ("madrs", 12, 13), ("qids_sr16", 5, 6)],
)
def test_remission_boundaries(instrument: str, remitted: int, not_remitted: int) -> None:
    yes = instrument_outcome(instrument, pts((day(0), 25), (day(14), remitted)), [T0])
    no = instrument_outcome(instrument, pts((day(0), 25), (day(14), not_remitted)), [T0])
    assert yes.remission is True
    assert no.remission is False
    assert yes.remission_criterion is not None
    assert yes.first_remission_at == day(14)


def test_remission_undefined_for_instrument_without_criterion() -> None:
    out = instrument_outcome("pcl5", pts((day(0), 50), (day(14), 10)), [T0])
    assert out.remission is None
    assert out.response is True
    assert any(u.outcome == "remission" and "pcl5" in u.reason for u in out.unavailable)


def test_remission_threshold_is_policy() -> None:
    strict = replace(
        DEFAULT_OUTCOME_POLICY,
        version="madrs-10",
        remission=tuple(
            replace(c, threshold=10) if c.instrument == "madrs" else c
            for c in DEFAULT_OUTCOME_POLICY.remission
        ),
    )
    out = instrument_outcome("madrs", pts((day(0), 30), (day(14), 11)), [T0], policy=strict)
    assert out.remission is False
    assert out.policy_version == "madrs-10"


# --- reliable change and clinically significant change -----------------------------------------


def test_reliable_change_shows_r_and_sd() -> None:
    out = instrument_outcome("phq9", pts((day(0), 18), (day(14), 11)), [T0])
    assert out.reliable_change is not None
    assert out.reliable_change.category is ReliableChangeCategory.RELIABLE_IMPROVEMENT
    assert out.reliable_change.index == pytest.approx(-7 / (5.5 * (2 * 0.11) ** 0.5))
    assert (out.reliable_change.reliability, out.reliable_change.standard_deviation) == (
        0.89,
        5.5,
    )
    assert out.reliable_change.threshold == 1.96


def test_reliable_change_absent_without_parameters() -> None:
    out = instrument_outcome("madrs", pts((day(0), 30), (day(14), 10)), [T0])
    assert out.reliable_change is None
    assert any(u.outcome == "reliable_change" for u in out.unavailable)


def test_clinically_significant_change_phq9() -> None:
    # 14 -> 7: case to non-case and a reliable drop (7 > 5.06) -> reliable recovery.
    out = instrument_outcome("phq9", pts((day(0), 14), (day(21), 7)), [T0])
    assert out.clinically_significant is not None
    assert out.clinically_significant.recovered is True
    assert out.clinically_significant.reliable_recovery is True
    # 11 -> 8: recovered by caseness but only 3 points, not reliable.
    small = instrument_outcome("phq9", pts((day(0), 11), (day(21), 8)), [T0])
    assert small.clinically_significant is not None
    assert small.clinically_significant.recovered is True
    assert small.clinically_significant.reliable_recovery is False
    # Not a case at baseline: recovery does not apply.
    mild = instrument_outcome("phq9", pts((day(0), 8), (day(21), 2)), [T0])
    assert mild.clinically_significant is not None
    assert mild.clinically_significant.recovered is None


def test_iapt_paired_outcome() -> None:
    phq = instrument_outcome("phq9", pts((day(0), 12), (day(28), 6)), [T0])
    gad = instrument_outcome("gad7", pts((day(0), 9), (day(28), 7)), [T0])
    result = iapt_outcome(phq, gad)
    assert result is not None
    assert (result.case_at_start, result.case_at_end) == (True, False)
    assert result.recovery is True
    assert result.reliable_improvement is True  # PHQ-9 dropped 6
    assert result.reliable_recovery is True
    gad_still_case = instrument_outcome("gad7", pts((day(0), 9), (day(28), 8)), [T0])
    stuck = iapt_outcome(phq, gad_still_case)
    assert stuck is not None
    assert stuck.recovery is False
    with pytest.raises(OutcomeInputError):
        iapt_outcome(gad, phq)


# --- rapid response ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "inside"),
    [(17.99, False), (18, True), (24, True), (36, True), (36.01, False)],
)
def test_rapid_response_window_edges(hours: float, inside: bool) -> None:
    out = instrument_outcome("madrs", pts((day(-1), 30), (hour(hours), 14)), [T0])
    if inside:
        assert out.rapid_response is not None
        assert out.rapid_response.responded is True
        assert out.rapid_response.hours_after_first_dose == pytest.approx(hours)
    else:
        assert out.rapid_response is None


def test_rapid_response_uses_first_measure_in_window() -> None:
    out = instrument_outcome("madrs", pts((day(-1), 30), (hour(20), 20), (hour(30), 10)), [T0])
    assert out.rapid_response is not None
    assert out.rapid_response.measured_at == hour(20)
    assert out.rapid_response.responded is False


def test_rapid_response_needs_a_pre_dose_baseline() -> None:
    out = instrument_outcome("madrs", pts((hour(2), 30), (hour(24), 10)), [T0])
    assert out.rapid_response is None


# --- relapse ----------------------------------------------------------------------------------


def test_relapse_two_non_responding_measures_seven_days_apart() -> None:
    scores = pts((day(0), 20), (day(14), 4), (day(28), 12), (day(35), 13))
    out = instrument_outcome("phq9", scores, [T0])
    (warning,) = out.relapse_warnings
    assert warning.remission_at == day(14)
    assert warning.triggering_dates == (day(28), day(35))
    assert warning.triggered_at == day(35)
    assert warning.policy_version == "default-2026-11"


def test_relapse_six_days_apart_does_not_trigger() -> None:
    scores = pts((day(0), 20), (day(14), 4), (day(28), 12), (day(34), 13))
    assert instrument_outcome("phq9", scores, [T0]).relapse_warnings == ()


def test_relapse_one_isolated_measure_does_not_trigger() -> None:
    scores = pts((day(0), 20), (day(14), 4), (day(28), 12), (day(35), 6), (day(42), 13))
    assert instrument_outcome("phq9", scores, [T0]).relapse_warnings == ()


def test_relapse_only_after_remission() -> None:
    # Responded (9 <= 10) but never remitted: no relapse warning however bad it gets later.
    scores = pts((day(0), 20), (day(14), 9), (day(28), 15), (day(35), 16))
    assert instrument_outcome("phq9", scores, [T0]).relapse_warnings == ()


def test_relapse_run_may_be_spread_over_closer_measures() -> None:
    scores = pts((day(0), 20), (day(14), 3), (day(28), 11), (day(31), 12), (day(35), 14))
    (warning,) = instrument_outcome("phq9", scores, [T0]).relapse_warnings
    assert warning.triggering_dates == (day(28), day(31), day(35))


def test_relapse_exactly_fifty_percent_is_still_response() -> None:
    scores = pts((day(0), 20), (day(14), 4), (day(28), 10), (day(35), 10))
    assert instrument_outcome("phq9", scores, [T0]).relapse_warnings == ()


def test_relapse_rule_is_configurable() -> None:
    policy = replace(
        DEFAULT_OUTCOME_POLICY,
        relapse=RelapseRule(criterion=RelapseCriterion.LOST_REMISSION, min_span=timedelta(0)),
    )
    scores = pts((day(0), 20), (day(14), 4), (day(16), 6), (day(17), 7))
    (warning,) = instrument_outcome("phq9", scores, [T0], policy=policy).relapse_warnings
    assert warning.triggering_dates == (day(16), day(17))
    assert instrument_outcome("phq9", scores, [T0]).relapse_warnings == ()


def test_relapse_needs_new_remission_before_second_warning() -> None:
    scores = pts(
        (day(0), 20),
        (day(14), 4),
        (day(21), 12),
        (day(28), 12),
        (day(35), 13),  # still lost: no second warning without a new remission
        (day(42), 3),
        (day(49), 11),
        (day(56), 12),
    )
    warnings = instrument_outcome("phq9", scores, [T0]).relapse_warnings
    assert [w.triggered_at for w in warnings] == [day(28), day(56)]


# --- validation -------------------------------------------------------------------------------


def test_bad_input_lists_every_problem() -> None:
    naive = datetime(2026, 11, 2, 9, 0)  # deliberately naive
    with pytest.raises(OutcomeInputError) as err:
        instrument_outcome(
            "phq9",
            [ScorePoint(naive, 5), ScorePoint(T0, -1), ScorePoint(T0, 3)],
            [naive],
        )
    fields = [p.field for p in err.value.problems]
    assert fields == ["scores[0].at", "scores[1].total", "scores[2].at", "dosing_sessions[0]"]
    with pytest.raises(OutcomeInputError):
        instrument_outcome("phq9", [])


def test_bad_policy_is_rejected() -> None:
    with pytest.raises(OutcomeInputError) as err:
        OutcomePolicy(
            response_min_reduction=Fraction(0),
            rapid_response_window_open=timedelta(hours=40),
        )
    assert {p.field for p in err.value.problems} == {
        "response_min_reduction",
        "rapid_response_window",
    }


def test_every_source_key_appears_in_the_reference() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    p = DEFAULT_OUTCOME_POLICY
    sources = [p.response_source, p.rapid_response_source, p.relapse.source]
    sources += [c.source for c in (*p.remission, *p.caseness, *p.iapt_reliable_change)]
    for source in sources:
        if source.key.startswith("§"):
            pattern = rf"^#+ {re.escape(source.key[1:])}[. ]"
            assert re.search(pattern, text, flags=re.MULTILINE), source.key
        else:
            assert f"| {source.key} |" in text, source.key
    gad7 = p.remission_for("gad7")
    assert gad7 is not None
    assert gad7.source.is_clinic_policy


# --- properties -------------------------------------------------------------------------------

series_strategy = st.lists(
    st.tuples(st.integers(-30, 120), st.integers(0, 27)),
    min_size=1,
    max_size=12,
    unique_by=lambda t: t[0],
)


@settings(max_examples=150, deadline=None)
@given(raw=series_strategy, doses=st.lists(st.integers(-5, 60), max_size=4))
def test_outcome_properties(raw: list[tuple[int, int]], doses: list[int]) -> None:
    scores = pts(*[(day(d), t) for d, t in raw])
    sessions = [day(d) for d in doses]
    out = instrument_outcome("phq9", scores, sessions)
    # Order of inputs does not matter.
    assert instrument_outcome("phq9", list(reversed(scores)), sessions[::-1]) == out
    if sessions and any(p.at <= min(sessions) for p in scores):
        assert out.baseline.at <= min(sessions)
        assert all(p.at > min(sessions) for p in scores if p.at > out.baseline.at)
    if out.follow_up_count:
        assert out.change == out.latest.total - out.baseline.total
        if out.baseline.total > 0:
            assert out.percent_change is not None
            assert out.response == (out.percent_change <= -50.0)
    for warning in out.relapse_warnings:
        assert out.first_remission_at is not None
        assert warning.remission_at >= out.first_remission_at
        assert warning.triggering_dates[-1] - warning.triggering_dates[0] >= timedelta(days=7)
        assert all(p.total > out.baseline.total / 2 for p in warning.triggering_measures)
