"""Reads for questionnaires: the patient's progress through a link, and the staff's views of
responses. Staff opening a response's item answers is audited."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from kapstone.accounts.models import StaffUser
from kapstone.assessments import flow
from kapstone.assessments.models import QuestionnaireResponse, QuestionnaireSet
from kapstone.audit.trail import record
from kapstone.clinical.instruments import Answer, InstrumentDefinition, Item
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
