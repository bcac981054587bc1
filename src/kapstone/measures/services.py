"""Writes for the measurement schedule: setting a patient's care plan, sending the measures that are
due, and the background reminders.

Each write runs in one transaction with its audit row. Reminder e-mails leave only after the
transaction commits and say no more than that the clinic asks for questionnaires, with the link:
no instrument names, scores or diagnoses travel by mail.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.assessments.flow import short_name
from kapstone.assessments.models import QuestionnaireSet
from kapstone.assessments.services import LONGEST_VALIDITY, send_questionnaires
from kapstone.audit.trail import record, snapshot
from kapstone.clinical.measurement_schedule import MeasureOccurrence
from kapstone.dosing.selectors import dosing_times
from kapstone.errors import InputError
from kapstone.measures import selectors
from kapstone.measures.models import MeasurementCarePlan, MeasureReminder
from kapstone.measures.plans import PLAN_CHOICES, PLANS, current_policy, plan_label
from kapstone.patients.models import Patient

logger = logging.getLogger(__name__)

_PLAN_FIELDS = ("plan", "plan_version", "policy_version", "intake_at", "end_of_course")


def _shown(at: dt.datetime) -> str:
    return f"{timezone.localtime(at):%d %b %Y %H:%M}"


def set_care_plan(
    *,
    by: StaffUser,
    patient: Patient,
    plan: str,
    intake_at: dt.datetime,
    end_of_course: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> MeasurementCarePlan:
    """Starts the patient's measurement plan, or changes it: a new row supersedes the one in force
    (which is kept), recording the plan's and the schedule policy's versions."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if plan not in PLANS:
        known = ", ".join(f"{label} ({name})" for name, label in PLAN_CHOICES)
        errors["plan"] = [f"{plan!r} is not a measurement plan; the plans are {known}."]
    if intake_at is None or timezone.is_naive(intake_at):
        errors["intake_at"] = ["Give the intake date and time, with its time zone."]
    if end_of_course is not None:
        if timezone.is_naive(end_of_course):
            errors["end_of_course"] = ["Give the end of the course with its time zone."]
        elif "intake_at" not in errors and end_of_course < intake_at:
            errors["end_of_course"] = [
                f"The course cannot end before the intake ({_shown(intake_at)}); leave it empty "
                "while the end is not known."
            ]
        else:
            doses = dosing_times(patient)
            if doses and end_of_course < doses[0]:
                errors["end_of_course"] = [
                    f"The course cannot end before its first dosing session ({_shown(doses[0])})."
                ]
    if errors:
        raise InputError(errors)

    policy = current_policy()
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        previous = locked.measurement_care_plans.order_by("-pk").first()
        wanted = {
            "plan": plan,
            "plan_version": PLANS[plan].version,
            "policy_version": policy.version,
            "intake_at": intake_at,
            "end_of_course": end_of_course,
        }
        if previous is not None and all(getattr(previous, k) == v for k, v in wanted.items()):
            raise InputError.single("", "This is already the plan in force: nothing changed.")
        care_plan = MeasurementCarePlan.objects.create(
            patient=locked, supersedes=previous, started_by=by, started_at=now, **wanted
        )
        summary = f"Measurement plan: {plan_label(plan)} from intake {_shown(intake_at)}" + (
            f" to the end of the course {_shown(end_of_course)}" if end_of_course else ""
        )
        record(
            actor=by,
            action="measures.care_plan_changed" if previous else "measures.care_plan_started",
            patient=locked,
            obj=care_plan,
            summary=summary if previous is None else f"{summary} (was {previous.plan_label})",
            before=snapshot(previous, _PLAN_FIELDS) if previous else None,
            after=snapshot(care_plan, _PLAN_FIELDS),
        )
    return care_plan


def _valid_for(occurrences: Sequence[MeasureOccurrence], now: dt.datetime) -> dt.timedelta:
    """The link stays open until the last of its measures expires (at most the longest a link may
    stay open): an answer after that no longer counts for the occasion it was sent for."""
    return min(max(o.expires_at for o in occurrences) - now, LONGEST_VALIDITY)


def send_due_questionnaires(
    *, by: StaffUser, patient: Patient, now: dt.datetime | None = None
) -> tuple[QuestionnaireSet, str]:
    """Sends, as one link, the patient-reported measures now due or overdue that no open link
    already holds; returns the set and its raw token (shown once)."""
    now = now or timezone.now()
    page = selectors.measures_page(patient, now)
    if page.care_plan is None:
        raise InputError.single("", "The patient has no measurement plan yet.")
    if page.problem:
        raise InputError.single("", f"The schedule cannot be computed: {page.problem}.")
    occurrences = [row.occurrence for row in page.sendable]
    if not occurrences:
        raise InputError.single(
            "", "No patient-reported measure is due that is not already in an open link."
        )
    instruments = selectors.instruments_in_plan_order(page.care_plan.plan, occurrences)
    return send_questionnaires(
        by=by, patient=patient, instruments=instruments, valid_for=_valid_for(occurrences, now)
    )


