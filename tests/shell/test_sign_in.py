"""Sign-in: password, then a TOTP or backup code; lockout; Argon2; idle expiry; the demo waiver."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapstone.accounts.models import StaffUser
from kapstone.audit.models import AuditEntry
from tests.conftest import PASSWORD


def code_for(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    """The code an authenticator app would show now (or ``offset_steps`` periods later)."""
    generator = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    generator.time = timezone.now().timestamp() + offset_steps * device.step
    return f"{generator.token():0{device.digits}d}"


def sign_in(client, username: str, password: str = PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_first_sign_in_enrols_an_authenticator_and_shows_backup_codes(clinic, client):
    response = sign_in(client, "nurse")
    assert response.status_code == 302
    # The password alone opens nothing.
    assert client.get(reverse("patients:find"))["Location"].startswith(reverse("accounts:mfa"))
    assert client.get(reverse("accounts:mfa"))["Location"] == reverse("accounts:mfa_setup")
    page = client.get(reverse("accounts:mfa_setup"))
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=clinic.staff["nurse"], confirmed=False)
    wrong = client.post(reverse("accounts:mfa_setup"), {"token": "000000"})
    assert "does not match" in wrong.content.decode()
    device.refresh_from_db()
    device.throttle_reset()  # django-otp refuses retries within a second; a person takes longer
    confirmed = client.post(reverse("accounts:mfa_setup"), {"token": code_for(device)})
    assert confirmed.status_code == 200
    assert len(confirmed.context["codes"]) == 10
    assert client.get(reverse("patients:find")).status_code == 200
    assert AuditEntry.objects.filter(action="mfa.enrolled", actor=clinic.staff["nurse"]).exists()


@pytest.fixture
def enrolled(clinic, client):
    """The nurse with a confirmed authenticator and backup codes, signed out."""
    sign_in(client, "nurse")
    device = TOTPDevice.objects.create(user=clinic.staff["nurse"], name="phone", confirmed=False)
    codes = client.post(reverse("accounts:mfa_setup"), {"token": code_for(device)}).context["codes"]
    client.post(reverse("accounts:logout"))
    device.refresh_from_db()
    return device, codes


def test_a_code_cannot_be_used_twice(enrolled, client):
    device, _ = enrolled
    sign_in(client, "nurse")
    # The enrolment already used this period's code.
    replay = client.post(reverse("accounts:mfa"), {"token": code_for(device)})
    assert replay.status_code == 200 and "not right" in replay.content.decode()


def test_later_sign_ins_ask_for_a_code(enrolled, client):
    device, _ = enrolled
    sign_in(client, "nurse")
    assert client.get(reverse("accounts:mfa")).status_code == 200
    bad = client.post(reverse("accounts:mfa"), {"token": "123456"})
    assert "not right" in bad.content.decode()
    device.refresh_from_db()
    device.throttle_reset()
    assert client.get(reverse("patients:find")).status_code == 302
    ok = client.post(
        reverse("accounts:mfa"), {"token": code_for(device, offset_steps=1), "next": "/patients/"}
    )
    assert ok["Location"] == "/patients/"
    assert client.get(reverse("patients:find")).status_code == 200


def test_every_second_factor_attempt_is_in_the_audit_trail(enrolled, client):
    device, _ = enrolled
    nurse = device.user
    sign_in(client, "nurse")
    client.post(reverse("accounts:mfa"), {"token": "123456"})
    device.refresh_from_db()
    device.throttle_reset()
    client.post(reverse("accounts:mfa"), {"token": code_for(device, offset_steps=1)})
    attempts = AuditEntry.objects.filter(actor=nurse, action__startswith="auth.mfa_").order_by(
        "seq"
    )
    assert [(e.action, e.summary) for e in attempts] == [
        ("auth.mfa_failed", ""),
        ("auth.mfa_verified", "TOTPDevice"),
    ]


def test_a_backup_code_works_once(enrolled, client):
    _, codes = enrolled
    sign_in(client, "nurse")
    assert client.post(reverse("accounts:mfa"), {"token": codes[0]}).status_code == 302
    client.post(reverse("accounts:logout"))
    sign_in(client, "nurse")
    again = client.post(reverse("accounts:mfa"), {"token": codes[0]})
    assert again.status_code == 200 and "not right" in again.content.decode()


def test_an_open_redirect_is_refused_after_mfa(enrolled, client):
    device, _ = enrolled
    sign_in(client, "nurse")
    response = client.post(
        reverse("accounts:mfa"),
        {"token": code_for(device, offset_steps=1), "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_repeated_failures_lock_the_account(clinic, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "nurse", "wrong-password").status_code == 200
    assert sign_in(client, "nurse", "wrong-password").status_code == 429
    locked = sign_in(client, "nurse")  # even the right password is refused now
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert (
        AuditEntry.objects.filter(action="auth.sign_in_failed").count()
        >= settings.AXES_FAILURE_LIMIT
    )


def test_passwords_are_hashed_with_argon2(db, settings):
    # The suite hashes with MD5 for speed (tests/conftest.py), so read Kapstone's own settings.
    from django.contrib.auth.hashers import make_password

    import kapstone.settings as kapstone_settings

    assert kapstone_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    settings.PASSWORD_HASHERS = kapstone_settings.PASSWORD_HASHERS
    assert make_password("a long enough passphrase").startswith("argon2$argon2id$")


def test_idle_sessions_expire(clinic, as_role, settings):
    assert "kapstone.web.middleware.IdleTimeoutMiddleware" in settings.MIDDLEWARE
    assert settings.SESSION_COOKIE_AGE <= 30 * 60
    client = as_role("prescriber")
    assert client.get(reverse("patients:find")).status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get(reverse("patients:find"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/sign-in/")


def test_each_request_pushes_the_idle_expiry_forward(clinic, as_role):
    client = as_role("prescriber")
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + dt.timedelta(minutes=1)
    )
    client.get(reverse("patients:find"))
    assert Session.objects.get(session_key=key).expire_date > timezone.now() + dt.timedelta(
        minutes=10
    )


def test_background_polls_do_not_keep_an_idle_session_alive(clinic, as_role):
    """A tablet left on a page that polls (alert banner, chair-side alerts) still signs out."""
    client = as_role("nurse")
    key = client.session.session_key
    soon = timezone.now() + dt.timedelta(minutes=1)
    Session.objects.filter(session_key=key).update(expire_date=soon)
    poll = client.get(
        reverse("safety:banner"), headers={"HX-Request": "true", "X-Kapstone-Poll": "1"}
    )
    assert poll.status_code == 200
    assert Session.objects.get(session_key=key).expire_date == soon
    client.get(reverse("safety:banner"), headers={"HX-Request": "true"})  # a click, not a timer
    assert Session.objects.get(session_key=key).expire_date > timezone.now() + dt.timedelta(
        minutes=10
    )


def test_a_poll_after_the_session_ended_sends_the_whole_page_to_sign_in(clinic, as_role):
    client = as_role("nurse")
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get(
        reverse("safety:banner"),
        headers={
            "HX-Request": "true",
            "X-Kapstone-Poll": "1",
            "HX-Current-URL": "http://testserver/alerts/?x=1",
        },
    )
    assert response["HX-Redirect"] == "/accounts/sign-in/?next=/alerts/"


def test_every_timed_refresh_says_it_is_a_poll():
    """A template that polls without the header would keep idle sessions alive forever."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2] / "src" / "kapstone"
    polling = re.compile(r"<[^>]*hx-trigger=\"[^\"]*every [^>]*>", re.S)
    tags = [
        (path.name, tag)
        for path in root.rglob("*.html")
        for tag in polling.findall(path.read_text())
    ]
    assert len(tags) >= 6
    assert [name for name, tag in tags if "X-Kapstone-Poll" not in tag] == []


