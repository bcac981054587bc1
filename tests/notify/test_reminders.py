"""Session reminders the day before and the morning of, questionnaires waiting: each sent once,
whatever the number of runs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from kapstone.assessments.services import send_questionnaires
from kapstone.dosing.services import book_dosing_session, cancel_dosing_session
from kapstone.notify.models import Kind, Notification, ReminderSent
from kapstone.notify.reminders import remind, send_reminders
from tests.notify.conftest import UTC

pytestmark = pytest.mark.django_db

# The session: Tuesday 8 December 2026, 10:00 in New York (15:00 UTC).
STARTS = dt.datetime(2026, 12, 8, 15, 0, tzinfo=UTC)
BOOKED = dt.datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
DAY_BEFORE_NOON = dt.datetime(2026, 12, 7, 17, 0, tzinfo=UTC)  # 12:00 New York, Monday
MORNING_SEVEN = dt.datetime(2026, 12, 8, 12, 0, tzinfo=UTC)  # 07:00 New York, Tuesday


@pytest.fixture
def session(clinic, account):
    return book_dosing_session(
        by=clinic.staff["prescriber"], patient=account.patient, starts_at=STARTS, now=BOOKED
    )


def kinds() -> list[str]:
    return list(Notification.objects.order_by("pk").values_list("kind", flat=True))


def test_the_day_before_from_noon_once(session, settings):
    settings.SITE_NAME = "Riverside Clinic"
    assert send_reminders(now=DAY_BEFORE_NOON - dt.timedelta(minutes=1)).total == 0
    assert send_reminders(now=DAY_BEFORE_NOON).sent == {"session_day_before": 1}
    assert send_reminders(now=DAY_BEFORE_NOON + dt.timedelta(hours=3)).total == 0
    note = Notification.objects.get()
    assert note.body.startswith(
        "You have an appointment tomorrow with Riverside Clinic. "
        "Open the app to see how to prepare: https://clinic.example/me/prepare/"
    )
    assert ReminderSent.objects.get().key == (
        f"{note.account_id}:session_day_before:session:{session.pk}:2026-12-08"
    )


def test_the_morning_of_from_seven_until_it_starts(session):
    assert send_reminders(now=MORNING_SEVEN - dt.timedelta(minutes=1)).total == 0
    assert send_reminders(now=MORNING_SEVEN).sent == {"session_morning": 1}
    assert send_reminders(now=STARTS - dt.timedelta(minutes=1)).total == 0
    assert kinds() == ["session_morning"]
    assert "appointment today" in Notification.objects.get().body


def test_a_session_that_started_or_was_cancelled_is_not_announced(clinic, session):
    assert send_reminders(now=STARTS + dt.timedelta(minutes=1)).total == 0
    cancel_dosing_session(
        by=clinic.staff["prescriber"],
        session=session,
        reason="The patient asked to move it",
        now=BOOKED,
    )
    assert send_reminders(now=DAY_BEFORE_NOON).total == 0


def test_a_patient_without_the_companion_is_not_reminded(clinic):
    book_dosing_session(
        by=clinic.staff["prescriber"], patient=clinic.elsewhere, starts_at=STARTS, now=BOOKED
    )
    assert send_reminders(now=DAY_BEFORE_NOON).total == 0


def test_a_reminder_the_patient_turned_off_is_not_sent_later_either(session, account):
    from tests.notify.test_services import choose

    choose(account, sessions=False)
    assert send_reminders(now=DAY_BEFORE_NOON).total == 1  # decided once: nothing to send
    assert Notification.objects.count() == 0


def test_questionnaires_waiting_are_announced_once(clinic, account):
    questionnaire_set, _ = send_questionnaires(
        by=clinic.staff["prescriber"], patient=account.patient, instruments=["phq9"]
    )
    now = questionnaire_set.sent_at + dt.timedelta(minutes=5)
    assert send_reminders(now=now).sent == {"questionnaire_due": 1}
    assert send_reminders(now=now + dt.timedelta(days=1)).total == 0
    note = Notification.objects.get()
    assert note.kind == Kind.QUESTIONNAIRE_DUE
    assert "https://clinic.example/me/questionnaires/" in note.body
    assert send_reminders(now=questionnaire_set.expires_at).total == 0


def test_the_key_makes_a_second_reminder_impossible(account):
    day = dt.date(2026, 12, 8)
    args = {"account": account, "kind": Kind.SESSION_MORNING, "about": "session:1", "day": day}
    assert remind(**args, url="https://clinic.example/me/", now=MORNING_SEVEN) is True
    assert remind(**args, url="https://clinic.example/me/", now=MORNING_SEVEN) is False
    assert Notification.objects.count() == 1


def test_the_command_acts_at_the_given_instant(session, capsys):
    call_command("send_reminders", "--now", DAY_BEFORE_NOON.isoformat())
    assert capsys.readouterr().out.strip() == "session_day_before=1"
    call_command("send_reminders", "--now", DAY_BEFORE_NOON.isoformat())
    assert capsys.readouterr().out.strip() == "no reminders due"
