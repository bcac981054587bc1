from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from kapstone.clinical.access import Permission, Role
from kapstone.patients.selectors import patients_visible_to
from kapstone.web.authz import public, requires
from kapstone.web.http import AuthenticatedHttpRequest

# Those who work the clinic floor start their day on the day board (issue 15).
DAY_BOARD_HOME = frozenset({Role.NURSE, Role.PRESCRIBER, Role.INTAKE_COORDINATOR})


@requires(Permission.SEE_DASHBOARD)
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if user.staff_role in DAY_BOARD_HOME:  # type: ignore[union-attr]
        return redirect("today:board")
    my_patients = []
    if user.staff_role.value in {"prescriber", "therapist", "nurse"}:  # type: ignore[union-attr]
        my_patients = list(patients_visible_to(user)[:25])  # type: ignore[arg-type]
    return render(request, "web/home.html", {"my_patients": my_patients})


@public
def health(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
