"""The suicide-risk pathway in the shell: a flagged result raises an alert at once to the prescriber and
therapist and on the board; it stays until a clinician records the action taken; left waiting it
escalates to the medical director; a high C-SSRS holds dosing until a prescriber's review."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from kapstone.assessments.services import save_answers, send_questionnaires, submit
from kapstone.audit.models import AuditEntry
from kapstone.dosing.services import book_dosing_session
from kapstone.errors import InputError
from kapstone.safety import selectors
from kapstone.safety.models import AlertNotice, NoticeReason, SafetyAlert
from kapstone.safety.services import (
    acknowledge_alert,
    escalate_overdue_alerts,
    raise_alert,
    review_hold,
)
from tests.conftest import make_patient

PHQ9_ITEM9 = {"1": 1, "2": 1, "3": 1, "4": 1, "5": 0, "6": 0, "7": 0, "8": 0, "9": 1, "10": 1}
PHQ9_NO_RISK = {**PHQ9_ITEM9, "9": 0}
CSSRS_HIGH = {"1": True, "2": True, "3": True, "4": True, "5": False, "6": False}
CSSRS_LOW = {"1": True, "2": False, "6": False}


def complete(patient, by, instrument, answers):
    questionnaire_set, _ = send_questionnaires(by=by, patient=patient, instruments=[instrument])
    save_answers(questionnaire_set=questionnaire_set, instrument=instrument, answers=answers)
    return submit(questionnaire_set=questionnaire_set, instrument=instrument)


def test_item_9_raises_an_alert_to_prescriber_and_therapist_in_the_same_transaction(
    clinic, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = complete(clinic.on_team, clinic.staff["nurse"], "phq9", PHQ9_ITEM9)
    alert = SafetyAlert.objects.get()
    assert alert.response == response and alert.patient == clinic.on_team
    assert "PHQ-9" in alert.reason
    told = {(n.recipient, n.reason) for n in AlertNotice.objects.all()}
    assert told == {
        (clinic.staff["prescriber"], NoticeReason.RAISED),
        (clinic.staff["therapist"], NoticeReason.RAISED),
    }
    assert AuditEntry.objects.filter(action="safety.alert_raised", patient=clinic.on_team).exists()
    # One e-mail to the two of them, with no patient details in it.
    (message,) = mail.outbox
    assert set(message.to) == {"prescriber@example.invalid", "therapist@example.invalid"}
    body = message.subject + message.body
    assert "Ada" not in body and "Lovelace" not in body and "MRN" not in body
    assert "/alerts/" in message.body


def test_no_flag_no_alert(clinic):
    complete(clinic.on_team, clinic.staff["nurse"], "phq9", PHQ9_NO_RISK)
    complete(clinic.on_team, clinic.staff["nurse"], "gad7", {str(i): 3 for i in range(1, 8)})
    assert not SafetyAlert.objects.exists()


def test_any_c_ssrs_risk_raises_an_alert_but_only_high_holds_dosing(clinic):
    complete(clinic.on_team, clinic.staff["nurse"], "cssrs_screen", CSSRS_LOW)
    assert SafetyAlert.objects.count() == 1
    assert selectors.active_hold(clinic.on_team) is None


def test_a_patient_with_no_prescriber_or_therapist_alerts_the_medical_director(clinic):
    orphan = make_patient(
        by=clinic.staff["intake_coordinator"], mrn="MRN-2001", site=clinic.sites[0]
    )
    raise_alert(patient=orphan, reason="PHQ-9 item 9")
    directors = {clinic.staff["medical_director"], clinic.others["medical_director"]}
    assert {n.recipient for n in AlertNotice.objects.all()} == directors


def test_the_board_shows_open_alerts_to_the_care_team_only(clinic, as_role, client):
    raise_alert(patient=clinic.on_team, reason="PHQ-9 item 9 answered 1")
    assert selectors.open_alert_count(clinic.staff["therapist"]) == 1
    assert selectors.open_alert_count(clinic.staff["medical_director"]) == 1
    assert selectors.open_alert_count(clinic.others["prescriber"]) == 0

    page = as_role("prescriber").get(reverse("safety:board")).content.decode()
    assert "Ada Lovelace" in page and "PHQ-9 item 9 answered 1" in page
    assert "1 open suicide-risk alert" in page  # the banner on every page
    home = client.get(reverse("patients:find")).content.decode()
    assert "1 open suicide-risk alert" in home

    client.logout()
    from tests.conftest import verified_client

    other = verified_client(client, clinic.others["prescriber"])
    page = other.get(reverse("safety:board")).content.decode()
    assert "Ada Lovelace" not in page and "open suicide-risk alert" not in page


def test_acknowledging_needs_an_action_and_a_note_and_closes_the_alert(clinic, as_role):
    alert = raise_alert(patient=clinic.on_team, reason="PHQ-9 item 9")
    client = as_role("therapist")
    url = reverse("safety:acknowledge", args=[clinic.on_team.pk, alert.pk])
    refused = client.post(url, {"note": ""})
    assert refused.status_code == 200
    text = refused.content.decode()
    assert "Record at least one action taken." in text
    assert "Describe what was done and the plan." in text
    assert selectors.open_alert_count(clinic.staff["therapist"]) == 1

    done = client.post(
        url, {"actions": ["safety_plan", "cssrs_follow_up"], "note": "Safety plan reviewed."}
    )
    assert done.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledgement.by == clinic.staff["therapist"]
    assert alert.acknowledgement.actions == ["safety_plan", "cssrs_follow_up"]
    assert selectors.open_alert_count(clinic.staff["therapist"]) == 0
    entry = AuditEntry.objects.get(action="safety.alert_acknowledged")
    assert entry.actor == clinic.staff["therapist"] and entry.patient == clinic.on_team
    with pytest.raises(InputError, match="already been acknowledged"):
        acknowledge_alert(
            by=clinic.staff["prescriber"], alert=alert, actions=["safety_plan"], note="again"
        )


def test_only_clinicians_acknowledge(clinic):
    alert = raise_alert(patient=clinic.on_team, reason="PHQ-9 item 9")
    with pytest.raises(InputError, match="cannot acknowledge"):
        acknowledge_alert(
            by=clinic.staff["intake_coordinator"],
            alert=alert,
            actions=["contacted_patient"],
            note="Called.",
        )
    with pytest.raises(InputError, match="'nap' is not an action"):
        acknowledge_alert(by=clinic.staff["nurse"], alert=alert, actions=["nap"], note="x")


def test_an_unacknowledged_alert_escalates_once_after_the_policy_time(
    clinic, settings, django_capture_on_commit_callbacks
):
    settings.ALERT_ESCALATION_MINUTES = 30
    raised = timezone.now() - dt.timedelta(minutes=45)
    early = raise_alert(patient=clinic.on_team, reason="early", now=raised)
    fresh = raise_alert(patient=clinic.on_team, reason="fresh", now=timezone.now())
    assert early.escalate_after_minutes == 30
    assert early.policy_version.endswith("+escalate-30min")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        escalated = escalate_overdue_alerts()
    assert [e.alert for e in escalated] == [early]
    assert {n.recipient for n in AlertNotice.objects.filter(reason=NoticeReason.ESCALATED)} == {
        clinic.staff["medical_director"],
        clinic.others["medical_director"],
    }
    assert [sorted(m.to) for m in mail.outbox] == [
        ["medical_director2@example.invalid", "medical_director@example.invalid"]
    ]
    assert escalate_overdue_alerts() == []  # once only
    assert not hasattr(fresh, "escalation")
    # The fresh one falls due later; an acknowledged one never does.
    acknowledge_alert(
        by=clinic.staff["prescriber"], alert=fresh, actions=["contacted_patient"], note="Called."
    )
    assert escalate_overdue_alerts(now=timezone.now() + dt.timedelta(hours=2)) == []


def test_the_escalation_command_reports_a_count_and_no_patient_data(clinic, capsys):
    raise_alert(patient=clinic.on_team, reason="PHQ-9", now=timezone.now() - dt.timedelta(hours=3))
    call_command("escalate_alerts")
    out = capsys.readouterr().out
    assert out.strip() == "escalated 1 alert(s)"


def test_raising_an_alert_queues_its_escalation_check(clinic, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        alert = raise_alert(patient=clinic.on_team, reason="PHQ-9")
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "kapstone.safety.tasks.escalate_alerts"
    assert queued.run_after == alert.raised_at + dt.timedelta(minutes=60)


def test_a_high_c_ssrs_holds_dosing_until_a_prescriber_reviews(clinic, as_role):
    complete(clinic.on_team, clinic.staff["nurse"], "cssrs_screen", CSSRS_HIGH)
    hold = selectors.active_hold(clinic.on_team)
    assert hold is not None and "high" in hold.reason
    starts = timezone.now() + dt.timedelta(days=2)
    with pytest.raises(InputError, match="A prescriber must document a review"):
        book_dosing_session(by=clinic.staff["nurse"], patient=clinic.on_team, starts_at=starts)

    client = as_role("nurse")
    page = client.get(reverse("dosing:book", args=[clinic.on_team.pk])).content.decode()
    assert "Dosing is on hold" in page and "Book the session" not in page
    refused = client.post(
        reverse("dosing:book", args=[clinic.on_team.pk]),
        {
            "starts_at": timezone.localtime(starts).strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 120,
        },
    )
    assert refused.status_code == 200 and not clinic.on_team.dosing_sessions.exists()
    with pytest.raises(InputError, match="Only a prescriber"):
        review_hold(by=clinic.staff["nurse"], hold=hold, assessment="Seems fine.")
    with pytest.raises(InputError, match="Document the review"):
        review_hold(by=clinic.staff["prescriber"], hold=hold, assessment="  ")

    prescriber = as_role("prescriber")
    response = prescriber.post(
        reverse("safety:review_hold", args=[clinic.on_team.pk, hold.pk]),
        {"assessment": "Seen in person; no intent; safety plan in place; dosing may resume."},
    )
    assert response.status_code == 302
    assert selectors.active_hold(clinic.on_team) is None
    session = book_dosing_session(
        by=clinic.staff["nurse"], patient=clinic.on_team, starts_at=starts
    )
    assert session.pk
    assert (
        AuditEntry.objects.filter(action="safety.hold_reviewed").get().actor
        == (clinic.staff["prescriber"])
    )


@pytest.mark.parametrize("table", ["safety_safetyalert", "safety_alertnotice", "safety_dosinghold"])
def test_safety_records_are_append_only_in_the_database(clinic, table):
    raise_alert(patient=clinic.on_team, reason="PHQ-9", hold_dosing=True)
    for sql in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)


def test_the_patient_alert_tab_shows_who_was_told_and_what_was_done(clinic, as_role):
    alert = raise_alert(patient=clinic.on_team, reason="PHQ-9 item 9 answered 2")
    acknowledge_alert(
        by=clinic.staff["therapist"],
        alert=alert,
        actions=["level_of_care_review"],
        note="Outpatient care is appropriate.",
    )
    page = as_role("nurse").get(reverse("safety:chart_tab", args=[clinic.on_team.pk]))
    text = page.content.decode()
    assert "Acknowledged alert" in text and "Level-of-care review" in text
    assert "Outpatient care is appropriate." in text
    assert "Therapist Tester" in text
