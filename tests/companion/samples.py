"""Sample URL kwargs for every companion URL that names an object: each builds (or finds) a row
of the signed-in patient's own, for the walker that checks every companion page opens for its
patient and gives another patient 404. Keyed by the URL's qualified name."""

from __future__ import annotations

from collections.abc import Callable

from kapstone.companion.models import PatientAccount


def _journal_entry(account: PatientAccount) -> dict:
    from kapstone.journal.models import JournalEntry
    from tests.companion.plan_support import write

    found = JournalEntry.objects.filter(patient=account.patient).first()
    return {"entry_id": (found or write(account, text="A sample entry.")).pk}


SAMPLES: dict[str, Callable[[PatientAccount], dict]] = {
    "journal:entry": _journal_entry,
}
