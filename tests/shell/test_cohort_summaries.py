"""The kept course summaries follow the records: a write through a service marks its patient, a
read does not, a booked session marks its patient when it starts, and a change to a program's
length rebuilds them all. After each refresh the dashboard counted from the summaries equals the
one computed from the records."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from kapstone.audit.trail import record
from kapstone.cohorts import selectors, summaries
from kapstone.cohorts.dashboard import cohort_dashboard
from kapstone.cohorts.models import CourseSummary, CourseSummaryState
from kapstone.dosing.services import book_dosing_session
from kapstone.plans import programs
from kapstone.plans import services as plan_services
from kapstone.plans.selectors import current_templates
from tests.conftest import build_clinic, kept_for_the_module, make_patient, refreshed
from tests.shell import cohort_support


@pytest.fixture(scope="module")
def _kept(django_db_setup, django_db_blocker):
    """The clinic, its hand-built cohort and their first refresh, done once for the module; each
    test's own writes are rolled back at its end (kept_for_the_module)."""
    with kept_for_the_module(django_db_blocker):
        clinic = build_clinic()
        built = cohort_support.build(clinic)
        summaries.bring_up_to_date(instrument="phq9", now=built.now)
        yield clinic, built


@pytest.fixture
def clinic(_kept, db):
    return refreshed(_kept[0], *_kept[1].patients.values())


@pytest.fixture
def cohort(_kept, clinic):
    return _kept[1]


def both(cohort, now=None):
    """The dashboard from the summaries (which must be current) and from the records."""
    now = now or cohort.now
    period = {
        "start": cohort.start - dt.timedelta(days=5),
        "end": cohort.start + dt.timedelta(days=5),
        "now": now,
    }
    assert summaries.is_current(instrument="phq9", now=now)
    return cohort_dashboard(**period), selectors.cohort_dashboard_from_records(**period)


def test_a_first_refresh_keeps_every_patient_with_a_session_and_matches_the_records(cohort):
    kept = CourseSummary.objects.filter(instrument="phq9")
    assert kept.count() == 8  # P1-P8
    assert kept.filter(first_dose_at__isnull=False).count() == 8
    assert CourseSummaryState.objects.get(instrument="phq9").courses == 8
    from_summaries, from_records = both(cohort)
    assert from_summaries == from_records
    assert from_summaries.started == 7


def test_a_score_submitted_marks_only_its_patient_and_the_refresh_takes_it_in(cohort, clinic):
    p7 = cohort.patients["P7"]
    # P7 (no end-of-course score: missing) answers on day 12.
    when = cohort_support.at(cohort.start, 12)
    cohort_support.take_phq9(p7, 9, when, clinic.staff["nurse"])
    assert summaries.changed_patients(instrument="phq9", now=cohort.now) == {p7.pk}
    assert not summaries.is_current(instrument="phq9", now=cohort.now)

    refresh = summaries.bring_up_to_date(instrument="phq9", now=cohort.now)
    assert (refresh.rebuilt, refresh.patients) == (False, 1)
    from_summaries, from_records = both(cohort)
    assert from_summaries == from_records
    eoc = from_summaries.time_point("end_of_course")
    assert (eoc.measured, eoc.missing) == (5, 0)  # P7 measured now: 9 from 20, a response
    assert eoc.responders == 4


def test_reading_a_chart_marks_nothing(cohort, clinic):
    record(
        actor=clinic.staff["nurse"],
        action="chart.viewed",
        patient=cohort.patients["P1"],
        summary="Chart viewed",
    )
    assert summaries.is_current(instrument="phq9", now=cohort.now)


def test_a_booked_session_marks_its_patient_when_it_starts(cohort, clinic):
    p2 = cohort.patients["P2"]
    later = cohort.now + dt.timedelta(days=3)
    book_dosing_session(by=clinic.staff["nurse"], patient=p2, starts_at=later, site=clinic.sites[0])
    summaries.bring_up_to_date(instrument="phq9", now=cohort.now)
    assert CourseSummary.objects.get(patient=p2, instrument="phq9").stale_after == later
    assert summaries.is_current(instrument="phq9", now=later - dt.timedelta(seconds=1))
    assert summaries.changed_patients(instrument="phq9", now=later) == {p2.pk}
    refresh = summaries.bring_up_to_date(instrument="phq9", now=later)
    assert refresh.patients == 1
    from_summaries, from_records = both(cohort, now=later)
    assert from_summaries == from_records


