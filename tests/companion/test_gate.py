"""The companion's one gate: the signed-in patient gets in, anyone else goes to sign-in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from kapstone.audit.trail import record
from kapstone.companion.session import LAST_ACTION_KEY
from tests.companion.support import make_account, patient_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(clinic):
    return make_account(patient=clinic.on_team, by=clinic.staff["prescriber"])


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("companion:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("companion:sign_in"))


def test_the_patient_sees_their_home(client, account):
    response = patient_client(client, account).get(reverse("companion:home"))
    assert response.status_code == 200
    assert "Hello, Ada" in response.content.decode()


def test_staff_session_is_not_a_patient_session(client, clinic, account):
    from tests.conftest import verified_client

    response = verified_client(client, clinic.staff["prescriber"]).get(reverse("companion:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("companion:sign_in"))


def test_an_idle_session_is_signed_out(client, account):
    patient_client(client, account)
    session = client.session
    session[LAST_ACTION_KEY] = session[LAST_ACTION_KEY] - dt.timedelta(minutes=16).total_seconds()
    session.save()
    response = client.get(reverse("companion:home"))
    assert response.status_code == 302


def test_a_patient_actor_is_named_in_the_trail(account):
    entry = record(
        actor=None,
        actor_label=account.audit_label,
        action="companion.test",
        patient=account.patient,
    )
    assert entry.actor_label == f"patient-account:{account.pk}"
    with pytest.raises(ValueError, match="actor_label"):
        record(actor=account.invited_by, actor_label="x", action="companion.test")
