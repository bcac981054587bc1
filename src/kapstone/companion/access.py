"""The one gate of every companion page: a signed-in patient sees only their own record.

A companion view is written ``view(request, *args, account, patient, **kwargs)``: the decorator
loads the account from the session and hands the view the account and its patient; no URL of the
companion carries a patient id, so there is no other patient to ask for. Staff sessions are not
patient sessions: a member of staff is sent to the companion's sign-in like anyone else.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, Protocol, cast

from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode

from kapstone.companion.models import PatientAccount
from kapstone.companion.session import current_account, second_factor_passed
from kapstone.patients.models import Patient

CompanionView = Callable[Concatenate[HttpRequest, ...], HttpResponseBase]


class PatientView(Protocol):
    """A companion view as the URLconf sees it; the access walker reads ``kapstone_access``."""

    kapstone_access: str

    def __call__(self, request: HttpRequest, /, *args: Any, **kwargs: Any) -> HttpResponseBase: ...


def needs_second_factor(account: PatientAccount) -> bool:
    """Whether the account enrolled a TOTP device or a passkey (then every sign-in asks for it).

    The second-factor models belong to the sign-in module; asked through the account's relations
    so this gate stays small."""
    checks = ("companion_totp_devices", "companion_passkeys")
    return any(
        getattr(account, name).filter(confirmed=True).exists()
        for name in checks
        if hasattr(account, name)
    )


def patient_only(view: CompanionView) -> PatientView:
    """Runs the view for the signed-in patient, in their language; anyone else goes to sign-in."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        account = current_account(request, now=timezone.now())
        if account is None:
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('companion:sign_in')}?{query}")
        if needs_second_factor(account) and not second_factor_passed(request):
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('companion:second_factor')}?{query}")
        patient: Patient = account.patient
        with translation.override(account.language):
            response = view(request, *args, account=account, patient=patient, **kwargs)
            # Templates render lazily (TemplateResponse): render inside the patient's language.
            render = getattr(response, "render", None)
            if callable(render) and not getattr(response, "is_rendered", True):
                render()
        response.headers.setdefault("Content-Language", account.language)
        return response

    marked = cast(PatientView, guarded)
    marked.kapstone_access = "patient"
    return marked


def companion_public[V: Callable[..., HttpResponseBase]](view: V) -> V:
    """The companion's own open pages (sign-in, one-time link, language choice): no patient data."""
    setattr(view, "kapstone_access", "public")  # noqa: B010
    return view
