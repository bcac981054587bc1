"""A submitted questionnaire as a FHIR R4 collection Bundle, built by :mod:`kapstone.interop`.

The export is rebuilt from what was stored at submission (answers, total, severity, flags, the
instrument and scoring-policy versions), never re-scored, so it says what the clinic saw. Handing a
record to another system is a read of the chart: it is audited.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.assessments.models import QuestionnaireResponse
from kapstone.audit.trail import record
from kapstone.clinical.instruments import INSTRUMENTS, Flag, ScoreResult
from kapstone.clinical.problems import Problem
from kapstone.interop import FhirExportErrors, questionnaire_bundle
from kapstone.patients.models import Patient

FHIR_JSON = "application/fhir+json"

# The MRN travels as the Patient reference's business identifier, typed with HL7 v2 table 0203's
# "MR" (medical record number), so a receiving system can match the patient without our ids.
MRN_SYSTEM = "urn:kapstone:mrn"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"


def patient_reference(patient: Patient) -> str:
    return f"Patient/{patient.pk}"


def _mrn_identifier(patient: Patient) -> dict[str, Any]:
    return {
        "type": {
            "coding": [{"system": IDENTIFIER_TYPE, "code": "MR"}],
            "text": "Medical record number",
        },
        "system": MRN_SYSTEM,
        "value": patient.mrn,
    }


def stored_result(response: QuestionnaireResponse) -> ScoreResult:
    """The core's result as it was stored when the patient submitted."""
    problems: list[Problem] = []
    flags: list[Flag] = []
    for flag in response.flags:
        try:
            flags.append(Flag(flag))
        except ValueError:
            problems.append(Problem("flags", f"{flag!r} is not a known flag", ", ".join(Flag)))
    if problems:
        raise FhirExportErrors(tuple(problems))
    return ScoreResult(
        instrument=response.instrument,
        version=response.instrument_version,
        total=response.total,
        severity=response.severity or None,
        subscales=dict(response.subscales),
        flags=tuple(flags),
        answers=dict(response.answers),
        policy_version=response.policy_version,
    )


def fhir_bundle(response: QuestionnaireResponse) -> dict[str, Any]:
    """The Bundle for one submitted response; FhirExportErrors names every problem."""
    if not response.is_submitted or response.submitted_at is None:
        raise FhirExportErrors(
            (Problem("status", "the questionnaire is not submitted", "a submitted one"),)
        )
    definition = INSTRUMENTS.get(response.instrument)
    if definition is None:
        raise FhirExportErrors(
            (
                Problem(
                    "instrument",
                    f"{response.instrument!r} is no longer in the questionnaire library",
                    ", ".join(INSTRUMENTS),
                ),
            )
        )
    questionnaire_set = response.questionnaire_set
    patient = questionnaire_set.patient
    reference = patient_reference(patient)
    # A clinician's rating (MADRS) is authored by the rater, who is the set's sender, at the
    # interview; a patient's own questionnaire names no author rather than guess who typed it.
    rating = questionnaire_set.is_rating
    author = (
        f"Practitioner/{questionnaire_set.sent_by_id}"
        if rating and questionnaire_set.sent_by_id is not None
        else None
    )
    bundle = questionnaire_bundle(
        definition=definition,
        result=stored_result(response),
        patient_reference=reference,
        # A rating is submitted at its interview time: this is when the measure was taken.
        authored=response.submitted_at,
        bundle_id=f"questionnaire-{response.pk}",
        response_id=f"qr-{response.pk}",
        observation_id=f"obs-{response.pk}",
        author_reference=author,
    )
    identifier = _mrn_identifier(patient)
    for entry in bundle["entry"]:
        subject = entry["resource"].get("subject")
        if subject is not None and subject.get("reference") == reference:
            subject["identifier"] = identifier
    return bundle


def export_fhir(*, user: StaffUser, response: QuestionnaireResponse) -> dict[str, Any]:
    """Builds the Bundle and records that ``user`` exported it (nothing is recorded on failure)."""
    bundle = fhir_bundle(response)
    kinds = ", ".join(entry["resource"]["resourceType"] for entry in bundle["entry"])
    record(
        actor=user,
        action="fhir.exported",
        patient=response.questionnaire_set.patient,
        obj=response,
        summary=f"Exported {response.instrument} submitted "
        f"{timezone.localtime(response.submitted_at):%Y-%m-%d %H:%M} as FHIR R4 ({kinds})",
    )
    return bundle


def filename(response: QuestionnaireResponse) -> str:
    return f"questionnaire-{response.pk}-{response.instrument.replace('_', '-')}.fhir.json"
