from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from kapstone.clinical.access import Permission
from kapstone.patients.selectors import patients_visible_to
from kapstone.web.authz import public, requires


@requires(Permission.SEE_DASHBOARD)
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    my_patients = []
    if user.staff_role.value in {"prescriber", "therapist", "nurse"}:  # type: ignore[union-attr]
        my_patients = list(patients_visible_to(user)[:25])  # type: ignore[arg-type]
    return render(request, "web/home.html", {"my_patients": my_patients})


@public
def health(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
