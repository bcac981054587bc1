"""Questionnaire: each instrument of the library (``phq9``, ``gad7`` ...), from Kapstone's code, not
its tables. Items with their wording and answer options only where the instrument's licence lets
the wording be handed on (docs/licensed-wording.md); otherwise the Questionnaire names the
instrument, its version and its licence notice, with no items.

``url`` is the canonical a QuestionnaireResponse's ``questionnaire`` names (LOINC's
``http://loinc.org/q/<panel>`` where the panel code is verified, else Kapstone's URN).
"""

from __future__ import annotations

import functools
from typing import Any

from kapstone.clinical.instruments import INSTRUMENTS, AnswerKind, InstrumentDefinition, Item
from kapstone.fhirapi.registry import Resource, fixed_kind
from kapstone.fhirapi.resources.common import ID, LOINC
from kapstone.interop.fhir_questionnaire import questionnaire_canonical


def questionnaire_id(definition: InstrumentDefinition) -> str:
    return definition.name.replace("_", "-")


def _item(item: Item) -> dict[str, Any]:
    entry: dict[str, Any] = {"linkId": item.id}
    if item.loinc is not None:
        entry["code"] = [{"system": LOINC, "code": item.loinc}]
    entry["text"] = item.text or item.label
    if item.kind is AnswerKind.YES_NO:
        entry["type"] = "boolean"
        return entry
    entry["type"] = "choice"
    options = []
    for option in item.options:
        if option.loinc is not None:
            coding = {"system": LOINC, "code": option.loinc, "display": option.label}
        else:
            coding = {
                "system": f"urn:kapstone:answer:{item.id}",
                "code": str(option.value),
                "display": option.label,
            }
        options.append({"valueCoding": coding})
    entry["answerOption"] = options
    return entry


def build(definition: InstrumentDefinition) -> Resource:
    url = questionnaire_canonical(definition).split("|")[0]
    resource: Resource = {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(definition),
        "url": url,
        "version": definition.version,
        "name": definition.name.upper().replace("-", "_"),
        "title": definition.title,
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": "Kapstone",
        "copyright": definition.licence.notice,
    }
    if definition.loinc.panel is not None:
        resource["code"] = [{"system": LOINC, "code": definition.loinc.panel}]
    if definition.licence.wording_redistributable:
        resource["item"] = [_item(item) for item in definition.items]
    return resource


@functools.cache
def _all() -> tuple[Resource, ...]:
    return tuple(build(d) for d in INSTRUMENTS.values())


KIND = fixed_kind(
    "Questionnaire",
    resources=_all,
    search_params=[ID],
    documentation="The questionnaire library; items only where the licence allows.",
)
