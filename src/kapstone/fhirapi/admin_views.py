"""The administrator's pages: registering the systems that may call the FHIR API."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kapstone.clinical.access import Permission
from kapstone.errors import InputError
from kapstone.fhirapi import selectors, services
from kapstone.web.authz import requires
from kapstone.web.forms import show_service_errors
from kapstone.web.found import or_404
from kapstone.web.http import AuthenticatedHttpRequest

SCOPES_HELP = (
    "SMART system scopes, separated by spaces: e.g. system/Patient.rs system/Observation.rs, "
    "or system/*.rs for read and search of everything served (system/*.read is the SMART v1 form)."
)
JWKS_HELP = (
    'The client\'s public key set (JWKS) as JSON: {"keys": [{"kty": "RSA", "kid": ..., ...}]}. '
    "RSA keys (RS384) or EC P-384 keys (ES384), each with a kid. Never a private key."
)


class ClientForm(forms.Form):
    name = forms.CharField(max_length=120, label="Name")
    scopes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), label="Allowed scopes", help_text=SCOPES_HELP
    )
    jwks = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        label="Public keys (JWKS)",
        help_text=JWKS_HELP,
    )
    jwks_url = forms.URLField(
        required=False,
        label="or the address of its JWKS",
        help_text="https only; fetched when a token is asked for, and kept for an hour.",
    )


class NewClientForm(ClientForm):
    client_id = forms.CharField(
        max_length=100,
        label="Client id",
        help_text="What the client puts in its assertions' iss and sub.",
    )
    field_order = ["name", "client_id", "scopes", "jwks", "jwks_url"]


class ChangeClientForm(ClientForm):
    enabled = forms.BooleanField(
        required=False, label="Enabled (a disabled client's tokens stop working at once)"
    )


@requires(Permission.MANAGE_API_CLIENTS)
@require_http_methods(["GET", "POST"])
def clients(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = NewClientForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.register_client(
                by=request.user,
                client_id=data["client_id"],
                name=data["name"],
                scopes=data["scopes"],
                jwks_json=data["jwks"],
                jwks_url=data["jwks_url"],
                now=timezone.now(),
            )
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            messages.success(request, f"API client {created.client_id} registered.")
            return redirect("fhir_auth:clients")
    return render(
        request,
        "fhirapi/clients.html",
        {"form": form, "clients": selectors.clients(), "token_url": _token_url(request)},
    )


@requires(Permission.MANAGE_API_CLIENTS)
@require_http_methods(["GET", "POST"])
def client(request: AuthenticatedHttpRequest, api_client_id: int) -> HttpResponse:
    found = or_404(selectors.client(api_client_id), "No such API client.")
    initial = {
        "name": found.name,
        "scopes": found.scopes,
        "jwks": json.dumps(found.jwks, indent=2) if found.jwks is not None else "",
        "jwks_url": found.jwks_url,
        "enabled": found.enabled,
    }
    form = ChangeClientForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_client(
                by=request.user,
                client=found,
                name=data["name"],
                scopes=data["scopes"],
                jwks_json=data["jwks"],
                jwks_url=data["jwks_url"],
                enabled=data["enabled"],
                now=timezone.now(),
            )
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            messages.success(request, f"API client {found.client_id} saved.")
            return redirect("fhir_auth:clients")
    return render(request, "fhirapi/client.html", {"form": form, "client": found})


def _token_url(request: AuthenticatedHttpRequest) -> str:
    from kapstone.fhirapi.smart import token_url

    return token_url(request)
