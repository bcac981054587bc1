"""The companion's pages: views only translate (the patient comes from :func:`patient_only`).

Sign-in and sign-out are in :mod:`kapstone.companion.signin`; the patient's settings in
:mod:`kapstone.companion.account_views`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from kapstone.companion import program
from kapstone.companion.access import patient_only
from kapstone.companion.models import PatientAccount
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
