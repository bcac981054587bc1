"""The demo clinic's patients in the companion app: three mid-course patients with an account
(password: the demo password), one of them in Spanish, with what a week of the program leaves in
the app: a ticked preparation item, a journal entry shared with the therapist, a message thread
with the care team's reply, and a second thread still waiting for one (on the day board).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from kapstone.accounts.models import StaffUser
from kapstone.companion import signin_services
from kapstone.companion.models import Language, PatientAccount
from kapstone.companion.program import program_of, sessions
from kapstone.journal.selectors import homework_note, homework_of
from kapstone.journal.services import HomeworkTick, write_entry
from kapstone.messaging.services import staff_replies, start_thread
from kapstone.patients.models import Patient
from kapstone.preparation.services import answer_item

ACCOUNTS = 3


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    language: str


def _mid_course(patients: list[Patient], now: dt.datetime) -> list[Patient]:
    """Patients with a plan in force and a dosing session still to come, in the demo's order."""
    chosen: list[Patient] = []
    for patient in patients:
        if program_of(patient) is None or patient.therapist_id is None:
            continue
        if any(v.kind == "dosing" and not v.past for v in sessions(patient, now)):
            chosen.append(patient)
        if len(chosen) == ACCOUNTS:
            break
    return chosen


def build_companion(
    *, patients: list[Patient], staff: dict[str, StaffUser], password: str, now: dt.datetime
) -> list[DemoAccount]:
    made: list[DemoAccount] = []
    for n, patient in enumerate(_mid_course(patients, now)):
        language = Language.SPANISH if n == 2 else Language.ENGLISH
        with transaction.atomic():
            account = PatientAccount.objects.create(
                patient=patient,
                email=f"patient{n + 1}@demo.kapstone.invalid",
                language=language,
                invited_at=now - dt.timedelta(days=10),
                invited_by=staff["intake"],
                activated_at=now - dt.timedelta(days=9),
            )
            signin_services.set_password(account=account, password=password, confirm=password)
        _a_week_in_the_app(account, patient, staff, now, first=n == 0)
        made.append(DemoAccount(account.email, patient.display_name, language.label))
    return made


def _a_week_in_the_app(
    account: PatientAccount,
    patient: Patient,
    staff: dict[str, StaffUser],
    now: dt.datetime,
    *,
    first: bool,
) -> None:
    coming = [v for v in sessions(patient, now) if v.kind == "dosing" and not v.past]
    if coming:
        answer_item(
            account=account,
            patient=patient,
            session_id=coming[0].pk,
            item="ride_home",
            answer=True,
            note="My sister is driving me.",
            now=now - dt.timedelta(hours=20),
        )
    note = homework_note(patient)
    homework = homework_of(note)
    write_entry(
        account=account,
        text=(
            "After the last session I slept well for the first time in weeks. "
            "I noticed I was kinder to myself when I made a mistake at work."
        ),
        mood=6,
        shared_with_therapist=True,
        homework_note=note if homework else None,
        ticks=[HomeworkTick(assignment=homework[0], done=True)] if homework else [],
        at=now - dt.timedelta(hours=30),
    )
    question = start_thread(
        account=account,
        patient=patient,
        subject="Driving after the session",
        body="Can I drive myself home if I feel fine after the session?",
        now=now - dt.timedelta(days=2),
    )
    therapist = patient.therapist
    if therapist is not None:
        staff_replies(
            by=therapist,
            thread=question.thread,
            body=(
                "Please don't drive until the next day, even if you feel fine: ketamine slows "
                "reactions for hours. Someone needs to take you home."
            ),
            now=now - dt.timedelta(days=2) + dt.timedelta(hours=3),
        )
    if first:
        start_thread(
            account=account,
            patient=patient,
            subject="Music for Thursday",
            body="May I bring my own playlist and headphones to the next session?",
            now=now - dt.timedelta(hours=5),
        )
