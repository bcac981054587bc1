"""The dashboard's numbers on the hand-built cohort (tests/shell/cohort_support.py) equal the values
worked out by hand here: counts by hand, Wilson limits and the t interval from their formulas
written out below (not from kapstone's statistics), and the Kaplan-Meier steps by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest

from kapstone.clinical.cohort import Dimension
from kapstone.cohorts import summaries
from kapstone.cohorts.dashboard import cohort_dashboard
from tests.shell import cohort_support

Z = 1.959963984540054  # the normal 97.5 % quantile
T_975_4 = 2.7764451051977987  # Student t, 4 degrees of freedom, 97.5 % (tables: 2.776)


def wilson(successes: int, n: int) -> tuple[float, float]:
    """Wilson (1927) without continuity correction, written out."""
    p = successes / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return centre - half, centre + half


# Every figure is checked twice: computed from the clinical records, and counted in the database
# from the kept course summaries (brought up to date first, as the page does).
@pytest.fixture(scope="module")
def _kept(django_db_setup, django_db_blocker):
    with cohort_support.kept_cohort(django_db_blocker) as kept:
        yield kept


@pytest.fixture
def clinic(_kept, db):
    return cohort_support.fresh_clinic(_kept)


@pytest.fixture(params=["records", "summaries"])
def cohort(request, _kept, clinic):
    return dataclasses.replace(_kept[1], path=request.param)


def dashboard(cohort, **filters):
    if cohort.path == "summaries":
        summaries.bring_up_to_date(instrument="phq9", now=cohort.now)
        assert summaries.is_current(instrument="phq9", now=cohort.now)
    else:
        assert not summaries.is_current(instrument="phq9", now=cohort.now)
    return cohort_dashboard(
        start=cohort.start - dt.timedelta(days=5),
        end=cohort.start + dt.timedelta(days=5),
        now=cohort.now,
        **filters,
    )


def test_started_completed_and_every_time_point_count(cohort):
    d = dashboard(cohort)
    # P1-P7 start in the period (P8 a month earlier); P6 held only 3 of 6 sessions.
    assert (d.started, d.completed, d.no_baseline) == (7, 6, 1)

    h24 = d.time_point("24h")
    # Only P1 answered 18-36 h after the first dose: 12 from 20 is a 40 % drop, no response.
    assert (h24.measured, h24.missing, h24.no_baseline, h24.not_yet_due) == (1, 5, 1, 0)
    assert (h24.responders, h24.remitters) == (0, 0)

    eoc = d.time_point("end_of_course")
    # P1 8 (60 %), P2 4 (78 %, < 5), P3 10 (37.5 %), P4 11 (exactly 50 %: a response);
    # P7 has no score: missing; P6 did not complete; P5 has no baseline.
    assert (eoc.measured, eoc.missing, eoc.not_completed, eoc.no_baseline) == (4, 1, 1, 1)
    assert (eoc.responders, eoc.remitters) == (3, 1)
    low, high = wilson(3, 4)
    assert eoc.response.estimate == pytest.approx(0.75)
    assert (eoc.response.lower, eoc.response.upper) == (pytest.approx(low), pytest.approx(high))
    assert (round(low, 4), round(high, 4)) == (0.3006, 0.9544)  # Newcombe 1998's table, 3/4
    low, high = wilson(1, 4)
    assert (eoc.remission.lower, eoc.remission.upper) == (pytest.approx(low), pytest.approx(high))
    # Counting the missing patient as not responding: 3 of 5.
    assert eoc.response_missing_as_failure.estimate == pytest.approx(3 / 5)
    assert eoc.references and all(r.source.verification == "verified" for r in eoc.references)

    month = d.time_point("1m")
    # Days 23-37: P1 4 (response, remission), P3 12 (no), P4 9 (59 %), P6 8 (47 %: no);
    # P2 (day 40) and P7 missing.
    assert (month.measured, month.missing, month.responders, month.remitters) == (4, 2, 2, 1)
    low, high = wilson(2, 4)
    assert (month.response.lower, month.response.upper) == (
        pytest.approx(low),
        pytest.approx(high),
    )

    three = d.time_point("3m")
    # Days 70-112 from 09:00 on day 70: P1's 16 at 08:00 that day is an hour early, so nobody.
    assert (three.measured, three.missing, three.responders) == (0, 6, 0)
    twelve = d.time_point("12m")
    # Day 320 has not come yet (day 0 was 300 days ago): not due, and not counted as missing.
    assert (twelve.measured, twelve.missing, twelve.not_yet_due, twelve.no_baseline) == (0, 0, 6, 1)
    assert twelve.response is None


def test_breakdowns_by_program_severity_route_modality_and_condition(cohort):
    d = dashboard(cohort)
    rows = {r.group: r for r in d.breakdown(Dimension.PROGRAM).rows}
    retreat, induction = rows["intensive_retreat"], rows["standard_iv_induction"]
    # Retreat: P1, P2 respond, P3 does not. Induction: only P4 measured (responds).
    assert (retreat.patients, retreat.measured, retreat.responders) == (3, 3, 2)
    assert (induction.patients, induction.measured, induction.responders) == (4, 1, 1)
    assert retreat.versus_rest.estimate == pytest.approx(2 / 3 - 1)

    severity = {r.group: r for r in d.breakdown(Dimension.BASELINE_SEVERITY).rows}
    # Severe (20-27): P1, P4, P7 (P7 missing); moderately severe (15-19): P2, P3, P6.
    assert (severity["severe"].patients, severity["severe"].measured) == (3, 2)
    assert severity["severe"].responders == 2
    assert (severity["moderately_severe"].measured, severity["moderately_severe"].responders) == (
        2,
        1,
    )
    assert severity[""].patients == 1  # P5: no baseline

    route = {r.group: r for r in d.breakdown(Dimension.ROUTE).rows}
    assert (route["iv"].patients, route["iv"].responders) == (1, 1)  # P4's signed plan
    modality = {r.group: r for r in d.breakdown(Dimension.MODALITY).rows}
    assert modality[cohort.modality].patients == 1
    condition = {r.group: r for r in d.breakdown(Dimension.CONDITION).rows}
    assert condition["major_depression"].patients == 1
    resistant = {r.group: r for r in d.breakdown(Dimension.TREATMENT_RESISTANT).rows}
    assert resistant["yes"].patients == 1 and resistant[""].patients == 6


def test_mean_trajectory_before_each_session(cohort):
    d = dashboard(cohort)
    points = {p.session: p.estimate for p in d.trajectory}
    # Before session 1: the baselines 20, 18, 16, 22, 15, 20 (P5 has none).
    assert points[1].n == 6 and points[1].mean == pytest.approx(111 / 6)
    # Before session 2: P1's 12 (day 1) and P5's 14 (day 2).
    assert points[2].n == 2 and points[2].mean == pytest.approx(13)
    # Before session 6 (day 11): 8, 4, 10, 11, 6.
    six = points[6]
    assert six.n == 5 and six.mean == pytest.approx(7.8)
    sd = math.sqrt((0.2**2 + 3.8**2 + 2.2**2 + 3.2**2 + 1.8**2) / 4)
    assert six.standard_deviation == pytest.approx(sd)
    half = T_975_4 * sd / math.sqrt(5)
    assert (six.lower, six.upper) == (pytest.approx(7.8 - half), pytest.approx(7.8 + half))
    assert 7 not in points  # P2's 7th session has no score after session 6 and before it


def test_durability_of_response_kaplan_meier_step(cohort):
    d = dashboard(cohort)
    s = cohort.start
    at = cohort_support.at
    overall = d.durability_by(None)
    (group,) = overall.groups

    # P1 responds on day 11 and loses it on day 70 (15 on day 60, 16 on day 70: a run of 2 over
    # 10 days); P4 responds on day 11 and loses it on day 55; P2 responds on day 11 and is
    # censored there: maintenance began on day 35 and the day-40 score comes after it.
    # Elapsed time (in UTC: wall-clock days across a daylight-saving change are not 24 h),
    # rounded to whole days as the durability curves count them.
    def days(a, b):
        elapsed = (b.astimezone(dt.UTC) - a.astimezone(dt.UTC)) / dt.timedelta(days=1)
        return float(math.floor(elapsed + 0.5))

    p1, p4 = days(at(s, 11), at(s, 70)), days(at(s, 11), at(s, 55))
    assert (group.responders, group.losses) == (3, 2)
    steps = {round(step.time, 6): step for step in group.curve.steps}
    assert sorted(steps) == sorted(round(t, 6) for t in (0.0, p4, p1))
    zero, first_loss, second_loss = (steps[round(t, 6)] for t in (0.0, p4, p1))
    assert (zero.at_risk, zero.censored, zero.survival) == (3, 1, 1.0)
    # At P4's loss 2 are at risk: S = 1 x (1 - 1/2); Greenwood: S^2 x 1/(2 x 1).
    assert (first_loss.at_risk, first_loss.events) == (2, 1)
    assert first_loss.survival == pytest.approx(0.5)
    assert first_loss.variance == pytest.approx(0.25 * 0.5)
    assert second_loss.survival == 0.0
    assert group.curve.median.estimate == pytest.approx(p4)


def test_filters_by_program_site_route_and_modality(cohort, clinic):
    assert dashboard(cohort, program="standard_iv_induction").started == 4
    assert dashboard(cohort, site_id=clinic.sites[1].pk).started == 1  # P3 was treated at B
    by_route = dashboard(cohort, route="iv")
    assert by_route.started == 1 and by_route.time_point("end_of_course").responders == 1
    assert dashboard(cohort, modality=cohort.modality).started == 1
    assert dashboard(cohort, modality="no-such-modality").started == 0


def _chart(session, nurse, *, dose_mg, cadss6=(), baseline=None, events=()):
    """Minimal chair-side rows for one session (the chairside services are tested in their app)."""
    from decimal import Decimal

    from kapstone.chairside.models import (
        AdverseEvent,
        ChairsideRecord,
        DissociationRating,
        DoseAdministration,
    )

    at = session.starts_at
    record = ChairsideRecord.objects.create(
        session=session,
        opened_at=at,
        opened_by=nurse,
        route="iv",
        protocol_id="test",
        policy_version="test",
        checklist_policy_version="test",
    )
    DoseAdministration.objects.create(
        record=record,
        dose_mg=Decimal(dose_mg),
        route="iv",
        started_at=at,
        given_by=nurse,
        recorded_by=nurse,
        recorded_at=at,
    )
    ratings = [(score, False) for score in cadss6]
    if baseline is not None:
        ratings.append((baseline, True))
    for minutes, (score, is_baseline) in enumerate(ratings):
        DissociationRating.objects.create(
            record=record,
            scale="cadss_6",
            score=score,
            taken_at=at + dt.timedelta(minutes=10 * minutes),
            is_baseline=is_baseline,
            rated_by=nurse,
            recorded_at=at,
        )
    for severity in events:
        AdverseEvent.objects.create(
            record=record,
            kind="nausea",
            severity=severity,
            action="Observed; settled without treatment.",
            onset_at=at,
            recorded_by=nurse,
            recorded_at=at,
        )


def test_dissociation_and_adverse_event_rates_by_route_and_dose_band(cohort, clinic):
    nurse = clinic.staff["nurse"]

    def sessions(name):
        return list(cohort.patients[name].dosing_sessions.order_by("starts_at"))

    p1, p4, p8 = sessions("P1"), sessions("P4"), sessions("P8")
    # P1: 35 mg twice (peaks 12 and 8), one mild event; P4: 60 mg, peak 4 (its baseline 9 is not
    # a peak), one moderate event; P8 is outside the period and must not count.
    _chart(p1[0], nurse, dose_mg="35", cadss6=(6, 12), events=("mild",))
    _chart(p1[1], nurse, dose_mg="35", cadss6=(8,))
    _chart(p4[0], nurse, dose_mg="60", cadss6=(4,), baseline=9, events=("moderate",))
    _chart(p8[0], nurse, dose_mg="35", cadss6=(20,), events=("severe",))
    rows = {(r.route, r.dose_band): r for r in dashboard(cohort).safety}
    assert set(rows) == {("iv", "25-49 mg"), ("iv", "50-74 mg")}
    low = rows[("iv", "25-49 mg")]
    assert (low.sessions, low.with_adverse_event, low.with_moderate_or_severe) == (2, 1, 0)
    assert low.adverse_event_rate.estimate == pytest.approx(0.5)
    ((scale, peak),) = low.dissociation
    assert scale == "cadss_6" and peak.n == 2 and peak.mean == pytest.approx(10)
    high = rows[("iv", "50-74 mg")]
    assert (high.sessions, high.with_adverse_event, high.with_moderate_or_severe) == (1, 1, 1)
    assert high.dissociation[0][1].mean == 4 and high.dissociation[0][1].lower is None
