"""SMART Backend Services: the discovery document and the token endpoint.

Both are open (``public``): the caller is a system, not a member of staff, and proves who it is
with the signed assertion the token endpoint checks.
"""

from __future__ import annotations

import importlib
import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from kapstone.fhirapi import services
from kapstone.web.authz import public

GRANT_TYPES = ["client_credentials"]
SCOPES_SUPPORTED = ["system/*.rs", "system/*.r", "system/*.s", "system/*.read"]


def token_url(request: HttpRequest) -> str:
    """This token endpoint's absolute URL: the ``aud`` every assertion must carry."""
    return request.build_absolute_uri(reverse("fhir_auth:token"))


def _scopes_supported() -> list[str]:
    try:  # the resource kinds served (read/search), once they exist
        kinds = importlib.import_module("kapstone.fhirapi.registry").KINDS
    except ImportError:
        return SCOPES_SUPPORTED
    return SCOPES_SUPPORTED + [f"system/{name}.rs" for name in sorted(kinds)]


@public
@require_GET
def smart_configuration(request: HttpRequest) -> HttpResponse:
    return JsonResponse(
        {
            "token_endpoint": token_url(request),
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": list(services.ALGORITHMS),
            "grant_types_supported": GRANT_TYPES,
            "scopes_supported": _scopes_supported(),
            "capabilities": ["client-confidential-asymmetric"],
        }
    )


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


@public
@csrf_exempt  # a system posts here with its signed assertion, never a browser session
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    try:
        issued = services.exchange_assertion(
            form=request.POST.dict(), token_url=token_url(request), now=timezone.now()
        )
    except services.TokenError as refused:
        response = HttpResponse(
            json.dumps({"error": refused.error, "error_description": refused.description}),
            status=refused.status,
            content_type="application/json",
        )
        if refused.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="fhir"'
        return _no_store(response)
    return _no_store(
        JsonResponse(
            {
                "access_token": issued.access_token,
                "token_type": "bearer",
                "expires_in": issued.expires_in,
                "scope": issued.scope,
            }
        )
    )
