"""When a dose was given: its charted start at the chair, not the booked start (issue 15, point 5).

A dose charted at 17:28 for a 17:40 booking counts from 17:28 in outcomes, the measurement
schedule, letters, cohort courses and the research export, all through
``kapstone.dosing.selectors``; a session without a chart counts from its booked start and says so.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from kapstone.chairside import services
from kapstone.clinical.outcomes import BaselineRule
from kapstone.cohorts.selectors import gather_patients
from kapstone.dosing.selectors import DoseTimeSource, dose_times, dosing_times
from kapstone.outcomes.selectors import patient_outcomes
from tests.shell.chairside_support import draw_for, past_session, signed_plan_for, vitals


def _dosed_before_booking(clinic):  # type: ignore[no-untyped-def]
    """A session booked to start in 12 minutes, its dose charted a minute ago."""
    plan = signed_plan_for(clinic)
    session = past_session(clinic, began_minutes_ago=-12, route=plan.route, plan=plan)
    nurse = clinic.staff["nurse"]
    record = services.open_record(by=nurse, session=session)
    services.answer_checklist(
        by=nurse,
        record=record,
        identity_confirmed=True,
        fasting_confirmed=True,
        escort_confirmed=True,
        pregnancy_status="not_pregnant",
        weight_kg=Decimal("70.0"),
    )
    now = timezone.now().replace(microsecond=0)
    vitals(record, nurse, now - dt.timedelta(minutes=3))
    draw_for(record)
    dose = services.give_dose(
        by=nurse, record=record, dose_mg=Decimal(35), started_at=now - dt.timedelta(minutes=1)
    )
    return session, record, dose


def test_a_dose_charted_before_its_booked_start_counts_from_its_charted_time(clinic):
    session, _, dose = _dosed_before_booking(clinic)
    patient = clinic.on_team
    now = timezone.now()
    assert session.starts_at > now  # the booking has not begun; the dose was given

    (given,) = dose_times(patient)
    assert (given.session_id, given.at, given.source) == (
        session.pk,
        dose.started_at,
        DoseTimeSource.CHARTED,
    )
    assert dosing_times(patient) == [dose.started_at]

    outcomes = patient_outcomes(patient, now)
    assert outcomes.dosing_sessions == (dose.started_at,)
    assert outcomes.first_dose_source is DoseTimeSource.CHARTED

    courses, upcoming = gather_patients([patient.pk], now=now, instrument="phq9")
    (course,) = courses
    assert course.doses == (dose.started_at,)
    assert patient.pk not in upcoming  # no later session: the booked start is no longer "next"


def test_a_session_without_a_chart_counts_from_its_booked_start_and_says_so(clinic):
    session = past_session(clinic, began_minutes_ago=60)
    (given,) = dose_times(clinic.on_team)
    assert (given.at, given.source) == (session.starts_at, DoseTimeSource.BOOKED)
    assert patient_outcomes(clinic.on_team, timezone.now()).first_dose_source == "booked"


def test_a_cancelled_session_is_no_dose(clinic):
    session = past_session(clinic, began_minutes_ago=60)
    session.status = "cancelled"
    session.cancelled_at = timezone.now()
    session.cancel_reason = "Unwell"
    session.save()
    assert dose_times(clinic.on_team) == []


def test_a_reading_at_the_dose_second_is_pre_dose_and_one_a_second_later_post_dose(clinic):
    """The one rule of kapstone.clinical.dose_moment, as the console stores it."""
    _, record, dose = _dosed_before_booking(clinic)
    nurse = clinic.staff["nurse"]
    same, _ = vitals(record, nurse, dose.started_at)
    after, _ = vitals(record, nurse, dose.started_at + dt.timedelta(seconds=1))
    assert same.is_baseline is True
    assert after.is_baseline is False


def test_outcomes_take_a_score_at_the_dose_second_as_the_baseline():
    from kapstone.clinical.outcomes import ScorePoint, instrument_outcome

    dose = dt.datetime(2026, 12, 5, 17, 28, tzinfo=dt.UTC)
    series = [ScorePoint(dose, 20), ScorePoint(dose + dt.timedelta(days=1), 8)]
    outcome = instrument_outcome("phq9", series, [dose])
    assert outcome.baseline_rule is BaselineRule.LAST_AT_OR_BEFORE_FIRST_DOSE
    assert outcome.baseline.total == 20
