"""The one place the shell enforces access: every view is wrapped by exactly one of these decorators.

The decision itself is the core's (:mod:`kapstone.clinical.access`); this module only loads what the
decision needs (the user's role, the patient's care team) and turns "no" into a response. The role ×
URL test walks every URL and fails on any view that is not wrapped.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, Protocol, TypeGuard, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.clinical.access import PATIENT_SCOPED, Permission, may, role_may
from kapstone.patients.selectors import patient_or_404
from kapstone.web.http import AuthenticatedHttpRequest

# A view as written: its first argument is the request of a signed-in member of staff (the
# decorators below have checked that before it runs); the rest are the URL's, with the patient
# loaded in place of its id.
StaffView = Callable[Concatenate[AuthenticatedHttpRequest, ...], HttpResponseBase]


class GuardedView(Protocol):
    """A view as the URLconf sees it once :func:`requires` has wrapped it; the role × URL test and
    the chart's tabs read which permission guards it."""

    kapstone_permission: Permission
    kapstone_patient_kwarg: str | None

    def __call__(self, request: HttpRequest, /, *args: Any, **kwargs: Any) -> HttpResponseBase: ...


class SignInStep(Protocol):
    """A view of the sign-in steps (:func:`signed_in_only`), open before the second factor."""

    kapstone_access: str

    def __call__(self, request: HttpRequest, /, *args: Any, **kwargs: Any) -> HttpResponseBase: ...


def signed_in(request: HttpRequest) -> TypeGuard[AuthenticatedHttpRequest]:
    """Whether a member of staff is signed in: the anonymous user is not a :class:`StaffUser`."""
    return isinstance(request.user, StaffUser)


def mfa_satisfied(request: AuthenticatedHttpRequest) -> bool:
    """Staff must have passed a second factor this session; only demo mode waives it."""
    return bool(settings.DEMO_MODE) or request.user.is_verified()


def _sign_in_again(request: HttpRequest) -> HttpResponse:
    """To the sign-in page; an htmx fragment (a poll on an idled-out page) sends the whole page
    there, rather than swapping the sign-in form into a banner."""
    if request.headers.get("HX-Request"):
        page = request.headers.get("HX-Current-URL", "")
        path = urlsplit(page).path or "/"
        login = redirect_to_login(path)
        return HttpResponseClientRedirect(login["Location"])
    return redirect_to_login(request.get_full_path())


def _deny(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "web/403.html", {"reason": reason}, status=403)


def requires(
    permission: Permission, *, patient_kwarg: str | None = None
) -> Callable[[StaffView], GuardedView]:
    """Lets the view run only for a signed-in, MFA-verified user whose role (and care team) allows it.

    With ``patient_kwarg`` the URL's patient id is loaded and handed to the view as ``patient``.
    """
    if (permission in PATIENT_SCOPED) != (patient_kwarg is not None):
        raise ValueError(f"{permission}: patient-scoped permissions need patient_kwarg, others not")

    def decorator(view: StaffView) -> GuardedView:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not signed_in(request):
                return _sign_in_again(request)
            user = request.user
            if not mfa_satisfied(request):
                return redirect(f"{reverse('accounts:mfa')}?{urlencode({'next': request.path})}")
            if user.must_change_password:
                return redirect(
                    f"{reverse('accounts:password_change')}?{urlencode({'next': request.path})}"
                )
            role = user.staff_role
            if not role_may(role, permission):
                return _deny(request, f"Your role ({role.label}) does not allow this.")
            if patient_kwarg is not None:
                patient = patient_or_404(kwargs[patient_kwarg])
                on_team = user.pk in patient.care_team_ids()
                if not may(role, permission, on_care_team=on_team):
                    record(
                        actor=user,
                        action="access.denied",
                        patient=patient,
                        summary=f"Not on the care team: {permission.value} refused",
                    )
                    return _deny(request, "You are not on this patient's care team.")
                del kwargs[patient_kwarg]
                kwargs["patient"] = patient
            return view(request, *args, **kwargs)

        marked = cast(GuardedView, guarded)  # it is one once it carries the two marks below
        marked.kapstone_permission = permission
        marked.kapstone_patient_kwarg = patient_kwarg
        return marked

    return decorator


def signed_in_only(view: StaffView) -> SignInStep:
    """For the sign-in steps themselves (MFA set-up and check): a password login, no MFA yet."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not signed_in(request):
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    marked = cast(SignInStep, guarded)  # it is one once it carries the mark below
    marked.kapstone_access = "signed_in"
    return marked


def public[V: Callable[..., HttpResponseBase]](view: V) -> V:
    """Open to anyone: sign-in, health check. Nothing about patients."""
    setattr(view, "kapstone_access", "public")  # noqa: B010
    return view
