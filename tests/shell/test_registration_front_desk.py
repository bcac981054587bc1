"""Issue 15, point 8: registration assigns the clinic's MRNs, reads phone numbers with libphonenumber,
finds people already registered, and shows every problem in one round."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from kapstone.audit.models import AuditEntry
from kapstone.errors import InputError
from kapstone.patients.duplicates import normal_name, possible_duplicates
from kapstone.patients.identifiers import MrnScheme
from kapstone.patients.models import Patient
from kapstone.patients.services import register_patient, update_patient_details
from tests.conftest import make_patient
from tests.shell.test_patient_registry import counts, form_data


def register(clinic, **details):
    """The front desk's registration, duplicate check on (the fixtures' make_patient skips it)."""
    base = {
        "mrn": "",
        "given_name": "Rosalind",
        "family_name": "Franklin",
        "preferred_name": "",
        "date_of_birth": dt.date(1980, 7, 25),
        "sex_at_birth": "female",
        "gender_identity": "",
        "pronouns": "",
        "phone": "",
        "email": "",
        "address": "",
        "emergency_contact_name": "",
        "emergency_contact_relationship": "",
        "emergency_contact_phone": "",
        "referral_source": "self",
        "referrer_name": "",
        "home_site": clinic.sites[0],
    }
    reason = details.pop("duplicate_reason", "")
    base.update(details)
    return register_patient(
        by=clinic.staff["intake_coordinator"],
        details=base,
        care_team={"prescriber": None, "therapist": None, "nurse": None},
        weight_kg=Decimal("70"),
        height_cm=None,
        measured_on=dt.date(2026, 1, 5),
        duplicate_reason=reason,
    )


# -- MRNs ----------------------------------------------------------------------------------------


def test_an_empty_mrn_gets_the_next_of_the_clinics_sequence(clinic):
    first = register(clinic, given_name="Ann", family_name="Alpha")
    second = register(clinic, given_name="Bea", family_name="Beta")
    typed = register(clinic, mrn="kap-100050", given_name="Cy", family_name="Gamma")
    after_typed = register(clinic, given_name="Di", family_name="Delta")
    other_shape = register(clinic, mrn="EXT-9999999", given_name="Ed", family_name="Epsilon")
    last = register(clinic, given_name="Flo", family_name="Zeta")
    assert [p.mrn for p in (first, second, typed, after_typed, other_shape, last)] == [
        "KAP-100001",
        "KAP-100002",
        "KAP-100050",
        "KAP-100051",
        "EXT-9999999",
        "KAP-100052",
    ]
    entry = AuditEntry.objects.get(action="patient.registered", patient=first)
    assert entry.after["mrn_assigned"] is True


@override_settings(MRN_PREFIX="rvs-", MRN_DIGITS=4, MRN_FIRST_NUMBER=1)
def test_the_prefix_digits_and_first_number_are_the_clinics(clinic):
    assert register(clinic, given_name="Ann", family_name="Alpha").mrn == "RVS-0001"
    assert register(clinic, given_name="Bea", family_name="Beta").mrn == "RVS-0002"


def test_the_scheme_reads_only_its_own_shape():
    scheme = MrnScheme(prefix="KAP-", digits=6, first=100001)
    assert scheme.number("KAP-100009") == 9 + 100000
    assert scheme.number("KAP-1X") is None and scheme.number("EXT-100009") is None
    assert scheme.following(None) == "KAP-100001"
    assert scheme.following("KAP-000007") == "KAP-100001"  # never below the first number


# -- Phone numbers -------------------------------------------------------------------------------


def test_phone_numbers_are_stored_in_international_format(clinic):
    patient = register(clinic, phone="(207) 555-0143", emergency_contact_phone="+44 20 7946 0958")
    assert (patient.phone, patient.emergency_contact_phone) == (
        "+1 207-555-0143",
        "+44 20 7946 0958",
    )


@pytest.mark.parametrize("typed", ["555-0143", "207 555 01", "call me", "+1 000 000 0000"])
def test_a_phone_number_that_cannot_be_dialled_is_refused(clinic, typed):
    before = counts()
    with pytest.raises(InputError) as refused:
        register(clinic, emergency_contact_phone=typed)
    (message,) = refused.value.errors["emergency_contact_phone"]
    assert typed in message and "+ and its country code" in message
    assert counts() == before


@override_settings(PHONE_REGION="GB")
def test_the_clinics_region_reads_numbers_without_a_country_code(clinic):
    assert register(clinic, phone="020 7946 0958").phone == "+44 20 7946 0958"


def test_a_phone_number_kept_from_before_the_check_does_not_block_other_changes(clinic):
    patient = make_patient(by=clinic.staff["intake_coordinator"], mrn="KAP-9", site=clinic.sites[0])
    Patient.objects.filter(pk=patient.pk).update(phone="ask reception")
    changed = update_patient_details(
        by=clinic.staff["intake_coordinator"],
        patient=Patient.objects.get(pk=patient.pk),
        details={"phone": "ask reception", "pronouns": "she/her"},
    )
    assert (changed.phone, changed.pronouns) == ("ask reception", "she/her")
    with pytest.raises(InputError):
        update_patient_details(
            by=clinic.staff["intake_coordinator"], patient=changed, details={"phone": "12"}
        )


# -- Possible duplicates -------------------------------------------------------------------------


def test_names_are_compared_without_accents_case_or_punctuation():
    assert normal_name("O'Brien-Núñez") == normal_name("obrien nunez") == "obriennunez"


@pytest.mark.parametrize(
    ("given", "family", "born", "why"),
    [
        ("Rosalind", "Franklin", dt.date(1980, 7, 25), "same name and date of birth"),
        ("rosalind", "FRANKLIN", dt.date(1980, 7, 25), "same name and date of birth"),
        ("Rosalyn", "Franklin", dt.date(1980, 7, 25), "same date of birth, similar name"),
        ("Franklin", "Rosalind", dt.date(1980, 7, 25), "same name and date of birth"),
        ("Rosalind", "Franklín", dt.date(1980, 7, 25), "same name and date of birth"),
        ("Rosalind", "Franklin", dt.date(1980, 7, 26), "same name, date of birth one digit"),
    ],
)
def test_the_same_person_typed_differently_is_found(clinic, given, family, born, why):
    existing = register(clinic)
    matches = possible_duplicates(given_name=given, family_name=family, date_of_birth=born)
    assert [m.patient for m in matches] == [existing]
    assert matches[0].why.startswith(why)


def test_day_and_month_swapped_is_found(clinic):
    existing = register(clinic, date_of_birth=dt.date(1980, 3, 7))
    matches = possible_duplicates(
        given_name="Rosalind", family_name="Franklin", date_of_birth=dt.date(1980, 7, 3)
    )
    assert [m.patient for m in matches] == [existing]


def test_different_people_are_not_flagged(clinic):
    register(clinic)
    assert not possible_duplicates(
        given_name="Maria", family_name="Franklin", date_of_birth=dt.date(1991, 2, 14)
    )
    assert not possible_duplicates(
        given_name="Dorothy", family_name="Hodgkin", date_of_birth=dt.date(1980, 7, 25)
    )


def test_a_possible_duplicate_is_refused_until_a_reason_is_given(clinic):
    existing = register(clinic)
    before = counts()
    with pytest.raises(InputError) as refused:
        register(clinic, given_name="Rosalind ", family_name="franklin")
    (message,) = refused.value.errors["duplicate"]
    assert existing.mrn in message and "born 25 Jul 1980" in message
    assert counts() == before
    second = register(clinic, duplicate_reason="Different person: checked her driving licence.")
    entry = AuditEntry.objects.get(action="patient.registered", patient=second)
    assert entry.after["registered_despite_possible_duplicate"].startswith("Different person")


# -- The form: every problem in one round --------------------------------------------------------


def test_every_problem_is_shown_in_one_round(clinic, as_role):
    client = as_role("intake_coordinator")
    make_patient(
        by=clinic.staff["intake_coordinator"],
        mrn="KAP-2001",
        site=clinic.sites[0],
        given_name="Rosalind",
        family_name="Franklin",
        date_of_birth=dt.date(1980, 7, 25),
    )
    before = counts()
    response = client.post(
        reverse("patients:register"),
        form_data(
            clinic,
            **{
                "p-mrn": "KAP-2001",  # taken
                "p-phone": "555-01",  # not a number
                "m-weight_kg": "",  # missing (a form error)
                "p-sex_at_birth": "",  # missing (a form error)
            },
        ),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "MRN KAP-2001 already belongs to another patient" in page
    assert "“555-01” is not a valid phone number" in page
    assert "Enter the weight in kg: dose calculations need it." in page
    assert "Choose the sex at birth" in page
    assert "This person may already be registered" in page
    assert "This field is required" not in page
    assert counts() == before


def test_register_anyway_needs_a_reason_then_registers(clinic, as_role):
    client = as_role("intake_coordinator")
    existing = make_patient(
        by=clinic.staff["intake_coordinator"],
        mrn="KAP-2001",
        site=clinic.sites[0],
        given_name="Rosalind",
        family_name="Franklin",
        date_of_birth=dt.date(1980, 7, 25),
    )
    data = form_data(clinic, **{"p-mrn": ""})
    page = client.post(reverse("patients:register"), data).content.decode()
    assert reverse("patients:chart", kwargs={"patient_id": existing.pk}) in page
    page = client.post(
        reverse("patients:register"), data | {"d-register_anyway": "on"}
    ).content.decode()
    assert "Say why this is a different person before registering." in page
    response = client.post(
        reverse("patients:register"),
        data | {"d-register_anyway": "on", "d-reason": "Twin sister, same birthday."},
    )
    assert response.status_code == 302
    assert Patient.objects.filter(family_name="Franklin").count() == 2
