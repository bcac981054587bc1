"""The patient's own account settings: language, password, second factor, sign out (the link to
notification preferences is on the page). Every view is behind :func:`patient_only`."""

from __future__ import annotations

import json

import segno
from django.contrib import messages
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kapstone.companion import factors, passkeys, session, signin_services
from kapstone.companion.access import patient_only
from kapstone.companion.forms import ChoosePasswordForm, CodeForm, LanguageForm
from kapstone.companion.models import PatientAccount
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.web.forms import show_service_errors

REGISTRATION_KEY = "companion_passkey_registration"


@patient_only
@require_http_methods(["GET", "POST"])
def settings_page(
    request: HttpRequest, *, account: PatientAccount, patient: Patient
) -> HttpResponseBase:
    form = LanguageForm(request.POST or None, initial={"language": account.language})
    if request.method == "POST" and form.is_valid():
        signin_services.set_language(account=account, language=form.cleaned_data["language"])
        with translation.override(account.language):
            messages.success(request, _("Language saved."))
        return redirect("companion:settings")
    return render(
        request,
        "companion/settings.html",
        {
            "account": account,
            "patient": patient,
            "nav": "settings",
            "language_form": form,
            **factors.enrolled(account),
        },
        status=400 if request.method == "POST" else 200,
    )


@patient_only
@require_http_methods(["GET", "POST"])
def password(
    request: HttpRequest, *, account: PatientAccount, patient: Patient
) -> HttpResponseBase:
    """Choose or change the password (after an invitation's first link: optional, skippable)."""
    form = ChoosePasswordForm(request.POST or None)
    if request.method == "POST" and request.POST.get("remove"):
        signin_services.remove_password(account=account)
        messages.success(request, _("Password removed. Sign in with an e-mailed link."))
        return redirect("companion:settings")
    if request.method == "POST" and form.is_valid():
        try:
            signin_services.set_password(
                account=account,
                password=form.cleaned_data["password"],
                confirm=form.cleaned_data["confirm"],
            )
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            messages.success(request, _("Password saved."))
            return redirect(
                "companion:settings" if not request.GET.get("welcome") else "companion:home"
            )
    return render(
        request,
        "companion/password.html",
        {
            "account": account,
            "patient": patient,
            "nav": "settings",
            "form": form,
            "welcome": bool(request.GET.get("welcome")),
            "has_password": bool(account.password),
        },
        status=400 if request.method == "POST" else 200,
    )


@patient_only
@require_http_methods(["GET", "POST"])
def totp_setup(
    request: HttpRequest, *, account: PatientAccount, patient: Patient
) -> HttpResponseBase:
    """Add an authenticator app: scan the QR code (or type the key), then type a first code."""
    device = factors.pending_totp(account=account, now=timezone.now())
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if factors.confirm_totp(
            account=account, device=device, token=form.cleaned_data["code"], now=timezone.now()
        ):
            # This browser has just proved the factor: no need to ask again in this session.
            session.mark_second_factor(request)
            messages.success(
                request, _("Authenticator app added. We will ask for a code each time you sign in.")
            )
            return redirect("companion:settings")
        form.add_error(
            "code", _("That code does not match. Check the time on your phone and try a new code.")
        )
    qr = segno.make(factors.totp_config_url(device), error="m")
    return render(
        request,
        "companion/totp_setup.html",
        {
            "account": account,
            "patient": patient,
            "nav": "settings",
            "form": form,
            "secret": factors.totp_secret(device),
            "qr_svg": qr.svg_inline(scale=5, title=_("Set-up code for your authenticator app")),
        },
        status=400 if request.method == "POST" else 200,
    )


@patient_only
@require_POST
def totp_remove(
    request: HttpRequest, *, account: PatientAccount, patient: Patient
) -> HttpResponseBase:
    factors.remove_totp(account=account)
    messages.success(request, _("Authenticator app removed."))
    return redirect("companion:settings")


@patient_only
@require_POST
def passkey_remove(
    request: HttpRequest, *, account: PatientAccount, patient: Patient
) -> HttpResponseBase:
    passkey_id = request.POST.get("passkey", "")
    if passkey_id.isdigit() and factors.remove_passkey(account=account, passkey_id=int(passkey_id)):
        messages.success(request, _("Passkey removed."))
    else:
        messages.error(request, _("That passkey was not found: nothing was removed."))
    return redirect("companion:settings")


@patient_only
@require_POST
def passkey_register_options(
    request: HttpRequest, *, account: PatientAccount, patient: Patient
) -> JsonResponse:
    options, challenge = passkeys.registration_options(account)
    request.session[REGISTRATION_KEY] = challenge
    return JsonResponse({"options": json.loads(options)})


@patient_only
@require_POST
def passkey_register(
    request: HttpRequest, *, account: PatientAccount, patient: Patient
) -> JsonResponse:
    challenge = request.session.pop(REGISTRATION_KEY, None)
    if challenge is None:
        return JsonResponse(
            {"error": _("The passkey set-up expired. Press the button again.")}, status=400
        )
    try:
        body = json.loads(request.body or b"{}")
        credential, name = json.dumps(body["credential"]), str(body.get("name", ""))
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": _("Your device's answer was incomplete.")}, status=400)
    try:
        passkeys.register(
            account=account,
            credential=credential,
            challenge=challenge,
            name=name or _("Passkey"),
            now=timezone.now(),
        )
    except InputError as exc:
        return JsonResponse(
            {"error": " ".join(e for errors in exc.errors.values() for e in errors)}, status=400
        )
    session.mark_second_factor(request)
    messages.success(request, _("Passkey added. We will ask for it each time you sign in."))
    return JsonResponse({"redirect": reverse("companion:settings")})
