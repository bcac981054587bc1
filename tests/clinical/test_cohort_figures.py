"""Course facts kept from an earlier moment give the same dashboard as facts computed now, as long
as nothing happened in between (no score, no dose): the promise the cohorts app's kept summaries
rest on. Window closes are the one thing time changes alone, and the tally decides them at now."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.cohort import Course
from kapstone.clinical.cohort_figures import (
    PointFact,
    PointStatus,
    assemble,
    cohort_dashboard,
    course_facts,
    tally,
)
from tests.clinical.test_cohort import BANDS, DAY, T0, course, courses

PERIOD = {"period_start": T0 - 10 * DAY, "period_end": T0 + 10 * DAY}


def quiet_between(c: Course, kept_at, now) -> Course:
    """The course without any dose or score in (kept_at, now]."""
    return Course(
        **{
            **{f: getattr(c, f) for f in c.__slots__},  # type: ignore[attr-defined]
            "doses": tuple(d for d in c.doses if not kept_at < d <= now),
            "scores": tuple(s for s in c.scores if not kept_at < s[0] <= now),
        }
    )


@settings(max_examples=150, deadline=None)
@given(
    courses(),
    st.floats(-5, 400).map(lambda d: T0 + d * DAY),
    st.floats(0, 120).map(lambda d: d * DAY),
)
def test_facts_kept_earlier_give_todays_dashboard_when_nothing_happened_since(cs, kept_at, later):
    now = kept_at + later
    quiet = [quiet_between(c, kept_at, now) for c in cs]
    kept = [
        f
        for c in quiet
        if (f := course_facts(c, instrument="phq9", as_of=kept_at, bands=BANDS)) is not None
    ]
    from_kept = assemble(tally(kept, now=now, **PERIOD), instrument="phq9", now=now, **PERIOD)
    assert from_kept == cohort_dashboard(quiet, instrument="phq9", now=now, bands=BANDS, **PERIOD)


def test_an_awaited_score_turns_missing_when_its_window_closes():
    c = course(doses=(0,), scores=((-2, 20),))
    (_24h, *_rest) = course_facts(c, instrument="phq9", as_of=T0 + timedelta(hours=1)).points
    assert _24h.status is PointStatus.AWAITED
    assert _24h.resolved(_24h.closes - timedelta(seconds=1)) == "not_yet_due"
    assert _24h.resolved(_24h.closes) == "missing"
    assert PointFact(PointStatus.MEASURED, True).resolved(T0) == "measured"


def test_facts_ignore_what_comes_after_their_moment():
    c = course(doses=(0, 2, 4), sessions=3, scores=((-2, 20), (1, 8), (5, 4)))
    early = course_facts(c, instrument="phq9", as_of=T0 + 3 * DAY)
    assert early is not None and not early.completed
    assert early.before_session[:3] == (20, 8, None)
    assert course_facts(c, instrument="phq9", as_of=T0 - DAY) is None
    late = course_facts(c, instrument="phq9", as_of=T0 + 6 * DAY)
    assert late is not None and late.completed
