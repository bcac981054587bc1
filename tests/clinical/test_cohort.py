"""The cohort core (kapstone.clinical.cohort) without a database: worked examples at the window
edges, the published figures against the reference, and hypothesis properties (every started
course is accounted for at every time point, order and unrelated courses change nothing, group
counts add up, filters only narrow)."""

from __future__ import annotations

import dataclasses
import itertools
import random
import re
import statistics
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.cohort import (
    DEFAULT_COHORT_POLICY,
    REFERENCE_FIGURES,
    CohortFilters,
    CohortInputError,
    CohortPolicy,
    Course,
    Dimension,
    SessionSafety,
)
from kapstone.clinical.cohort_figures import cohort_dashboard, dose_band
from kapstone.clinical.instruments import INSTRUMENTS
from kapstone.clinical.provenance import Verification
from kapstone.clinical.statistics.means import mean_interval, student_t_quantile
from tests.reference import REFERENCE

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
BANDS = INSTRUMENTS["phq9"].bands


def course(key=1, *, doses=(0,), scores=(), sessions=1, **extra) -> Course:
    """Doses and scores as offsets (timedelta or days) from T0."""

    def moment(offset):
        return T0 + (offset if isinstance(offset, timedelta) else offset * DAY)

    fields = {
        "key": key,
        "site_id": 1,
        "program": "p",
        "route": "iv",
        "modalities": (),
        "conditions": (),
        "treatment_resistant": None,
        "doses": tuple(moment(d) for d in doses),
        "course_sessions": sessions,
        "scores": tuple((moment(at), total) for at, total in scores),
    }
    fields.update(extra)
    return Course(**fields)


def run(courses, now=T0 + 500 * DAY, **kwargs):
    return cohort_dashboard(
        courses,
        instrument="phq9",
        period_start=T0 - 10 * DAY,
        period_end=T0 + 10 * DAY,
        now=now,
        bands=BANDS,
        **kwargs,
    )


# --- worked examples --------------------------------------------------------------------------


def test_the_24_hour_window_is_the_rapid_response_window_with_both_edges():
    inside = [
        course(1, scores=((-1, 20), (timedelta(hours=18), 10))),
        course(2, scores=((-1, 20), (timedelta(hours=36), 11))),
    ]
    outside = [course(3, scores=((-1, 20), (timedelta(hours=36, seconds=1), 10)))]
    h24 = run(inside + outside).time_point("24h")
    assert (h24.measured, h24.missing, h24.responders) == (2, 1, 1)  # 11 from 20 is 45 %


def test_a_baseline_older_than_30_days_is_no_baseline_and_0_is_not_usable():
    old = course(1, scores=((-31, 20), (timedelta(hours=24), 5)))
    fresh = course(2, scores=((-30, 20), (timedelta(hours=24), 5)))
    zero = course(3, scores=((-1, 0), (timedelta(hours=24), 0)))
    d = run([old, fresh, zero])
    assert d.no_baseline == 2
    assert d.time_point("24h").measured == 1


def test_a_window_still_open_is_not_yet_due_not_missing():
    d = run([course(1, scores=((-1, 20),))], now=T0 + 40 * DAY)
    month = d.time_point("1m")  # days 23-37: closed
    three = d.time_point("3m")  # days 70-112: not reached
    assert (month.missing, month.not_yet_due) == (1, 0)
    assert (three.missing, three.not_yet_due) == (0, 1)


def test_nearest_score_wins_and_a_tie_goes_to_the_later():
    c = course(1, scores=((-1, 20), (28, 15), (32, 5)))
    assert run([c]).time_point("1m").responders == 1  # day 32 (5) and day 28 (15) tie: day 32


def test_end_of_course_needs_the_course_and_a_maintenance_dose_censors_durability():
    done = course(
        1,
        doses=(0, 2, 4, 40),
        sessions=3,
        scores=((-1, 20), (3.9, 8), (30, 9), (50, 18), (60, 19)),
    )
    stopped = course(2, doses=(0, 2), sessions=3, scores=((-1, 20),))
    d = run([done, stopped])
    eoc = d.time_point("end_of_course")
    assert (eoc.measured, eoc.responders, eoc.not_completed) == (1, 1, 1)
    (group,) = d.durability_by(None).groups
    # First response on day 3.9; the scores of days 50 and 60 come after maintenance (day 40),
    # so the loss they show is not counted: censored at the last score before it (day 30).
    assert group.losses == 0
    assert group.curve.steps[-1].time == 26.0  # 30 - 3.9 = 26.1 days, in whole days


