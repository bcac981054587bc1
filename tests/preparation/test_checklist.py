"""The patient's preparation checklist: ticks are new rows (the latest counts), audited as the
patient's, only on their own upcoming sessions; the console's pre-dose checklist shows them."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.errors import InputError
from kapstone.kernel.append_only import AppendOnlyError
from kapstone.preparation import selectors, services
from kapstone.preparation.checklist import ITEMS
from kapstone.preparation.models import PreparationAnswer
from tests.companion.program_support import booked_patient
from tests.companion.support import make_account, patient_client
from tests.conftest import verified_client
from tests.shell.chairside_support import ready_to_dose

pytestmark = pytest.mark.django_db


def answer(booked, session, item, yes=True, note=""):  # type: ignore[no-untyped-def]
    return services.answer_item(
        account=booked.account,
        patient=booked.account.patient,
        session_id=session.pk,
        item=item,
        answer=yes,
        note=note,
        now=timezone.now(),
    )


def test_a_changed_answer_is_a_new_row_and_the_latest_counts(clinic):
    booked = booked_patient(clinic)
    answer(booked, booked.next, "ride_home", note="Sam")
    answer(booked, booked.next, "ride_home", yes=False, note="")
    answer(booked, booked.next, "fasting")
    assert PreparationAnswer.objects.filter(session=booked.next).count() == 3
    first = selectors.checklists(clinic.on_team, timezone.now())[0]
    assert first.session.pk == booked.next.pk
    state = {v.item.key: (v.answer.answer if v.answer else None) for v in first.items}
    assert state == {i.key: None for i in ITEMS} | {"ride_home": False, "fasting": True}
    assert (first.done, first.total) == (1, len(ITEMS))
    fasting = next(v for v in first.items if v.item.key == "fasting")
    assert fasting.no_food_from is not None and fasting.no_food_from.hour == 8
    assert fasting.plan_words.startswith("No food for 2 hours")


def test_an_answer_is_written_once_and_audited_as_the_patients(clinic):
    booked = booked_patient(clinic)
    row = answer(booked, booked.next, "clothes")
    with pytest.raises(AppendOnlyError):
        row.save()
    entry = AuditEntry.objects.filter(action="preparation.answered").get()
    assert entry.actor_id is None and entry.actor_label == booked.account.audit_label
    assert entry.patient_id == clinic.on_team.pk


def test_only_the_patients_own_upcoming_sessions_and_known_items(clinic):
    booked = booked_patient(clinic)
    with pytest.raises(InputError) as past:
        answer(booked, booked.past, "fasting")
    assert "session" in past.value.errors
    with pytest.raises(InputError) as unknown:
        answer(booked, booked.next, "bring_a_friend")
    assert "item" in unknown.value.errors
    other = make_account(patient=clinic.elsewhere, by=clinic.staff["intake_coordinator"])
    with pytest.raises(InputError):
        services.answer_item(
            account=other,
            patient=clinic.elsewhere,
            session_id=booked.next.pk,
            item="fasting",
            answer=True,
            now=timezone.now(),
        )
    assert not PreparationAnswer.objects.exists()


def test_the_page_saves_a_tick_and_a_refused_one_keeps_the_note(clinic, client):
    booked = booked_patient(clinic)
    c = patient_client(client, booked.account)
    url = reverse("preparation:prepare")
    page = c.get(url)
    assert page.status_code == 200 and "Get ready for your session" in page.content.decode()
    saved = c.post(
        url, {"session": booked.next.pk, "item": "ride_home", "answer": "yes", "note": "Sam"}
    )
    assert saved.status_code == 302
    assert PreparationAnswer.objects.get().note == "Sam"
    refused = c.post(
        url,
        {"session": booked.past.pk, "item": "ride_home", "answer": "yes", "note": "Alex drives"},
    )
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "This session is not one of your upcoming sessions." in text
    assert 'value="Alex drives"' in text
    assert PreparationAnswer.objects.count() == 1


def test_the_consoles_pre_dose_checklist_shows_what_the_patient_said(clinic, client):
    record = ready_to_dose(clinic)
    session = record.session
    account = make_account(patient=clinic.on_team, by=clinic.staff["intake_coordinator"])
    # Ticked before the day (the session has begun now: written as the service would have).
    PreparationAnswer.objects.create(
        session=session,
        item="ride_home",
        answer=True,
        note="Sam",
        answered_at=session.starts_at.replace(hour=7, minute=12),
        answered_by=account,
    )
    PreparationAnswer.objects.create(
        session=session,
        item="fasting",
        answer=False,
        answered_at=session.starts_at,
        answered_by=account,
    )
    c = verified_client(client, clinic.staff["nurse"])
    text = c.get(
        reverse("chairside:console", args=[clinic.on_team.pk, session.pk])
    ).content.decode()
    assert 'data-patient-said="escort">The patient said: <strong>yes</strong> (Sam)' in text
    assert 'data-patient-said="fasting">The patient said: <strong>not yet</strong>' in text
    assert selectors.patient_said(session.pk).keys() == {"escort", "fasting"}