def test_a_patient_with_only_booked_sessions_waits_for_the_first(cohort, clinic):
    newcomer = make_patient(
        by=clinic.staff["intake_coordinator"], mrn="COH-100", site=clinic.sites[0]
    )
    first = cohort.now + dt.timedelta(days=1)
    book_dosing_session(
        by=clinic.staff["nurse"], patient=newcomer, starts_at=first, site=clinic.sites[0]
    )
    summaries.bring_up_to_date(instrument="phq9", now=cohort.now)
    waiting = CourseSummary.objects.get(patient=newcomer, instrument="phq9")
    assert (waiting.first_dose_at, waiting.stale_after) == (None, first)
    summaries.bring_up_to_date(instrument="phq9", now=first)
    started = CourseSummary.objects.get(patient=newcomer, instrument="phq9")
    assert (started.first_dose_at, started.stale_after) == (first, None)


def test_a_program_of_another_length_rebuilds_every_summary(cohort, clinic):
    before = summaries.fingerprint("phq9")
    induction = current_templates().get(key="standard_iv_induction")
    changes = programs.changes_from(induction.as_template(), induction.measurement_plan)
    plan_services.edit_program_template(
        by=clinic.staff["medical_director"],
        previous=induction,
        changes=dataclasses.replace(changes, dosing_sessions=8, course_weeks=4),
        reason="Two more infusions",
    )
    assert summaries.fingerprint("phq9") != before
    assert summaries.changed_patients(instrument="phq9", now=cohort.now) is None
    refresh = summaries.bring_up_to_date(instrument="phq9", now=cohort.now)
    assert refresh.rebuilt and refresh.patients == 8
    from_summaries, from_records = both(cohort)
    assert from_summaries == from_records


def test_asking_about_an_earlier_moment_uses_the_records(cohort):
    earlier = cohort.now - dt.timedelta(days=100)
    assert not summaries.is_current(instrument="phq9", now=earlier)
    period = {"start": cohort.start - dt.timedelta(days=5), "end": cohort.start, "now": earlier}
    assert cohort_dashboard(**period) == selectors.cohort_dashboard_from_records(**period)


def test_the_command_brings_every_instrument_up_to_date_and_refuses_an_unknown_one(cohort):
    out = io.StringIO()
    call_command("cohort_summaries", "--instrument", "phq9", "--instrument", "gad7", stdout=out)
    assert out.getvalue().splitlines() == [
        "phq9: brought up to date, 0 patient(s) recomputed",
        "gad7: rebuilt, 8 patient(s) recomputed",
    ]
    assert summaries.is_current(instrument="gad7", now=timezone.now())
    call_command("cohort_summaries", "--instrument", "phq9", "--rebuild", stdout=out)
    assert out.getvalue().splitlines()[-1] == "phq9: rebuilt, 8 patient(s) recomputed"
    with pytest.raises(CommandError, match="unknown instrument nope"):
        call_command("cohort_summaries", "--instrument", "nope")


# Audit actions written without a patient by the apps the summaries read, and why that is safe.
WITHOUT_A_PATIENT = {
    "program_template.seeded": "a program's length is in the fingerprint",
    "program_template.added": "a program's length is in the fingerprint",
    "program_template.edited": "a program's length is in the fingerprint",
    "timetable.solve_requested": "books nothing",
    "timetable.schedule_accepted": "each booking writes its own entry naming the patient",
    "timetable.opening_hours_set": "calendar data, no course fact",
    "timetable.closure_added": "calendar data, no course fact",
    "timetable.closure_removed": "calendar data, no course fact",
    "timetable.staff_hours_set": "calendar data, no course fact",
}


def test_every_write_the_summaries_read_names_its_patient_in_the_audit():
    """The summaries learn of a change from the audit entry naming the patient; a service that
    wrote one without the patient would leave a course's figures stale."""
    import ast
    from pathlib import Path

    import kapstone

    root = Path(kapstone.__file__).parent
    unnamed = set()
    for app in ("dosing", "assessments", "plans", "measures", "intake", "chairside", "timetable"):
        # Every module, packages too (the chair-side services are one module per workflow).
        for path in sorted((root / app).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                if "record" not in (getattr(node.func, "id", ""), getattr(node.func, "attr", "")):
                    continue
                keywords = {k.arg: k.value for k in node.keywords}
                if "patient" in keywords:
                    continue
                action = keywords.get("action")
                name = action.value if isinstance(action, ast.Constant) else ast.unparse(action)
                unnamed.add(name)
    assert unnamed == set(WITHOUT_A_PATIENT)


def test_a_refresh_asked_for_an_earlier_moment_does_not_go_back_or_rebuild(cohort):
    """Two pages at once: the second read its clock before the first's refresh committed."""
    later = cohort.now + dt.timedelta(minutes=1)
    assert summaries.bring_up_to_date(instrument="phq9", now=later).as_of == later
    behind = summaries.bring_up_to_date(instrument="phq9", now=cohort.now)
    assert (behind.rebuilt, behind.patients, behind.as_of) == (False, 0, later)
    assert summaries.refresh_for_page(instrument="phq9", now=cohort.now) == later
    # Asked directly about the earlier moment, the summaries cannot answer: the records do.
    assert summaries.changed_patients(instrument="phq9", now=cohort.now) is None
