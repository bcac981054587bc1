"""Building blocks for the secure-message tests (and the URL walker's sample thread)."""

from __future__ import annotations

from kapstone.companion.models import PatientAccount
from kapstone.messaging.models import Thread
from kapstone.messaging.services import start_thread
from tests.companion.support import make_account


def account_of(patient) -> PatientAccount:  # type: ignore[no-untyped-def]
    """The patient's companion account, invited by their registering coordinator if none yet."""
    found = PatientAccount.objects.filter(patient=patient).first()
    return found or make_account(patient=patient, by=patient.registered_by)


def sample_thread(patient) -> Thread:  # type: ignore[no-untyped-def]
    """A thread the patient started (one ordinary message), made once per patient."""
    found = Thread.objects.filter(patient=patient).first()
    if found is not None:
        return found
    account = account_of(patient)
    return start_thread(
        account=account, patient=patient, subject="Next session", body="Can we move Thursday?"
    ).thread
