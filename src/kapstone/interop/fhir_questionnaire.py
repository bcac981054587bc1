"""A completed questionnaire as FHIR R4: a QuestionnaireResponse, an Observation for its score, and
a collection Bundle of both.

Pure functions over an :class:`InstrumentDefinition` and the :class:`ScoreResult` the core scored;
they return plain JSON-ready dicts (no Django, no I/O, no clock). Codes follow the instrument
library, which holds only LOINC codes the clinical reference marks VERIFIED: where it has none, a
Kapstone URN system is used instead, never a guessed LOINC code.

Decisions, so a receiving system knows what it gets:

- ``QuestionnaireResponse.questionnaire`` is LOINC's own Questionnaire canonical
  ``http://loinc.org/q/<panel>`` when the panel code is verified, else
  ``urn:kapstone:questionnaire:<name>|<version>``. Item linkIds are Kapstone's item ids ("1", "6b",
  "1a"), not the linkIds of LOINC's published form.
- Items the form's flow did not ask (C-SSRS 3-5 after "no" to 2, AUDIT 2-8 for a non-drinker) are
  left out even when the stored answers hold their lowest value; voluntarily answered optional items
  (PHQ-9 item 10 at total 0) are kept.
- Item text is the full wording only where the instrument's licence lets it be redistributed;
  otherwise the short label, even when a clinic has loaded licensed wording, since an export hands
  the text to another party.
- Totals are ``valueInteger``: every total is a whole-number sum, and ``valueQuantity`` with the
  UCUM annotation ``{score}`` would add a unit that means "1" and make the value a decimal.
- The C-SSRS screener has no total: its result is the risk tier, exported as an Observation with
  ``valueCodeableConcept``. Tiers below "high" are clinic policy, so the policy version goes into
  every Observation's note.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kapstone.clinical.instruments import (
    Answer,
    AnswerKind,
    InstrumentDefinition,
    Item,
    ScoreResult,
    WhenNotAsked,
)
from kapstone.clinical.problems import Problem
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.interop.fhir_checks import (
    FhirExportErrors,
    check_id,
    check_instant,
    check_reference,
    fhir_datetime,
)

Resource = dict[str, Any]

LOINC = "http://loinc.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"

LOINC_QUESTIONNAIRE_SOURCE = Source(
    "§7",
    Verification.SECONDARY,
    Evidence.PUBLISHED_PRACTICE,
    "LOINC publishes its panels as FHIR Questionnaires with url http://loinc.org/q/<panel> "
    "(Regenstrief's PHQ-9 Questionnaire 44249-1 seen in a stored public FSH export); §7 itself "
    "records only the forms.loinc.org rendering pattern.",
)

# Who may author a QuestionnaireResponse (R4 QuestionnaireResponse.author).
AUTHOR_TYPES = (
    "Practitioner",
    "PractitionerRole",
    "Patient",
    "RelatedPerson",
    "Organization",
    "Device",
)


def questionnaire_canonical(definition: InstrumentDefinition) -> str:
    if definition.loinc.panel is not None:
        return f"{LOINC}/q/{definition.loinc.panel}"
    return f"urn:kapstone:questionnaire:{definition.name}|{definition.version}"


def score_system(definition: InstrumentDefinition) -> str:
    """Kapstone's code system for an instrument's scores where LOINC has no verified code."""
    return f"urn:kapstone:score:{definition.name}"


def asked_items(
    definition: InstrumentDefinition, answers: Mapping[str, Answer]
) -> tuple[Item, ...]:
    """The answered items the form actually asked, in form order."""
    asked: list[Item] = []
    for item in definition.items:
        if item.id not in answers:
            continue
        rule = item.asked_when
        # A not-asked item may hold its lowest answer as a placeholder; it was never a question.
        if (
            rule is not None
            and rule.otherwise is WhenNotAsked.ABSENT_OR_LOWEST
            and not rule.applies(answers)
        ):
            continue
        asked.append(item)
    return tuple(asked)


def questionnaire_response(
    *,
    definition: InstrumentDefinition,
    result: ScoreResult,
    patient_reference: str,
    authored: datetime,
    response_id: str,
    author_reference: str | None = None,
) -> Resource:
    """An R4 QuestionnaireResponse (status completed) holding every asked item's answer."""
    problems = _check_result(definition, result)
    check_id("response_id", response_id, problems)
    check_reference("patient_reference", patient_reference, ("Patient",), problems)
    check_instant("authored", authored, problems)
    if author_reference is not None:
        check_reference("author_reference", author_reference, AUTHOR_TYPES, problems)
    FhirExportErrors.refuse_if_any(problems)

    response: Resource = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "questionnaire": questionnaire_canonical(definition),
        "status": "completed",
        "subject": {"reference": patient_reference},
        "authored": fhir_datetime(authored),
    }
    if author_reference is not None:
        response["author"] = {"reference": author_reference}
    response["item"] = [
        {
            "linkId": item.id,
            "text": _item_text(definition, item),
            "answer": [_answer(item, result.answers[item.id])],
        }
        for item in asked_items(definition, result.answers)
    ]
    return response


