"""The Integration tab and its pages through the test client; process notes' privacy for every role."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.clinical.access import Role
from kapstone.integration import services
from kapstone.integration.models import IntegrationNote, IntegrationStatus, ProcessNote
from tests.conftest import verified_client
from tests.shell.integration_support import EMDR, held_dose, session_after

SECRET = "Countertransference: reminded me of my own father and his illness."


@pytest.fixture
def session(clinic):
    dose = held_dose(clinic.on_team, at=timezone.now() - dt.timedelta(hours=6))
    return session_after(dose, hours=2)


def form_data(session, **extra):
    data = {
        "action": "save",
        "held_at": timezone.localtime(session.starts_at).strftime("%Y-%m-%dT%H:%M"),
        "minutes": "75",
        "modalities": ["emdr"],
        "narrative": "Processed the accident memory.",
        "homework": "Safe-place exercise each evening\nNotice body tension",
    }
    data |= {f"emdr__{k}": v for k, v in EMDR.items()}
    return data | extra


def url(name, session, **kw):
    return reverse(
        f"integration:{name}",
        kwargs={"patient_id": session.patient_id, "integration_session_id": session.pk, **kw},
    )


def test_therapist_writes_saves_signs_then_adds_an_addendum(session, as_role):
    client = as_role("therapist")
    page = client.get(url("write_note", session))
    assert page.status_code == 200
    assert b"SUD before" in page.content and b"Self-energy" in page.content
    # The form opens on the booked session: its start, length and modality.
    assert b'name="minutes" value="75"' in page.content
    assert b'value="emdr" id="id_modalities_0" checked' in page.content

    bad = client.post(url("write_note", session), form_data(session, emdr__voc_after="9"))
    assert bad.status_code == 200
    assert "9 is out of range; accepts a whole number from 1 to 7" in bad.content.decode()
    assert not IntegrationNote.objects.exists()

    saved = client.post(url("write_note", session), form_data(session))
    assert saved.status_code == 302
    note = IntegrationNote.objects.get()
    assert note.structured["homework"] == [
        "Safe-place exercise each evening",
        "Notice body tension",
    ]
    page = client.get(url("write_note", session))
    assert b"Sign version 1" in page.content

    signed = client.post(url("write_note", session), {"action": "sign", "version": note.pk})
    assert signed.status_code == 302
    session.refresh_from_db()
    assert session.status == IntegrationStatus.COMPLETED
    # A signed note's form sends the therapist to the addendum instead.
    assert client.get(url("write_note", session))["Location"] == url("addendum", session)

    refused = client.post(url("addendum", session), {"text": "Called back.", "reason": ""})
    assert "Say why the signed note is corrected" in refused.content.decode()
    added = client.post(
        url("addendum", session),
        {
            "text": "SUD after was 2.",
            "reason": "Typing error",
            "correct": "on",
            **{
                k: v
                for k, v in form_data(session, emdr__sud_after="2").items()
                if k.startswith(("emdr", "modalities", "homework"))
            },
        },
    )
    assert added.status_code == 302
    detail = client.get(url("session", session)).content.decode()
    assert "as corrected by the addendum" in detail and "Typing error" in detail

    tab = client.get(reverse("integration:chart_tab", kwargs={"patient_id": session.patient_id}))
    text = tab.content.decode()
    assert "8 → 2" in text and "2 → 5" in text
    assert "<svg" in text and "SUD, EMDR (0-10)" in text


def test_signing_outside_the_window_asks_for_the_reason_on_the_page(clinic, as_role):
    dose = held_dose(clinic.on_team, at=timezone.now() - dt.timedelta(hours=40))
    session = session_after(dose, hours=30)
    client = as_role("therapist")
    client.post(url("write_note", session), form_data(session))
    note = IntegrationNote.objects.get()
    page = client.get(url("write_note", session)).content.decode()
    assert "Signing needs a reason" in page and "within 24 h" in page
    refused = client.post(url("write_note", session), {"action": "sign", "version": note.pk})
    assert refused.status_code == 200 and "Say why you sign despite" in refused.content.decode()
    ok = client.post(
        url("write_note", session),
        {"action": "sign", "version": note.pk, "override_reason": "Patient asked to come next day"},
    )
    assert ok.status_code == 302
    assert "Patient asked to come next day" in client.get(url("session", session)).content.decode()


def test_only_the_therapist_writes_notes(session, as_role):
    for role in ("nurse", "prescriber", "medical_director", "intake_coordinator"):
        client = as_role(role)
        assert client.post(url("write_note", session), form_data(session)).status_code == 403
    assert not IntegrationNote.objects.exists()


# --- process notes --------------------------------------------------------------------------------


@pytest.fixture
def process_note(clinic):
    return services.write_process_note(
        by=clinic.staff["therapist"], patient=clinic.on_team, text=SECRET
    )


def note_url(note):
    return reverse(
        "integration:process_note",
        kwargs={"patient_id": note.patient_id, "process_note_id": note.pk},
    )


def list_url(patient):
    return reverse("integration:process_notes", kwargs={"patient_id": patient.pk})


def test_only_the_author_reads_a_process_note(clinic, client, process_note):
    author = clinic.staff["therapist"]
    verified_client(client, author)
    page = client.get(note_url(process_note))
    assert page.status_code == 200 and SECRET in page.content.decode()
    listing = client.get(list_url(clinic.on_team)).content.decode()
    assert f"/process-notes/{process_note.pk}/" in listing
    everyone_else = [
        u for u in list(clinic.staff.values()) + list(clinic.others.values()) if u != author
    ]
    for user in everyone_else:
        client.logout()
        verified_client(client, user)
        response = client.get(note_url(process_note))
        assert response.status_code in (403, 404), f"{user.username}: {response.status_code}"
        assert SECRET not in response.content.decode()
        listing = client.get(list_url(clinic.on_team))
        assert listing.status_code in (200, 403)
        assert f"/process-notes/{process_note.pk}/" not in listing.content.decode(), user.username
    # The medical director sees every chart, but not process notes by default: 404, not 403.
    client.logout()
    verified_client(client, clinic.staff["medical_director"])
    assert client.get(note_url(process_note)).status_code == 404


def test_grant_and_revoke_are_audited_without_the_text(clinic, client, process_note):
    author, director = clinic.staff["therapist"], clinic.staff["medical_director"]
    verified_client(client, author)
    access = reverse("integration:process_note_access", kwargs={"patient_id": clinic.on_team.pk})
    # A nurse cannot be granted: not among the choices.
    refused = client.post(access, {"grantee": clinic.staff["nurse"].pk, "granted": "1"})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert client.post(access, {"grantee": director.pk, "granted": "1"}).status_code == 302
    client.logout()
    verified_client(client, director)
    page = client.get(note_url(process_note))
    assert page.status_code == 200 and SECRET in page.content.decode()
    client.logout()
    verified_client(client, author)
    assert client.post(access, {"grantee": director.pk, "granted": "0"}).status_code == 302
    client.logout()
    verified_client(client, director)
    assert client.get(note_url(process_note)).status_code == 404
    actions = list(
        AuditEntry.objects.filter(action__startswith="integration.process_")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "integration.process_note_written",
        "integration.process_notes_granted",
        "integration.process_note_viewed",
        "integration.process_notes_revoked",
    ]
    for entry in AuditEntry.objects.all():
        assert "Countertransference" not in entry.summary
        assert "Countertransference" not in str(entry.before) + str(entry.after)


def test_a_therapist_writes_a_process_note_from_the_page(clinic, as_role):
    client = as_role("therapist")
    new = reverse("integration:new_process_note", kwargs={"patient_id": clinic.on_team.pk})
    assert "Write the note." in client.post(new, {"text": " "}).content.decode()
    assert client.post(new, {"text": SECRET}).status_code == 302
    note = ProcessNote.objects.get()
    assert note.author == clinic.staff["therapist"]
    listing = client.get(list_url(clinic.on_team)).content.decode()
    assert f"/process-notes/{note.pk}/" in listing
    for role in Role:
        if role is Role.THERAPIST:
            continue
        assert as_role(role.value).post(new, {"text": "x"}).status_code == 403
    assert ProcessNote.objects.count() == 1
