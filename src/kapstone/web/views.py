from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from kapstone.clinical.access import Permission, Role
from kapstone.ops.readiness import database
from kapstone.patients.selectors import find_patients
from kapstone.web.authz import public, requires
from kapstone.web.http import AuthenticatedHttpRequest

# Those who work the clinic floor start their day on the day board (issue 15).
DAY_BOARD_HOME = frozenset({Role.NURSE, Role.PRESCRIBER, Role.INTAKE_COORDINATOR})
# The roles whose home page lists their own patients (those on whose care teams they sit).
CARE_TEAM_ROLES = frozenset({Role.PRESCRIBER, Role.THERAPIST, Role.NURSE})


@requires(Permission.SEE_DASHBOARD)
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if user.staff_role in DAY_BOARD_HOME:
        return redirect("today:board")
    my_patients = find_patients(user=user, limit=25) if user.staff_role in CARE_TEAM_ROLES else []
    return render(request, "web/home.html", {"my_patients": my_patients})


@public
def bench_floor(request: HttpRequest) -> HttpResponse:
    """The load benchmark's floor (bench/web_load.py): the same middleware, no view work, no query.
    Routed only when KAPSTONE_BENCH_FLOOR is on (see kapstone.urls)."""
    return HttpResponse(b"ok", content_type="text/plain")


@public
def health(request: HttpRequest) -> HttpResponse:
    check = database()
    return JsonResponse(
        {"status": "ok" if check.ok else check.detail}, status=200 if check.ok else 503
    )
