"""Building blocks for the consent, relapse-plan and journal tests: a signed integration note that
sets homework, and a journal entry written through the service."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kapstone.integration import services as integration_services
from kapstone.journal import services as journal_services
from kapstone.journal.services import HomeworkTick
from tests.shell.integration_support import EMDR, held_dose, session_after

HOMEWORK = ("Ten minutes of the calm-place exercise each morning", "Walk outside twice this week")


def signed_homework_note(patient, *, days_ago: int = 3):  # type: ignore[no-untyped-def]
    """A dose ``days_ago`` days ago, its integration session, and the therapist's signed note
    setting :data:`HOMEWORK`."""
    therapist = patient.therapist
    dose = held_dose(patient, at=timezone.now() - dt.timedelta(days=days_ago))
    session = session_after(dose)
    note = integration_services.save_note(
        by=therapist,
        session=session,
        held_at=session.starts_at,
        minutes=75,
        structured={"emdr": EMDR, "homework": "\n".join(HOMEWORK)},
        narrative="Worked on the accident memory; calm at the end.",
        now=session.starts_at + dt.timedelta(hours=2),
    )
    # Signed through any warning (a modality or credential the plan does not name): the homework
    # is what these tests need.
    warned = integration_services.signing_warnings(note)
    integration_services.sign_note(
        by=therapist,
        note=note,
        now=session.ends_at,
        override_reason="EMDR agreed with the patient" if warned else "",
    )
    return note


def write(
    account, *, text="A calmer week.", shared=False, note=None, ticks=(), supersedes=None, mood=None
):  # type: ignore[no-untyped-def]
    return journal_services.write_entry(
        account=account,
        text=text,
        mood=mood,
        shared_with_therapist=shared,
        homework_note=note,
        ticks=[HomeworkTick(a, d, n) for a, d, n in ticks],
        at=timezone.now(),
        supersedes=supersedes,
    )
