"""Reminders by background task: one questionnaire link per patient for the patient-reported measures
that have come due, e-mailed after commit with no clinical details, never sent twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from kapstone.assessments.models import QuestionnaireSet
from kapstone.assessments.services import open_link, send_questionnaires
from kapstone.audit.models import AuditEntry
from kapstone.dosing.services import book_dosing_session
from kapstone.measures.models import MeasureReminder
from kapstone.measures.services import REMINDER_SUBJECT, send_due_reminders, set_care_plan
from kapstone.measures.tasks import send_measure_reminders
from tests.conftest import make_patient


@pytest.fixture
def now():
    return timezone.now()


def plan(clinic, patient, intake_at, name="intensive-retreat"):
    return set_care_plan(
        by=clinic.staff["prescriber"], patient=patient, plan=name, intake_at=intake_at
    )


@pytest.fixture
def reachable(clinic):
    """A patient on the care team with an e-mail address, intake yesterday: PHQ-9, GAD-7 and the
    C-SSRS screener are due."""
    patient = make_patient(
        by=clinic.staff["intake_coordinator"],
        mrn="MRN-2001",
        site=clinic.sites[0],
        prescriber=clinic.staff["prescriber"],
        email="ada@example.invalid",
    )
    plan(clinic, patient, timezone.now() - dt.timedelta(days=1))
    return patient


def token_in(body: str) -> str:
    link = next(line for line in body.splitlines() if "/q/" in line).split()[-1]
    return link.rstrip("/").rsplit("/", 1)[1]


def test_a_reminder_is_sent_once_with_the_link_and_no_clinical_details(
    clinic, reachable, now, settings, django_capture_on_commit_callbacks
):
    settings.KAPSTONE_BASE_URL = "https://clinic.example"
    with django_capture_on_commit_callbacks(execute=True):
        run = send_due_reminders(now=now)
    assert (run.patients_reminded, run.questionnaires_sent) == (1, 3)
    assert [m.to for m in mail.outbox] == [["ada@example.invalid"]]
    message = mail.outbox[0]
    assert message.subject == REMINDER_SUBJECT
    assert message.body.startswith("Your clinic asks you to fill in questionnaires.")
    assert "https://clinic.example/q/" in message.body
    for clinical in ("PHQ", "GAD", "C-SSRS", "depress", "anxi", "suicid", "ketamine", "Lovelace"):
        assert clinical.lower() not in (message.subject + message.body).lower()

    reminder = MeasureReminder.objects.get()
    assert reminder.patient == reachable and reminder.sent_at == now
    assert reminder.instruments == ["phq9", "gad7", "cssrs_screen"]
    assert len(reminder.occurrences) == 3
    opened = open_link(token=token_in(message.body), now=timezone.now())
    assert opened == reminder.questionnaire_set and opened.instruments == reminder.instruments
    assert opened.sent_by is None  # sent by the system, not by a member of staff
    entry = AuditEntry.objects.get(action="measures.reminder_sent")
    assert entry.actor is None and entry.patient == reachable

    with django_capture_on_commit_callbacks(execute=True):
        again = send_due_reminders(now=now + dt.timedelta(minutes=15))
    assert (again.patients_reminded, again.already_sent) == (0, 1)
    assert len(mail.outbox) == 1 and MeasureReminder.objects.count() == 1


def test_nothing_is_sent_without_an_email_address(clinic, now, django_capture_on_commit_callbacks):
    plan(clinic, clinic.on_team, now - dt.timedelta(days=1))  # the fixture's patient has no e-mail
    with django_capture_on_commit_callbacks(execute=True):
        run = send_due_reminders(now=now)
    assert (run.patients_reminded, run.without_email) == (0, 1)
    assert mail.outbox == [] and not QuestionnaireSet.objects.exists()


def test_nothing_is_sent_while_a_link_holding_the_measures_is_open(
    clinic, reachable, now, django_capture_on_commit_callbacks
):
    send_questionnaires(
        by=clinic.staff["nurse"], patient=reachable, instruments=["phq9", "gad7", "cssrs_screen"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = send_due_reminders(now=now)
    assert (run.patients_reminded, run.already_sent) == (0, 1)
    assert mail.outbox == [] and QuestionnaireSet.objects.count() == 1


def test_only_what_no_open_link_holds_is_sent(
    clinic, reachable, now, django_capture_on_commit_callbacks
):
    send_questionnaires(by=clinic.staff["nurse"], patient=reachable, instruments=["phq9"])
    with django_capture_on_commit_callbacks(execute=True):
        send_due_reminders(now=now)
    assert MeasureReminder.objects.get().instruments == ["gad7", "cssrs_screen"]
    assert len(mail.outbox) == 1


def test_a_clinician_rated_measure_is_never_emailed(
    clinic, now, django_capture_on_commit_callbacks
):
    patient = make_patient(
        by=clinic.staff["intake_coordinator"],
        mrn="MRN-2002",
        site=clinic.sites[0],
        email="grace@example.invalid",
    )
    # Intake long past and expired; a dose 23 hours ago: only its 24 h MADRS is due.
    plan(clinic, patient, now - dt.timedelta(days=40))
    book_dosing_session(
        by=clinic.staff["nurse"],
        patient=patient,
        starts_at=now - dt.timedelta(hours=23),
        now=now - dt.timedelta(days=2),
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = send_due_reminders(now=now)
    assert run.patients_reminded == 0 and mail.outbox == []


def test_no_mail_leaves_when_the_transaction_is_rolled_back(
    clinic, reachable, now, django_capture_on_commit_callbacks
):
    class Abort(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        send_due_reminders(now=now)
        assert MeasureReminder.objects.count() == 1
        raise Abort
    assert callbacks == [] and mail.outbox == []
    assert not MeasureReminder.objects.exists()


def test_the_task_and_the_command_send_reminders(
    clinic, reachable, now, capsys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = send_measure_reminders.call()
    assert result["patients_reminded"] == 1 and len(mail.outbox) == 1

    other = make_patient(
        by=clinic.staff["intake_coordinator"],
        mrn="MRN-2003",
        site=clinic.sites[0],
        email="grace@example.invalid",
    )
    plan(clinic, other, now - dt.timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("remind_measures")
    out = capsys.readouterr().out
    assert "patients_reminded=1 questionnaires_sent=3" in out
    assert "grace" not in out and "MRN" not in out  # counts only: logs hold no patient data
    assert [m.to for m in mail.outbox][1:] == [["grace@example.invalid"]]


def test_the_command_can_queue_the_task_for_the_worker(clinic, capsys):
    from django_tasks_db.models import DBTaskResult

    call_command("remind_measures", "--enqueue")
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "kapstone.measures.tasks.send_measure_reminders"
    assert f"queued reminder task {queued.id}" in capsys.readouterr().out
