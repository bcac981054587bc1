"""The one place the shell enforces access: every view is wrapped by exactly one of these decorators.

The decision itself is the core's (:mod:`kapstone.clinical.access`); this module only loads what the
decision needs (the user's role, the patient's care team) and turns "no" into a response. The role ×
URL test walks every URL and fails on any view that is not wrapped.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

from kapstone.audit.trail import record
from kapstone.clinical.access import PATIENT_SCOPED, Permission, may, role_may
from kapstone.patients.models import Patient

View = Callable[..., HttpResponse]


def mfa_satisfied(request: HttpRequest) -> bool:
    """Staff must have passed a second factor this session; only demo mode waives it."""
    return bool(settings.DEMO_MODE or request.user.is_verified())  # type: ignore[union-attr]


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


def requires(permission: Permission, *, patient_kwarg: str | None = None) -> Callable[[View], View]:
    """Lets the view run only for a signed-in, MFA-verified user whose role (and care team) allows it.

    With ``patient_kwarg`` the URL's patient id is loaded and handed to the view as ``patient``.
    """
    if (permission in PATIENT_SCOPED) != (patient_kwarg is not None):
        raise ValueError(f"{permission}: patient-scoped permissions need patient_kwarg, others not")

    def decorator(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return _sign_in_again(request)
            if not mfa_satisfied(request):
                return redirect(f"{reverse('accounts:mfa')}?{urlencode({'next': request.path})}")
            if user.must_change_password:  # type: ignore[union-attr]
                return redirect(
                    f"{reverse('accounts:password_change')}?{urlencode({'next': request.path})}"
                )
            role = user.staff_role  # type: ignore[union-attr]
            if not role_may(role, permission):
                return _deny(request, f"Your role ({role.label}) does not allow this.")
            if patient_kwarg is not None:
                patient = get_object_or_404(Patient, pk=kwargs[patient_kwarg])
                on_team = user.pk in patient.care_team_ids()
                if not may(role, permission, on_care_team=on_team):
                    record(
                        actor=user,  # type: ignore[arg-type]
                        action="access.denied",
                        patient=patient,
                        summary=f"Not on the care team: {permission.value} refused",
                    )
                    return _deny(request, "You are not on this patient's care team.")
                del kwargs[patient_kwarg]
                kwargs["patient"] = patient
            return view(request, *args, **kwargs)

        guarded.kapstone_permission = permission  # type: ignore[attr-defined]
        guarded.kapstone_patient_kwarg = patient_kwarg  # type: ignore[attr-defined]
        return guarded

    return decorator


def signed_in_only(view: View) -> View:
    """For the sign-in steps themselves (MFA set-up and check): a password login, no MFA yet."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    guarded.kapstone_access = "signed_in"  # type: ignore[attr-defined]
    return guarded


def public(view: View) -> View:
    """Open to anyone: sign-in, health check. Nothing about patients."""
    view.kapstone_access = "public"  # type: ignore[attr-defined]
    return view
