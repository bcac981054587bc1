"""FHIR R4 export of completed questionnaires, checked against HL7's official R4 JSON Schema.

The schema is fetched (and its sha256 checked) by scripts/fetch-fhir-schema into var/fhir/. One
Draft-06 validator per resource type is built once for the module: validating against the root
schema's oneOf over every resource type is very slow.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.instruments import (
    INSTRUMENTS,
    CssrsRisk,
    Flag,
    InstrumentDefinition,
    ScoreResult,
    WhenNotAsked,
    score,
    with_licensed_wording,
)
from kapstone.interop import (
    FhirExportErrors,
    questionnaire_bundle,
    questionnaire_response,
    risk_observation,
    score_observation,
    total_observation,
)
from kapstone.interop.fhir_questionnaire import asked_items
from tests.fhir_schema import load_schema, schema_errors, validators_for

Answer = int | bool
Resource = dict[str, Any]

AUTHORED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
PATIENT = "Patient/pt-0042"


def numbered(*values: Answer) -> dict[str, Answer]:
    return {str(i): v for i, v in enumerate(values, 1)}


# One realistic, complete answer set per instrument, as a patient (or rater) would give it.
REALISTIC: dict[str, dict[str, Answer]] = {
    "phq9": numbered(2, 2, 3, 2, 1, 2, 1, 0, 1, 2),  # 14 moderate, item 9 = 1
    "gad7": numbered(2, 1, 2, 1, 0, 1, 1),  # 8 mild
    # A man: item 4 (menstrual problems) is not asked.
    "phq15": {
        k: v for k, v in numbered(1, 2, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1, 2, 2).items() if k != "4"
    },
    "pcl5": numbered(2, 3, 1, 2, 1, 2, 1, 0, 2, 3, 1, 2, 1, 0, 2, 1, 3, 2, 1, 2),
    "cssrs_screen": {"1": True, "2": False, "6": False},  # low risk; 3-5 and 6b not asked
    "mdq": {
        **{f"1{letter}": letter in "abcefgh" for letter in "abcdefghijklm"},
        "2": True,
        "3": 2,
    },
    "qids_sr16": numbered(2, 1, 0, 0, 2, 1, 0, 1, 0, 2, 1, 1, 2, 2, 1, 0),
    "audit": numbered(2, 1, 1, 0, 1, 0, 1, 0, 0, 2),
    "audit_c": numbered(3, 1, 2),
    "dast10": numbered(True, False, True, False, True, False, False, False, False, False),
    "pdss_sr": numbered(2, 3, 2, 1, 1, 2, 1),
    "cadss": numbered(1, 2, 0, 0, 1, 2, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 2, 0),
    "cadss6": {"1": 1, "2": 2, "6": 2, "7": 1, "15": 1, "22": 2},
    "madrs": numbered(3, 4, 2, 4, 1, 2, 3, 2, 2, 1),
}
NAMES = sorted(INSTRUMENTS)

# Codes public material mislabels (clinical-reference §9) or that the reference leaves unverified.
NEVER_EMITTED = {"89204-2", "97006-2", "75624-7", "82666-9", "82667-7"}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return load_schema()


@pytest.fixture(scope="module")
def validators(schema: dict[str, Any]) -> dict[str, jsonschema.Draft6Validator]:
    return validators_for(schema, ("QuestionnaireResponse", "Observation", "Bundle"))


def errors(validators: Mapping[str, jsonschema.Draft6Validator], resource: Resource) -> list[str]:
    return schema_errors(validators, resource)


def export(name: str, answers: Mapping[str, Answer] | None = None) -> tuple[ScoreResult, Resource]:
    definition = INSTRUMENTS[name]
    result = score(name, REALISTIC[name] if answers is None else answers)
    bundle = questionnaire_bundle(
        definition=definition,
        result=result,
        patient_reference=PATIENT,
        authored=AUTHORED,
        bundle_id=f"bundle-{name.replace('_', '-')}",
        response_id=f"qr-{name.replace('_', '-')}",
        observation_id=f"obs-{name.replace('_', '-')}",
        author_reference="Practitioner/dr-1" if name in {"madrs", "cadss", "cadss6"} else None,
    )
    return result, bundle


def walk_codings(node: object) -> Iterator[Mapping[str, Any]]:
    """Every Coding anywhere in a resource (anything with a system and a code)."""
    if isinstance(node, Mapping):
        if "system" in node and "code" in node:
            yield node
        for value in node.values():
            yield from walk_codings(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk_codings(value)


def verified_loinc(definition: InstrumentDefinition) -> set[str]:
    codes = {definition.loinc.total, *definition.loinc.subscales.values()}
    codes |= {option.loinc for item in definition.items for option in item.options}
    return {code for code in codes if code is not None}


def decoded(definition: InstrumentDefinition, item: Mapping[str, Any]) -> Answer:
    """Read an exported answer back into the value the patient gave."""
    (answer,) = item["answer"]
    if "valueCoding" in answer:
        coding = answer["valueCoding"]
        assert coding["system"] == "http://loinc.org"
        (option,) = [
            o for o in definition.item(item["linkId"]).options if o.loinc == coding["code"]
        ]
        assert coding["extension"][0]["valueDecimal"] == option.points
        return option.value
    if "valueBoolean" in answer:
        value: Answer = answer["valueBoolean"]
        return value
    value = answer["valueInteger"]
    return value


# ---------------------------------------------------------------------------------------------
# The validator itself


def test_schema_is_hl7s_r4_draft6_schema(schema: dict[str, Any]) -> None:
    assert schema["id"] == "http://hl7.org/fhir/json-schema/4.0"
    assert schema["$schema"] == "http://json-schema.org/draft-06/schema#"
    assert {"QuestionnaireResponse", "Observation", "Bundle"} <= set(schema["definitions"])


@pytest.mark.parametrize(
    ("where", "breaks"),
    [
        ("status", lambda r: r.update(status="done")),
        (
            "valueInteger as a string",
            lambda r: r["item"][0]["answer"].__setitem__(0, {"valueInteger": "2"}),
        ),
        ("misspelt element", lambda r: r["item"][0].update(linkid="1")),
        ("authored without zone", lambda r: r.update(authored="2026-11-20T09:30:00")),
        (
            "no resourceType",
            lambda r: r.pop("resourceType") and r.update(resourceType="Questionnaire"),
        ),
    ],
)
def test_validator_rejects_a_broken_questionnaire_response(
    validators: Mapping[str, jsonschema.Draft6Validator], where: str, breaks: Any
) -> None:
    _, bundle = export("pcl5")
    response = json.loads(json.dumps(bundle["entry"][0]["resource"]))
    assert errors(validators, response) == []
    breaks(response)
    assert not validators["QuestionnaireResponse"].is_valid(response), where


def test_validator_rejects_broken_observations_and_bundles(
    validators: Mapping[str, jsonschema.Draft6Validator],
) -> None:
    _, bundle = export("phq9")
    observation = json.loads(json.dumps(bundle["entry"][1]["resource"]))
    assert errors(validators, observation) == []
    for broken in (
        {**observation, "valueInteger": "14"},
        {**observation, "status": "done"},
    ):
        assert not validators["Observation"].is_valid(broken)
    assert not validators["Bundle"].is_valid({**bundle, "type": "pile"})
    # A Bundle's entries are checked too: a broken resource inside breaks the Bundle.
    inner = json.loads(json.dumps(bundle))
    inner["entry"][0]["resource"]["status"] = "done"
    assert not validators["Bundle"].is_valid(inner)


def test_schema_gap_fractional_integers_are_caught_by_fhir_resources(
    validators: Mapping[str, jsonschema.Draft6Validator],
) -> None:
    """HL7's schema types integer as "number" plus a pattern that only applies to strings, so it
    passes 14.5; the fhir.resources model is the second check that refuses it."""
    from fhir.resources.R4B.observation import Observation
    from pydantic import ValidationError

    _, bundle = export("phq9")
    fractional = {**bundle["entry"][1]["resource"], "valueInteger": 14.5}
    assert validators["Observation"].is_valid(fractional)
    with pytest.raises(ValidationError):
        Observation.model_validate(fractional)


# ---------------------------------------------------------------------------------------------
# Every instrument


@pytest.mark.parametrize("name", NAMES)
def test_every_instrument_exports_valid_r4(
    validators: Mapping[str, jsonschema.Draft6Validator], name: str
) -> None:
    result, bundle = export(name)
    response, observation = (entry["resource"] for entry in bundle["entry"])
    assert errors(validators, response) == []
    assert errors(validators, observation) == []
    assert errors(validators, bundle) == []
    assert bundle["type"] == "collection"
    assert response["status"] == "completed"
    assert response["subject"] == {"reference": PATIENT}
    assert response["authored"] == "2026-11-20T09:30:00Z"
    assert observation["status"] == "final"
    assert observation["category"][0]["coding"][0]["code"] == "survey"
    assert observation["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{response['id']}"}]
    if result.total is None:
        assert observation["valueCodeableConcept"]["text"] == result.severity
    else:
        assert observation["valueInteger"] == result.total
    if result.severity is not None and result.total is not None:
        assert observation["interpretation"][0]["coding"][0]["code"] == result.severity


@pytest.mark.parametrize("name", NAMES)
def test_every_answered_item_appears_once_with_its_value(name: str) -> None:
    definition = INSTRUMENTS[name]
    _, bundle = export(name)
    response = bundle["entry"][0]["resource"]
    link_ids = [item["linkId"] for item in response["item"]]
    assert Counter(link_ids) == Counter(list(REALISTIC[name]))  # realistic sets: only asked items
    assert link_ids == [i for i in definition.item_ids if i in REALISTIC[name]]  # form order
    for item in response["item"]:
        assert decoded(definition, item) == REALISTIC[name][item["linkId"]]
        assert item["text"] in {
            definition.item(item["linkId"]).text,
            definition.item(item["linkId"]).label,
        }


@pytest.mark.parametrize("name", NAMES)
def test_loinc_codes_only_where_the_definition_has_verified_ones(name: str) -> None:
    definition = INSTRUMENTS[name]
    _, bundle = export(name)
    loinc = {c["code"] for c in walk_codings(bundle) if c["system"] == "http://loinc.org"}
    assert loinc <= verified_loinc(definition)
    assert not loinc & NEVER_EMITTED
    text = json.dumps(bundle)
    if not verified_loinc(definition) and definition.loinc.panel is None:
        assert "loinc.org" not in text
    response, observation = (entry["resource"] for entry in bundle["entry"])
    if definition.loinc.panel is not None:
        assert response["questionnaire"] == f"http://loinc.org/q/{definition.loinc.panel}"
    else:
        assert response["questionnaire"] == f"urn:kapstone:questionnaire:{name}|1.0"
    (coding,) = observation["code"]["coding"]
    if definition.loinc.total is not None:
        assert coding == {"system": "http://loinc.org", "code": definition.loinc.total}
    else:
        assert coding["system"] == f"urn:kapstone:score:{name}"
        assert observation["code"]["text"].startswith(definition.title)


@pytest.mark.parametrize(
    ("name", "total_code"),
    [("phq9", "44261-6"), ("gad7", "70274-6"), ("audit_c", "75626-2")],
)
def test_verified_total_codes_from_the_reference(name: str, total_code: str) -> None:
    _, bundle = export(name)
    observation = bundle["entry"][1]["resource"]
    assert observation["code"]["coding"] == [{"system": "http://loinc.org", "code": total_code}]


def test_phq9_answers_carry_loinc_answer_codes_and_points() -> None:
    _, bundle = export("phq9")
    items = {item["linkId"]: item for item in bundle["entry"][0]["resource"]["item"]}
    coding = items["3"]["answer"][0]["valueCoding"]
    assert (coding["code"], coding["display"]) == ("LA6571-9", "Nearly every day")
    assert coding["extension"] == [
        {"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": 3}
    ]
    # Item 10 has no verified LOINC answer list: its value travels as an integer.
    assert items["10"]["answer"] == [{"valueInteger": 2}]
    observation = bundle["entry"][1]["resource"]
    assert observation["valueInteger"] == 14
    assert observation["interpretation"][0]["text"] == "moderate"
    assert "suicide_risk" in observation["note"][0]["text"]
    assert "default-2026-11" in observation["note"][0]["text"]


def test_audit_total_is_kapstone_coded_but_its_audit_c_subscale_is_loinc() -> None:
    _, bundle = export("audit")
    observation = bundle["entry"][1]["resource"]
    assert observation["code"]["coding"] == [
        {"system": "urn:kapstone:score:audit", "code": "total"}
    ]
    components = {c["code"]["coding"][0]["code"]: c for c in observation["component"]}
    assert components["75626-2"]["code"]["coding"][0]["system"] == "http://loinc.org"
    assert components["75626-2"]["valueInteger"] == 4  # items 1-3: 2 + 1 + 1
    assert components["dependence"]["code"]["coding"][0]["system"] == "urn:kapstone:score:audit"


# ---------------------------------------------------------------------------------------------
# Skip logic, C-SSRS, wording


def test_items_the_flow_did_not_ask_are_absent_even_when_stored_as_no() -> None:
    answers: dict[str, Answer] = {"1": True, "2": False, "3": False, "4": False, "5": False}
    answers |= {"6": False, "6b": False}
    _, bundle = export("cssrs_screen", answers)
    assert [i["linkId"] for i in bundle["entry"][0]["resource"]["item"]] == ["1", "2", "6"]

    never_drinks = {"1": 0, "2": 0, "3": 0, "4": 0, "9": 0, "10": 2}
    _, bundle = export("audit", never_drinks)
    assert [i["linkId"] for i in bundle["entry"][0]["resource"]["item"]] == ["1", "9", "10"]


def test_optional_items_answered_anyway_are_kept() -> None:
    # PHQ-9 item 10 is only required when the total is above 0, but a given answer is the patient's.
    _, bundle = export("phq9", {**numbered(0, 0, 0, 0, 0, 0, 0, 0, 0), "10": 1})
    assert bundle["entry"][0]["resource"]["item"][-1]["linkId"] == "10"
    # PHQ-15 item 4 (women only) when a woman answered it.
    _, bundle = export("phq15", numbered(*[1] * 15))
    assert len(bundle["entry"][0]["resource"]["item"]) == 15


def test_cssrs_has_no_total_observation_but_a_risk_observation(
    validators: Mapping[str, jsonschema.Draft6Validator],
) -> None:
    definition = INSTRUMENTS["cssrs_screen"]
    result = score(
        "cssrs_screen", {"1": True, "2": True, "3": True, "4": True, "5": False, "6": False}
    )
    assert result.severity == CssrsRisk.HIGH
    arguments: dict[str, Any] = {
        "definition": definition,
        "result": result,
        "patient_reference": PATIENT,
        "effective": AUTHORED,
        "observation_id": "obs-1",
        "derived_from_response_id": "qr-1",
    }
    assert total_observation(**arguments) is None
    observation = risk_observation(**arguments)
    assert observation is not None
    assert score_observation(**arguments) == observation
    assert errors(validators, observation) == []
    assert observation["valueCodeableConcept"] == {
        "coding": [{"system": "urn:kapstone:severity:cssrs_screen", "code": "high"}],
        "text": "high",
    }
    assert observation["code"]["coding"] == [
        {"system": "urn:kapstone:score:cssrs_screen", "code": "risk"}
    ]
    assert Flag.SUICIDE_RISK in result.flags and "suicide_risk" in observation["note"][0]["text"]
    # And the other way round: an instrument with a total has no risk Observation.
    phq9 = {
        **arguments,
        "definition": INSTRUMENTS["phq9"],
        "result": score("phq9", REALISTIC["phq9"]),
    }
    assert risk_observation(**phq9) is None


def test_licensed_wording_is_not_exported_for_instruments_that_forbid_redistribution() -> None:
    pcl5 = INSTRUMENTS["pcl5"]
    licensed = with_licensed_wording(pcl5, {i: f"Licensed wording {i}" for i in pcl5.item_ids})
    response = questionnaire_response(
        definition=licensed,
        result=score("pcl5", REALISTIC["pcl5"]),
        patient_reference=PATIENT,
        authored=AUTHORED,
        response_id="qr-1",
    )
    assert "Licensed wording" not in json.dumps(response)
    assert response["item"][0]["text"] == pcl5.item("1").label
    # The PHQ family's wording may be redistributed, so its full text is used.
    _, bundle = export("phq9")
    assert bundle["entry"][0]["resource"]["item"][8]["text"] == INSTRUMENTS["phq9"].item("9").text


# ---------------------------------------------------------------------------------------------
# Bundle details and bad input


def test_bundle_full_urls_and_author(validators: Mapping[str, jsonschema.Draft6Validator]) -> None:
    definition = INSTRUMENTS["madrs"]
    bundle = questionnaire_bundle(
        definition=definition,
        result=score("madrs", REALISTIC["madrs"]),
        patient_reference=PATIENT,
        authored=datetime(2026, 11, 20, 10, 15, 30, 250000, tzinfo=timezone(timedelta(hours=-5))),
        bundle_id="b-1",
        response_id="qr-1",
        observation_id="obs-1",
        author_reference="Practitioner/dr-7",
        full_url_base="http://fhir.kapstone.test/r4",
    )
    assert errors(validators, bundle) == []
    assert [e["fullUrl"] for e in bundle["entry"]] == [
        "http://fhir.kapstone.test/r4/QuestionnaireResponse/qr-1",
        "http://fhir.kapstone.test/r4/Observation/obs-1",
    ]
    response = bundle["entry"][0]["resource"]
    assert response["author"] == {"reference": "Practitioner/dr-7"}
    assert response["authored"] == "2026-11-20T10:15:30.250000-05:00"


def test_bad_inputs_are_all_named_at_once() -> None:
    with pytest.raises(FhirExportErrors) as caught:
        questionnaire_bundle(
            definition=INSTRUMENTS["phq9"],
            result=score("gad7", REALISTIC["gad7"]),
            patient_reference="pt-0042",
            authored=datetime(2026, 11, 20, 9, 30),  # naive on purpose
            bundle_id="bundle 1",
            response_id="qr_1!",
            observation_id="qr_1!",
            author_reference="Nurse/7",
        )
    fields = [problem.field for problem in caught.value.problems]
    assert set(fields) == {
        "observation_id",
        "bundle_id",
        "result.instrument",
        "patient_reference",
        "authored",
        "response_id",
        "author_reference",
    }
    assert all(problem.accepts for problem in caught.value.problems)


def test_observation_refuses_a_result_from_another_version() -> None:
    definition = INSTRUMENTS["gad7"]
    result = score("gad7", REALISTIC["gad7"])
    stale = ScoreResult(
        instrument="gad7",
        version="0.9",
        total=result.total,
        severity=result.severity,
        subscales=result.subscales,
        flags=result.flags,
        answers={**result.answers, "1": 7},
        policy_version=result.policy_version,
    )
    with pytest.raises(FhirExportErrors) as caught:
        total_observation(
            definition=definition,
            result=stale,
            patient_reference=PATIENT,
            effective=AUTHORED,
            observation_id="obs-1",
            derived_from_response_id="qr-1",
        )
    assert {p.field for p in caught.value.problems} == {"result.version", "result.answers['1']"}


# ---------------------------------------------------------------------------------------------
# Any valid answer set, and a second opinion from fhir.resources


@st.composite
def any_completed(draw: st.DrawFn) -> tuple[str, dict[str, Answer], list[str]]:
    """Answers following the form's flow, and the items a patient was actually asked (or chose
    to answer); not-asked items sometimes hold their lowest answer as a stored placeholder."""
    definition = INSTRUMENTS[draw(st.sampled_from(NAMES))]
    answers: dict[str, Answer] = {}
    shown: list[str] = []
    for item in definition.items:
        values = [option.value for option in item.options]
        rule = item.asked_when
        if rule is None or rule.applies(answers):
            shown.append(item.id)
        elif rule.otherwise is WhenNotAsked.ANY:
            if draw(st.booleans()):  # volunteered
                shown.append(item.id)
        elif draw(st.booleans()):
            answers[item.id] = item.lowest.value
        if shown and shown[-1] == item.id:
            answers[item.id] = draw(st.sampled_from(values))
    return definition.name, answers, shown


@settings(max_examples=60, deadline=None)
@given(any_completed())
def test_any_completed_questionnaire_validates(
    validators: Mapping[str, jsonschema.Draft6Validator],
    case: tuple[str, dict[str, Answer], list[str]],
) -> None:
    name, answers, shown = case
    definition = INSTRUMENTS[name]
    _, bundle = export(name, answers)
    assert errors(validators, bundle) == []
    response = bundle["entry"][0]["resource"]
    assert [item["linkId"] for item in response["item"]] == shown
    assert [item.id for item in asked_items(definition, answers)] == shown
    for item in response["item"]:
        assert decoded(definition, item) == answers[item["linkId"]]


@pytest.mark.parametrize("name", NAMES)
def test_fhir_resources_r4b_models_parse_the_export(name: str) -> None:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    _, bundle = export(name)
    response, observation = (entry["resource"] for entry in bundle["entry"])
    parsed = QuestionnaireResponse.model_validate(response)
    assert [item.linkId for item in parsed.item or []] == [i["linkId"] for i in response["item"]]
    assert Observation.model_validate(observation).status == "final"
    assert len(Bundle.model_validate(bundle).entry or []) == 2
