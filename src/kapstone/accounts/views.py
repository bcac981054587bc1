from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from kapstone.accounts import selectors, services
from kapstone.accounts.forms import PasswordChangeForm, SiteForm, StaffForm, TokenForm
from kapstone.accounts.models import StaffUser
from kapstone.clinical.access import Modality, Permission, Role
from kapstone.errors import InputError
from kapstone.web.authz import public, requires, signed_in_only
from kapstone.web.http import AuthenticatedHttpRequest


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return "/"


sign_in = public(
    LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=False)
)


@public
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("accounts:login")


@signed_in_only
@require_http_methods(["GET", "POST"])
def mfa(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The second step of every sign-in: an authenticator code or a backup code."""
    user: StaffUser = request.user
    if request.user.is_verified():
        return redirect(_next_url(request))
    if not services.has_confirmed_totp(user):
        return redirect("accounts:mfa_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.check_second_factor(user=user, token=form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error(
            "token",
            "That code is not right or has expired. Wait a moment, then try the newest code.",
        )
    return render(request, "accounts/mfa.html", {"form": form, "next": _next_url(request)})


@signed_in_only
@require_http_methods(["GET", "POST"])
def mfa_setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    """First sign-in: scan a QR code (or type the key), then prove it with a code."""
    user: StaffUser = request.user
    if services.has_confirmed_totp(user):
        return redirect("accounts:mfa")
    if user.must_change_password:
        # A one-time password first becomes the user's own; then the authenticator.
        return redirect("accounts:password_change")
    device = services.pending_totp_device(user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = services.confirm_totp(user=user, device=device, token=form.cleaned_data["token"])
        if codes is not None:
            otp_login(request, device)
            return render(request, "accounts/backup_codes.html", {"codes": codes, "first": True})
        form.add_error(
            "token", "That code does not match. Check the clock on your phone and retry."
        )
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "accounts/mfa_setup.html",
        {
            "form": form,
            "secret": services.totp_secret(device),
            "qr_svg": qr.svg_inline(scale=5, title="Authenticator set-up code"),
        },
    )


@signed_in_only
@require_http_methods(["GET", "POST"])
def password_change(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Changing one's own password; forced after a one-time password (kapstone bootstrap).

    An account that has an authenticator proves it first, so a password alone cannot replace
    the password.
    """
    user: StaffUser = request.user
    if services.has_confirmed_totp(user) and not request.user.is_verified():
        return redirect(f"{reverse('accounts:mfa')}?{urlencode({'next': request.path})}")
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(
                user=user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except InputError as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field or None, error)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, "Your password is changed.")
            return redirect(_next_url(request))
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "forced": user.must_change_password, "next": _next_url(request)},
    )


@requires(Permission.SEE_DASHBOARD)
@require_POST
def new_backup_codes(request: AuthenticatedHttpRequest) -> HttpResponse:
    codes = services.regenerate_backup_codes(user=request.user)
    return render(request, "accounts/backup_codes.html", {"codes": codes, "first": False})


@requires(Permission.MANAGE_STAFF)
def staff_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "accounts/staff_list.html", {"staff": selectors.staff_register()})


@requires(Permission.MANAGE_STAFF)
@require_http_methods(["GET", "POST"])
def staff_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = StaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.create_staff(
                by=request.user,
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                role=Role(data["role"]),
                password=data["password"],
                credentials=data["credentials"],
                sites=list(data["sites"]),
                modalities=frozenset(Modality(m) for m in data["modalities"]),
            )
        except InputError as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field or None, error)
        else:
            messages.success(request, f"Created {user.display_name} ({user.staff_role.label}).")
            return redirect("accounts:staff")
    return render(request, "accounts/staff_form.html", {"form": form})


@requires(Permission.MANAGE_STAFF)
@require_http_methods(["GET", "POST"])
def sites(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = SiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            site = services.add_site(by=request.user, **form.cleaned_data)
        except InputError as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field or None, error)
        else:
            messages.success(request, f"Added {site.name}.")
            return redirect("accounts:sites")
    return render(
        request,
        "accounts/site_list.html",
        {"sites": selectors.sites_with_staff_counts(), "form": form},
    )