def test_loss_of_response_needs_the_run_and_its_span():
    short = course(1, scores=((-1, 20), (5, 8), (20, 15), (25, 16)))  # 5 days apart
    long = course(2, scores=((-1, 20), (5, 8), (20, 15), (27, 16)))  # 7 days apart: lost
    broken = course(3, scores=((-1, 20), (5, 8), (20, 15), (24, 9), (40, 16)))
    (everyone,) = run([short, long, broken]).durability_by(None).groups
    assert (everyone.responders, everyone.losses) == (3, 1)


def test_the_breakdown_compares_a_group_with_everyone_else():
    courses = [
        course(1, scores=((-1, 20), (0.5, 8)), program="a", sessions=1),
        course(2, scores=((-1, 20), (0.5, 18)), program="a", sessions=1),
        course(3, scores=((-1, 20), (0.5, 2)), program="b", sessions=1),
    ]
    rows = {r.group: r for r in run(courses).breakdown(Dimension.PROGRAM).rows}
    assert rows["a"].versus_rest.estimate == pytest.approx(0.5 - 1.0)
    assert rows["b"].versus_rest.estimate == pytest.approx(1.0 - 0.5)


def test_safety_rates_by_route_and_dose_band():
    sessions = (
        SessionSafety("iv", 35.0, (("cadss_6", 10),), ("mild",)),
        SessionSafety("iv", 40.0, (("cadss_6", 6),), ()),
        SessionSafety("im", 100.0, (), ("severe",)),
        SessionSafety("im", None, (), ()),
    )
    # (course()'s ``sessions`` is the course length; Course.sessions holds the charted sessions.)
    charted = dataclasses.replace(course(1), sessions=sessions)
    rows = {(r.route, r.dose_band): r for r in run([charted]).safety}
    assert rows[("iv", "25-49 mg")].sessions == 2
    assert rows[("iv", "25-49 mg")].dissociation[0][1].mean == 8
    assert rows[("im", "100 mg or more")].with_moderate_or_severe == 1
    assert rows[("im", "")].sessions == 1
    assert dose_band(24.99, (0, 25)) == "0-24 mg" and dose_band(25, (0, 25)) == "25 mg or more"


def test_bad_periods_and_policies_are_refused_with_every_problem():
    with pytest.raises(CohortInputError) as refused:
        cohort_dashboard(
            [], instrument="", period_start=T0, period_end=T0, now=T0.replace(tzinfo=None)
        )
    fields = {p.field for p in refused.value.problems}
    assert fields == {"now", "instrument"}
    with pytest.raises(CohortInputError):
        cohort_dashboard([], instrument="phq9", period_start=T0, period_end=T0, now=T0)
    with pytest.raises(CohortInputError) as bad:
        CohortPolicy(breakdown_time_point="never", dose_band_edges=(5, 1), trajectory_sessions=0)
    assert {p.field for p in bad.value.problems} == {
        "breakdown_time_point",
        "dose_band_edges",
        "trajectory_sessions",
    }


# --- the published figures --------------------------------------------------------------------


def test_reference_figures_are_verified_and_appear_in_the_reference():
    text = REFERENCE.read_text(encoding="utf-8")
    keys = {t.key for t in DEFAULT_COHORT_POLICY.time_points}
    for figure in REFERENCE_FIGURES:
        assert figure.source.verification is Verification.VERIFIED, figure
        assert f"| {figure.source.key} |" in text, figure.source.key
        assert figure.time_point in keys
        for value in (figure.response_percent, figure.remission_percent):
            assert value is not None and re.search(rf"\b{value:g}\s?%", text), (figure, value)


def test_every_policy_source_key_is_in_the_reference():
    text = REFERENCE.read_text(encoding="utf-8")
    sections = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", text, flags=re.MULTILINE))
    policy = DEFAULT_COHORT_POLICY
    sources = [t.source for t in policy.time_points]
    sources += [policy.baseline_source, policy.durability_source, policy.dose_band_source]
    for source in sources:
        if source.key.startswith("§"):
            assert source.key[1:] in sections, source
        else:
            assert f"| {source.key} |" in text, source
        if source.verification is Verification.UNVERIFIED:
            assert source.is_clinic_policy


# --- means ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("df", "quantile"), [(1, 12.706), (2, 4.303), (4, 2.776), (10, 2.228), (30, 2.042)]
)
def test_student_t_quantiles_match_the_tables(df, quantile):
    assert student_t_quantile(0.975, df) == pytest.approx(quantile, abs=5e-4)


@given(st.lists(st.integers(0, 27), min_size=2, max_size=40))
def test_mean_interval_agrees_with_the_standard_library(values):
    estimate = mean_interval(values)
    assert estimate.mean == pytest.approx(statistics.fmean(values))
    assert estimate.standard_deviation == pytest.approx(statistics.stdev(values), abs=1e-9)
    assert estimate.lower <= estimate.mean <= estimate.upper


