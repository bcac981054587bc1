"""kapstone bootstrap, the forced password change, and the demo commands' production refusal."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from kapstone.accounts.models import Site, StaffUser
from kapstone.audit.models import AuditEntry
from kapstone.patients.models import Patient

pytestmark = pytest.mark.django_db

ARGS = [
    "--director", "dr.lee", "--director-email", "lee@clinic.example",
    "--administrator", "it.kim", "--administrator-email", "kim@clinic.example",
]  # fmt: skip


def bootstrap(*args: str) -> dict[str, str]:
    out = StringIO()
    call_command("bootstrap", *args, stdout=out)
    return dict(re.findall(r"username (\S+)\s+one-time password (\S+)", out.getvalue()))


def test_bootstrap_creates_the_director_and_administrator_with_one_time_passwords():
    passwords = bootstrap(*ARGS, "--site", "Main clinic")
    director = StaffUser.objects.get(username="dr.lee")
    admin = StaffUser.objects.get(username="it.kim")
    assert (director.role, admin.role) == ("medical_director", "administrator")
    assert director.must_change_password and admin.must_change_password
    assert director.check_password(passwords["dr.lee"]) and admin.check_password(
        passwords["it.kim"]
    )
    assert passwords["dr.lee"] != passwords["it.kim"] and len(passwords["dr.lee"]) >= 24
    assert passwords["dr.lee"] not in director.password  # stored hashed
    site = Site.objects.get(name="Main clinic")
    assert set(site.staff.all()) == {director, admin}
    assert AuditEntry.objects.filter(action="staff.created").count() == 2


def test_bootstrap_refuses_when_staff_exist_unless_told_to_add():
    bootstrap(*ARGS)
    with pytest.raises(CommandError, match="Staff accounts exist already"):
        call_command("bootstrap", "--director", "dr.two", "--director-email", "two@clinic.example")
    assert not StaffUser.objects.filter(username="dr.two").exists()
    added = bootstrap("--director", "dr.two", "--director-email", "two@clinic.example", "--add")
    assert set(added) == {"dr.two"}
    assert StaffUser.objects.get(username="dr.two").must_change_password


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (ARGS[:4], "both a medical director and an administrator"),
        (ARGS[:2] + ARGS[4:], "--director and --director-email go together"),
        ([*ARGS[:3], "not-an-address", *ARGS[4:]], "is not an e-mail address"),
        ([*ARGS[:5], "dr.lee", *ARGS[6:]], "The usernames must differ"),
    ],
)
def test_bootstrap_refuses_bad_input_and_writes_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("bootstrap", *args, "--site", "Main clinic")
    assert not StaffUser.objects.exists() and not Site.objects.exists()
    assert not AuditEntry.objects.exists()


def _sign_in(client, username, password):
    response = client.post(reverse("accounts:login"), {"username": username, "password": password})
    assert response.status_code == 302


def test_a_one_time_password_must_be_changed_before_the_authenticator_and_anything_else(
    client, settings
):
    passwords = bootstrap(*ARGS)
    _sign_in(client, "dr.lee", passwords["dr.lee"])
    # Every page, and the authenticator set-up, lead to the password change first.
    home = client.get("/")
    assert home.status_code == 302 and home["Location"].startswith("/accounts/mfa/")
    setup = client.get(reverse("accounts:mfa_setup"))
    assert setup["Location"] == reverse("accounts:password_change")

    page = client.get(reverse("accounts:password_change"))
    assert b"one-time password" in page.content

    refused = client.post(
        reverse("accounts:password_change"),
        {"old_password": "wrong", "new_password": "x", "new_password_again": "x"},
    )
    assert refused.status_code == 200 and b"not your current password" in refused.content
    same = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": passwords["dr.lee"],
            "new_password": passwords["dr.lee"],
            "new_password_again": passwords["dr.lee"],
        },
    )
    assert b"different from the current one" in same.content
    short = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": passwords["dr.lee"],
            "new_password": "short",
            "new_password_again": "short",
        },
    )
    assert b"too short" in short.content
    assert StaffUser.objects.get(username="dr.lee").must_change_password

    changed = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": passwords["dr.lee"],
            "new_password": "a-new-long-passphrase-42",
            "new_password_again": "a-new-long-passphrase-42",
        },
    )
    assert changed.status_code == 302
    user = StaffUser.objects.get(username="dr.lee")
    assert not user.must_change_password and user.check_password("a-new-long-passphrase-42")
    assert AuditEntry.objects.filter(action="auth.password_changed", actor=user).exists()
    # Still signed in; next comes the authenticator (forced outside demo mode).
    assert client.get(reverse("accounts:mfa_setup")).status_code == 200
    assert client.get("/")["Location"].startswith("/accounts/mfa/")


def test_in_demo_mode_the_password_change_is_still_forced(client, settings):
    settings.DEMO_MODE = True
    passwords = bootstrap(*ARGS)
    _sign_in(client, "dr.lee", passwords["dr.lee"])
    assert client.get("/")["Location"].startswith(reverse("accounts:password_change"))


def test_an_account_with_an_authenticator_proves_it_before_changing_its_password(client, clinic):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.conftest import PASSWORD

    nurse = clinic.staff["nurse"]
    TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    _sign_in(client, nurse.username, PASSWORD)
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/")


@pytest.mark.parametrize("command", ["demo_clinic", "demo_network"])
def test_the_demo_commands_refuse_the_production_profile(command, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refused under KAPSTONE_PROFILE=production"):
        call_command(command, "--patients", "3")
    assert not Site.objects.exists() and not StaffUser.objects.exists()
    assert not Patient.objects.exists()
