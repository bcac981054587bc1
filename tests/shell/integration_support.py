"""Building blocks for the integration tests (and the URL walker's sample ids): a held dose, an
integration session after it, an EMDR note's form text."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kapstone.dosing.models import DosingSession
from kapstone.integration.models import IntegrationSession, ProcessNote
from kapstone.integration.services import book_integration_session, write_process_note

EMDR = {
    "target_memory": "The car accident, the moment of the impact",
    "negative_cognition": "I am not safe",
    "positive_cognition": "I survived; I am safe now",
    "sud_before": "8",
    "sud_after": "3",
    "voc_before": "2",
    "voc_after": "5",
    "bls_sets": "24",
}


def held_dose(patient, *, at: dt.datetime, by=None) -> DosingSession:  # type: ignore[no-untyped-def]
    """A dosing session that took place at ``at`` (booked the day before, as the clinic does)."""
    from kapstone.dosing.services import book_dosing_session

    return book_dosing_session(
        by=by or patient.nurse,
        patient=patient,
        starts_at=at,
        now=at - dt.timedelta(days=1),
    )


def session_after(dose: DosingSession, *, hours: float = 4, minutes: int = 75, therapist=None):  # type: ignore[no-untyped-def]
    return book_integration_session(
        by=None,
        patient=dose.patient,
        starts_at=dose.starts_at + dt.timedelta(hours=hours),
        duration=dt.timedelta(minutes=minutes),
        therapist=therapist or dose.patient.therapist,
        modality="emdr",
        dosing_session=dose,
        now=dose.starts_at,
    )


def sample_integration_session(patient) -> IntegrationSession:  # type: ignore[no-untyped-def]
    """For the URL walker: the walked patient's first integration session, booked if none."""
    found = IntegrationSession.objects.filter(patient=patient).first()
    if found is not None:
        return found
    return book_integration_session(
        by=None, patient=patient, starts_at=timezone.now() + dt.timedelta(days=1)
    )


def sample_process_note(patient) -> ProcessNote:  # type: ignore[no-untyped-def]
    """For the URL walker: a process note by the walked patient's therapist."""
    found = ProcessNote.objects.filter(patient=patient).first()
    return found or write_process_note(
        by=patient.therapist, patient=patient, text="Walker sample: countertransference noted."
    )
