"""Signing in: an e-mailed one-time link or a password; the lock after repeated failures; sign-out,
idle expiry and the language of the pages. Through the pages, on the real database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.companion import invitations, links
from kapstone.companion.models import LinkPurpose, PatientAccount, SignInLink
from kapstone.companion.session import LAST_ACTION_KEY
from kapstone.notify.models import Notification
from tests.companion.accounts_support import last_link
from tests.companion.support import make_account, patient_client

pytestmark = pytest.mark.django_db
PASSWORD = "river-lantern-biscuit-7"
SIGN_IN = "/me/sign-in/"


@pytest.fixture
def account(clinic):
    account = make_account(
        patient=clinic.on_team, by=clinic.staff["nurse"], email="ada@example.invalid"
    )
    account.password = make_password(PASSWORD)
    account.save()
    return account


def _signed_in_as(client) -> int | None:
    return client.session.get("companion_account")


def _ask_for_link(client, email):
    return client.post(SIGN_IN, {"method": "link", "email": email})


def test_asking_for_a_link_never_says_whether_the_address_is_known(client, account):
    known = _ask_for_link(client, "ADA@example.invalid")
    unknown = _ask_for_link(client, "nobody@example.invalid")
    assert known.status_code == unknown.status_code == 200
    strip = lambda r, e: r.content.decode().replace(e, "EMAIL")  # noqa: E731
    assert strip(known, "ADA@example.invalid") == strip(unknown, "nobody@example.invalid")
    assert Notification.objects.count() == 1  # only the known address got an e-mail
    entry = AuditEntry.objects.get(action="companion.link_sent")
    assert entry.actor_label == account.audit_label and entry.actor is None
    assert "ada" not in entry.summary.lower() and "Ada" not in entry.actor_label


def test_a_link_signs_in_once_and_opening_it_uses_nothing(client, account):
    _ask_for_link(client, account.email)
    path = last_link(account)
    link = SignInLink.objects.get(account=account, purpose=LinkPurpose.SIGN_IN)
    assert (link.expires_at - link.created_at) == dt.timedelta(minutes=30)
    # A mail scanner opening the link (GET) does not use it up.
    assert client.get(path).status_code == 200
    response = client.post(path)
    assert response.status_code == 302 and response["Location"] == "/me/"
    assert _signed_in_as(client) == account.pk
    assert client.get("/me/").status_code == 200
    client.post(reverse("companion:sign_out"))
    assert _signed_in_as(client) is None
    again = client.post(path)
    assert again.status_code == 410
    assert "no longer works" in again.content.decode()
    assert _signed_in_as(client) is None
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"companion.signed_in", "companion.signed_out"} <= actions


def test_an_expired_link_is_refused(client, account, settings):
    now = timezone.now()
    url = links.issue(
        account=account, purpose=LinkPurpose.SIGN_IN, now=now - dt.timedelta(minutes=31)
    )
    path = url.split("127.0.0.1:8000", 1)[-1]
    assert client.post(path).status_code == 410
    settings.COMPANION_LINK_MINUTES = 60
    url = links.issue(
        account=account, purpose=LinkPurpose.SIGN_IN, now=now - dt.timedelta(minutes=31)
    )
    assert client.post(url.split("127.0.0.1:8000", 1)[-1]).status_code == 302


def test_the_invitation_link_activates_the_account_and_offers_a_password(client, clinic):
    account = invitations.invite_patient(
        by=clinic.staff["nurse"],
        patient=clinic.on_team,
        email="ada@example.invalid",
        now=timezone.now(),
    )
    assert account.activated_at is None
    response = client.post(last_link(account))
    assert response.status_code == 302
    assert response["Location"] == reverse("companion:password") + "?welcome=1"
    account.refresh_from_db()
    assert account.status == "active" and account.last_sign_in_at is not None
    page = client.get(response["Location"]).content.decode()
    assert "Welcome to your program" in page and "Skip for now" in page
    # Too short a password is refused, with the reason; a good one is kept as a hash.
    refused = client.post(response["Location"], {"password": "short", "confirm": "short"})
    assert refused.status_code == 400 and "too short" in refused.content.decode()
    saved = client.post(response["Location"], {"password": PASSWORD, "confirm": PASSWORD})
    assert saved.status_code == 302
    account.refresh_from_db()
    assert account.password.startswith(("pbkdf2", "argon2", "md5", "scrypt"))
    assert PASSWORD not in account.password
    assert AuditEntry.objects.filter(action="companion.password_set").exists()


def test_password_sign_in(client, account):
    response = client.post(
        SIGN_IN + "?next=/me/settings/",
        {
            "method": "password",
            "email": account.email,
            "password": PASSWORD,
            "next": "/me/settings/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/me/settings/"
    assert _signed_in_as(client) == account.pk


def test_next_never_leaves_the_companion(client, account):
    response = client.post(
        SIGN_IN,
        {
            "method": "password",
            "email": account.email,
            "password": PASSWORD,
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/me/"
    client.post(reverse("companion:sign_out"))
    response = client.post(
        SIGN_IN,
        {"method": "password", "email": account.email, "password": PASSWORD, "next": "/patients/"},
    )
    assert response["Location"] == "/me/"


def test_a_wrong_password_says_so_and_keeps_the_address(client, account):
    response = client.post(
        SIGN_IN, {"method": "password", "email": account.email, "password": "wrong-one"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "do not match" in page and 'value="ada@example.invalid"' in page
    assert _signed_in_as(client) is None
    entry = AuditEntry.objects.get(action="companion.sign_in_failed")
    assert entry.actor_label == account.audit_label
    assert "ada" not in entry.summary.lower() and "lovelace" not in entry.summary.lower()


def test_five_failures_lock_the_account_for_fifteen_minutes(client, account):
    for _ in range(4):
        client.post(
            SIGN_IN, {"method": "password", "email": account.email, "password": "nope-nope"}
        )
    fifth = client.post(SIGN_IN, {"method": "password", "email": account.email, "password": "nope"})
    assert "Too many tries" in fifth.content.decode()
    # Even the right password is refused while the lock lasts.
    locked = client.post(
        SIGN_IN, {"method": "password", "email": account.email, "password": PASSWORD}
    )
    assert "Too many tries" in locked.content.decode()
    assert _signed_in_as(client) is None
    lock = account.sign_in_attempts
    assert dt.timedelta(minutes=14) < lock.locked_until - timezone.now() <= dt.timedelta(minutes=15)
    assert AuditEntry.objects.filter(action="companion.sign_in_failed").count() == 6
    # When the lock has passed, the right password works again.
    lock.locked_until = timezone.now() - dt.timedelta(seconds=1)
    lock.save()
    ok = client.post(SIGN_IN, {"method": "password", "email": account.email, "password": PASSWORD})
    assert ok.status_code == 302 and _signed_in_as(client) == account.pk


def test_the_lock_is_clinic_policy(client, account, settings):
    settings.COMPANION_LOCKOUT_FAILURES = 2
    for _ in range(2):
        response = client.post(
            SIGN_IN, {"method": "password", "email": account.email, "password": "nope-nope"}
        )
    assert "Too many tries" in response.content.decode()


def test_an_unknown_address_and_a_deactivated_account_are_refused_alike(client, account):
    unknown = client.post(
        SIGN_IN, {"method": "password", "email": "x@example.invalid", "password": PASSWORD}
    )
    PatientAccount.objects.filter(pk=account.pk).update(is_active=False)
    inactive = client.post(
        SIGN_IN, {"method": "password", "email": account.email, "password": PASSWORD}
    )
    assert unknown.status_code == inactive.status_code == 400
    assert (
        "do not match" in unknown.content.decode() and "do not match" in inactive.content.decode()
    )


def test_an_idle_session_ends_on_the_next_page(client, account):
    patient_client(client, account)
    assert client.get(reverse("companion:settings")).status_code == 200
    session = client.session
    session[LAST_ACTION_KEY] -= dt.timedelta(minutes=16).total_seconds()
    session.save()
    response = client.get(reverse("companion:settings"))
    assert response.status_code == 302
    assert response["Location"] == "/me/sign-in/?next=%2Fme%2Fsettings%2F"
    assert _signed_in_as(client) is None


def test_signing_in_a_patient_signs_out_staff_on_that_browser(client, clinic, account):
    from tests.conftest import verified_client

    verified_client(client, clinic.staff["nurse"])
    client.post(SIGN_IN, {"method": "password", "email": account.email, "password": PASSWORD})
    assert _signed_in_as(client) == account.pk
    assert client.get(reverse("patients:find")).status_code == 302  # staff sign-in again


def test_the_sign_in_page_speaks_the_chosen_language(client):
    page = client.get(SIGN_IN)
    assert page["Content-Language"] == "en-gb"
    assert '<html lang="en-gb">' in page.content.decode()
    response = client.post(reverse("companion:language"), {"language": "es", "next": "/me/"})
    assert response.status_code == 302
    page = client.get(SIGN_IN)
    assert page["Content-Language"] == "es"
    assert '<html lang="es">' in page.content.decode()
    client.post(reverse("companion:language"), {"language": "klingon"})
    assert client.get(SIGN_IN)["Content-Language"] == "es"


def test_the_patient_chooses_their_language_in_settings(client, account):
    patient_client(client, account)
    response = client.post(reverse("companion:settings"), {"language": "es"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.language == "es"
    page = client.get(reverse("companion:settings"))
    assert page["Content-Language"] == "es"
    entry = AuditEntry.objects.get(action="companion.language_changed")
    assert entry.actor_label == account.audit_label and entry.patient_id == account.patient_id


def test_settings_page_links_to_everything(client, account):
    page = patient_client(client, account).get(reverse("companion:settings")).content.decode()
    for name in (
        "companion:password",
        "companion:totp_setup",
        "notify:preferences",
        "companion:sign_out",
    ):
        assert f'"{reverse(name)}"' in page, name
