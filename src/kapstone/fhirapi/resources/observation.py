"""Observation, from three kinds of record, each its own source (its key starts the id):

- ``score-<response>``: a submitted questionnaire's total (or the C-SSRS screener's risk tier), built
  by :mod:`kapstone.interop.fhir_questionnaire` from what was stored at submission: LOINC only where
  the instrument library holds a verified code, else Kapstone's code system. Category ``survey``.
- ``vital-bp-`` / ``vital-hr-`` / ``vital-spo2-`` / ``vital-rr-<reading>``: a chair-side reading's
  blood pressure (panel 85354-9 with systolic 8480-6 and diastolic 8462-4), heart rate (8867-4),
  oxygen saturation (2708-6) and respiratory rate (9279-1), after FHIR R4's vital-signs profile
  (category ``vital-signs``, UCUM units; the codes: clinical reference §14). A struck-through
  reading is ``entered-in-error``.
- ``cadss-<rating>``: a dissociation rating charted as a total (CADSS or CADSS-6), in Kapstone's
  code system for the instrument (CADSS has no verified LOINC code). A rating scored item by item is
  served as that questionnaire's ``score-`` Observation instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from kapstone.assessments.models import QuestionnaireResponse, ResponseStatus
from kapstone.chairside.models import DissociationRating, VitalReading, VitalStrike
from kapstone.clinical.instruments import INSTRUMENTS
from kapstone.fhirapi.registry import DatePath, Resource, SearchParam, Source, Token, kind
from kapstone.fhirapi.resources.common import (
    ID,
    LAST_UPDATED,
    LOINC,
    OBSERVATION_CATEGORY,
    PATIENT,
    UCUM,
    fixed,
    instant,
    patient_ref,
    with_meta,
)
from kapstone.interop.fhir_questionnaire import score_observation, score_system
from kapstone.outcomes.exports import stored_result

VITAL_SIGNS_PROFILE = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
SURVEY = {"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}
VITAL_SIGNS = {"system": OBSERVATION_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}
DATE = SearchParam("date", "date", "When the observation was made (prefixes eq, lt, le, gt, ge).")

# Instrument -> the (system, code) pairs its Observation carries, as the interop builder codes them.
_SCORE_CODES: dict[str, tuple[str, str]] = {
    name: (LOINC, d.loinc.total)
    if d.loinc.total is not None
    else (score_system(d), "total" if d.scoring.total_range is not None else "risk")
    for name, d in INSTRUMENTS.items()
}
_SCALE_INSTRUMENT = {"cadss": "cadss", "cadss_6": "cadss6"}


# --- questionnaire scores -------------------------------------------------------------------------


def _scores() -> QuerySet[QuestionnaireResponse]:
    # Served: submitted responses of a known instrument with a result (a total or a risk tier).
    return (
        QuestionnaireResponse.objects.filter(
            status=ResponseStatus.SUBMITTED, instrument__in=list(INSTRUMENTS)
        )
        .exclude(total__isnull=True, severity="")
        .annotate(fhir_patient=F("questionnaire_set__patient_id"))
        .order_by("pk")
    )


def build_score(response: QuestionnaireResponse) -> Resource:
    assert response.submitted_at is not None  # submitted rows only
    built = score_observation(
        definition=INSTRUMENTS[response.instrument],
        result=stored_result(response),
        patient_reference=f"Patient/{response.fhir_patient}",  # type: ignore[attr-defined]
        effective=response.submitted_at,
        observation_id=f"score-{response.pk}",
        derived_from_response_id=str(response.pk),
    )
    assert built is not None  # rows without a total or tier are not served
    return with_meta(built, response.submitted_at)


def _score_code(tokens: Sequence[Token]) -> Q | bool:
    wanted = [n for n, (s, c) in _SCORE_CODES.items() if any(t.matches(s, c) for t in tokens)]
    return Q(instrument__in=wanted) if wanted else False


SCORES = Source(
    key="score",
    rows=_scores,
    build=build_score,
    updated="submitted_at",
    patient="questionnaire_set__patient_id",
    patient_value="fhir_patient",
    dates={"date": DatePath("submitted_at")},
    tokens={"category": fixed(OBSERVATION_CATEGORY, "survey"), "code": _score_code},
)


# --- vital signs ---------------------------------------------------------------------------------


def _vital(
    key: str,
    reading: VitalReading,
    code: str,
    text: str,
    value: dict[str, Any],
) -> Resource:
    resource: Resource = {
        "resourceType": "Observation",
        "id": f"{key}-{reading.pk}",
        "status": "entered-in-error"
        if reading.fhir_struck  # type: ignore[attr-defined]
        else ("preliminary" if reading.device_verdict == "held" else "final"),
        "category": [{"coding": [VITAL_SIGNS], "text": "Vital Signs"}],
        "code": {"coding": [{"system": LOINC, "code": code, "display": text}], "text": text},
        "subject": patient_ref(reading.fhir_patient),  # type: ignore[attr-defined]
        "encounter": {"reference": f"Encounter/dosing-{reading.fhir_session}"},  # type: ignore[attr-defined]
        "effectiveDateTime": instant(reading.taken_at),
        **value,
    }
    if reading.recorded_by_id is not None:
        resource["performer"] = [{"reference": f"Practitioner/{reading.recorded_by_id}"}]
    if reading.source == "device" and reading.device_label:
        resource["device"] = {"display": reading.device_label}
    return with_meta(resource, reading.recorded_at, VITAL_SIGNS_PROFILE)


def _quantity(value: int, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def _readings(column: str) -> QuerySet[VitalReading]:
    # The session and patient as columns, whether struck through as a flag: one model a row
    # (joined models cost more to build than the resource itself).
    return (
        VitalReading.objects.filter(**{f"{column}__isnull": False})
        .annotate(
            fhir_patient=F("record__session__patient_id"),
            fhir_session=F("record__session_id"),
            fhir_struck=Exists(VitalStrike.objects.filter(reading=OuterRef("pk"))),
        )
        .order_by("pk")
    )


def build_bp(reading: VitalReading) -> Resource:
    assert reading.systolic is not None
    components = [
        {
            "code": {
                "coding": [
                    {"system": LOINC, "code": "8480-6", "display": "Systolic blood pressure"}
                ]
            },
            "valueQuantity": _quantity(reading.systolic, "mmHg", "mm[Hg]"),
        }
    ]
    if reading.diastolic is not None:
        components.append(
            {
                "code": {
                    "coding": [
                        {"system": LOINC, "code": "8462-4", "display": "Diastolic blood pressure"}
                    ]
                },
                "valueQuantity": _quantity(reading.diastolic, "mmHg", "mm[Hg]"),
            }
        )
    return _vital(
        "vital-bp",
        reading,
        "85354-9",
        "Blood pressure panel with all children optional",
        {"component": components},
    )


def build_hr(reading: VitalReading) -> Resource:
    assert reading.heart_rate is not None
    value = {"valueQuantity": _quantity(reading.heart_rate, "beats/minute", "/min")}
    return _vital("vital-hr", reading, "8867-4", "Heart rate", value)


def build_spo2(reading: VitalReading) -> Resource:
    assert reading.spo2 is not None
    value = {"valueQuantity": _quantity(reading.spo2, "%", "%")}
    return _vital("vital-spo2", reading, "2708-6", "Oxygen saturation in Arterial blood", value)


def build_rr(reading: VitalReading) -> Resource:
    assert reading.respiratory_rate is not None
    value = {"valueQuantity": _quantity(reading.respiratory_rate, "breaths/minute", "/min")}
    return _vital("vital-rr", reading, "9279-1", "Respiratory rate", value)


def _vitals_source(key: str, column: str, code: str, build: Any) -> Source:
    return Source(
        key=key,
        rows=lambda: _readings(column),
        build=build,
        updated="recorded_at",
        patient="record__session__patient_id",
        patient_value="fhir_patient",
        dates={"date": DatePath("taken_at")},
        tokens={
            "category": fixed(OBSERVATION_CATEGORY, "vital-signs"),
            "code": fixed(LOINC, code),
        },
    )


VITALS = (
    _vitals_source("vital-bp", "systolic", "85354-9", build_bp),
    _vitals_source("vital-hr", "heart_rate", "8867-4", build_hr),
    _vitals_source("vital-spo2", "spo2", "2708-6", build_spo2),
    _vitals_source("vital-rr", "respiratory_rate", "9279-1", build_rr),
)


# --- dissociation ratings ------------------------------------------------------------------------


def _ratings() -> QuerySet[DissociationRating]:
    return (
        DissociationRating.objects.filter(response__isnull=True)
        .annotate(
            fhir_patient=F("record__session__patient_id"), fhir_session=F("record__session_id")
        )
        .order_by("pk")
    )


def build_rating(rating: DissociationRating) -> Resource:
    definition = INSTRUMENTS[_SCALE_INSTRUMENT[rating.scale]]
    resource: Resource = {
        "resourceType": "Observation",
        "id": f"cadss-{rating.pk}",
        "status": "final",
        "category": [{"coding": [SURVEY]}],
        "code": {
            "coding": [{"system": score_system(definition), "code": "total"}],
            "text": f"{definition.title} total score",
        },
        "subject": patient_ref(rating.fhir_patient),  # type: ignore[attr-defined]
        "encounter": {"reference": f"Encounter/dosing-{rating.fhir_session}"},  # type: ignore[attr-defined]
        "effectiveDateTime": instant(rating.taken_at),
        "performer": [{"reference": f"Practitioner/{rating.rated_by_id}"}],
        "valueInteger": rating.score,
    }
    if rating.is_baseline:
        resource["note"] = [{"text": "Baseline rating, before the dose."}]
    return with_meta(resource, rating.recorded_at)


def _rating_code(tokens: Sequence[Token]) -> Q | bool:
    wanted = [
        scale
        for scale, name in _SCALE_INSTRUMENT.items()
        if any(t.matches(*_SCORE_CODES[name]) for t in tokens)
    ]
    return Q(scale__in=wanted) if wanted else False


RATINGS = Source(
    key="cadss",
    rows=_ratings,
    build=build_rating,
    updated="recorded_at",
    patient="record__session__patient_id",
    patient_value="fhir_patient",
    dates={"date": DatePath("taken_at")},
    tokens={"category": fixed(OBSERVATION_CATEGORY, "survey"), "code": _rating_code},
)


KIND = kind(
    "Observation",
    sources=[SCORES, *VITALS, RATINGS],
    search_params=[
        ID,
        LAST_UPDATED,
        PATIENT,
        SearchParam(
            "category", "token", "survey (questionnaire scores, dissociation) or vital-signs."
        ),
        SearchParam("code", "token", "LOINC where verified, else Kapstone's code system."),
        DATE,
    ],
    in_patient_compartment=True,
    profile=VITAL_SIGNS_PROFILE,
    includes=["Observation:patient"],
    documentation="Questionnaire totals, chair-side vital signs and dissociation ratings.",
)