# ---------------------------------------------------------------------------------------------
# Reminders (run by the task worker or `kapstone remind_measures`)

REMINDER_SUBJECT = "Questionnaires from your clinic"


def reminder_body(link: str, expires_at: dt.datetime) -> str:
    return (
        "Your clinic asks you to fill in questionnaires.\n\n"
        f"Please open this link: {link}\n\n"
        f"It works until {_shown(expires_at)}. It is for you only: please do not share it.\n\n"
        "If you did not expect this message, please contact your clinic."
    )


@dataclass
class ReminderRun:
    """Counts only: the run's summary may land in logs, which hold no patient data."""

    patients_reminded: int = 0
    questionnaires_sent: int = 0
    without_email: int = 0
    already_sent: int = 0
    unscheduled: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _mail_after_commit(address: str, link: str, expires_at: dt.datetime, reminder_pk: int) -> None:
    def send() -> None:
        try:
            send_mail(REMINDER_SUBJECT, reminder_body(link, expires_at), None, [address])
        except Exception:  # one bad address or a mail outage must not stop the other patients
            logger.exception("measure reminder %s: the e-mail could not be sent", reminder_pk)

    transaction.on_commit(send)


def send_due_reminders(*, now: dt.datetime) -> ReminderRun:
    """For each patient with patient-reported measures due that are in no open link and were never
    reminded, and an e-mail address: one questionnaire set for them, e-mailed after commit, and a
    MeasureReminder row. Running it again sends nothing new."""
    run = ReminderRun()
    found = selectors.schedules_for(Patient.objects.all(), now)
    ids = [f.care_plan.patient_id for f in found]
    already_open = selectors.open_instruments(ids, now)
    reminded = selectors.reminded_occurrences(ids)
    for item in found:
        if item.schedule is None:
            run.unscheduled += 1
            continue
        patient = item.patient
        pending = selectors.to_send(item.schedule, {})
        if not pending:
            continue
        open_now = already_open.get(patient.pk, {})
        due = [
            o
            for o in pending
            if o.instrument not in open_now
            and selectors.occurrence_key(o) not in reminded[patient.pk]
        ]
        if not due:
            run.already_sent += 1
            continue
        if not patient.email:
            run.without_email += 1
            continue
        sent = _remind(item.care_plan, due, now)
        if sent:
            run.patients_reminded += 1
            run.questionnaires_sent += sent
    return run


def _remind(care_plan: MeasurementCarePlan, due: list[MeasureOccurrence], now: dt.datetime) -> int:
    """Sends one patient's reminder; returns how many questionnaires it holds (0: none, because
    another worker got there first)."""
    with transaction.atomic():
        # Serialises workers on this patient; what they found before the lock is checked again.
        patient = Patient.objects.select_for_update().get(pk=care_plan.patient_id)
        still_open = selectors.open_instruments([patient.pk], now).get(patient.pk, {})
        reminded = selectors.reminded_occurrences([patient.pk]).get(patient.pk, set())
        due = [
            o
            for o in due
            if o.instrument not in still_open and selectors.occurrence_key(o) not in reminded
        ]
        if not due or not patient.email:
            return 0
        instruments = selectors.instruments_in_plan_order(care_plan.plan, due)
        questionnaire_set, token = send_questionnaires(
            by=None,  # the system sends reminders, no staff member
            patient=patient,
            instruments=instruments,
            valid_for=_valid_for(due, now),
        )
        reminder = MeasureReminder.objects.create(
            patient=patient,
            care_plan=care_plan,
            instruments=instruments,
            occurrences=[selectors.occurrence_key(o) for o in due],
            sent_at=now,
            questionnaire_set=questionnaire_set,
        )
        record(
            actor=None,
            action="measures.reminder_sent",
            patient=patient,
            obj=reminder,
            summary="Reminder e-mailed for "
            + ", ".join(
                f"{short_name(o.instrument)} ({o.rule_label})"
                for o in sorted(due, key=lambda o: instruments.index(o.instrument))
            ),
            after={"instruments": instruments, "questionnaire_set": questionnaire_set.pk},
        )
        link = settings.KAPSTONE_BASE_URL + reverse("assessments:link", kwargs={"token": token})
        _mail_after_commit(patient.email, link, questionnaire_set.expires_at, reminder.pk)
    return len(instruments)
