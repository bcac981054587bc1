"""Properties of the outcome statistics that must hold for any data."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kapstone.clinical.statistics import (
    StatisticsInputError,
    SurvivalObservation,
    kaplan_meier,
    log_rank_test,
    normal_quantile,
    proportion_difference,
    wilson_interval,
)
from kapstone.clinical.statistics.logrank import log_rank_test_counts
from kapstone.clinical.statistics.survival import counts_of, kaplan_meier_counts

observation = st.builds(
    SurvivalObservation,
    time=st.integers(min_value=0, max_value=30).map(float)
    | st.floats(min_value=0, max_value=100, allow_nan=False),
    event=st.booleans(),
)
cohort = st.lists(observation, min_size=1, max_size=40)
counts = st.integers(min_value=1, max_value=500).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)
confidence = st.sampled_from([0.8, 0.9, 0.95, 0.99])

settings.register_profile("statistics", max_examples=150, deadline=None)
settings.load_profile("statistics")


@given(cohort)
def test_survival_is_non_increasing_and_within_unit_interval(
    data: list[SurvivalObservation],
) -> None:
    steps = kaplan_meier(data).steps
    values = [s.survival for s in steps]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert all(later <= earlier for earlier, later in zip([1.0, *values], values, strict=False))
    for s in steps:
        if s.lower is not None and s.upper is not None:
            assert 0.0 <= s.lower <= s.survival <= s.upper <= 1.0


@given(st.lists(observation.map(lambda o: SurvivalObservation(o.time, True)), min_size=1))
def test_without_censoring_survival_is_the_empirical_fraction_beyond_t(
    data: list[SurvivalObservation],
) -> None:
    curve = kaplan_meier(data)
    probes = sorted({o.time for o in data} | {o.time + 0.5 for o in data} | {-1.0})
    for t in probes:
        empirical = sum(o.time > t for o in data) / len(data)
        assert curve.survival_at(t) == pytest.approx(empirical, abs=1e-12)


@given(cohort)
def test_median_lies_within_its_interval(data: list[SurvivalObservation]) -> None:
    median = kaplan_meier(data).median
    if median.estimate is not None:
        assert median.lower is not None
        assert median.lower <= median.estimate
        if median.upper is not None:
            assert median.estimate <= median.upper
    else:
        assert median.upper is None


@given(counts, confidence)
def test_wilson_interval_contains_estimate_and_lies_in_unit_interval(
    xn: tuple[int, int], level: float
) -> None:
    result = wilson_interval(*xn, confidence=level)
    assert 0.0 <= result.lower <= result.estimate <= result.upper <= 1.0
    assert result.lower < result.upper


@given(counts, counts, confidence)
def test_newcombe_difference_contains_estimate_and_lies_in_minus_one_to_one(
    first: tuple[int, int], second: tuple[int, int], level: float
) -> None:
    result = proportion_difference(*first, *second, confidence=level)
    assert -1.0 - 1e-12 <= result.lower <= result.estimate <= result.upper <= 1.0 + 1e-12
    swapped = proportion_difference(*second, *first, confidence=level)
    assert swapped.lower == pytest.approx(-result.upper, abs=1e-12)
    assert swapped.upper == pytest.approx(-result.lower, abs=1e-12)


@given(st.floats(min_value=1e-12, max_value=1 - 1e-12))
def test_normal_quantile_inverts_the_cdf(p: float) -> None:
    z = normal_quantile(p)
    assert 0.5 * math.erfc(-z / math.sqrt(2)) == pytest.approx(p, rel=1e-9, abs=1e-15)
    # Symmetry, on the tail probability 1 - p actually represents (it rounds for tiny p).
    q = 1 - p
    assert normal_quantile(q) == pytest.approx(-normal_quantile(1 - q), abs=1e-6)


@given(st.lists(cohort, min_size=2, max_size=4), st.randoms(use_true_random=False))
def test_log_rank_is_non_negative_and_invariant_to_relabelling(
    cohorts: list[list[SurvivalObservation]], rng: random.Random
) -> None:
    groups = {f"g{i}": c for i, c in enumerate(cohorts)}
    try:
        result = log_rank_test(groups)
    except StatisticsInputError:
        assume(False)
        raise
    assert result.statistic >= 0.0
    assert 0.0 <= result.p_value <= 1.0
    assert 1 <= result.degrees_of_freedom <= len(cohorts) - 1
    order = list(range(len(cohorts)))
    rng.shuffle(order)
    relabelled = log_rank_test({f"h{j}": cohorts[i] for j, i in enumerate(order)})
    assert relabelled.statistic == pytest.approx(result.statistic, rel=1e-7, abs=1e-9)
    assert relabelled.degrees_of_freedom == result.degrees_of_freedom
    by_data = {id(cohorts[i]): g for i, g in zip(order, relabelled.groups, strict=True)}
    for i, g in enumerate(result.groups):
        assert by_data[id(cohorts[i])].observed == g.observed
        assert by_data[id(cohorts[i])].expected == pytest.approx(g.expected)


@given(cohort)
def test_identical_groups_give_no_evidence_of_difference(
    data: list[SurvivalObservation],
) -> None:
    try:
        result = log_rank_test({"a": data, "b": list(data)})
    except StatisticsInputError:
        assume(False)
        raise
    assert result.statistic == pytest.approx(0.0, abs=1e-9)


# Counts at each distinct time (what a database's GROUP BY gives) are the same data as the
# observations: the curves and the test must not differ by a bit.


@given(cohort, st.sampled_from([0.9, 0.95]))
def test_kaplan_meier_from_counts_equals_kaplan_meier_from_observations(
    data: list[SurvivalObservation], level: float
) -> None:
    assert kaplan_meier_counts(counts_of(data), confidence=level) == kaplan_meier(
        data, confidence=level
    )


@given(st.lists(cohort, min_size=2, max_size=4))
def test_log_rank_from_counts_equals_log_rank_from_observations(
    cohorts: list[list[SurvivalObservation]],
) -> None:
    groups = {f"g{i}": c for i, c in enumerate(cohorts)}
    try:
        expected = log_rank_test(groups)
    except StatisticsInputError:
        assume(False)
        raise
    assert log_rank_test_counts({k: counts_of(v) for k, v in groups.items()}) == expected


def test_counts_that_are_not_counts_are_refused_with_each_problem() -> None:
    with pytest.raises(StatisticsInputError) as refused:
        kaplan_meier_counts({-1.0: (1, 0), 2.0: (1, -1), 3.0: (True, 0)})
    fields = [p.field for p in refused.value.problems]
    assert fields == ["counts[-1.0]", "counts[2.0]", "counts[3.0]"]
    with pytest.raises(StatisticsInputError, match="there are no observations"):
        kaplan_meier_counts({1.0: (0, 0)})
    with pytest.raises(StatisticsInputError, match="two or more labelled groups"):
        log_rank_test_counts({"a": {1.0: (1, 0)}})
