"""The companion's open pages: sign-in (e-mailed link or password), the link itself, the second
factor, the language choice and sign-out. Views translate; the work is in
:mod:`kapstone.companion.signin_services`, :mod:`~kapstone.companion.factors` and
:mod:`~kapstone.companion.passkeys`."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kapstone.companion import factors, passkeys, session, signin_services
from kapstone.companion.access import companion_public, needs_second_factor
from kapstone.companion.forms import CodeForm, EmailLinkForm, PasswordSignInForm
from kapstone.companion.models import Language, PatientAccount
from kapstone.companion.signin_services import Outcome

LANG_KEY = "companion_lang"
CHALLENGE_KEY = "companion_passkey_challenge"
# The two sign-in forms share a page: their fields need distinct ids for their labels.
LINK_IDS, PASSWORD_IDS = "link_%s", "pw_%s"


def next_url(request: HttpRequest) -> str:
    """Where to go after signing in: a companion page only (never off-site, never staff pages)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    home = reverse("companion:home")
    if target.startswith("/me/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return home


def chosen_language(request: HttpRequest) -> str:
    lang = request.session.get(LANG_KEY, "")
    return str(lang) if lang in Language.values else Language.ENGLISH.value


def in_chosen_language[**P](
    view: Callable[P, HttpResponseBase],
) -> Callable[P, HttpResponseBase]:
    """Renders an open page in the language chosen on the sign-in page (before we know who it is)."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        request = args[0]
        assert isinstance(request, HttpRequest)
        lang = chosen_language(request)
        with translation.override(lang):
            response = view(*args, **kwargs)
            render_now = getattr(response, "render", None)
            if callable(render_now) and not getattr(response, "is_rendered", True):
                render_now()
        response.headers.setdefault("Content-Language", lang)
        return response

    return wrapped


def _locked_message(until: Any) -> str:
    local = timezone.localtime(until)
    return _(
        "Too many tries. For your safety, signing in is paused until %(time)s. "
        "Try again then, or call the clinic."
    ) % {"time": formats.time_format(local, "H:i")}


def _sign_in_page(request: HttpRequest, **context: Any) -> HttpResponse:
    context.setdefault("link_form", EmailLinkForm(auto_id=LINK_IDS))
    context.setdefault("password_form", PasswordSignInForm(auto_id=PASSWORD_IDS))
    context.setdefault("status", 200)
    status = context.pop("status")
    context |= {"next": next_url(request), "languages": Language.choices}
    context["current_language"] = chosen_language(request)
    return render(request, "companion/sign_in.html", context, status=status)


def _after_first_factor(request: HttpRequest, account: PatientAccount, target: str) -> HttpResponse:
    session.sign_in(request, account, now=timezone.now())
    if needs_second_factor(account):
        return redirect(f"{reverse('companion:second_factor')}?{urlencode({'next': target})}")
    return redirect(target)


@companion_public
@require_http_methods(["GET", "POST"])
@in_chosen_language
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _sign_in_page(request)
    if request.POST.get("method") == "password":
        return _password_sign_in(request)
    form = EmailLinkForm(request.POST, auto_id=LINK_IDS)
    if not form.is_valid():
        return _sign_in_page(request, link_form=form, status=400)
    signin_services.send_sign_in_link(email=form.cleaned_data["email"], now=timezone.now())
    # The same answer whether or not we know the address: the page reveals no accounts.
    return render(request, "companion/link_sent.html", {"email": form.cleaned_data["email"]})


def _password_sign_in(request: HttpRequest) -> HttpResponse:
    form = PasswordSignInForm(request.POST, auto_id=PASSWORD_IDS)
    if not form.is_valid():
        return _sign_in_page(request, password_form=form, status=400)
    attempt = signin_services.sign_in_with_password(
        email=form.cleaned_data["email"],
        password=form.cleaned_data["password"],
        now=timezone.now(),
    )
    if attempt.outcome == Outcome.SIGNED_IN and attempt.account is not None:
        return _after_first_factor(request, attempt.account, next_url(request))
    if attempt.outcome == Outcome.LOCKED:
        form.add_error(None, _locked_message(attempt.locked_until))
    else:
        form.add_error(
            None,
            _(
                "That e-mail address and password do not match. Check both, or ask for a "
                "sign-in link instead."
            ),
        )
    return _sign_in_page(request, password_form=form, status=400)


@companion_public
@require_http_methods(["GET", "POST"])
@in_chosen_language
def link(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link. Opening it (GET) only shows a button: mail scanners that fetch links
    must not use it up; pressing the button (POST) signs in."""
    if request.method == "GET":
        return render(request, "companion/link.html", {"token": token})
    redeemed = signin_services.redeem_link(token=token, now=timezone.now())
    if redeemed is None:
        return render(
            request,
            "companion/link.html",
            {"token": token, "dead": True, "link_form": EmailLinkForm()},
            status=410,
        )
    if redeemed.first_use:
        target = f"{reverse('companion:password')}?{urlencode({'welcome': '1'})}"
    else:
        target = next_url(request)
    return _after_first_factor(request, redeemed.account, target)


def _pending_account(request: HttpRequest) -> PatientAccount | None:
    return session.current_account(request, now=timezone.now())


@companion_public
@require_http_methods(["GET", "POST"])
@in_chosen_language
def second_factor(request: HttpRequest) -> HttpResponse:
    account = _pending_account(request)
    if account is None:
        return redirect("companion:sign_in")
    target = next_url(request)
    if not needs_second_factor(account) or session.second_factor_passed(request):
        return redirect(target)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        attempt = factors.check_totp(
            account=account, token=form.cleaned_data["code"], now=timezone.now()
        )
        if attempt.outcome == Outcome.SIGNED_IN:
            session.mark_second_factor(request)
            return redirect(target)
        status = 400
        if attempt.outcome == Outcome.LOCKED:
            form.add_error(None, _locked_message(attempt.locked_until))
        else:
            form.add_error(
                "code",
                _("That code is not right or has expired. Wait for a new code and type it."),
            )
    with translation.override(account.language):
        return render(
            request,
            "companion/second_factor.html",
            {"form": form, "next": target, **factors.enrolled(account)},
            status=status,
        )


@companion_public
@require_POST
def passkey_sign_in_options(request: HttpRequest) -> JsonResponse:
    """Step one of signing in with a passkey: a fresh challenge for this browser."""
    account = _pending_account(request)
    if account is None:
        return JsonResponse({"error": _("Your sign-in has expired. Start again.")}, status=401)
    options, challenge = passkeys.authentication_options(account)
    request.session[CHALLENGE_KEY] = challenge
    return JsonResponse({"options": json.loads(options)})


@companion_public
@require_POST
def passkey_sign_in(request: HttpRequest) -> JsonResponse:
    """Step two: the authenticator's signature over the challenge (used once, whatever happens)."""
    account = _pending_account(request)
    challenge = request.session.pop(CHALLENGE_KEY, None)
    if account is None or challenge is None:
        return JsonResponse({"error": _("Your sign-in has expired. Start again.")}, status=401)
    with translation.override(account.language):
        ok = passkeys.authenticate(
            account=account,
            credential=request.body.decode(errors="replace"),
            challenge=challenge,
            now=timezone.now(),
        )
        if not ok:
            return JsonResponse(
                {"error": _("That passkey was not accepted. Try again, or use your code.")},
                status=400,
            )
    session.mark_second_factor(request)
    return JsonResponse({"redirect": next_url(request)})


@companion_public
@require_POST
def language(request: HttpRequest) -> HttpResponseBase:
    """The language of the open pages (a signed-in patient's comes from their settings)."""
    lang = request.POST.get("language", "")
    if lang in Language.values:
        request.session[LANG_KEY] = lang
    return redirect(f"{reverse('companion:sign_in')}?{urlencode({'next': next_url(request)})}")


@companion_public
@require_POST
def sign_out(request: HttpRequest) -> HttpResponseBase:
    account = _pending_account(request)
    lang = request.session.get(LANG_KEY) or (account.language if account else None)
    if account is not None:
        signin_services.record_sign_out(account=account)
    session.sign_out(request)
    if lang:
        request.session[LANG_KEY] = lang
    with translation.override(lang or Language.ENGLISH.value):
        messages.info(request, _("You are signed out."))
    return redirect("companion:sign_in")
