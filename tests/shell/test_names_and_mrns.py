"""Person names refuse invisible and direction-changing characters; MRNs have one normal form."""

from __future__ import annotations

import dataclasses

import pytest
from django.urls import reverse

from kapstone.accounts.forms import StaffForm
from kapstone.accounts.services import create_staff
from kapstone.audit.models import AuditEntry
from kapstone.clinical.access import Role
from kapstone.errors import InputError
from kapstone.patients.forms import PatientDetailsForm
from kapstone.patients.models import Patient
from kapstone.patients.selectors import find_patients
from kapstone.patients.services import update_patient_details
from kapstone.plans.forms import PlanDraftForm
from kapstone.plans.models import TreatmentPlan
from tests.conftest import PASSWORD, make_patient
from tests.shell.plans_support import consent, draft_plan

HIDDEN = [
    ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE"),
    ("\u2069", "U+2069 POP DIRECTIONAL ISOLATE"),
    ("\u200b", "U+200B ZERO WIDTH SPACE"),
    ("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    ("\x00", "U+0000"),
    ("\n", "U+000A"),
    ("\u2028", "U+2028 LINE SEPARATOR"),
]
PATIENT_NAME_FIELDS = [
    "given_name",
    "family_name",
    "preferred_name",
    "emergency_contact_name",
    "referrer_name",
]


def unchanged(clinic):
    """Counts that must not move when input is refused."""
    return Patient.objects.count(), AuditEntry.objects.count()


@pytest.mark.parametrize(("char", "label"), HIDDEN)
@pytest.mark.parametrize("field", PATIENT_NAME_FIELDS)
def test_registration_refuses_hidden_characters_in_any_name(clinic, field, char, label):
    before = unchanged(clinic)
    with pytest.raises(InputError) as refused:
        make_patient(
            by=clinic.staff["intake_coordinator"],
            mrn="MRN-2001",
            site=clinic.sites[0],
            **{field: f"Ada{char}Smith"},
        )
    (message,) = refused.value.errors[field]
    assert "cannot contain control or invisible formatting characters" in message
    assert label in message
    assert unchanged(clinic) == before


def test_ordinary_names_in_many_scripts_pass(clinic):
    patient = make_patient(
        by=clinic.staff["intake_coordinator"],
        mrn="MRN-2002",
        site=clinic.sites[0],
        given_name="Zoë-Anne",
        family_name="O'Brien Núñez",
        preferred_name="李 小龍",
        emergency_contact_name="محمد علي",
        referrer_name="Dr. Øyvind Åsmund",
    )
    assert patient.family_name == "O'Brien Núñez"


def test_changing_details_refuses_a_bidi_override(clinic):
    before = unchanged(clinic)
    with pytest.raises(InputError) as refused:
        update_patient_details(
            by=clinic.staff["intake_coordinator"],
            patient=clinic.on_team,
            details={"family_name": "Lovelace\u202eecalevoL"},
        )
    assert "U+202E" in refused.value.errors["family_name"][0]
    clinic.on_team.refresh_from_db()
    assert clinic.on_team.family_name == "Lovelace"
    assert unchanged(clinic) == before


def test_the_registration_form_says_why(clinic):
    form = PatientDetailsForm(
        data={"mrn": "MRN-3", "given_name": "A\u2067da", "family_name": "Smith"}
    )
    assert not form.is_valid()
    assert "U+2067 RIGHT-TO-LEFT ISOLATE" in form.errors["given_name"][0]


def test_staff_names_refuse_hidden_characters(clinic):
    with pytest.raises(InputError) as refused:
        create_staff(
            by=None,
            username="newnurse",
            first_name="Eve\u200d",
            last_name="Tester",
            email="eve@example.invalid",
            role=Role.NURSE,
            password=PASSWORD,
            sites=clinic.sites,
        )
    assert "U+200D ZERO WIDTH JOINER" in refused.value.errors["first_name"][0]
    form = StaffForm(data={"first_name": "Eve", "last_name": "Tester\u202a"})
    assert not form.is_valid()
    assert "U+202A LEFT-TO-RIGHT EMBEDDING" in form.errors["last_name"][0]


def test_who_consented_refuses_hidden_characters(clinic):
    patient, prescriber = clinic.on_team, clinic.staff["prescriber"]
    signed = dataclasses.replace(consent(clinic.staff["nurse"]), given_by="Ada\u202eLovelace")
    plans = TreatmentPlan.objects.count()
    with pytest.raises(InputError) as refused:
        draft_plan(patient, prescriber, consent=signed)
    assert "U+202E" in refused.value.errors["consent_given_by"][0]
    assert TreatmentPlan.objects.count() == plans
    field = PlanDraftForm.base_fields["consent_given_by"]
    with pytest.raises(Exception, match="U\\+202E"):
        field.clean("Ada\u202eLovelace")


# -- MRNs --------------------------------------------------------------------------------------------


def test_a_full_width_mrn_is_the_same_patient(clinic):
    make_patient(by=clinic.staff["intake_coordinator"], mrn="KAP-100001", site=clinic.sites[0])
    before = unchanged(clinic)
    with pytest.raises(InputError) as refused:
        make_patient(
            by=clinic.staff["intake_coordinator"],
            mrn="\uff2b\uff21\uff30\uff0d\uff11\uff10\uff10\uff10\uff10\uff11",  # ＫＡＰ－１００００１
            site=clinic.sites[0],
            given_name="Grace",
        )
    assert refused.value.errors["mrn"][0].startswith(
        "MRN KAP-100001 already belongs to another patient"
    )
    assert unchanged(clinic) == before
    found = find_patients(user=clinic.staff["intake_coordinator"], text=" ｋａｐ-１００００１ ")
    assert [p.mrn for p in found] == ["KAP-100001"]


def test_mrns_are_stored_in_their_normal_form(clinic):
    patient = make_patient(
        by=clinic.staff["intake_coordinator"], mrn=" ｋａｐ-２００００２ ", site=clinic.sites[0]
    )
    assert patient.mrn == "KAP-200002"


@pytest.mark.parametrize(
    ("mrn", "message"),
    [
        ("KAP 1001", "(found U+0020 SPACE)"),
        ("KAP_1001", "(found U+005F LOW LINE)"),
        ("KAP–1001", "(found U+2013 EN DASH)"),
        (
            "КАР-1001",
            "(found U+0410 CYRILLIC CAPITAL LETTER A, U+041A CYRILLIC CAPITAL LETTER KA, U+0420 CYRILLIC",
        ),
        ("KAP--1001", "single hyphens between them."),
        ("-KAP1001", "single hyphens between them."),
        ("K" * 21, "An MRN has at most 20 characters; this one has 21."),
    ],
)
def test_mrns_outside_the_scheme_are_refused_with_why(clinic, mrn, message):
    before = unchanged(clinic)
    with pytest.raises(InputError) as refused:
        make_patient(by=clinic.staff["intake_coordinator"], mrn=mrn, site=clinic.sites[0])
    (got,) = refused.value.errors["mrn"]
    assert message in got
    assert unchanged(clinic) == before


def test_ledger_and_audit_lookups_accept_a_full_width_mrn(clinic, as_role):
    from kapstone.ledger.forms import ReceiveForm

    form = ReceiveForm(data={"patient_mrn": "ｍｒｎ-１００１"})
    form.is_valid()
    assert form.cleaned_data["patient_mrn"] == clinic.on_team
    client = as_role("administrator")
    response = client.get(reverse("audit:browse"), {"mrn": "ＭＲＮ-１００２"})
    rows = list(response.context["page"])
    assert rows and all(e.patient_id == clinic.elsewhere.pk for e in rows)
