"""The companion's pages: views only translate (the patient comes from :func:`patient_only`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kapstone.companion import program
from kapstone.companion.access import companion_public, patient_only
from kapstone.companion.models import PatientAccount
from kapstone.companion.session import sign_out
from kapstone.patients.models import Patient


@patient_only
def home(request: HttpRequest, *, account: PatientAccount, patient: Patient) -> HttpResponse:
    program.viewed(account, patient, "home")
    return render(
        request,
        "companion/home.html",
        {
            "account": account,
            "patient": patient,
            "nav": "home",
            "home": program.home(patient, timezone.now()),
        },
    )


@companion_public
def sign_in(request: HttpRequest) -> HttpResponse:
    # Replaced by the sign-in flow (one-time link or password): kapstone.companion.signin.
    return render(request, "companion/sign_in.html", {})


@companion_public
def second_factor(request: HttpRequest) -> HttpResponse:
    return render(request, "companion/sign_in.html", {})


@companion_public
@require_POST
def sign_out_view(request: HttpRequest) -> HttpResponseBase:
    sign_out(request)
    return redirect("companion:sign_in")
