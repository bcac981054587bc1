"""A second staff member witnesses a waste, a destruction or a receipt on the same screen.

They type their username and either their password or their authenticator's current code; the
check is audited whether it succeeds or not (never the secret itself). Wrong entries count against a
witness limit of their own (``WITNESS_FAILURE_LIMIT`` within ``WITNESS_LOCKOUT_MINUTES``, counted from
the audit trail since their last confirmed witness): past it, that colleague cannot witness until the
window passes. A tired nurse mistyping at the bedside must not lock a colleague out of signing in, so
these failures reach django-axes and django-otp's throttle only when the clinic sets
``WITNESS_FAILURES_LOCK_SIGN_IN``. A sign-in lockout that is already in force still stops them
witnessing by password.
"""

from __future__ import annotations

import re
from datetime import timedelta

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapstone.accounts.models import StaffUser
from kapstone.audit.models import AuditEntry
from kapstone.audit.trail import record
from kapstone.clinical.access import CLINICAL_ROLES
from kapstone.errors import InputError

CODE = re.compile(r"\d{6}")


class _Locked(Exception):
    pass


class _WitnessLimit(Exception):
    pass


def _witness_attempts(witness: StaffUser) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(
        action__in=("ledger.witness_refused", "ledger.witness_confirmed"),
        object_type=witness._meta.label_lower,
        object_id=str(witness.pk),
    )


def wrong_witness_entries(witness: StaffUser) -> int:
    """Wrong passwords or codes typed for this witness within the window, since they last witnessed."""
    since = timezone.now() - timedelta(minutes=settings.WITNESS_LOCKOUT_MINUTES)
    attempts = _witness_attempts(witness).filter(at__gte=since)
    last_good = attempts.filter(action="ledger.witness_confirmed").order_by("-seq").first()
    if last_good is not None:
        attempts = attempts.filter(seq__gt=last_good.seq)
    return attempts.filter(action="ledger.witness_refused", after__wrong_secret=True).count()


def _code_checks_out(witness: StaffUser, code: str) -> bool:
    for device in TOTPDevice.objects.filter(user=witness, confirmed=True):
        throttle = (device.throttling_failure_count, device.throttling_failure_timestamp)
        if device.verify_token(code):
            return True
        if not settings.WITNESS_FAILURES_LOCK_SIGN_IN:
            # django-otp counted the miss towards this person's sign-in throttle; take it back.
            TOTPDevice.objects.filter(pk=device.pk).update(
                throttling_failure_count=throttle[0], throttling_failure_timestamp=throttle[1]
            )
    return False


def _checked_by(request: HttpRequest, witness: StaffUser, secret: str) -> str | None:
    """How the witness proved it was them ('authenticator code' or 'password'), or None."""
    if wrong_witness_entries(witness) >= settings.WITNESS_FAILURE_LIMIT:
        raise _WitnessLimit
    if CODE.fullmatch(secret):
        # Six digits cannot be a password here (at least 12 characters, not all digits).
        return "authenticator code" if _code_checks_out(witness, secret) else None
    credentials = {"username": witness.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        raise _Locked
    if not settings.WITNESS_FAILURES_LOCK_SIGN_IN:
        # Checked directly, so neither axes nor the sign-in audit counts a wrong witness password.
        return "password" if witness.check_password(secret) else None
    user = authenticate(request, username=witness.get_username(), password=secret)
    if getattr(request, "axes_locked_out", False):
        # This failure locked the witness's account; say so here rather than let axes' middleware
        # replace the whole page with the sign-in lockout screen meant for the person signed in.
        request.axes_locked_out = False  # type: ignore[attr-defined]
        raise _Locked
    if user is not None and user.pk == witness.pk:
        return "password"
    return None


def confirm_witness(
    *, request: HttpRequest, actor: StaffUser, username: str, secret: str, purpose: str
) -> StaffUser:
    """The witnessing staff member once their credentials check out; InputError otherwise.

    ``purpose`` says what is witnessed (for the audit row), e.g. "waste of 5 mg from draw #12".
    """
    username = (username or "").strip()
    secret = (secret or "").strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["witness"] = ["Enter the witnessing staff member's username."]
    if not secret:
        errors["witness_secret"] = [
            "The witness enters their own password or their authenticator's current code."
        ]
    if errors:
        raise InputError(errors)
    witness = StaffUser.objects.filter(username=username, is_active=True).first()
    field, problem, method, wrong_secret = "witness", "", None, False
    if witness is None:
        problem = f"No active staff member has the username {username!r}."
    elif witness.pk == actor.pk:
        problem = "The witness must be a second staff member, not you."
    elif witness.staff_role not in CLINICAL_ROLES:
        problem = (
            f"A witness must hold a clinical role; {witness.display_name} is "
            f"{witness.staff_role.label.lower()}."
        )
    else:
        try:
            method = _checked_by(request, witness, secret)
        except _Locked:
            field = "witness_secret"
            problem = (
                f"{witness.display_name}'s account is locked after too many wrong attempts; "
                "ask another witness."
            )
        except _WitnessLimit:
            field = "witness_secret"
            problem = (
                f"{witness.display_name} cannot witness for up to "
                f"{settings.WITNESS_LOCKOUT_MINUTES} minutes after too many wrong entries; "
                "ask another witness."
            )
        else:
            if method is None:
                field, wrong_secret = "witness_secret", True
                problem = (
                    f"That is not {witness.display_name}'s password or current authenticator code."
                )
    record(
        actor=actor,
        action="ledger.witness_refused" if problem else "ledger.witness_confirmed",
        obj=witness,
        summary=(
            f"Witness {username} for {purpose}: "
            + (problem if problem else f"confirmed by {method}")
        ),
        after={
            "witness": username,
            "purpose": purpose,
            "method": method,
            "refused": problem,
            "wrong_secret": wrong_secret,
        },
    )
    if problem:
        raise InputError.single(field, problem)
    assert witness is not None
    return witness
