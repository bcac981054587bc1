"""Clinical dates have a plausible floor (the patient's birth, and 1900) as well as a ceiling (issue
14, point 7): weights, intake vitals and MADRS ratings dated 1800 were stored; now each is refused
with a message, by the page and by the service, and nothing is written."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.assessments.models import QuestionnaireSet
from kapstone.assessments.services import rate_instrument
from kapstone.audit.models import AuditEntry
from kapstone.errors import InputError
from kapstone.intake.models import IntakeVersion
from kapstone.intake.services import save_intake_section
from kapstone.patients.models import BodyMeasurement, Patient
from kapstone.patients.services import record_body_measurement
from tests.shell.intake_support import eligible_sections

MADRS_MILD = {"1": 3, "2": 3, "3": 2, "4": 2, "5": 1, "6": 2, "7": 2, "8": 2, "9": 1, "10": 0}


def _counts() -> tuple[int, int, int, int, int]:
    return (
        Patient.objects.count(),
        BodyMeasurement.objects.count(),
        IntakeVersion.objects.count(),
        QuestionnaireSet.objects.count(),
        AuditEntry.objects.count(),
    )


def _page(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


# --- weights --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measured_on", "says"),
    [
        (dt.date(1800, 1, 1), "01 Jan 1800 is before the patient's birth"),
        (None, "before the patient's birth"),  # the day before the patient was born
    ],
)
def test_a_weight_dated_before_the_patient_or_1900_is_refused(clinic, measured_on, says):
    patient = clinic.on_team
    measured_on = measured_on or patient.date_of_birth - dt.timedelta(days=1)
    before = _counts()
    with pytest.raises(InputError) as refused:
        record_body_measurement(
            by=clinic.staff["nurse"],
            patient=patient,
            measured_on=measured_on,
            weight_kg=Decimal(70),
        )
    assert says in refused.value.errors["measured_on"][0]
    assert _counts() == before


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        (
            {"measured_on": "1800-01-01"},
            "The measurement date 01 Jan 1800 is before the patient's birth.",
        ),
        ({"weight_kg": "７０"}, "Enter the weight in kg, e.g. 72.5."),
        ({"weight_kg": "7" * 5000}, "That is too long for the weight in kg."),
    ],
)
def test_the_weight_page_refuses_them_too(clinic, as_role, typed, says):
    client = as_role("nurse")
    before = _counts()
    url = reverse("patients:measurement", kwargs={"patient_id": clinic.on_team.pk})
    data = {"measured_on": timezone.localdate().isoformat(), "weight_kg": "70"} | typed
    response = client.post(url, data)
    assert response.status_code == 200
    assert says in _page(response)
    assert _counts() == before


def test_registering_a_patient_with_a_weight_before_their_birth_is_refused(clinic, as_role):
    from tests.shell.test_patient_registry import form_data

    client = as_role("intake_coordinator")
    before = _counts()
    response = client.post(
        reverse("patients:register"), form_data(clinic, **{"m-measured_on": "1975-01-01"})
    )
    assert response.status_code == 200
    assert "The measurement date 01 Jan 1975 is before the patient's birth." in _page(response)
    assert _counts() == before


# --- intake vitals --------------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["1800-01-01", "1899-12-31"])
def test_intake_vitals_dated_before_1900_are_refused(clinic, day):
    vitals = eligible_sections()["vitals"]
    vitals["baseline_vitals"]["measured_on"] = day
    before = _counts()
    with pytest.raises(InputError) as refused:
        save_intake_section(
            by=clinic.staff["intake_coordinator"],
            patient=clinic.on_team,
            section="vitals",
            value=vitals,
        )
    assert refused.value.errors == {"baseline_vitals.measured_on": ["Enter a date from 1900 on."]}
    assert _counts() == before


def test_the_intake_vitals_page_refuses_old_dates_and_odd_digits(clinic, as_role):
    client = as_role("intake_coordinator")
    url = reverse(
        "intake:section", kwargs={"patient_id": clinic.on_team.pk, "intake_section": "vitals"}
    )
    before = _counts()
    response = client.post(url, {"vitals-measured_on": "1800-01-01", "vitals-weight_kg": "70"})
    assert response.status_code == 400
    assert "a date from 1900 on" in _page(response)
    response = client.post(url, {"vitals-measured_on": "", "vitals-systolic_mmhg": "1²0"})
    assert response.status_code in (200, 400)
    assert "Enter a whole number, e.g. 12." in _page(response)
    assert _counts() == before


def test_an_intake_formset_beyond_its_cap_is_refused(clinic, as_role):
    client = as_role("intake_coordinator")
    url = reverse(
        "intake:section",
        kwargs={"patient_id": clinic.on_team.pk, "intake_section": "medications"},
    )
    data = {
        "medications-TOTAL_FORMS": "5000",
        "medications-INITIAL_FORMS": "0",
        "medications-MIN_NUM_FORMS": "0",
        "medications-MAX_NUM_FORMS": "1000",
    } | {f"medications-{i}-name": f"drug {i}" for i in range(60)}
    before = _counts()
    response = client.post(url, data)
    assert response.status_code in (200, 400)
    assert "Please submit at most 50 forms." in _page(response)
    assert _counts() == before


# --- MADRS ratings --------------------------------------------------------------------------------


def test_a_madrs_rating_dated_1800_is_refused(clinic):
    before = _counts()
    with pytest.raises(InputError) as refused:
        rate_instrument(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            instrument="madrs",
            answers=MADRS_MILD,
            rated_at=dt.datetime(1800, 1, 1, 9, tzinfo=dt.UTC),
        )
    assert "before the patient's birth or 1900" in refused.value.errors["rated_at"][0]
    assert _counts() == before


def test_the_rating_page_refuses_it_too(clinic, as_role):
    client = as_role("prescriber")
    data = {f"item_{k}": str(v) for k, v in MADRS_MILD.items()} | {"rated_at": "1800-01-01T09:00"}
    before = _counts()
    response = client.post(reverse("assessments:rate", args=[clinic.on_team.pk, "madrs"]), data)
    assert response.status_code == 200
    assert "is before the patient's birth or 1900" in _page(response)
    assert _counts() == before