def total_observation(
    *,
    definition: InstrumentDefinition,
    result: ScoreResult,
    patient_reference: str,
    effective: datetime,
    observation_id: str,
    derived_from_response_id: str,
) -> Resource | None:
    """The total score as an Observation; None for an instrument without a total (C-SSRS)."""
    problems = _check_observation_inputs(
        definition,
        result,
        patient_reference,
        effective,
        observation_id,
        derived_from_response_id,
    )
    FhirExportErrors.refuse_if_any(problems)
    if result.total is None:
        return None

    if definition.loinc.total is not None:
        code: Resource = {
            "coding": [{"system": LOINC, "code": definition.loinc.total}],
            "text": f"{definition.title} total score",
        }
    else:
        code = {
            "coding": [{"system": score_system(definition), "code": "total"}],
            "text": f"{definition.title} total score",
        }
    observation = _observation_head(
        definition, result, patient_reference, effective, observation_id, derived_from_response_id
    )
    observation["code"] = code
    observation["valueInteger"] = result.total
    if result.severity is not None:
        observation["interpretation"] = [_severity_concept(definition, result.severity)]
    if result.subscales:
        observation["component"] = [
            {"code": _subscale_code(definition, name), "valueInteger": value}
            for name, value in result.subscales.items()
        ]
    observation["note"] = [{"text": _provenance_note(definition, result)}]
    return _ordered(observation)


def risk_observation(
    *,
    definition: InstrumentDefinition,
    result: ScoreResult,
    patient_reference: str,
    effective: datetime,
    observation_id: str,
    derived_from_response_id: str,
) -> Resource | None:
    """For an instrument scored as a risk tier instead of a total (the C-SSRS screener): the tier
    as ``valueCodeableConcept``. None for instruments with a total."""
    problems = _check_observation_inputs(
        definition,
        result,
        patient_reference,
        effective,
        observation_id,
        derived_from_response_id,
    )
    FhirExportErrors.refuse_if_any(problems)
    if result.total is not None or result.severity is None:
        return None
    observation = _observation_head(
        definition, result, patient_reference, effective, observation_id, derived_from_response_id
    )
    observation["code"] = {
        "coding": [{"system": score_system(definition), "code": "risk"}],
        "text": f"{definition.title} risk level",
    }
    observation["valueCodeableConcept"] = _severity_concept(definition, result.severity)
    observation["note"] = [{"text": _provenance_note(definition, result)}]
    return _ordered(observation)


def score_observation(
    *,
    definition: InstrumentDefinition,
    result: ScoreResult,
    patient_reference: str,
    effective: datetime,
    observation_id: str,
    derived_from_response_id: str,
) -> Resource | None:
    """The Observation that carries the result: the total, or the risk tier where there is none."""
    arguments: dict[str, Any] = {
        "definition": definition,
        "result": result,
        "patient_reference": patient_reference,
        "effective": effective,
        "observation_id": observation_id,
        "derived_from_response_id": derived_from_response_id,
    }
    return total_observation(**arguments) or risk_observation(**arguments)


def questionnaire_bundle(
    *,
    definition: InstrumentDefinition,
    result: ScoreResult,
    patient_reference: str,
    authored: datetime,
    bundle_id: str,
    response_id: str,
    observation_id: str,
    author_reference: str | None = None,
    full_url_base: str | None = None,
) -> Resource:
    """A ``collection`` Bundle: the QuestionnaireResponse, then the Observation for its result.

    ``full_url_base`` (e.g. the clinic's FHIR base, no trailing slash) gives each entry a fullUrl
    ``<base>/<type>/<id>``; without it entries have none, which R4 allows in a collection.
    """
    problems: list[Problem] = []
    check_id("bundle_id", bundle_id, problems)
    if full_url_base is not None and (
        not full_url_base or full_url_base.endswith("/") or any(c.isspace() for c in full_url_base)
    ):
        problems.append(
            Problem(
                "full_url_base",
                f"{full_url_base!r} is not a base URL",
                "an absolute URL without whitespace or trailing slash",
            )
        )
    # Everything the two resources check too, so one error names every problem at once.
    problems.extend(_check_result(definition, result))
    check_id("response_id", response_id, problems)
    check_id("observation_id", observation_id, problems)
    check_reference("patient_reference", patient_reference, ("Patient",), problems)
    check_instant("authored", authored, problems)
    if author_reference is not None:
        check_reference("author_reference", author_reference, AUTHOR_TYPES, problems)
    FhirExportErrors.refuse_if_any(problems)

    response = questionnaire_response(
        definition=definition,
        result=result,
        patient_reference=patient_reference,
        authored=authored,
        response_id=response_id,
        author_reference=author_reference,
    )
    observation = score_observation(
        definition=definition,
        result=result,
        patient_reference=patient_reference,
        effective=authored,
        observation_id=observation_id,
        derived_from_response_id=response_id,
    )
    entries = [response] + ([observation] if observation is not None else [])
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "type": "collection",
        "entry": [_entry(resource, full_url_base) for resource in entries],
    }


