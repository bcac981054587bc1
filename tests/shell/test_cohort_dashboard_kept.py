"""The cohort dashboard kept in the ``computed`` cache (issue 17): equal inputs give the kept
dashboard without counting again; a change to the summaries (a new score, a new course's first
dosing session) or to a policy gives new figures at once; and the moment asked enters only through
the first doses and awaited windows' closes, so a kept dashboard holds exactly up to the next of
those and no further. Every dashboard here is also checked against the records path (computed
from the clinical records at that moment, no summaries, no cache)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from fractions import Fraction

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kapstone.audit.trail import record
from kapstone.cohorts import selectors, summaries
from kapstone.cohorts.dashboard import cohort_dashboard, counted_for, tallies_and_window
from kapstone.cohorts.models import CourseSummary, CourseSummaryState
from kapstone.dosing.services import book_dosing_session
from kapstone.plans import programs
from kapstone.plans import services as plan_services
from kapstone.plans.selectors import current_templates
from tests.conftest import make_patient
from tests.shell import cohort_support


def _period(cohort) -> dict[str, dt.date]:
    return {
        "start": cohort.start - dt.timedelta(days=5),
        "end": cohort.start + dt.timedelta(days=5),
    }


def _recent() -> dict[str, dt.date]:
    today = timezone.localdate()
    return {"start": today - dt.timedelta(days=2), "end": today + dt.timedelta(days=3)}


def page(now: dt.datetime, period: dict[str, dt.date]):
    """What the page does: bring the summaries up to date, then count them."""
    as_of = summaries.refresh_for_page(instrument="phq9", now=now)
    assert as_of is not None
    return cohort_dashboard(now=as_of, refreshed=True, **period)


def records(now: dt.datetime, period: dict[str, dt.date]):
    return selectors.cohort_dashboard_from_records(now=now, **period)


class Counting(CaptureQueriesContext):
    """The queries of a block; ``counted``: the summaries were counted (the safety cells are read
    only then), not taken from the cache."""

    def __init__(self) -> None:
        super().__init__(connection)

    @property
    def counted(self) -> bool:
        return any("cohorts_coursesafety" in q["sql"] for q in self.captured_queries)

    @property
    def wrote(self) -> bool:
        return any(
            q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
            for q in self.captured_queries
        )


@pytest.fixture
def cohort(clinic):
    built = cohort_support.build(clinic)
    summaries.bring_up_to_date(instrument="phq9", now=built.now)
    return built


def test_equal_inputs_give_the_kept_dashboard_and_the_refresh_writes_nothing(cohort):
    period = _period(cohort)
    with Counting() as first_view:
        first = page(cohort.now, period)
    assert first_view.counted
    assert first == records(cohort.now, period)
    with Counting() as again:
        second = page(cohort.now, period)
    assert not again.counted and not again.wrote  # nothing changed: three reads and the cache
    assert second == first
    # A minute later, nothing changed: the same figures, "as of" the moment asked.
    later = cohort.now + dt.timedelta(minutes=1)
    with Counting() as later_view:
        at_later = page(later, period)
    assert not later_view.counted
    assert at_later.now == later
    assert at_later == records(later, period)
    # Other filters are other inputs: counted.
    with Counting() as filtered:
        page(later, {**period, "program": "standard-induction"})
    assert filtered.counted


def test_a_new_score_gives_new_figures_at_once(cohort, clinic):
    period = _period(cohort)
    before = page(cohort.now, period)
    cohort_support.take_phq9(
        cohort.patients["P7"], 9, cohort_support.at(cohort.start, 12), clinic.staff["nurse"]
    )
    with Counting() as view:
        after = page(cohort.now, period)
    assert view.counted
    assert after != before
    assert after == records(cohort.now, period)
    assert after.time_point("end_of_course").measured == 5  # was 4: P7 measured now


def test_a_new_course_first_dosing_session_gives_new_figures_when_it_starts(cohort, clinic):
    period = _recent()
    newcomer = make_patient(
        by=clinic.staff["intake_coordinator"], mrn="COH-KEPT", site=clinic.sites[0]
    )
    first = cohort.now + dt.timedelta(hours=1)
    book_dosing_session(
        by=clinic.staff["nurse"], patient=newcomer, starts_at=first, site=clinic.sites[0]
    )
    assert page(cohort.now, period).started == 0
    assert page(first - dt.timedelta(seconds=1), period).started == 0
    with Counting() as view:
        started = page(first, period)
    assert view.counted
    assert started.started == 1
    assert started == records(first, period)


def test_a_write_that_changes_no_counted_fact_keeps_the_dashboard(cohort, clinic):
    period = _period(cohort)
    before = page(cohort.now, period)
    generation = CourseSummaryState.objects.get(instrument="phq9").generation
    record(
        actor=clinic.staff["nurse"],
        action="chart.note_added",
        patient=cohort.patients["P1"],
        summary="A note (nothing the cohort counts)",
    )
    refresh = summaries.bring_up_to_date(instrument="phq9", now=cohort.now)
    assert (refresh.patients, refresh.changed) == (1, False)  # recomputed, found equal
    assert CourseSummaryState.objects.get(instrument="phq9").generation == generation
    with Counting() as view:
        after = page(cohort.now, period)
    assert not view.counted
    assert after == before == records(cohort.now, period)


def test_a_program_change_gives_new_figures_at_once(cohort, clinic):
    period = _period(cohort)
    before = page(cohort.now, period)
    induction = current_templates().get(key="standard_iv_induction")
    changes = programs.changes_from(induction.as_template(), induction.measurement_plan)
    plan_services.edit_program_template(
        by=clinic.staff["medical_director"],
        previous=induction,
        changes=dataclasses.replace(changes, dosing_sessions=8, course_weeks=4),
        reason="Two more infusions",
    )
    with Counting() as view:
        after = page(cohort.now, period)
    assert view.counted
    assert after.completed != before.completed
    assert after == records(cohort.now, period)


def test_an_outcome_policy_change_gives_new_figures_at_once(cohort, monkeypatch):
    period = _period(cohort)
    before = page(cohort.now, period)
    # The clinic's policy is data (ADR 0006): a new version asking a third's reduction, not half.
    policy = selectors.COHORT_POLICY
    stricter = dataclasses.replace(
        policy,
        outcome=dataclasses.replace(
            policy.outcome, version="test-a-third", response_min_reduction=Fraction(1, 3)
        ),
    )
    monkeypatch.setattr(selectors, "COHORT_POLICY", stricter)
    with Counting() as view:
        after = page(cohort.now, period)
    assert view.counted
    assert after.outcome_policy_version == "test-a-third"
    assert [t.responders for t in after.time_points] != [t.responders for t in before.time_points]
    assert after == records(cohort.now, period)


def test_a_kept_dashboard_holds_exactly_until_the_next_window_closes(clinic):
    """Summaries kept on day 12 (no record between day 12 and day 28): P7's end-of-course score is
    awaited, its window closing on day 18. Every moment up to the close gets the kept dashboard,
    equal to the records' at that moment; at the close the figures change (P7 missing, no longer
    not yet due) and are counted anew."""
    cohort = cohort_support.build(clinic)
    early = cohort_support.at(cohort.start, 12, 12)
    summaries.bring_up_to_date(instrument="phq9", now=early)
    period = _period(cohort)
    closes = CourseSummary.objects.get(
        patient=cohort.patients["P7"], instrument="phq9"
    ).point_2_closes
    assert early < closes < cohort_support.at(cohort.start, 28, 0)

    window = tallies_and_window(counted_for(now=early, **period))[1]
    assert window.until == closes
    assert window.since is not None and window.since <= early

    def at(moment: dt.datetime):
        assert summaries.is_current(instrument="phq9", now=moment)
        with Counting() as view:
            kept = cohort_dashboard(now=moment, **period)
        assert kept == records(moment, period)
        return kept, view.counted

    first, counted = at(early)
    assert counted
    for moment in (early + dt.timedelta(days=3), closes - dt.timedelta(microseconds=1)):
        kept, counted = at(moment)
        assert not counted
        assert dataclasses.replace(kept, now=early) == first
    closed, counted = at(closes)
    assert counted
    eoc, was = closed.time_point("end_of_course"), first.time_point("end_of_course")
    assert (eoc.missing, eoc.not_yet_due) == (was.missing + 1, was.not_yet_due - 1)
    _, counted = at(closes + dt.timedelta(days=2))
    assert not counted


def test_a_page_moves_the_kept_position_past_reads_and_still_sees_the_next_write(
    cohort, clinic, monkeypatch
):
    monkeypatch.setattr(summaries, "ADVANCE_AFTER", 3)
    period = _period(cohort)
    before = page(cohort.now, period)
    state = CourseSummaryState.objects.get(instrument="phq9")
    for _ in range(3):
        record(
            actor=clinic.staff["nurse"],
            action="chart.viewed",
            patient=cohort.patients["P1"],
            summary="Chart viewed",
        )
    later = cohort.now + dt.timedelta(minutes=1)
    with Counting() as view:
        assert page(later, period) == dataclasses.replace(before, now=later)
    assert not view.counted
    moved = CourseSummaryState.objects.get(instrument="phq9")
    assert moved.audit_seq == state.audit_seq + 3
    assert (moved.refreshed_at, moved.generation) == (later, state.generation)
    # A write after the moved position is still taken in.
    cohort_support.take_phq9(
        cohort.patients["P7"], 9, cohort_support.at(cohort.start, 12), clinic.staff["nurse"]
    )
    after = page(later, period)
    assert after.time_point("end_of_course").measured == 5
    assert after == records(later, period)
