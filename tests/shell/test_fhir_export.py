"""GET /patients/<id>/questionnaires/<response_id>/fhir.json: a submitted questionnaire as an R4
Bundle (QuestionnaireResponse + Observation), valid against HL7's official R4 JSON Schema, audited,
and refused for a questionnaire still in progress."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.urls import reverse

from kapstone.assessments.models import QuestionnaireResponse
from kapstone.assessments.services import send_questionnaires
from kapstone.audit.models import AuditEntry
from kapstone.interop.fhir_questionnaire import LOINC
from kapstone.outcomes.exports import IDENTIFIER_TYPE, MRN_SYSTEM

# The interop tests' schema loader and per-type validators (one Draft-6 validator per type).
from tests.interop.test_fhir_questionnaire import (  # noqa: F401
    errors,
    schema,
    validators,
)
from tests.shell.test_outcomes_selectors import day, rated, submitted


def export_url(patient, response) -> str:
    return reverse(
        "outcomes:fhir_export", kwargs={"patient_id": patient.pk, "response_id": response.pk}
    )


def invalid(validators, bundle: dict[str, Any]) -> list[str]:  # noqa: F811
    found = errors(validators, bundle)
    for entry in bundle["entry"]:
        found += errors(validators, entry["resource"])
    return found


def test_a_phq9_exports_as_a_valid_r4_bundle_with_the_loinc_total(
    clinic,
    as_role,
    validators,  # noqa: F811
):
    response = submitted(clinic.on_team, clinic.staff["nurse"], "phq9", 14, day(-1))
    got = as_role("prescriber").get(export_url(clinic.on_team, response))
    assert got.status_code == 200
    assert got["Content-Type"].startswith("application/fhir+json")
    assert got["Content-Disposition"] == (
        f'attachment; filename="questionnaire-{response.pk}-phq9.fhir.json"'
    )
    bundle = json.loads(got.content)
    assert invalid(validators, bundle) == []
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    questionnaire, observation = (entry["resource"] for entry in bundle["entry"])
    assert questionnaire["resourceType"] == "QuestionnaireResponse"
    assert questionnaire["status"] == "completed"
    assert questionnaire["questionnaire"] == "http://loinc.org/q/44249-1"
    assert observation["resourceType"] == "Observation"
    assert observation["code"]["coding"] == [{"system": LOINC, "code": "44261-6"}]
    assert observation["valueInteger"] == 14
    assert observation["derivedFrom"] == [
        {"reference": f"QuestionnaireResponse/{questionnaire['id']}"}
    ]
    # The patient is a reference carrying the MRN as its business identifier.
    for resource in (questionnaire, observation):
        subject = resource["subject"]
        assert subject["reference"] == f"Patient/{clinic.on_team.pk}"
        assert subject["identifier"]["system"] == MRN_SYSTEM
        assert subject["identifier"]["value"] == "MRN-1001"
        assert subject["identifier"]["type"]["coding"] == [
            {"system": IDENTIFIER_TYPE, "code": "MR"}
        ]


def test_the_export_is_audited(clinic, as_role):
    response = submitted(clinic.on_team, clinic.staff["nurse"], "gad7", 9, day(-1))
    as_role("medical_director").get(export_url(clinic.on_team, response))
    entry = AuditEntry.objects.get(action="fhir.exported")
    assert entry.actor == clinic.staff["medical_director"]
    assert entry.patient_id == clinic.on_team.pk
    assert entry.object_id == str(response.pk)
    assert "FHIR R4" in entry.summary and "QuestionnaireResponse, Observation" in entry.summary


def test_the_cssrs_screener_exports_its_risk_level(clinic, as_role, validators):  # noqa: F811
    response = submitted(
        clinic.on_team,
        clinic.staff["nurse"],
        "cssrs_screen",
        None,
        day(-1),
        {"1": True, "2": False, "6": False},
    )
    bundle = json.loads(as_role("prescriber").get(export_url(clinic.on_team, response)).content)
    assert invalid(validators, bundle) == []
    observation = bundle["entry"][1]["resource"]
    assert "valueCodeableConcept" in observation and "valueInteger" not in observation


def test_an_in_progress_questionnaire_is_not_found_and_says_why(clinic, as_role):
    questionnaire_set, _ = send_questionnaires(
        by=clinic.staff["nurse"], patient=clinic.on_team, instruments=["phq9"]
    )
    response = QuestionnaireResponse.objects.get(questionnaire_set=questionnaire_set)
    got = as_role("prescriber").get(export_url(clinic.on_team, response))
    assert got.status_code == 404
    assert "PHQ-9 has not been submitted yet: only a completed questionnaire can be exported" in (
        got.content.decode()
    )
    assert not AuditEntry.objects.filter(action="fhir.exported").exists()


def test_another_patients_questionnaire_is_not_found_under_this_chart(clinic, as_role):
    theirs = submitted(clinic.elsewhere, clinic.others["nurse"], "phq9", 5, day(-1))
    got = as_role("medical_director").get(export_url(clinic.on_team, theirs))
    assert got.status_code == 404
    assert not AuditEntry.objects.filter(action="fhir.exported").exists()


def test_only_prescribers_and_the_medical_director_may_export(clinic, as_role):
    response = submitted(clinic.on_team, clinic.staff["nurse"], "phq9", 7, day(-1))
    for role in ("nurse", "therapist", "intake_coordinator"):
        assert as_role(role).get(export_url(clinic.on_team, response)).status_code == 403
    assert as_role("prescriber").get(export_url(clinic.elsewhere, response)).status_code == 403


def test_a_madrs_rating_is_authored_by_the_rater_at_the_interview(
    clinic,
    as_role,
    validators,  # noqa: F811
):
    response = rated(clinic, 22, day(-3))
    bundle = json.loads(as_role("prescriber").get(export_url(clinic.on_team, response)).content)
    assert invalid(validators, bundle) == []
    questionnaire, observation = (entry["resource"] for entry in bundle["entry"])
    assert questionnaire["author"] == {"reference": f"Practitioner/{clinic.staff['prescriber'].pk}"}
    interview = day(-3).astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    assert questionnaire["authored"] == observation["effectiveDateTime"] == interview
    assert observation["valueInteger"] == 22


def test_a_stored_record_that_no_longer_fits_is_refused_naming_each_problem(clinic, as_role):
    response = submitted(clinic.on_team, clinic.staff["nurse"], "phq9", 12, day(1))
    QuestionnaireResponse.objects.filter(pk=response.pk).update(flags=["retired_flag"])
    got = as_role("prescriber").get(export_url(clinic.on_team, response))
    assert got.status_code == 409
    page = got.content.decode()
    assert "This questionnaire cannot be exported as valid FHIR." in page
    # The core's problem in full: the field, what is wrong with it and what would be accepted.
    assert "flags: &#x27;retired_flag&#x27; is not a known flag (accepts " in page
    assert not AuditEntry.objects.filter(action="fhir.exported").exists()
