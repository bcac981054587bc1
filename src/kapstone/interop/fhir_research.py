"""The de-identified research dataset as FHIR R4 bulk data (NDJSON: one resource per line, one file
per resource type).

Built only from the de-identified :class:`kapstone.interop.deidentify.Dataset`, never from the
identified records, so nothing the dataset dropped can come back here. Decisions:

- **Dates**: FHIR needs calendar dates, so every day offset is written as the fixed fake anchor
  2000-01-01 plus the offset (day 0, first contact, is 2000-01-01 for every patient). Dates only,
  never a time of day. The anchor is the same for everyone and says nothing about real time.
- **Patient** carries the pseudonym as its id, ``gender`` from sex at birth (intersex as
  ``other``, not recorded as ``unknown``), and the age band and site code as extensions; no
  identifier, name, telecom, address or birth date.
- **Observation** per questionnaire total (LOINC where the instrument library holds a verified code,
  else ``urn:kapstone:instrument``), and per session vital-sign summary value (Kapstone codes: the
  values are per-session extremes, not single readings, so the vital-signs LOINC codes would
  misdescribe them).
- **Procedure** per dosing session not cancelled (``completed``, or ``unknown`` for a past session
  still marked booked); **MedicationAdministration** per dose, part of its
  Procedure, the drug named by text (ketamine or esketamine, from the route).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from kapstone.clinical.instruments import INSTRUMENTS
from kapstone.clinical.routes import Route
from kapstone.interop.deidentify import Cell, Dataset
from kapstone.interop.fhir_questionnaire import LOINC, OBSERVATION_CATEGORY

Resource = dict[str, Any]

ANCHOR = dt.date(2000, 1, 1)
KAPSTONE_INSTRUMENT = "urn:kapstone:instrument"
KAPSTONE_VITALS = "urn:kapstone:research:vitals-summary"
KAPSTONE_PROCEDURE = "urn:kapstone:procedure"
AGE_BAND_EXTENSION = "urn:kapstone:research:age-band"
SITE_EXTENSION = "urn:kapstone:research:site"
DAY_OFFSET_EXTENSION = "urn:kapstone:research:day-offset"
UCUM = "http://unitsofmeasure.org"

_GENDER = {"female": "female", "male": "male", "intersex": "other", "unknown": "unknown"}

# Vital-sign summary columns of the vitals_summary table, with their UCUM units.
_VITAL_COLUMNS = {
    "max_systolic": ("Highest systolic blood pressure in the session", "mm[Hg]", "mmHg"),
    "max_diastolic": ("Highest diastolic blood pressure in the session", "mm[Hg]", "mmHg"),
    "max_heart_rate": ("Highest heart rate in the session", "/min", "beats/min"),
    "min_heart_rate": ("Lowest heart rate in the session", "/min", "beats/min"),
    "min_spo2": ("Lowest oxygen saturation in the session", "%", "%"),
    "min_respiratory_rate": ("Lowest respiratory rate in the session", "/min", "breaths/min"),
}


def fake_date(offset: int) -> str:
    """Day ``offset`` as a FHIR date on the fixed fake anchor (2000-01-01 = day 0)."""
    return (ANCHOR + dt.timedelta(days=offset)).isoformat()


def _ref(patient_id: Cell) -> dict[str, str]:
    return {"reference": f"Patient/{patient_id}"}


def _offset_extension(offset: int) -> dict[str, Any]:
    return {"url": DAY_OFFSET_EXTENSION, "valueInteger": offset}


def patient_resources(dataset: Dataset) -> Iterator[Resource]:
    for row in dataset.table("patients").dicts():
        yield {
            "resourceType": "Patient",
            "id": row["patient_id"],
            "extension": [
                {"url": AGE_BAND_EXTENSION, "valueString": row["age_band"]},
                {"url": SITE_EXTENSION, "valueString": row["site"]},
            ],
            "gender": _GENDER.get(str(row["sex_at_birth"]), "unknown"),
        }


def _instrument_code(instrument: str) -> dict[str, Any]:
    definition = INSTRUMENTS.get(instrument)
    if definition is not None and definition.loinc.total is not None:
        coding = {"system": LOINC, "code": definition.loinc.total}
        return {"coding": [coding], "text": f"{definition.title} total score"}
    title = definition.title if definition is not None else instrument
    return {
        "coding": [{"system": KAPSTONE_INSTRUMENT, "code": f"{instrument}.total"}],
        "text": f"{title} total score",
    }


def score_observations(dataset: Dataset) -> Iterator[Resource]:
    for row in dataset.table("questionnaire_scores").dicts():
        if row["total"] is None:
            continue
        offset = int(str(row["day"]))
        yield {
            "resourceType": "Observation",
            "id": row["response_id"],
            "extension": [_offset_extension(offset)],
            "status": "final",
            "category": [
                {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]},
            ],
            "code": _instrument_code(str(row["instrument"])),
            "subject": _ref(row["patient_id"]),
            "effectiveDateTime": fake_date(offset),
            "valueInteger": row["total"],
        }


def vital_observations(dataset: Dataset) -> Iterator[Resource]:
    session_day = {
        row["session_id"]: int(str(row["day"])) for row in dataset.table("dosing_sessions").dicts()
    }
    for row in dataset.table("vitals_summary").dicts():
        offset = session_day[row["session_id"]]
        for column, (text, unit, shown) in _VITAL_COLUMNS.items():
            value = row[column]
            if value is None:
                continue
            yield {
                "resourceType": "Observation",
                "id": f"{row['session_id']}-{column.replace('_', '-')}",
                "extension": [_offset_extension(offset)],
                "status": "final",
                "category": [
                    {"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs"}]},
                ],
                "code": {"coding": [{"system": KAPSTONE_VITALS, "code": column}], "text": text},
                "subject": _ref(row["patient_id"]),
                "partOf": [{"reference": f"Procedure/{row['session_id']}"}],
                "effectiveDateTime": fake_date(offset),
                "valueQuantity": {"value": value, "unit": shown, "system": UCUM, "code": unit},
            }


def _drug(route: str) -> str:
    try:
        return Route(route).facts.drug
    except ValueError:
        return "ketamine"


def procedures(dataset: Dataset) -> Iterator[Resource]:
    for row in dataset.table("dosing_sessions").dicts():
        if row["status"] == "cancelled":
            continue
        offset = int(str(row["day"]))
        resource: Resource = {
            "resourceType": "Procedure",
            "id": row["session_id"],
            "extension": [_offset_extension(offset)],
            # A past session still marked booked was not closed on the chart: its state is unknown.
            "status": "completed" if row["status"] == "completed" else "unknown",
            "code": {
                "coding": [{"system": KAPSTONE_PROCEDURE, "code": "ketamine-dosing-session"}],
                "text": f"{_drug(str(row['route'])).capitalize()} dosing session",
            },
            "subject": _ref(row["patient_id"]),
            "performedDateTime": fake_date(offset),
        }
        yield resource


def medication_administrations(dataset: Dataset) -> Iterator[Resource]:
    session_day = {
        row["session_id"]: int(str(row["day"])) for row in dataset.table("dosing_sessions").dicts()
    }
    counted: dict[str, int] = {}
    for row in dataset.table("dose_administrations").dicts():
        session = str(row["session_id"])
        counted[session] = counted.get(session, 0) + 1
        offset = session_day[session]
        route = str(row["route"])
        yield {
            "resourceType": "MedicationAdministration",
            "id": f"{session}-d{counted[session]}",
            "extension": [_offset_extension(offset)],
            "status": "completed",
            "medicationCodeableConcept": {"text": _drug(route)},
            "subject": _ref(row["patient_id"]),
            "partOf": [{"reference": f"Procedure/{session}"}],
            "effectiveDateTime": fake_date(offset),
            "dosage": {
                "route": {"text": route},
                "dose": {"value": row["dose_mg"], "unit": "mg", "system": UCUM, "code": "mg"},
            },
        }


def bulk_resources(dataset: Dataset) -> Mapping[str, list[Resource]]:
    """Resource type -> its resources, in the order the NDJSON files hold them."""
    return {
        "Patient": list(patient_resources(dataset)),
        "Observation": [*score_observations(dataset), *vital_observations(dataset)],
        "Procedure": list(procedures(dataset)),
        "MedicationAdministration": list(medication_administrations(dataset)),
    }
