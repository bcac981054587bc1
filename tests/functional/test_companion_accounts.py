"""A patient's companion account, end to end on a phone: the nurse invites Ada from her chart; Ada
opens the e-mailed link, chooses a password, signs out, signs in with it, turns on an authenticator
app, and signs in again with an e-mailed link and a code. axe checks every page on the way."""

from __future__ import annotations

import base64
import re
import time
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django_otp.oath import TOTP

from kapstone.accounts.models import Site
from kapstone.clinical.access import Role
from kapstone.companion.models import PatientAccount
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible
from tests.functional.test_intake_to_plan import sign_in as staff_sign_in
from tests.functional.test_questionnaire_link import PHONE, fits_the_screen, watched_page
from tests.functional.test_suicide_risk_alert import staff_member

pytestmark = pytest.mark.functional
ADA_PASSWORD = "lantern-harbour-teacup-42"
LINK = re.compile(r"https?://\S+?(/me/sign-in/link/[A-Za-z0-9_-]+/)")


def code(secret: str, *, steps_ahead: int) -> str:
    """The authenticator app's code, a step or more ahead (a code is accepted only once)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    generator = TOTP(key, step=30, t0=0, digits=6)
    generator.time = time.time() + 30 * steps_ahead
    return f"{generator.token():06d}"


def newest_link(base: str) -> str:
    found = LINK.search(mail.outbox[-1].body)
    assert found, mail.outbox[-1].body
    return base + found.group(1)


def checked(page) -> None:
    assert_accessible(page)
    assert fits_the_screen(page), page.url


def test_invited_from_the_chart_then_link_password_and_authenticator(live_server, browser):
    site = Site.objects.create(name="Riverside Clinic")
    nurse, secret = staff_member("nkhan", Role.NURSE, site, "Nadia", "Khan")
    patient = make_patient(
        by=nurse, mrn="KAP-7301", site=site, nurse=nurse, email="ada@example.invalid"
    )
    base = live_server.url

    # The nurse, on her tablet, invites Ada from the chart's Companion tab.
    desk = browser.new_context(viewport={"width": 1024, "height": 1366})
    tablet = watched_page(desk)
    staff_sign_in(tablet, base, "nkhan", secret)
    tablet.goto(f"{base}/patients/{patient.pk}/")
    tablet.get_by_role("link", name="Companion", exact=True).click()
    tablet.get_by_role("heading", name="Invite to the companion").wait_for()
    assert tablet.get_by_label("Patient's e-mail address").input_value() == "ada@example.invalid"
    assert_accessible(tablet)
    tablet.get_by_role("button", name="Send invitation").click()
    tablet.get_by_text("Invited, not signed in yet").wait_for()
    assert_accessible(tablet)
    desk.close()
    assert mail.outbox[-1].to == ["ada@example.invalid"]

    # Ada, on her phone, opens the link and chooses a password.
    phone_context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone = watched_page(phone_context)
    phone.goto(newest_link(base))
    phone.get_by_role("heading", name="Welcome").wait_for()
    checked(phone)
    phone.get_by_role("button", name="Continue").click()
    phone.get_by_role("heading", name="Welcome to your program").wait_for()
    checked(phone)
    phone.get_by_label("New password").fill("short")
    phone.get_by_label("The same password again").fill("short")
    phone.get_by_role("button", name="Save password").click()
    phone.get_by_text("This password is too short").wait_for()
    checked(phone)
    phone.get_by_label("New password").fill(ADA_PASSWORD)
    phone.get_by_label("The same password again").fill(ADA_PASSWORD)
    phone.get_by_role("button", name="Save password").click()
    phone.get_by_role("heading", name="Hello, Ada").wait_for()
    checked(phone)
    assert PatientAccount.objects.get().status == "active"

    # She signs out, and back in with her password.
    phone.get_by_role("button", name="Sign out").click()
    phone.get_by_text("You are signed out.").wait_for()
    checked(phone)
    by_password = phone.locator("form", has=phone.get_by_role("button", name="Sign in"))
    by_password.get_by_label("Your e-mail address").fill("ada@example.invalid")
    by_password.get_by_label("Password").fill("not-my-password")
    by_password.get_by_role("button", name="Sign in").click()
    phone.get_by_text("do not match").wait_for()
    checked(phone)
    by_password = phone.locator("form", has=phone.get_by_role("button", name="Sign in"))
    by_password.get_by_label("Password").fill(ADA_PASSWORD)
    by_password.get_by_role("button", name="Sign in").click()
    phone.get_by_role("heading", name="Hello, Ada").wait_for()

    # In her settings she turns on an authenticator app.
    phone.goto(f"{base}/me/settings/")
    phone.get_by_role("heading", name="Settings", level=1).wait_for()
    checked(phone)
    phone.get_by_role("link", name="Add an authenticator app").click()
    phone.get_by_role("heading", name="Add an authenticator app").wait_for()
    checked(phone)
    ada_secret = phone.locator("#totp-secret").inner_text()
    phone.get_by_label("6-digit code from your authenticator app").fill(
        code(ada_secret, steps_ahead=0)
    )
    phone.get_by_role("button", name="Turn on").click()
    phone.get_by_text("Authenticator app: on.").wait_for()
    checked(phone)
    phone.get_by_role("button", name="Sign out").first.click()

    # Next time: an e-mailed link, then the code.
    phone.get_by_text("You are signed out.").wait_for()
    by_link = phone.locator("form", has=phone.get_by_role("button", name="E-mail me a link"))
    by_link.get_by_label("Your e-mail address").fill("ada@example.invalid")
    by_link.get_by_role("button", name="E-mail me a link").click()
    phone.get_by_role("heading", name="Check your e-mail").wait_for()
    checked(phone)
    phone.goto(newest_link(base))
    phone.get_by_role("button", name="Continue").click()
    phone.get_by_role("heading", name="One more step").wait_for()
    checked(phone)
    phone.get_by_label("6-digit code from your authenticator app").fill(
        code(ada_secret, steps_ahead=1)
    )
    phone.get_by_role("button", name="Continue").click()
    phone.get_by_role("heading", name="Hello, Ada").wait_for()
    assert urlsplit(phone.url).path == "/me/"
    checked(phone)
    phone_context.close()


def test_a_passkey_added_on_the_phone_is_asked_for_at_the_next_sign_in(
    live_server, browser, settings
):
    """Chromium's virtual authenticator (DevTools WebAuthn domain) stands in for the phone's: the
    page's own script runs both ceremonies and py_webauthn verifies them."""
    from tests.companion.support import make_account, patient_cookie

    site = Site.objects.create(name="Riverside Clinic")
    nurse, _ = staff_member("nkhan", Role.NURSE, site, "Nadia", "Khan")
    patient = make_patient(by=nurse, mrn="KAP-7302", site=site, nurse=nurse)
    account = make_account(patient=patient, by=nurse, email="ada@example.invalid")
    base = live_server.url
    host = urlsplit(base).hostname
    settings.COMPANION_PASSKEY_RP_ID = host
    settings.COMPANION_PASSKEY_ORIGINS = [base]

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone = watched_page(context)
    devtools = context.new_cdp_session(phone)
    devtools.send("WebAuthn.enable")
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    context.add_cookies([patient_cookie(account, base)])
    phone.goto(f"{base}/me/settings/")
    phone.get_by_label("Name for this passkey (for example, My phone)").fill("My phone")
    checked(phone)
    phone.get_by_role("button", name="Add a passkey").click()
    phone.get_by_text("Passkey added.").wait_for()
    phone.get_by_role("button", name="Remove My phone").wait_for()
    checked(phone)

    # A new sign-in (the first factor passed) stops at the passkey.
    context.clear_cookies()
    context.add_cookies([patient_cookie(account, base)])
    phone.goto(f"{base}/me/")
    phone.get_by_role("heading", name="One more step").wait_for()
    checked(phone)
    phone.get_by_role("button", name="Use my passkey").click()
    phone.get_by_role("heading", name="Hello, Ada").wait_for()
    assert account.companion_passkeys.get().last_used_at is not None
    context.close()
