"""Liveness and readiness for the load balancer and the service manager: public, no patient data."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from kapstone.ops.readiness import readiness
from kapstone.web.authz import public


@public
@require_safe
def live(request: HttpRequest) -> HttpResponse:
    """The process answers; nothing else is touched, so a database outage does not restart it."""
    return JsonResponse({"status": "live"})


@public
@require_safe
def ready(request: HttpRequest) -> HttpResponse:
    checks = readiness()
    ok = all(check.ok for check in checks)
    body = {
        "status": "ready" if ok else "not ready",
        "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in checks},
    }
    return JsonResponse(body, status=200 if ok else 503)
