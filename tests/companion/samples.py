"""Sample URL arguments for the patient-access walker (tests/companion/test_patient_access.py).

A companion URL never carries a patient id, but it may name one of the patient's own objects (a
journal entry, a message thread, a questionnaire): ``/me/journal/<int:entry_id>/``. The walker
cannot invent such an id, so each URL that has arguments registers here, under its qualified URL
name, a function that takes the signed-in :class:`~kapstone.companion.models.PatientAccount` (patient
A's) and returns the URL's kwargs for an object that belongs to that patient, creating it if need be
(through your app's services, never raw rows that skip its rules). For example::

    SAMPLES["journal:entry"] = lambda account: {"entry_id": sample_entry(account).pk}

The walker then checks that patient A gets the page and that patient B, signed in as themselves
and asking for A's object, gets 404. A URL with arguments and no sample fails the walk with a
message naming the URL. Add your line in your own module's block below, with a comment saying
what the sample is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kapstone.companion.models import PatientAccount


def _thread(account: PatientAccount) -> dict[str, int]:
    from tests.shell.messaging_support import sample_thread

    return {"thread_id": sample_thread(account.patient).pk}


def _journal_entry(account: PatientAccount) -> dict[str, int]:
    from kapstone.journal.selectors import own_entries
    from tests.companion.plan_support import write

    found = own_entries(account.patient)
    return {"entry_id": (found[0] if found else write(account, text="A sample entry.")).pk}


SAMPLES: dict[str, Callable[[PatientAccount], dict[str, Any]]] = {
    "messaging:thread": _thread,
    "journal:entry": _journal_entry,
}
