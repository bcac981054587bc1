"""The clinic's work queue of overdue and expired measures: each clinician sees their own patients
(roles that see every chart see all), oldest first, computed in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.assessments.services import save_answers, send_questionnaires, submit
from kapstone.dosing.services import book_dosing_session
from kapstone.measures.selectors import work_queue
from kapstone.measures.services import set_care_plan
from tests.conftest import make_patient

GAD7_NONE = {str(n): 0 for n in range(1, 8)}


@pytest.fixture
def now():
    return timezone.now()


def plan(clinic, patient, intake_at, name="intensive-retreat"):
    return set_care_plan(
        by=clinic.staff["medical_director"], patient=patient, plan=name, intake_at=intake_at
    )


def listed(queue):
    return [(e.patient.mrn, e.row.occurrence.instrument, e.row.status) for e in queue.entries]


def test_the_queue_lists_an_overdue_measure_for_the_care_team_only(clinic, now, as_role):
    # Intake five days ago: the intake measures were due for three days and are now overdue.
    plan(clinic, clinic.on_team, now - dt.timedelta(days=5))
    overdue = [
        ("MRN-1001", "cssrs_screen", "overdue"),
        ("MRN-1001", "gad7", "overdue"),
        ("MRN-1001", "phq9", "overdue"),
    ]
    assert listed(work_queue(user=clinic.staff["nurse"], now=now)) == overdue
    assert listed(work_queue(user=clinic.others["nurse"], now=now)) == []
    assert listed(work_queue(user=clinic.others["prescriber"], now=now)) == []

    page = as_role("nurse").get(reverse("measures:work_queue")).content.decode()
    assert reverse("measures:chart_tab", args=[clinic.on_team.pk]) in page
    assert "PHQ-9" in page and '<strong class="status-open">Overdue</strong>' in page
    assert "Measures overdue" in page  # the navigation offers it


def test_roles_that_see_every_chart_see_every_patient_oldest_first(clinic, now):
    plan(clinic, clinic.elsewhere, now - dt.timedelta(days=5))
    plan(clinic, clinic.on_team, now - dt.timedelta(days=20))
    for role in ("medical_director", "intake_coordinator"):
        entries = work_queue(user=clinic.staff[role], now=now).entries
        assert [e.patient.mrn for e in entries] == ["MRN-1001"] * 3 + ["MRN-1002"] * 3
        assert {e.row.status for e in entries[:3]} == {"expired"}
        assert {e.row.status for e in entries[3:]} == {"overdue"}


def test_completed_and_long_expired_measures_leave_the_queue(clinic, now):
    plan(clinic, clinic.on_team, now - dt.timedelta(days=5))
    questionnaire_set, _ = send_questionnaires(
        by=clinic.staff["nurse"], patient=clinic.on_team, instruments=["gad7"]
    )
    save_answers(questionnaire_set=questionnaire_set, instrument="gad7", answers=GAD7_NONE)
    submit(questionnaire_set=questionnaire_set, instrument="gad7")
    later = timezone.now()
    assert [i for _, i, _ in listed(work_queue(user=clinic.staff["nurse"], now=later))] == [
        "cssrs_screen",
        "phq9",
    ]
    # Expired 14 days after intake, listed for 30 more days, then only on the patient's tab.
    assert len(work_queue(user=clinic.staff["nurse"], now=now + dt.timedelta(days=30)).entries) == 2
    assert work_queue(user=clinic.staff["nurse"], now=now + dt.timedelta(days=45)).entries == []


def test_the_queue_reads_each_table_once_however_many_patients(
    clinic, now, django_assert_max_num_queries
):
    director = clinic.staff["medical_director"]
    for n in range(25):
        patient = make_patient(
            by=clinic.staff["intake_coordinator"],
            mrn=f"MRN-3{n:03d}",
            site=clinic.sites[n % 2],
            nurse=clinic.staff["nurse"],
        )
        plan(clinic, patient, now - dt.timedelta(days=5), "standard-induction")
        book_dosing_session(
            by=clinic.staff["nurse"], patient=patient, starts_at=now + dt.timedelta(hours=n + 1)
        )
        send_questionnaires(by=clinic.staff["nurse"], patient=patient, instruments=["phq9"])
    with django_assert_max_num_queries(3):
        queue = work_queue(user=director, now=now)
        assert len({e.patient.pk for e in queue.entries}) == 25
    with django_assert_max_num_queries(3):
        assert len(work_queue(user=clinic.staff["nurse"], now=now).entries) == 25 * 4


def test_a_schedule_that_cannot_be_computed_is_named_on_the_queue(clinic, now):
    set_care_plan(
        by=clinic.staff["prescriber"],
        patient=clinic.on_team,
        plan="standard-induction",
        intake_at=now - dt.timedelta(days=1),
        end_of_course=now,
    )
    book_dosing_session(
        by=clinic.staff["nurse"], patient=clinic.on_team, starts_at=now + dt.timedelta(days=2)
    )
    queue = work_queue(user=clinic.staff["prescriber"], now=now)
    assert [s.patient for s in queue.unscheduled] == [clinic.on_team]
    assert "end of course is before the first dosing session" in queue.unscheduled[0].problem
