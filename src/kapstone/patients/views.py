from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.forms import BaseForm
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kapstone.clinical.access import Permission
from kapstone.errors import InputError
from kapstone.outcomes.selectors import overview_for
from kapstone.patients import selectors, services
from kapstone.patients.duplicates import PossibleDuplicate, possible_duplicates
from kapstone.patients.forms import (
    CareTeamForm,
    FindPatientForm,
    MeasurementForm,
    PatientDetailsForm,
    PossibleDuplicateForm,
)
from kapstone.patients.models import Patient
from kapstone.web.authz import requires
from kapstone.web.forms import saved, show_service_errors
from kapstone.web.http import AuthenticatedHttpRequest


@requires(Permission.FIND_PATIENTS)
def find(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = FindPatientForm(request.GET or None)
    patients: list[Patient] = []
    searched = False
    if form.is_valid():
        searched = bool(form.cleaned_data["q"] or form.cleaned_data["dob"])
        patients = selectors.find_patients(
            user=request.user,
            text=form.cleaned_data["q"],
            date_of_birth=form.cleaned_data["dob"],
        )
    elif not request.GET:
        patients = selectors.find_patients(user=request.user)
    template = "patients/_results.html" if request.htmx else "patients/find.html"
    return render(request, template, {"form": form, "patients": patients, "searched": searched})


def _partial(form: BaseForm) -> dict[str, Any]:
    """What a form could read, even when other fields were refused (to check the rest at once)."""
    form.is_valid()
    return dict(getattr(form, "cleaned_data", {}))


def _add_new_errors(errors: dict[str, list[str]], *forms: BaseForm) -> None:
    """The service's problems the forms did not already show, so each field says one thing."""
    for field, texts in errors.items():
        owner = next((f for f in forms if field in f.fields), None)
        if owner is not None and owner.errors.get(field):
            continue
        show_service_errors(InputError({field: texts}), *forms)


@requires(Permission.REGISTER_PATIENT)
@require_http_methods(["GET", "POST"])
def register(request: AuthenticatedHttpRequest) -> HttpResponse:
    details = PatientDetailsForm(request.POST or None, prefix="p", assign_mrn=True)
    team = CareTeamForm(request.POST or None, prefix="t")
    measurement = MeasurementForm(request.POST or None, prefix="m")
    duplicate = PossibleDuplicateForm(request.POST or None, prefix="d")
    forms: list[BaseForm] = [details, team, measurement, duplicate]
    duplicates: list[PossibleDuplicate] = []
    duplicate_problem: list[str] = []
    if request.method == "POST":
        valid = all([f.is_valid() for f in forms])  # every form checked, not only the first
        given = _partial(details)
        arguments: dict[str, Any] = {
            "details": given,
            "care_team": _partial(team),
            "weight_kg": measurement.cleaned_data.get("weight_kg"),
            "height_cm": measurement.cleaned_data.get("height_cm"),
            "measured_on": measurement.cleaned_data.get("measured_on"),
            "duplicate_reason": duplicate.duplicate_reason,
        }
        # The service's own checks run on whatever the forms could read, so every problem (a
        # clashing MRN, a wrong phone number, a possible duplicate) is shown in the same round.
        problems = services.registration_problems(**arguments)
        duplicate_problem = problems.pop("duplicate", [])
        if duplicate_problem:
            duplicates = possible_duplicates(
                given_name=given.get("given_name", ""),
                family_name=given.get("family_name", ""),
                date_of_birth=given["date_of_birth"],
            )
        _add_new_errors(problems, details, team, measurement, duplicate)
        if valid and not problems and not duplicate_problem:
            try:
                patient = services.register_patient(
                    by=request.user,
                    **arguments,
                )
            except InputError as exc:
                duplicate_problem = exc.errors.pop("duplicate", [])
                show_service_errors(exc, *forms)
            else:
                messages.success(request, f"Registered {patient.display_name} ({patient.mrn}).")
                return redirect("patients:chart", patient_id=patient.pk)
    return render(
        request,
        "patients/register.html",
        {
            "details": details,
            "team": team,
            "measurement": measurement,
            "duplicate": duplicate,
            "duplicates": duplicates,
            "duplicate_problem": duplicate_problem,
            "error_count": sum(len(f.errors) for f in forms) + bool(duplicate_problem),
        },
    )


@requires(Permission.OPEN_CHART, patient_kwarg="patient_id")
def chart(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    data = selectors.open_chart(user=request.user, patient=patient)
    today = timezone.localdate()
    return render(
        request,
        "patients/chart.html",
        {
            "chart": data,
            "patient": data.patient,
            "age": data.patient.age_on(today),
            "outcomes_overview": overview_for(request.user, data.patient, timezone.now()),
            "tab": "overview",
        },
    )


@requires(Permission.EDIT_PATIENT, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def edit(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    details = PatientDetailsForm(request.POST or None, instance=patient, prefix="p")
    team = CareTeamForm(
        request.POST or None,
        prefix="t",
        initial={
            "prescriber": patient.prescriber,
            "therapist": patient.therapist,
            "nurse": patient.nurse,
        },
    )
    if request.method == "POST" and details.is_valid() and team.is_valid():
        # The form's instance already holds the new values: hand the service a fresh copy.
        fresh = selectors.as_stored(patient)
        try:
            services.update_patient_details(
                by=request.user,
                patient=fresh,
                details=details.cleaned_data,
            )
            services.change_care_team(
                by=request.user,
                patient=fresh,
                care_team=team.cleaned_data,
            )
        except InputError as exc:
            show_service_errors(exc, details, team)
        else:
            messages.success(request, "Saved.")
            return redirect("patients:chart", patient_id=patient.pk)
    return render(
        request, "patients/edit.html", {"patient": patient, "details": details, "team": team}
    )


@requires(Permission.RECORD_MEASUREMENT, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def record_measurement(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    form = MeasurementForm(request.POST or None)
    if saved(
        request,
        form,
        # The form's fields are the measurement's: the date, the weight and the height.
        lambda data: services.record_body_measurement(by=request.user, patient=patient, **data),
        success="Weight recorded.",
    ):
        return redirect("patients:chart", patient_id=patient.pk)
    return render(request, "patients/measurement.html", {"patient": patient, "form": form})
