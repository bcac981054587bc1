"""Sample URL kwargs for the companion's pages that name an object: each builds the object within
the given account's own rows, so a walker can check that the owner gets in and another patient gets
404. (Created by the messages branch; the sign-in branch adds its own entries.)"""

from __future__ import annotations

from collections.abc import Callable

from kapstone.companion.models import PatientAccount


def _thread(account: PatientAccount) -> dict[str, int]:
    from tests.shell.messaging_support import sample_thread

    return {"thread_id": sample_thread(account.patient).pk}


def _journal_entry(account: PatientAccount) -> dict[str, int]:
    from kapstone.journal.selectors import own_entries
    from tests.companion.plan_support import write

    found = own_entries(account.patient)
    return {"entry_id": (found[0] if found else write(account, text="A sample entry.")).pk}


SAMPLES: dict[str, Callable[[PatientAccount], dict]] = {
    "messaging:thread": _thread,
    "journal:entry": _journal_entry,
}
