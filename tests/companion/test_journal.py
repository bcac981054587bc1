"""The integration journal: entries are the patient's, private unless they share one; an edit is
a new version; the therapist sees only shared entries and the homework ticks beside the next note,
and that read is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.errors import InputError
from kapstone.journal import selectors
from kapstone.journal.models import AppendOnlyError, JournalEntry
from tests.companion.plan_support import HOMEWORK, signed_homework_note, write
from tests.companion.samples import SAMPLES
from tests.companion.support import make_account, patient_client
from tests.conftest import verified_client
from tests.shell.integration_support import held_dose, session_after

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(clinic):
    return make_account(patient=clinic.on_team, by=clinic.staff["prescriber"])


@pytest.fixture
def other(clinic):
    return make_account(patient=clinic.elsewhere, by=clinic.staff["prescriber"])


def test_an_entry_is_private_unless_shared_and_an_edit_is_a_new_version(account):
    first = write(account, text="Slept better.", mood=6)
    assert first.shared_with_therapist is False and first.revision == 1
    second = write(account, text="Slept better; told Sam.", shared=True, supersedes=first)
    assert (second.thread, second.revision, second.supersedes) == (first.thread, 2, first)
    assert JournalEntry.objects.get(pk=first.pk).text == "Slept better."  # kept as written
    assert selectors.own_entries(account.patient) == [second]
    change = AuditEntry.objects.get(action="journal.sharing_changed")
    assert change.before == {"shared_with_therapist": False}
    assert change.after == {"shared_with_therapist": True}
    assert change.actor_id is None and change.actor_label == account.audit_label
    with pytest.raises(InputError, match="changed meanwhile"):
        write(account, text="From an old window", supersedes=first)


def test_entries_refuse_change_in_python_and_in_the_database(account):
    entry = write(account, text="Mine.")
    entry.text = "Rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        JournalEntry.objects.filter(pk=entry.pk).update(shared_with_therapist=True)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        JournalEntry.objects.filter(pk=entry.pk).delete()
    assert JournalEntry.objects.get(pk=entry.pk).text == "Mine."


def test_an_empty_entry_or_a_mood_out_of_range_is_refused(account):
    with pytest.raises(InputError) as caught:
        write(account, text="  ")
    assert "text" in caught.value.errors
    with pytest.raises(InputError) as caught:
        write(account, text="ok", mood=11)
    assert "mood" in caught.value.errors
    assert not JournalEntry.objects.exists()


def test_homework_is_read_from_the_latest_signed_note_and_ticked(clinic, account):
    note = signed_homework_note(clinic.on_team)
    assert selectors.homework_note(clinic.on_team) == note
    assert selectors.homework_of(note) == list(HOMEWORK)
    write(account, note=note, ticks=[(HOMEWORK[0], True, "Most mornings")], text="")
    lines = selectors.homework_progress(clinic.on_team, note, shared_only=False)
    assert [(line.assignment, line.done, line.note) for line in lines] == [
        (HOMEWORK[0], True, "Most mornings"),
        (HOMEWORK[1], None, ""),
    ]
    # The entry was private: staff see no tick.
    assert all(
        line.done is None
        for line in selectors.homework_progress(clinic.on_team, note, shared_only=True)
    )
    with pytest.raises(InputError, match="homework changed"):
        write(account, note=note, ticks=[("Not an assignment", True, "")])


def test_the_patient_writes_an_entry_with_a_homework_tick_on_the_page(client, clinic, account):
    signed_homework_note(clinic.on_team)
    patient_client(client, account)
    form = client.get(reverse("journal:new")).content.decode()
    assert HOMEWORK[0] in form and "Let my therapist read this entry" in form
    # Refused: nothing written, nothing lost.
    refused = client.post(reverse("journal:new"), {"text": "kept words", "mood": "11"})
    assert refused.status_code == 200 and "kept words" in refused.content.decode()
    done = client.post(
        reverse("journal:new"),
        {
            "text": "The calm place works.",
            "mood": "7",
            "hw_0_done": "done",
            "hw_0_note": "Five mornings",
            "hw_1_done": "not_yet",
            "shared_with_therapist": "on",
        },
    )
    assert done.status_code == 302
    entry = JournalEntry.objects.get()
    assert (entry.mood, entry.shared_with_therapist) == (7, True)
    assert entry.homework == [
        {"assignment": HOMEWORK[0], "done": True, "note": "Five mornings"},
        {"assignment": HOMEWORK[1], "done": False, "note": ""},
    ]
    home = client.get(reverse("journal:home")).content.decode()
    assert "Shared with my therapist" in home and "Five mornings" in home


def test_an_entry_url_finds_only_the_signed_in_patients_own(client, account, other):
    mine = write(account, text="Mine.")
    theirs = write(other, text="Theirs.")
    patient_client(client, account)
    assert client.get(reverse("journal:entry", args=[mine.pk])).status_code == 200
    assert client.get(reverse("journal:entry", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("journal:entry", args=[theirs.pk]), {"text": "x"}).status_code == 404
    assert JournalEntry.objects.filter(thread=theirs.thread).count() == 1


def test_an_old_version_id_opens_the_latest_and_editing_makes_a_new_version(client, account):
    first = write(account, text="First words.")
    patient_client(client, account)
    client.post(reverse("journal:entry", args=[first.pk]), {"text": "Second words.", "mood": ""})
    latest = selectors.own_entry(account.patient, first.pk)
    assert latest is not None and latest.revision == 2 and latest.text == "Second words."
    page = client.get(reverse("journal:entry", args=[first.pk])).content.decode()
    assert "Second words." in page and "2 versions" in page


def test_the_sample_for_the_walker_is_the_patients_own(account, other):
    kwargs = SAMPLES["journal:entry"](account)
    assert JournalEntry.objects.get(pk=kwargs["entry_id"]).patient == account.patient


# --- the therapist, beside the next integration note -------------------------------------------


def test_the_therapist_sees_shared_entries_beside_the_next_note_and_never_private_ones(
    client, clinic, account
):
    note = signed_homework_note(clinic.on_team)
    write(
        account,
        text="SHARED-calm-place-worked",
        shared=True,
        note=note,
        ticks=[(HOMEWORK[0], True, "Five mornings")],
    )
    write(account, text="PRIVATE-do-not-show")
    withdrawn = write(account, text="WAS-SHARED-now-private", shared=True)
    write(account, text="WAS-SHARED-now-private", shared=False, supersedes=withdrawn)

    dose = held_dose(clinic.on_team, at=timezone.now() - dt.timedelta(hours=5))
    next_session = session_after(dose)
    therapist = clinic.staff["therapist"]
    page = verified_client(client, therapist).get(
        reverse("integration:write_note", args=[clinic.on_team.pk, next_session.pk])
    )
    body = page.content.decode()
    assert page.status_code == 200
    assert "SHARED-calm-place-worked" in body
    assert "PRIVATE-do-not-show" not in body
    assert "WAS-SHARED-now-private" not in body
    assert HOMEWORK[0] in body and "Five mornings" in body
    read = AuditEntry.objects.get(action="journal.viewed")
    assert (read.actor_id, read.patient_id) == (therapist.pk, clinic.on_team.pk)


def test_the_panel_holds_only_shared_entries(clinic, account):
    shared = write(account, text="shared", shared=True)
    write(account, text="private")
    assert selectors.therapist_panel(clinic.on_team).entries == [shared]
