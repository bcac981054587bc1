"""Registering, finding and opening patients; bad input is refused with a reason and nothing is saved."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.errors import InputError
from kapstone.patients.models import BodyMeasurement, Patient
from kapstone.patients.selectors import find_patients
from kapstone.patients.services import record_body_measurement, update_patient_details
from tests.conftest import make_patient


def form_data(clinic, **overrides) -> dict[str, str]:
    data = {
        "p-mrn": "kap-2001",
        "p-given_name": "Rosalind",
        "p-family_name": "Franklin",
        "p-date_of_birth": "1980-07-25",
        "p-sex_at_birth": "female",
        "p-referral_source": "psychiatrist",
        "p-referrer_name": "Dr. Watson",
        "p-home_site": str(clinic.sites[0].pk),
        "p-emergency_contact_name": "Muriel Franklin",
        "p-emergency_contact_relationship": "sister",
        "p-emergency_contact_phone": "(207) 555-0101",
        "t-prescriber": str(clinic.staff["prescriber"].pk),
        "t-therapist": str(clinic.staff["therapist"].pk),
        "t-nurse": "",
        "m-weight_kg": "64.5",
        "m-height_cm": "168",
        "m-measured_on": "2026-01-10",
    }
    data.update(overrides)
    return data


def counts() -> tuple[int, int, int]:
    return Patient.objects.count(), BodyMeasurement.objects.count(), AuditEntry.objects.count()


def test_registering_saves_patient_weight_and_audit(clinic, as_role):
    client = as_role("intake_coordinator")
    response = client.post(reverse("patients:register"), form_data(clinic))
    patient = Patient.objects.get(mrn="KAP-2001")
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:chart", kwargs={"patient_id": patient.pk})
    assert patient.measurements.get().weight_kg == Decimal("64.5")
    assert patient.prescriber == clinic.staff["prescriber"]
    entry = AuditEntry.objects.get(action="patient.registered", patient=patient)
    assert entry.after["weight_kg"] == "64.5"
    assert entry.after["family_name"] == "Franklin"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("p-date_of_birth", "2099-01-01", "is in the future"),
        ("p-date_of_birth", "1890-01-01", "before 1900 is not possible"),
        ("p-date_of_birth", "1980-02-30", "Enter the date of birth as a full date"),
        ("m-weight_kg", "29.9", "outside 30–300 kg"),
        ("m-weight_kg", "300.1", "outside 30–300 kg"),
        ("m-weight_kg", "", "Enter the weight in kg: dose calculations need it"),
        ("m-height_cm", "60", "outside 100–250 cm"),
        ("p-mrn", "mrn-1001", "MRN MRN-1001 already belongs to another patient"),
        ("p-mrn", "KAP 1", "only the letters A-Z, digits 0-9 and single hyphens"),
        ("m-measured_on", "2099-01-01", "in the future"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_saved(clinic, as_role, field, value, message):
    client = as_role("intake_coordinator")
    before = counts()
    response = client.post(reverse("patients:register"), form_data(clinic, **{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert counts() == before


def test_a_therapist_cannot_be_made_the_prescriber(clinic):
    before = counts()
    with pytest.raises(InputError) as refused:
        make_patient(
            by=clinic.staff["intake_coordinator"],
            mrn="KAP-3001",
            site=clinic.sites[0],
            prescriber=clinic.staff["therapist"],
        )
    assert "prescriber" in refused.value.errors
    assert counts() == before


def test_the_database_itself_refuses_an_impossible_weight(clinic):
    with pytest.raises(IntegrityError), transaction.atomic():
        BodyMeasurement.objects.create(
            patient=clinic.on_team,
            measured_on=dt.date(2026, 1, 1),
            weight_kg=Decimal("301"),
            recorded_at=timezone.now(),
        )


def test_latest_weight_is_the_current_weight(clinic):
    record_body_measurement(
        by=clinic.staff["nurse"],
        patient=clinic.on_team,
        measured_on=dt.date(2026, 2, 1),
        weight_kg=Decimal("68.2"),
    )
    assert clinic.on_team.measurements.first().weight_kg == Decimal("68.2")
    assert AuditEntry.objects.filter(action="patient.measurement_recorded").count() == 1


def test_changing_details_records_before_and_after(clinic):
    update_patient_details(
        by=clinic.staff["prescriber"],
        patient=clinic.on_team,
        details={"phone": "(207) 555-0199", "given_name": "Ada"},
    )
    entry = AuditEntry.objects.get(action="patient.details_changed")
    assert entry.before == {"phone": ""}
    assert entry.after == {"phone": "+1 207-555-0199"}  # stored in international format


@pytest.mark.parametrize(
    ("text", "dob", "expected"),
    [
        ("lovelace", None, {"MRN-1001"}),
        ("ada love", None, {"MRN-1001"}),
        ("mrn-1002", None, {"MRN-1002"}),
        ("", dt.date(1976, 12, 9), {"MRN-1002"}),
        ("hopper", dt.date(1985, 12, 10), set()),
        ("nobody", None, set()),
    ],
)
def test_find_by_name_mrn_and_date_of_birth(clinic, text, dob, expected):
    found = find_patients(user=clinic.staff["medical_director"], text=text, date_of_birth=dob)
    assert {p.mrn for p in found} == expected


def test_find_shows_only_charts_the_user_may_open(clinic):
    nurse = clinic.staff["nurse"]
    assert {p.mrn for p in find_patients(user=nurse)} == {"MRN-1001"}
    assert find_patients(user=nurse, text="hopper") == []


def test_search_page_answers_htmx_with_just_the_results(clinic, as_role):
    client = as_role("intake_coordinator")
    response = client.get(reverse("patients:find"), {"q": "hopper"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "MRN-1002" in body
    assert "<html" not in body


def test_chart_shows_demographics_weight_and_care_team(clinic, as_role):
    client = as_role("therapist")
    body = client.get(reverse("patients:chart", kwargs={"patient_id": clinic.on_team.pk})).content
    text = body.decode()
    assert "MRN-1001" in text and "70.0 kg" in text
    assert clinic.staff["prescriber"].display_name in text


def test_edit_page_saves_care_team_change(clinic, as_role):
    client = as_role("prescriber")
    patient = clinic.on_team
    data = form_data(
        clinic,
        **{
            "p-mrn": patient.mrn,
            "p-given_name": "Ada",
            "p-family_name": "Lovelace",
            "p-date_of_birth": "1985-12-10",
            "p-sex_at_birth": "female",
            "t-nurse": str(clinic.others["nurse"].pk),
        },
    )
    response = client.post(reverse("patients:edit", kwargs={"patient_id": patient.pk}), data)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.nurse == clinic.others["nurse"]
    change = AuditEntry.objects.get(action="patient.care_team_changed")
    assert change.after == {"nurse": clinic.others["nurse"].pk}
