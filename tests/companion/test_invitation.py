"""Invitation from the chart: the Companion tab invites, resends, deactivates and reactivates."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from kapstone.audit.models import AuditEntry
from kapstone.companion.models import LinkPurpose, PatientAccount, SignInLink
from kapstone.notify.models import Kind, Notification
from tests.companion.accounts_support import last_link
from tests.companion.support import patient_client

pytestmark = pytest.mark.django_db


def _tab(patient):
    return reverse("companion_staff:chart_tab", args=[patient.pk])


def _invite(client, patient, email):
    return client.post(reverse("companion_staff:invite", args=[patient.pk]), {"email": email})


def test_a_nurse_invites_the_patient_and_the_email_carries_a_one_time_link(
    clinic, as_role, django_capture_on_commit_callbacks
):
    client = as_role("nurse")
    patient = clinic.on_team
    assert "Invite to the companion" in client.get(_tab(patient)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(client, patient, "ada@example.invalid")
    assert response.status_code == 302
    account = PatientAccount.objects.get(patient=patient)
    assert account.status == "invited"
    assert account.invited_by == clinic.staff["nurse"]
    note = Notification.objects.get(account=account)
    assert note.kind == Kind.INVITATION
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ada@example.invalid"]
    assert "/me/sign-in/link/" in mail.outbox[0].body
    link = SignInLink.objects.get(account=account)
    assert link.purpose == LinkPurpose.INVITATION
    # Only the hash is kept: the token in the e-mail is nowhere in the table.
    token = last_link(account).rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 43 and token not in link.token_hash
    assert (link.expires_at - link.created_at).days == 7
    entry = AuditEntry.objects.filter(action="companion.invited").get()
    assert entry.patient_id == patient.pk and entry.actor == clinic.staff["nurse"]
    page = client.get(_tab(patient)).content.decode()
    assert "Invited, not signed in yet" in page and "Resend invitation" in page


def test_the_biller_has_no_companion_tab(clinic, as_role):
    client = as_role("biller")
    assert client.get(_tab(clinic.on_team)).status_code == 403
    assert _invite(client, clinic.on_team, "ada@example.invalid").status_code == 403
    assert not PatientAccount.objects.exists()


def test_a_nurse_off_the_care_team_cannot_invite(clinic, as_role):
    client = as_role("nurse")
    assert _invite(client, clinic.elsewhere, "grace@example.invalid").status_code == 403


def test_a_bad_address_says_why_and_keeps_what_was_typed(clinic, as_role):
    client = as_role("prescriber")
    response = _invite(client, clinic.on_team, "ada-at-example")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="ada-at-example"' in page
    assert "e-mail address" in page
    assert not PatientAccount.objects.exists()


def test_one_address_per_patient(clinic, as_role):
    as_role("medical_director")
    client = as_role("medical_director")
    assert _invite(client, clinic.on_team, "shared@example.invalid").status_code == 302
    response = _invite(client, clinic.elsewhere, "Shared@Example.invalid")
    assert response.status_code == 400
    assert "Another patient" in response.content.decode()


def test_resend_replaces_the_link(clinic, as_role):
    client = as_role("intake_coordinator")
    _invite(client, clinic.on_team, "ada@example.invalid")
    account = PatientAccount.objects.get()
    first = last_link(account)
    response = client.post(reverse("companion_staff:resend", args=[clinic.on_team.pk]))
    assert response.status_code == 302
    second = last_link(account)
    assert first != second
    # The first e-mail's link no longer works.
    assert client.post(first).status_code == 410
    assert AuditEntry.objects.filter(action="companion.reinvited").exists()


def test_deactivating_ends_the_patients_session_and_reactivating_restores_it(clinic, as_role):
    from django.test import Client

    staff = as_role("therapist")
    _invite(staff, clinic.on_team, "ada@example.invalid")
    account = PatientAccount.objects.get()
    patient = patient_client(Client(), account)
    assert patient.get(reverse("companion:home")).status_code == 200
    url = reverse("companion_staff:set_active", args=[clinic.on_team.pk])
    assert staff.post(url, {"active": "0"}).status_code == 302
    assert "Deactivated" in staff.get(_tab(clinic.on_team)).content.decode()
    assert patient.get(reverse("companion:home")).status_code == 302
    staff.post(url, {"active": "1"})
    account.refresh_from_db()
    assert account.is_active
    actions = list(
        AuditEntry.objects.filter(action__startswith="companion.")
        .exclude(action__endswith=".viewed")  # the patient's own page reads, audited too
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["companion.invited", "companion.deactivated", "companion.reactivated"]
