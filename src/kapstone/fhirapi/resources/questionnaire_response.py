"""QuestionnaireResponse: each submitted questionnaire, built by
:mod:`kapstone.interop.fhir_questionnaire` from what was stored at submission. Item text is the
full wording only where the instrument's licence lets it be handed on, else the short label."""

from __future__ import annotations

from django.db.models import QuerySet

from kapstone.assessments.models import QuestionnaireResponse, ResponseStatus
from kapstone.clinical.instruments import INSTRUMENTS
from kapstone.fhirapi.registry import DatePath, Resource, SearchParam, Source, kind
from kapstone.fhirapi.resources.common import ID, LAST_UPDATED, PATIENT, with_meta
from kapstone.interop.fhir_questionnaire import questionnaire_response
from kapstone.outcomes.exports import stored_result

PROFILE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-questionnaireresponse"


def rows() -> QuerySet[QuestionnaireResponse]:
    return (
        QuestionnaireResponse.objects.filter(
            status=ResponseStatus.SUBMITTED, instrument__in=list(INSTRUMENTS)
        )
        .select_related("questionnaire_set")
        .order_by("pk")
    )


def build(response: QuestionnaireResponse) -> Resource:
    assert response.submitted_at is not None
    questionnaire_set = response.questionnaire_set
    author = (
        f"Practitioner/{questionnaire_set.sent_by_id}"
        if questionnaire_set.is_rating and questionnaire_set.sent_by_id is not None
        else None
    )
    built = questionnaire_response(
        definition=INSTRUMENTS[response.instrument],
        result=stored_result(response),
        patient_reference=f"Patient/{questionnaire_set.patient_id}",
        authored=response.submitted_at,
        response_id=str(response.pk),
        author_reference=author,
    )
    return with_meta(built, response.submitted_at)


SOURCE = Source(
    key="",
    rows=rows,
    build=build,
    updated="submitted_at",
    patient="questionnaire_set__patient_id",
    dates={"authored": DatePath("submitted_at")},
)

KIND = kind(
    "QuestionnaireResponse",
    sources=[SOURCE],
    search_params=[
        ID,
        LAST_UPDATED,
        PATIENT,
        SearchParam("authored", "date", "When it was submitted (prefixes eq, lt, le, gt, ge)."),
    ],
    in_patient_compartment=True,
    profile=PROFILE,
    includes=["QuestionnaireResponse:patient"],
    documentation="Each submitted questionnaire; wording only where the licence allows.",
)