# ---------------------------------------------------------------------------------------------


def _entry(resource: Resource, full_url_base: str | None) -> Resource:
    if full_url_base is None:
        return {"resource": resource}
    return {
        "fullUrl": f"{full_url_base}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
    }


def _check_result(definition: InstrumentDefinition, result: ScoreResult) -> list[Problem]:
    """A stored result must belong to this definition, or the export would mislabel it."""
    problems: list[Problem] = []
    if result.instrument != definition.name:
        problems.append(
            Problem(
                "result.instrument",
                f"{result.instrument!r} is not the definition's instrument",
                repr(definition.name),
            )
        )
    if result.version != definition.version:
        problems.append(
            Problem(
                "result.version",
                f"{result.version!r} differs from the definition's version",
                repr(definition.version),
            )
        )
    known = definition.item_ids
    for item_id, value in result.answers.items():
        if item_id not in known:
            problems.append(
                Problem(
                    f"result.answers[{item_id!r}]", "unknown item", "item ids " + ", ".join(known)
                )
            )
        elif definition.item(item_id).option_for(value) is None:
            item = definition.item(item_id)
            problems.append(
                Problem(
                    f"result.answers[{item_id!r}]", f"{value!r} is not an option", item.accepts()
                )
            )
    if (result.total is None) != (definition.scoring.total_range is None):
        problems.append(
            Problem(
                "result.total",
                f"{result.total!r} does not fit the instrument's scoring",
                "an integer" if definition.scoring.total_range is not None else "None (no total)",
            )
        )
    return problems


def _check_observation_inputs(
    definition: InstrumentDefinition,
    result: ScoreResult,
    patient_reference: str,
    effective: datetime,
    observation_id: str,
    derived_from_response_id: str,
) -> list[Problem]:
    problems = _check_result(definition, result)
    check_id("observation_id", observation_id, problems)
    check_id("derived_from_response_id", derived_from_response_id, problems)
    check_reference("patient_reference", patient_reference, ("Patient",), problems)
    check_instant("effective", effective, problems)
    return problems


def _item_text(definition: InstrumentDefinition, item: Item) -> str:
    if item.text and definition.licence.wording_redistributable:
        return item.text
    return item.label


def _answer(item: Item, value: Answer) -> Resource:
    option = item.option_for(value)
    assert option is not None  # checked by _check_result
    if option.loinc is not None:
        return {
            "valueCoding": {
                # The points travel with the code, as SDC forms score them.
                "extension": [{"url": ORDINAL_VALUE, "valueDecimal": option.points}],
                "system": LOINC,
                "code": option.loinc,
                "display": option.label,
            }
        }
    if item.kind is AnswerKind.YES_NO:
        return {"valueBoolean": bool(value)}
    return {"valueInteger": int(value)}


def _observation_head(
    definition: InstrumentDefinition,
    result: ScoreResult,
    patient_reference: str,
    effective: datetime,
    observation_id: str,
    derived_from_response_id: str,
) -> Resource:
    return {
        "resourceType": "Observation",
        "id": observation_id,
        "status": "final",
        "category": [
            {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}
        ],
        "subject": {"reference": patient_reference},
        "effectiveDateTime": fhir_datetime(effective),
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{derived_from_response_id}"}],
    }


_ORDER = (
    "resourceType",
    "id",
    "status",
    "category",
    "code",
    "subject",
    "effectiveDateTime",
    "valueInteger",
    "valueCodeableConcept",
    "interpretation",
    "note",
    "derivedFrom",
    "component",
)


def _ordered(observation: Resource) -> Resource:
    """FHIR's element order, so exports read like the specification's examples."""
    return {key: observation[key] for key in _ORDER if key in observation}


def _severity_concept(definition: InstrumentDefinition, word: str) -> Resource:
    # No ObservationInterpretation code means "moderate depression", so the binding (extensible)
    # allows a Kapstone code; the text carries the word for people.
    return {
        "coding": [{"system": f"urn:kapstone:severity:{definition.name}", "code": word}],
        "text": word.replace("_", " "),
    }


def _subscale_code(definition: InstrumentDefinition, name: str) -> Resource:
    text = f"{definition.title} {name.replace('_', ' ')} score"
    loinc = definition.loinc.subscales.get(name)
    if loinc is not None:
        return {"coding": [{"system": LOINC, "code": loinc}], "text": text}
    return {"coding": [{"system": score_system(definition), "code": name}], "text": text}


def _provenance_note(definition: InstrumentDefinition, result: ScoreResult) -> str:
    flags = ", ".join(str(flag) for flag in result.flags) or "none"
    return (
        f"Scored by Kapstone: {definition.name} version {result.version}, scoring policy "
        f"{result.policy_version}. Flags: {flags}."
    )


__all__ = [
    "LOINC",
    "LOINC_QUESTIONNAIRE_SOURCE",
    "asked_items",
    "questionnaire_bundle",
    "questionnaire_canonical",
    "questionnaire_response",
    "risk_observation",
    "score_observation",
    "score_system",
    "total_observation",
]
