"""The patient's notification preferences page: theirs only, saved as chosen, a bad number refused
saying why with what was typed kept."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from kapstone.audit.models import AuditEntry
from kapstone.notify.services import preferences_of
from tests.companion.support import patient_client

pytestmark = pytest.mark.django_db
URL = "/me/notifications/"
CHOICES = {
    "by_email": "on",
    "by_sms": "on",
    "mobile": "207 555 0143",
    "quiet_start": "22:00",
    "quiet_end": "07:30",
    "sessions": "on",
    "messages": "on",
}


def test_the_url_is_the_named_one():
    assert reverse("notify:preferences") == URL


def test_anyone_not_signed_in_as_a_patient_goes_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("companion:sign_in"))


def test_the_page_shows_the_defaults(client, account):
    response = patient_client(client, account).get(URL)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="by_email" id="id_by_email" checked' in page
    assert 'name="by_sms" id="id_by_sms">' in page
    assert 'value="21:00"' in page and 'value="08:00"' in page
    assert AuditEntry.objects.filter(action="notify.preferences.viewed").count() == 1


def test_choices_are_saved(client, account):
    response = patient_client(client, account).post(URL, CHOICES, follow=True)
    assert "Saved. We will contact you as you chose." in response.content.decode()
    preferences = preferences_of(account=account)
    assert preferences.by_sms and preferences.mobile == "+1 207-555-0143"
    assert (preferences.quiet_start, preferences.quiet_end) == (dt.time(22, 0), dt.time(7, 30))
    assert (preferences.sessions, preferences.questionnaires, preferences.messages) == (
        True,
        False,
        True,
    )


def test_a_bad_number_is_refused_saying_why_and_kept(client, account):
    response = patient_client(client, account).post(URL, {**CHOICES, "mobile": "555 01"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was saved" in page
    assert "is not a valid phone number: check the digits" in page
    assert 'value="555 01"' in page and 'aria-invalid="true"' in page
    assert 'value="22:00"' in page  # the rest of what was typed is kept too
    assert preferences_of(account=account).by_sms is False


def test_the_page_is_in_the_patients_language(client, clinic):
    from tests.companion.support import make_account

    spanish = make_account(patient=clinic.elsewhere, by=clinic.staff["prescriber"], language="es")
    response = patient_client(client, spanish).get(URL)
    assert response["Content-Language"] == "es"
