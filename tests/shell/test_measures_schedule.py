"""What is due, computed from the current data: the care plan, the dosing sessions not cancelled and
the submitted questionnaires. The chart's Measures tab shows every occurrence, every measure not
repeated (with why, and what to use instead), and sends what is due."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.assessments.models import QuestionnaireSet
from kapstone.assessments.services import open_link, save_answers, send_questionnaires, submit
from kapstone.clinical.measurement_schedule import MeasureStatus
from kapstone.dosing.services import book_dosing_session, cancel_dosing_session
from kapstone.errors import InputError
from kapstone.measures.selectors import schedule_for
from kapstone.measures.services import send_due_questionnaires, set_care_plan

PHQ9_MILD = {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1, "6": 0, "7": 0, "8": 0, "9": 0, "10": 0}


def complete(patient, by, instrument, answers):
    questionnaire_set, _ = send_questionnaires(by=by, patient=patient, instruments=[instrument])
    save_answers(questionnaire_set=questionnaire_set, instrument=instrument, answers=answers)
    return submit(questionnaire_set=questionnaire_set, instrument=instrument)


def due(schedule, *statuses):
    return sorted(
        (o.instrument, o.rule_label)
        for o in schedule.with_status(*(statuses or (MeasureStatus.DUE,)))
    )


@pytest.fixture
def now():
    return timezone.now()


def start(clinic, plan, intake_at, **extra):
    return set_care_plan(
        by=clinic.staff["prescriber"],
        patient=clinic.on_team,
        plan=plan,
        intake_at=intake_at,
        **extra,
    )


def book(clinic, starts_at, now):
    return book_dosing_session(
        by=clinic.staff["nurse"], patient=clinic.on_team, starts_at=starts_at, now=now
    )


def test_without_a_care_plan_nothing_is_scheduled(clinic, now):
    assert schedule_for(clinic.on_team, now) is None


def test_the_schedule_counts_sessions_not_cancelled_and_submitted_questionnaires(clinic, now):
    start(clinic, "intensive-retreat", now - dt.timedelta(days=1))
    first = book(clinic, now + dt.timedelta(hours=12), now)
    schedule = schedule_for(clinic.on_team, now)
    assert schedule.plan_name == "intensive-retreat"
    assert due(schedule) == [
        ("cssrs_screen", "before dose"),  # the suicide screen is never held back for recall
        ("cssrs_screen", "intake"),
        ("gad7", "intake"),
        ("phq9", "intake"),
    ]
    madrs = [o for o in schedule.occurrences if o.instrument == "madrs"]
    assert [(o.rule_label, o.target_at) for o in madrs] == [
        ("24 h after dose", first.starts_at + dt.timedelta(hours=24))
    ]

    complete(clinic.on_team, clinic.staff["nurse"], "phq9", PHQ9_MILD)
    later = timezone.now()
    schedule = schedule_for(clinic.on_team, later)
    phq9 = next(
        o for o in schedule.occurrences if (o.instrument, o.rule_label) == ("phq9", "intake")
    )
    assert phq9.status is MeasureStatus.COMPLETED and phq9.completed_at <= later
    assert ("phq9", "intake") not in due(schedule)

    cancel_dosing_session(by=clinic.staff["nurse"], session=first, reason="Patient unwell")
    schedule = schedule_for(clinic.on_team, later)
    assert not [o for o in schedule.occurrences if o.rule_label.endswith("dose")]


def test_a_change_of_plan_changes_what_is_due(clinic, now):
    # Ten days after intake, with a dose in 12 hours: the retreat's before-dose PHQ-9 and GAD-7
    # fall inside their 2-week recall of the intake ones, so only the suicide screen is due; the
    # standard induction also asks the QIDS-SR16 (1-week recall) before each dose.
    intake = now - dt.timedelta(days=10)
    start(clinic, "intensive-retreat", intake)
    book(clinic, now + dt.timedelta(hours=12), now)
    before = schedule_for(clinic.on_team, now)
    assert due(before) == [("cssrs_screen", "before dose")]
    assert ("phq9", "intake") in due(before, MeasureStatus.OVERDUE)

    start(clinic, "standard-induction", intake)
    after = schedule_for(clinic.on_team, now)
    assert after.plan_name == "standard-induction"
    assert due(after) == [("cssrs_screen", "before dose"), ("qids_sr16", "before dose")]
    assert ("qids_sr16", "intake") in due(after, MeasureStatus.OVERDUE)


def test_the_tab_shows_why_a_measure_is_not_repeated_and_what_to_use_instead(clinic, now, as_role):
    start(clinic, "intensive-retreat", now - dt.timedelta(days=1))
    book(clinic, now + dt.timedelta(hours=12), now)
    page = (
        as_role("nurse")
        .get(reverse("measures:chart_tab", args=[clinic.on_team.pk]))
        .content.decode()
    )
    assert "Not repeated" in page
    assert (
        "PHQ-9 not repeated: PHQ-9 asks about the last 2 weeks; last scheduled 1.5 days before"
        in (page)
    )
    assert "GAD-7 not repeated: GAD-7 asks about the last 2 weeks" in page
    assert "Use MADRS 24 h after dose" in page and "rated by a clinician at interview" in page
    assert '<strong class="status-open">Due</strong>' in page
    assert "Send due questionnaires" in page


def test_sending_what_is_due_sends_patient_reported_measures_once(clinic, now, as_role):
    start(clinic, "intensive-retreat", now - dt.timedelta(days=1))
    # A dose 23 hours ago: its MADRS 24 h later is due now, and is rated, never sent.
    book(clinic, now - dt.timedelta(hours=23), now - dt.timedelta(hours=24))
    client = as_role("nurse")
    tab = client.get(reverse("measures:chart_tab", args=[clinic.on_team.pk])).content.decode()
    assert "Rate at interview" in tab and "MADRS, 24 h after dose, dose 1" in tab

    response = client.post(reverse("measures:send_due", args=[clinic.on_team.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "One link for PHQ-9, GAD-7, C-SSRS screener." in page
    questionnaire_set = QuestionnaireSet.objects.get()
    assert questionnaire_set.instruments == ["phq9", "gad7", "cssrs_screen"]
    assert questionnaire_set.sent_by == clinic.staff["nurse"]
    link = page.split('readonly value="')[1].split('"')[0]
    assert open_link(token=link.rstrip("/").rsplit("/", 1)[1], now=timezone.now()) == (
        questionnaire_set
    )
    # The link holds them now: nothing more to send.
    tab = client.get(reverse("measures:chart_tab", args=[clinic.on_team.pk])).content.decode()
    assert "Already with the patient in an open link" in tab
    assert "Send due questionnaires" not in tab
    with pytest.raises(InputError, match="already in an open link"):
        send_due_questionnaires(by=clinic.staff["nurse"], patient=clinic.on_team)
    refused = client.post(reverse("measures:send_due", args=[clinic.on_team.pk]), follow=True)
    assert "already in an open link" in refused.content.decode()
    assert QuestionnaireSet.objects.count() == 1


def test_a_schedule_the_data_contradict_is_explained_not_crashed(clinic, now, as_role):
    start(clinic, "standard-induction", now - dt.timedelta(days=1), end_of_course=now)
    book(clinic, now + dt.timedelta(days=2), now)  # booked after the course was said to end
    page = (
        as_role("prescriber")
        .get(reverse("measures:chart_tab", args=[clinic.on_team.pk]))
        .content.decode()
    )
    assert "The schedule cannot be computed: end of course is before the first dosing session" in (
        page
    )


def test_a_madrs_rating_counts_from_the_interview_and_the_tab_links_to_rating(clinic, now, as_role):
    from kapstone.assessments.services import rate_instrument

    start(clinic, "intensive-retreat", now - dt.timedelta(days=1))
    book(clinic, now - dt.timedelta(hours=23), now - dt.timedelta(hours=24))
    tab = as_role("nurse").get(reverse("measures:chart_tab", args=[clinic.on_team.pk]))
    assert reverse("assessments:rate", args=[clinic.on_team.pk, "madrs"]) in tab.content.decode()
    # Rated at an interview an hour ago (inside the 18-36 h window), entered now.
    interview = now - dt.timedelta(hours=1)
    rate_instrument(
        by=clinic.staff["nurse"],
        patient=clinic.on_team,
        instrument="madrs",
        answers={str(n): 2 for n in range(1, 11)},
        rated_at=interview,
    )
    madrs = next(
        o for o in schedule_for(clinic.on_team, now).occurrences if o.instrument == "madrs"
    )
    assert madrs.status is MeasureStatus.COMPLETED and madrs.completed_at == interview
