"""Placeholder pages so every companion URL resolves while its owner builds it (removed once built)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kapstone.companion.access import patient_only
from kapstone.companion.models import PatientAccount
from kapstone.patients.models import Patient


def placeholder(heading: str, nav: str):  # type: ignore[no-untyped-def]
    @patient_only
    def view(request: HttpRequest, *, account: PatientAccount, patient: Patient) -> HttpResponse:
        return render(
            request,
            "companion/placeholder.html",
            {"account": account, "patient": patient, "heading": heading, "nav": nav},
        )

    return view