# --- properties -------------------------------------------------------------------------------


@st.composite
def courses(draw) -> list[Course]:
    out = []
    for key in range(draw(st.integers(0, 12))):
        first = draw(st.floats(-20, 20, allow_nan=False))
        gaps = draw(st.lists(st.floats(0.5, 20), max_size=7))
        doses = [first]
        for gap in gaps:
            doses.append(doses[-1] + gap)
        scores = sorted(
            {
                round(first + draw(st.floats(-35, 420)), 3): draw(st.integers(0, 27))
                for _ in range(draw(st.integers(0, 10)))
            }.items()
        )
        out.append(
            course(
                key,
                doses=tuple(doses),
                scores=tuple(scores),
                sessions=draw(st.integers(1, 8)),
                site_id=draw(st.sampled_from((1, 2))),
                program=draw(st.sampled_from(("a", "b", ""))),
                route=draw(st.sampled_from(("iv", "im", ""))),
                modalities=tuple(draw(st.sets(st.sampled_from(("emdr", "ifs")), max_size=2))),
                conditions=tuple(draw(st.sets(st.sampled_from(("mdd", "ptsd")), max_size=2))),
                treatment_resistant=draw(st.sampled_from((None, True, False))),
            )
        )
    return out


NOW = st.floats(-5, 450).map(lambda d: T0 + d * DAY)


@settings(max_examples=150, deadline=None)
@given(courses(), NOW)
def test_every_started_course_is_accounted_for_at_every_time_point(cs, now):
    d = run(cs, now=now)
    for r in d.time_points:
        assert r.started == d.started
        assert r.no_baseline + r.not_completed + r.not_yet_due + r.measured + r.missing == r.started
        assert r.no_baseline == d.no_baseline
        assert 0 <= r.remitters <= r.measured and 0 <= r.responders <= r.measured
        if r.response is not None and r.response_missing_as_failure is not None:
            assert r.response_missing_as_failure.estimate <= r.response.estimate + 1e-12


@settings(max_examples=100, deadline=None)
@given(courses(), NOW, st.randoms(use_true_random=False))
def test_order_does_not_matter_and_courses_outside_the_period_change_nothing(cs, now, rnd):
    base = run(cs, now=now)
    shuffled = list(cs)
    rnd.shuffle(shuffled)
    outside = course(999, doses=(-60,), scores=((-61, 20), (-50, 2)))
    other = run([*shuffled, outside], now=now)
    assert other.started == base.started
    assert [(r.measured, r.missing, r.responders, r.remitters) for r in other.time_points] == [
        (r.measured, r.missing, r.responders, r.remitters) for r in base.time_points
    ]
    assert [(p.session, p.estimate.n) for p in other.trajectory] == [
        (p.session, p.estimate.n) for p in base.trajectory
    ]
    assert other.responders_followed == base.responders_followed


@settings(max_examples=100, deadline=None)
@given(courses(), NOW)
def test_groups_add_up_and_filters_only_narrow(cs, now):
    d = run(cs, now=now)
    at = d.time_point(d.policy.breakdown_time_point)
    for b in d.breakdowns:
        if b.dimension.multi_valued:
            assert all(r.patients <= d.started for r in b.rows)
            continue
        assert sum(r.patients for r in b.rows) == d.started
        assert sum(r.measured for r in b.rows) == at.measured
        assert sum(r.responders for r in b.rows) == at.responders
    by_program = sum(run(cs, now=now, filters=CohortFilters(program=p)).started for p in "ab")
    assert by_program + run(cs, now=now, filters=CohortFilters(program="")).started == d.started
    assert run(cs, now=now, filters=CohortFilters(site_id=1, modality="emdr")).started <= d.started
    for durability in d.durability:
        for g in durability.groups:
            values = [s.survival for s in g.curve.steps]
            assert all(b <= a + 1e-12 for a, b in itertools.pairwise(values))
    assert sum(g.responders for g in d.durability_by(None).groups) == d.responders_followed


def test_twenty_thousand_courses_compute_in_seconds():
    """Not a benchmark (bench/outcomes.py is): a guard against an accidental quadratic step."""

    rnd = random.Random(0)
    many = [
        course(
            k,
            doses=(0, 2, 4, 7, 9, 11),
            sessions=6,
            program=rnd.choice("ab"),
            scores=tuple((d, rnd.randint(0, 27)) for d in (-3, 1, 4, 11, 30, 60, 90, 180)),
        )
        for k in range(20_000)
    ]
    # Speed is measured in bench/outcomes.py, not asserted here: this checks a large cohort runs.
    d = run(many)
    assert d.started == 20_000
