"""Reads for questionnaires: the patient's progress through a link, and the staff's views of
responses. Staff opening a response's item answers is audited."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from kapstone.accounts.models import StaffUser
from kapstone.assessments import flow
from kapstone.assessments.models import QuestionnaireResponse, QuestionnaireSet, ResponseStatus
from kapstone.audit.trail import record
from kapstone.clinical.instruments import Answer, Flag, InstrumentDefinition, Item
from kapstone.patients.models import Patient


@dataclass(frozen=True)
class Progress:
    response: QuestionnaireResponse
    definition: InstrumentDefinition
    answered: int
    count: int
    next_item: Item | None  # None: only the review is left


def link_progress(questionnaire_set: QuestionnaireSet) -> list[Progress]:
    rows = []
    for response in questionnaire_set.responses.all():
        definition = flow.definition(response.instrument)
        shown = flow.shown_items(definition, response.answers)
        rows.append(
            Progress(
                response=response,
                definition=definition,
                answered=sum(1 for item in shown if item.id in response.answers),
                count=len(shown),
                next_item=flow.resume_item(definition, response.answers),
            )
        )
    return rows


def response_in_set(
    questionnaire_set: QuestionnaireSet, instrument: str
) -> QuestionnaireResponse | None:
    """The set's questionnaire of this instrument; None when the set has none."""
    return questionnaire_set.responses.filter(instrument=instrument).first()


def raised_suicide_risk(questionnaire_set: QuestionnaireSet) -> bool:
    """Whether a questionnaire the patient submitted in this set carries the suicide-risk flag."""
    return any(
        str(Flag.SUICIDE_RISK) in (response.flags or [])
        for response in questionnaire_set.responses.filter(status=ResponseStatus.SUBMITTED)
    )


def is_finished(questionnaire_set: QuestionnaireSet) -> bool:
    """Whether every questionnaire of the set is submitted (read afresh: a submission just now
    closed it in another copy of the row)."""
    return QuestionnaireSet.objects.filter(
        pk=questionnaire_set.pk, submitted_at__isnull=False
    ).exists()


def patient_response_or_404(patient: Patient, response_id: int) -> QuestionnaireResponse:
    """One of the patient's questionnaires (``Http404`` for another patient's or none), with its
    set, the patient and who sent it."""
    return get_object_or_404(
        QuestionnaireResponse.objects.select_related(
            "questionnaire_set__patient", "questionnaire_set__sent_by"
        ),
        pk=response_id,
        questionnaire_set__patient=patient,
    )


def sets_for_patient(patient: Patient) -> QuerySet[QuestionnaireSet]:
    return patient.questionnaire_sets.select_related("sent_by").prefetch_related(
        Prefetch("responses", queryset=QuestionnaireResponse.objects.order_by("position"))
    )


@dataclass(frozen=True)
class ItemAnswer:
    item: Item
    wording: str
    answer: Answer | None
    answer_label: str | None
    points: int | None
    asked: bool


@dataclass(frozen=True)
class ResponseDetail:
    response: QuestionnaireResponse
    definition: InstrumentDefinition
    items: list[ItemAnswer]


def open_response(*, user: StaffUser, response: QuestionnaireResponse) -> ResponseDetail:
    """Every item with its answer (not just the total); records that the user read them."""
    patient = response.questionnaire_set.patient
    record(
        actor=user,
        action="questionnaire.response_viewed",
        patient=patient,
        obj=response,
        summary=f"Viewed {response.instrument} item answers",
    )
    definition = flow.definition(response.instrument)
    answers = response.answers
    rows = []
    for item in definition.items:
        value = answers.get(item.id)
        option = item.option_for(value) if value is not None else None
        rows.append(
            ItemAnswer(
                item=item,
                wording=flow.wording(definition, item),
                answer=value,
                answer_label=option.label if option is not None else None,
                points=option.points if option is not None and item.scored else None,
                asked=flow.is_shown(item, answers),
            )
        )
    return ResponseDetail(response=response, definition=definition, items=rows)
