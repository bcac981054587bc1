"""The chart's Outcomes tab and the FHIR export of one submitted questionnaire."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from kapstone.assessments.flow import short_name
from kapstone.assessments.selectors import patient_response_or_404
from kapstone.clinical.access import Permission
from kapstone.interop import FhirExportErrors
from kapstone.outcomes import exports, selectors
from kapstone.patients.models import Patient
from kapstone.web.authz import requires
from kapstone.web.http import AuthenticatedHttpRequest


@requires(Permission.SEE_RESPONSES, patient_kwarg="patient_id")
def chart_tab(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    return render(
        request,
        "outcomes/chart_tab.html",
        {
            "patient": patient,
            "outcomes": selectors.patient_outcomes(patient, timezone.now()),
            "tab": "outcomes",
        },
    )


@requires(Permission.EXPORT_RECORDS, patient_kwarg="patient_id")
def fhir_export(
    request: AuthenticatedHttpRequest, patient: Patient, response_id: int
) -> HttpResponse:
    response = patient_response_or_404(patient, response_id)
    if not response.is_submitted:
        return render(
            request,
            "outcomes/export_refused.html",
            {
                "patient": patient,
                "response": response,
                "message": f"{short_name(response.instrument)} has not been submitted yet: only a completed "
                "questionnaire can be exported as FHIR. Export it once the patient has "
                "submitted it.",
                "tab": "questionnaires",
            },
            status=404,
        )
    try:
        bundle = exports.export_fhir(user=request.user, response=response)
    except FhirExportErrors as exc:
        # A stored record that no longer fits the instrument library: say exactly why.
        return render(
            request,
            "outcomes/export_refused.html",
            {
                "patient": patient,
                "response": response,
                "message": "This questionnaire cannot be exported as valid FHIR.",
                "problems": exc.problems,
                "tab": "questionnaires",
            },
            status=409,
        )
    http = HttpResponse(
        json.dumps(bundle, ensure_ascii=False, indent=2),
        content_type=f"{exports.FHIR_JSON}; charset=utf-8",
    )
    http["Content-Disposition"] = f'attachment; filename="{exports.filename(response)}"'
    return http
