"""A witness proves it is them with their own password or authenticator code; every check is audited."""

from __future__ import annotations

import time

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapstone.audit.models import AuditEntry
from kapstone.errors import InputError
from kapstone.ledger.witness import confirm_witness
from tests.conftest import PASSWORD


@pytest.fixture
def request_():
    return RequestFactory().post("/ledger/draws/1/", REMOTE_ADDR="10.0.0.7")


def confirm(clinic, request_, username: str, secret: str, actor: str = "nurse"):
    return confirm_witness(
        request=request_,
        actor=clinic.staff[actor],
        username=username,
        secret=secret,
        purpose="waste of 5 mg from draw #2",
    )


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def last_audit():
    return AuditEntry.objects.filter(action__startswith="ledger.witness").latest("seq")


def test_a_witness_confirms_with_their_password(clinic, request_):
    witness = confirm(clinic, request_, "prescriber", PASSWORD)
    assert witness == clinic.staff["prescriber"]
    entry = last_audit()
    assert (entry.action, entry.actor) == ("ledger.witness_confirmed", clinic.staff["nurse"])
    assert entry.summary == (
        "Witness prescriber for waste of 5 mg from draw #2: confirmed by password"
    )


def test_a_witness_confirms_with_the_current_authenticator_code_once(clinic, request_):
    device = TOTPDevice.objects.create(user=clinic.staff["prescriber"], name="phone")
    code = current_code(device)
    assert confirm(clinic, request_, "prescriber", code) == clinic.staff["prescriber"]
    assert last_audit().after["method"] == "authenticator code"
    with pytest.raises(InputError) as refused:
        confirm(clinic, request_, "prescriber", code)  # a code is good for one use
    assert refused.value.errors == {
        "witness_secret": [
            "That is not Prescriber Tester's password or current authenticator code."
        ]
    }


@pytest.mark.parametrize(
    ("username", "actor", "field", "message"),
    [
        ("nurse", "nurse", "witness", "The witness must be a second staff member, not you."),
        ("nobody", "nurse", "witness", "No active staff member has the username 'nobody'."),
        (
            "administrator",
            "nurse",
            "witness",
            "A witness must hold a clinical role; Administrator Tester is administrator.",
        ),
    ],
)
def test_who_cannot_witness(clinic, request_, username, actor, field, message):
    with pytest.raises(InputError) as refused:
        confirm(clinic, request_, username, PASSWORD, actor=actor)
    assert refused.value.errors == {field: [message]}
    entry = last_audit()
    assert entry.action == "ledger.witness_refused"
    assert message in entry.summary


def test_a_wrong_password_is_refused_and_audited_without_the_password(clinic, request_):
    with pytest.raises(InputError, match="not Prescriber Tester's password"):
        confirm(clinic, request_, "prescriber", "not-the-password")
    entry = last_audit()
    assert entry.action == "ledger.witness_refused"
    assert entry.after["wrong_secret"] is True
    assert "not-the-password" not in str(entry.summary) + str(entry.after)


def fail_witnessing(clinic, times: int) -> None:
    factory = RequestFactory()
    for _ in range(times):
        with pytest.raises(InputError, match="not Prescriber Tester's password"):
            confirm(
                clinic,
                factory.post("/ledger/draws/1/", REMOTE_ADDR="10.0.0.8"),
                "prescriber",
                "wrong-password-here",
            )


def test_wrong_witness_entries_stop_witnessing_but_not_sign_in(clinic, client, settings):
    from axes.models import AccessAttempt

    assert settings.WITNESS_FAILURE_LIMIT == 5
    assert settings.WITNESS_FAILURES_LOCK_SIGN_IN is False
    fail_witnessing(clinic, 5)
    request = RequestFactory().post("/ledger/draws/1/", REMOTE_ADDR="10.0.0.8")
    with pytest.raises(InputError) as refused:
        confirm(clinic, request, "prescriber", PASSWORD)  # even the right password, for a while
    assert refused.value.errors == {
        "witness_secret": [
            "Prescriber Tester cannot witness for up to 30 minutes after too many wrong entries; "
            "ask another witness."
        ]
    }
    assert last_audit().after["wrong_secret"] is False  # refusals at the limit do not extend it
    assert not AccessAttempt.objects.filter(username="prescriber").exists()
    assert not AuditEntry.objects.filter(action="auth.sign_in_failed").exists()
    signed_in = client.post(
        reverse("accounts:login"),
        {"username": "prescriber", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.8",
    )
    assert signed_in.status_code == 302  # their own sign-in is untouched


def test_wrong_authenticator_codes_count_and_leave_the_sign_in_throttle_alone(clinic, settings):
    settings.WITNESS_FAILURE_LIMIT = 2
    device = TOTPDevice.objects.create(user=clinic.staff["prescriber"], name="phone")
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
    for _ in range(2):
        with pytest.raises(InputError, match="not Prescriber Tester's password"):
            confirm(clinic, RequestFactory().post("/"), "prescriber", wrong)
    device.refresh_from_db()
    assert device.throttling_failure_count == 0
    with pytest.raises(InputError, match="cannot witness"):
        confirm(clinic, RequestFactory().post("/"), "prescriber", current_code(device))


def test_a_confirmed_witness_starts_the_count_again(clinic, settings):
    settings.WITNESS_FAILURE_LIMIT = 3
    fail_witnessing(clinic, 2)
    assert confirm(clinic, RequestFactory().post("/"), "prescriber", PASSWORD)
    fail_witnessing(clinic, 2)  # four in the window, two since the success
    assert confirm(clinic, RequestFactory().post("/"), "prescriber", PASSWORD)


def test_wrong_entries_older_than_the_window_no_longer_count(clinic, settings):
    settings.WITNESS_FAILURE_LIMIT = 3
    fail_witnessing(clinic, 3)
    with pytest.raises(InputError, match="cannot witness"):
        confirm(clinic, RequestFactory().post("/"), "prescriber", PASSWORD)
    settings.WITNESS_LOCKOUT_MINUTES = 0  # as if the window had passed
    assert confirm(clinic, RequestFactory().post("/"), "prescriber", PASSWORD)


def test_the_clinic_can_count_witness_failures_at_sign_in(clinic, settings):
    from axes.models import AccessAttempt

    settings.WITNESS_FAILURES_LOCK_SIGN_IN = True
    fail_witnessing(clinic, 1)
    assert AccessAttempt.objects.get(username="prescriber").failures_since_start == 1


def test_a_locked_witness_is_told_apart_without_the_lockout_page(clinic, settings):
    settings.WITNESS_FAILURES_LOCK_SIGN_IN = True
    settings.AXES_FAILURE_LIMIT = 2
    factory = RequestFactory()
    for _ in range(2):
        request = factory.post("/ledger/draws/1/", REMOTE_ADDR="10.0.0.8")
        with pytest.raises(InputError):
            confirm(clinic, request, "prescriber", "wrong-password-here")
    # The failure that locked the account does not turn the nurse's page into the lockout screen.
    assert getattr(request, "axes_locked_out", False) is False
    request = factory.post("/ledger/draws/1/", REMOTE_ADDR="10.0.0.8")
    with pytest.raises(InputError) as refused:
        confirm(clinic, request, "prescriber", PASSWORD)
    assert "locked after too many wrong attempts" in refused.value.errors["witness_secret"][0]


def test_both_fields_are_required(clinic, request_):
    with pytest.raises(InputError) as refused:
        confirm(clinic, request_, " ", "")
    assert set(refused.value.errors) == {"witness", "witness_secret"}