def test_demo_mode_waives_mfa_and_says_so(clinic, client, settings):
    settings.DEMO_MODE = True
    sign_in(client, "nurse")
    page = client.get(reverse("patients:find"))
    assert page.status_code == 200
    assert "Multi-factor sign-in is switched off in demo mode" in page.content.decode()


def test_outside_demo_mode_there_is_no_banner(clinic, as_role):
    page = as_role("nurse").get(reverse("patients:find"))
    assert "demo mode" not in page.content.decode()


def test_administrator_creates_a_therapist_with_credentials(clinic, as_role):
    client = as_role("administrator")
    response = client.post(
        reverse("accounts:staff_create"),
        {
            "username": "newtherapist",
            "first_name": "Noa",
            "last_name": "Levi",
            "email": "noa@example.invalid",
            "role": "therapist",
            "credentials": "LCSW",
            "sites": [clinic.sites[0].pk],
            "modalities": ["emdr", "ifs"],
            "password": "a-sufficiently-long-passphrase",
        },
    )
    assert response.status_code == 302
    user = StaffUser.objects.get(username="newtherapist")
    assert {m.value for m in user.modalities()} == {"emdr", "ifs"}
    assert AuditEntry.objects.filter(action="staff.created", object_id=str(user.pk)).exists()


def test_only_therapists_hold_modality_credentials(clinic, as_role):
    client = as_role("administrator")
    response = client.post(
        reverse("accounts:staff_create"),
        {
            "username": "nursex",
            "first_name": "N",
            "last_name": "X",
            "email": "n@example.invalid",
            "role": "nurse",
            "sites": [clinic.sites[0].pk],
            "modalities": ["emdr"],
            "password": "a-sufficiently-long-passphrase",
        },
    )
    assert "Only therapists hold" in response.content.decode()
    assert not StaffUser.objects.filter(username="nursex").exists()


def test_administrator_adds_a_site_and_a_duplicate_is_refused(clinic, as_role):
    from kapstone.accounts.models import Site

    client = as_role("administrator")
    data = {
        "name": "Westbrook Annex",
        "address": "55 Main St",
        "phone": "",
        "time_zone": "America/New_York",
    }
    assert client.post(reverse("accounts:sites"), data).status_code == 302
    assert Site.objects.filter(name="Westbrook Annex").exists()
    assert AuditEntry.objects.filter(action="site.added").exists()
    again = client.post(reverse("accounts:sites"), data | {"name": "westbrook annex"})
    assert "already a site called" in again.content.decode()
    assert Site.objects.filter(name__iexact="westbrook annex").count() == 1
