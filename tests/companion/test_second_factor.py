"""The optional second factor: an authenticator app (TOTP) or a passkey (WebAuthn, verified by
py_webauthn against a software authenticator). Once enrolled, every sign-in asks for it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.companion.access import needs_second_factor
from kapstone.companion.models import CompanionPasskey, CompanionTOTPDevice
from tests.companion.accounts_support import code_for
from tests.companion.authenticator import SoftPasskey
from tests.companion.support import make_account, patient_client

pytestmark = pytest.mark.django_db
SECOND = "/me/sign-in/second-factor/"


@pytest.fixture
def account(clinic):
    return make_account(
        patient=clinic.on_team, by=clinic.staff["nurse"], email="ada@example.invalid"
    )


def _enrol_totp(client) -> CompanionTOTPDevice:
    page = client.get(reverse("companion:totp_setup"))
    assert page.status_code == 200 and "<svg" in page.content.decode()
    device = CompanionTOTPDevice.objects.get(confirmed=False)
    assert device.key.upper() not in page.content.decode()  # the page shows base32, not raw hex
    wrong = client.post(reverse("companion:totp_setup"), {"code": "000000"})
    assert wrong.status_code == 400 and "does not match" in wrong.content.decode()
    response = client.post(
        reverse("companion:totp_setup"), {"code": code_for(device, timezone.now())}
    )
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


def _sign_in_again(client, account):
    """A new sign-in (first factor passed), as after a link or a password."""
    client.logout()
    return patient_client(client, account)


def test_an_authenticator_is_asked_for_at_every_sign_in(client, account):
    patient_client(client, account)
    device = _enrol_totp(client)
    assert needs_second_factor(account)
    assert AuditEntry.objects.filter(action="companion.factor_enrolled").count() == 1
    _sign_in_again(client, account)
    response = client.get(reverse("companion:settings"))
    assert response.status_code == 302 and response["Location"].startswith(SECOND)
    page = client.get(response["Location"]).content.decode()
    assert "Type the code from your authenticator app" in page
    refused = client.post(SECOND, {"code": "123456", "next": "/me/settings/"})
    assert refused.status_code == 400 and "not right" in refused.content.decode()
    # A code from the next step (phone clock a little fast) is accepted, once.
    code = code_for(device, timezone.now() + dt.timedelta(seconds=30))
    ok = client.post(SECOND, {"code": code, "next": "/me/settings/"})
    assert ok.status_code == 302 and ok["Location"] == "/me/settings/"
    assert client.get(reverse("companion:settings")).status_code == 200
    _sign_in_again(client, account)
    replay = client.post(SECOND, {"code": code, "next": "/me/"})
    assert replay.status_code == 400  # the same code never works twice


def test_wrong_codes_count_toward_the_lock(client, account, settings):
    settings.COMPANION_LOCKOUT_FAILURES = 3
    patient_client(client, account)
    device = _enrol_totp(client)
    _sign_in_again(client, account)
    for _ in range(3):
        response = client.post(SECOND, {"code": "000000"})
    assert "Too many tries" in response.content.decode()
    locked = client.post(
        SECOND, {"code": code_for(device, timezone.now() + dt.timedelta(seconds=30))}
    )
    assert "Too many tries" in locked.content.decode()
    assert client.get(reverse("companion:home")).status_code == 302


def test_removing_the_authenticator(client, account):
    patient_client(client, account)
    _enrol_totp(client)
    assert client.post(reverse("companion:totp_remove")).status_code == 302
    assert not needs_second_factor(account)
    assert AuditEntry.objects.filter(action="companion.factor_removed").exists()


def _options(client, url) -> dict:
    response = client.post(url)
    assert response.status_code == 200
    return response.json()["options"]


def _register(client, passkey, **kwargs):
    options = _options(client, reverse("companion:passkey_register_options"))
    body = {"credential": passkey.register(options, **kwargs), "name": "My phone"}
    return client.post(
        reverse("companion:passkey_register"), json.dumps(body), content_type="application/json"
    )


def _soft_passkey() -> SoftPasskey:
    return SoftPasskey(
        rp_id=settings.COMPANION_PASSKEY_RP_ID, origin=settings.COMPANION_PASSKEY_ORIGINS[0]
    )


def test_registration_options_name_the_clinic_not_the_patient(client, account):
    patient_client(client, account)
    options = _options(client, reverse("companion:passkey_register_options"))
    assert options["rp"] == {"id": settings.COMPANION_PASSKEY_RP_ID, "name": settings.SITE_NAME}
    assert len(options["challenge"]) >= 43  # 32+ random bytes, base64url
    assert "Ada" not in json.dumps(options) and account.email not in json.dumps(options)
    assert options["attestation"] == "none"


def test_a_passkey_registers_and_then_signs_in(client, account):
    patient_client(client, account)
    passkey = _soft_passkey()
    response = _register(client, passkey)
    assert response.status_code == 200, response.content
    assert response.json() == {"redirect": reverse("companion:settings")}
    stored = CompanionPasskey.objects.get(account=account)
    assert stored.credential_id == passkey.id and stored.name == "My phone"
    assert needs_second_factor(account)
    # The next sign-in asks for it; the software authenticator signs the server's challenge.
    _sign_in_again(client, account)
    assert client.get("/me/").status_code == 302
    options = _options(client, reverse("companion:passkey_sign_in_options"))
    assert [c["id"] for c in options["allowCredentials"]] == [passkey.id]
    answer = client.post(
        reverse("companion:passkey_sign_in") + "?next=/me/settings/",
        json.dumps(passkey.sign(options)),
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"redirect": "/me/settings/"}
    assert client.get("/me/").status_code == 200
    stored.refresh_from_db()
    assert stored.sign_count == 1 and stored.last_used_at is not None


def test_a_forged_or_replayed_assertion_is_refused(client, account):
    patient_client(client, account)
    passkey = _soft_passkey()
    assert _register(client, passkey).status_code == 200
    _sign_in_again(client, account)
    options = _options(client, reverse("companion:passkey_sign_in_options"))
    forged = passkey.sign(options, key=ec.generate_private_key(ec.SECP256R1()))
    url = reverse("companion:passkey_sign_in")
    refused = client.post(url, json.dumps(forged), content_type="application/json")
    assert refused.status_code == 400 and "not accepted" in refused.json()["error"]
    assert client.get("/me/").status_code == 302
    # A valid signature over an old challenge: the challenge was used up by the refused attempt.
    stale = client.post(url, json.dumps(passkey.sign(options)), content_type="application/json")
    assert stale.status_code == 401
    assert client.get("/me/").status_code == 302
    assert AuditEntry.objects.filter(action="companion.sign_in_failed").count() == 1


def test_a_registration_from_another_origin_is_refused(client, account):
    patient_client(client, account)
    response = _register(client, _soft_passkey(), origin="https://evil.example")
    assert response.status_code == 400 and "could not be checked" in response.json()["error"]
    assert not CompanionPasskey.objects.exists()


def test_another_patient_cannot_remove_a_passkey(client, clinic, account):
    from django.test import Client

    patient_client(client, account)
    assert _register(client, _soft_passkey()).status_code == 200
    stored = CompanionPasskey.objects.get()
    other = make_account(patient=clinic.elsewhere, by=clinic.staff["nurse"])
    other_client = patient_client(Client(), other)
    other_client.post(reverse("companion:passkey_remove"), {"passkey": stored.pk})
    assert CompanionPasskey.objects.filter(pk=stored.pk).exists()
    client.post(reverse("companion:passkey_remove"), {"passkey": stored.pk})
    assert not CompanionPasskey.objects.exists()
