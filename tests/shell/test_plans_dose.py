"""The plan's dose schedule comes from the core's calculator and the patient's current weight;
ceilings and refusals reach the prescriber in the calculator's own words, never as a clamp."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.clinical.dosing import DoseRefused, DoseRequest, calculate_dose
from kapstone.clinical.routes import Route
from kapstone.errors import InputError
from kapstone.patients.services import record_body_measurement
from kapstone.plans.models import TreatmentPlan
from kapstone.plans.selectors import dose_rows, signed_plan
from tests.shell.plans_support import draft_plan, program


def _core_refusal(**request) -> DoseRefused:
    with pytest.raises(DoseRefused) as refused:
        calculate_dose(DoseRequest(**request))
    return refused.value


def test_the_dose_is_computed_from_the_current_weight(clinic):
    plan = draft_plan(clinic.on_team, clinic.staff["prescriber"])
    assert plan.weight_kg == Decimal("70.0") and plan.weight == clinic.on_team.measurements.first()
    assert len(plan.dose_schedule) == 6  # one per dosing session of the program
    first = plan.dose_schedule[0]
    # 0.5 mg/kg x 70 kg = 35 mg; 3.5 mL at 10 mg/mL; over 40 minutes: 5.25 mL/h, 0.875 mg/min.
    assert (first["dose_mg"], first["volume_ml"]) == (35, 3.5)
    assert (first["rate_ml_per_hour"], first["rate_mg_per_min"]) == (5.25, 0.875)
    assert first["policy_version"] == plan.dose_policy_version
    [row] = dose_rows(plan.dose_schedule)
    assert (row.sessions, row.dose, row.volume) == ("1–6", "35 mg", "3.5 mL at 10 mg/mL")
    assert row.rate == "5.25 mL/h (0.875 mg/min) over 40 minutes"


def test_a_new_weight_changes_the_next_draft(clinic):
    prescriber = clinic.staff["prescriber"]
    draft_plan(clinic.on_team, prescriber)
    record_body_measurement(
        by=clinic.staff["nurse"],
        patient=clinic.on_team,
        weight_kg=Decimal("80.0"),
        height_cm=None,
        measured_on=timezone.localdate(),
    )
    plan = draft_plan(clinic.on_team, prescriber)
    assert plan.dose_schedule[0]["dose_mg"] == 40  # 0.5 mg/kg x 80 kg


def test_an_ascending_schedule_uses_the_core_and_holds_the_top_step(clinic):
    plan = draft_plan(
        clinic.on_team,
        clinic.staff["prescriber"],
        key="extended_outpatient_weekly",
        route=Route.SC,
        dose_steps=(Decimal("0.25"), Decimal("0.5"), Decimal("1.0")),
        concentration_mg_per_ml=Decimal("50"),
        infusion_minutes=None,
    )
    doses = [c["dose_mg"] for c in plan.dose_schedule]
    assert doses == [17.5, 35, 70] + [70] * 9  # 12 weekly sessions
    rows = dose_rows(plan.dose_schedule)
    assert [r.sessions for r in rows] == ["1", "2", "3–12"]


def test_esketamine_is_dosed_by_device_and_ascends_56_then_84(clinic):
    plan = draft_plan(
        clinic.on_team,
        clinic.staff["prescriber"],
        key="esketamine_induction",
        route=Route.INTRANASAL_ESKETAMINE,
        dose_basis="mg",
        dose_steps=(Decimal(56), Decimal(84)),
        concentration_mg_per_ml=None,
        infusion_minutes=None,
    )
    assert [c["dose_mg"] for c in plan.dose_schedule] == [56] + [84] * 7
    assert plan.dose_schedule[1]["units"] == [{"unit": "device", "strength_mg": 28, "count": 3}]
    assert plan.weight is None  # dosed by device: the plan does not go stale with the weight


def test_esketamine_refuses_a_dose_that_is_not_on_the_label(clinic):
    expected = _core_refusal(route=Route.INTRANASAL_ESKETAMINE, mg=Decimal(70)).problems[0]
    with pytest.raises(InputError) as refused:
        draft_plan(
            clinic.on_team,
            clinic.staff["prescriber"],
            key="esketamine_induction",
            route=Route.INTRANASAL_ESKETAMINE,
            dose_basis="mg",
            dose_steps=(Decimal(70),),
            concentration_mg_per_ml=None,
            infusion_minutes=None,
        )
    [message] = refused.value.errors["dose"]
    assert expected.message in message and expected.accepts in message
    assert not TreatmentPlan.objects.exists()


def test_a_dose_above_the_ceiling_is_refused_never_clamped(clinic):
    expected = _core_refusal(
        route=Route.IV,
        weight_kg=Decimal("70.0"),
        mg_per_kg=Decimal("1.5"),
        concentration_mg_per_ml=Decimal(10),
        minutes=Decimal(40),
    ).problems
    with pytest.raises(InputError) as refused:
        draft_plan(
            clinic.on_team,
            clinic.staff["prescriber"],
            dose_steps=(Decimal("1.5"),),
            dose_change_reason="Non-responder",
        )
    messages = refused.value.errors["dose"]
    assert expected[0].message in messages[0]
    assert "1.5 mg/kg is above the ceiling" in messages[0] and "§3 (unverified)" in messages[0]
    assert not TreatmentPlan.objects.exists()


def test_every_problem_is_reported_on_its_field(clinic):
    with pytest.raises(InputError) as refused:
        draft_plan(
            clinic.on_team,
            clinic.staff["prescriber"],
            concentration_mg_per_ml=None,
            infusion_minutes=Decimal(200),
        )
    errors = refused.value.errors
    assert (
        "the stock concentration is needed for Intravenous infusion"
        in (errors["concentration_mg_per_ml"][0])
    )
    assert "200 minutes is above the ceiling" in errors["minutes"][0]


def test_a_volume_too_large_points_at_the_concentration(clinic):
    with pytest.raises(InputError) as refused:
        draft_plan(
            clinic.on_team,
            clinic.staff["prescriber"],
            key="intensive_retreat",
            route=Route.IM,
            concentration_mg_per_ml=Decimal(1),
            infusion_minutes=None,
        )
    assert "choose another concentration" in refused.value.errors["concentration_mg_per_ml"][0]


def test_an_ascending_refusal_names_the_session(clinic):
    with pytest.raises(InputError) as refused:
        draft_plan(
            clinic.on_team,
            clinic.staff["prescriber"],
            key="extended_outpatient_weekly",
            route=Route.SC,
            dose_steps=(Decimal("0.5"), Decimal("1.2")),
            concentration_mg_per_ml=Decimal("50"),
            infusion_minutes=None,
        )
    assert refused.value.errors["dose"][0].startswith("Session 2: mg per kg: 1.2 mg/kg")


def test_no_weight_on_the_chart_is_refused_in_the_core_s_words(clinic, make_patient_without_weight):
    patient = make_patient_without_weight
    with pytest.raises(InputError) as refused:
        draft_plan(patient, clinic.staff["prescriber"])
    assert (
        "the current weight is needed for every racemic ketamine dose"
        in (refused.value.errors[""][0])
    )


@pytest.fixture
def make_patient_without_weight(clinic):
    from kapstone.patients.models import Patient

    return Patient.objects.create(
        mrn="MRN-NOWEIGHT",
        given_name="Emmy",
        family_name="Noether",
        date_of_birth=dt.date(1982, 3, 23),
        sex_at_birth="female",
        referral_source="self",
        home_site=clinic.sites[0],
        prescriber=clinic.staff["prescriber"],
        registered_at=timezone.now(),
    )


def test_a_dose_other_than_the_program_standard_needs_a_reason(clinic):
    prescriber = clinic.staff["prescriber"]
    with pytest.raises(InputError) as refused:
        draft_plan(clinic.on_team, prescriber, dose_steps=(Decimal("0.75"),))
    assert refused.value.errors["dose_change_reason"] == [
        "The program's standard dose is 0.5 mg/kg over 40 minutes (ANDRADE2017-DOSE (verified)): "
        "give the reason for this dose."
    ]
    plan = draft_plan(
        clinic.on_team,
        prescriber,
        dose_steps=(Decimal("0.75"),),
        dose_change_reason="Partial response to 0.5 mg/kg in a previous course",
    )
    assert plan.dose_schedule[0]["dose_mg"] == 52.5
    entry = AuditEntry.objects.get(action="treatment_plan.drafted")
    assert entry.object_id == str(plan.pk)
    assert entry.after["dose_change_reason"] == (
        "Partial response to 0.5 mg/kg in a previous course"
    )


def test_changing_the_dose_of_a_plan_needs_a_reason(clinic):
    prescriber = clinic.staff["prescriber"]
    im = {
        "key": "intensive_retreat",
        "route": Route.IM,
        "infusion_minutes": None,
        "concentration_mg_per_ml": Decimal(50),
    }
    draft_plan(clinic.on_team, prescriber, dose_steps=(Decimal("0.5"),), **im)
    with pytest.raises(InputError) as refused:
        draft_plan(clinic.on_team, prescriber, dose_steps=(Decimal("0.75"),), **im)
    assert refused.value.errors["dose_change_reason"] == [
        "The dose changes from plan version 1 (0.5 mg/kg): give the reason."
    ]
    # The concentration only changes the volume: not a dose change.
    plan = draft_plan(
        clinic.on_team,
        prescriber,
        dose_steps=(Decimal("0.5"),),
        **im | {"concentration_mg_per_ml": Decimal(100)},
    )
    assert plan.revision == 2 and plan.dose_schedule[0]["volume_ml"] == 0.35


def test_a_route_the_program_does_not_offer_is_refused(clinic):
    with pytest.raises(InputError) as refused:
        draft_plan(clinic.on_team, clinic.staff["prescriber"], route=Route.ORAL)
    assert refused.value.errors["route"] == [
        "Standard IV induction does not offer Oral (racemic ketamine): choose Intravenous "
        "infusion (racemic ketamine)."
    ]


def test_the_draft_page_shows_refusals_on_the_form(clinic, as_role):
    client = as_role("prescriber")
    url = reverse("plans:draft", args=[clinic.on_team.pk])
    page = client.get(url)
    assert page.status_code == 200 and "70.0 kg" in page.content.decode()
    data = {
        "program": program("standard_iv_induction").pk,
        "route": "iv",
        "dose_basis": "mg_per_kg",
        "dose": "1.5",
        "concentration_mg_per_ml": "10",
        "infusion_minutes": "40",
        "dose_change_reason": "Trying",
        "expected_revision": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    form = response.context["form"]
    assert "1.5 mg/kg is above the ceiling" in form.errors["dose"][0]
    response = client.post(url, data | {"dose": "0.5, x"})
    assert "'x' is not a number" in response.context["form"].errors["dose"][0]

    response = client.post(url, data | {"dose": "0.5", "dose_change_reason": ""})
    assert response.status_code == 302
    plan = TreatmentPlan.objects.get()
    assert (plan.revision, plan.created_by, plan.is_signed) == (
        1,
        clinic.staff["prescriber"],
        False,
    )
    entry = AuditEntry.objects.get(action="treatment_plan.drafted")
    assert entry.patient == clinic.on_team and entry.after["program_ref"] == plan.program.ref
    assert signed_plan(clinic.on_team) is None  # a draft is not the plan in force

    # A page opened before that save cannot overwrite it.
    response = client.post(url, data | {"dose": "0.5", "expected_revision": "0"})
    assert "A newer version of this plan was saved meanwhile" in response.content.decode()


def test_inputs_are_kept_at_the_precision_the_plan_stores(clinic):
    with pytest.raises(InputError) as refused:
        draft_plan(clinic.on_team, clinic.staff["prescriber"], infusion_minutes=Decimal("40.25"))
    assert refused.value.errors == {"infusion_minutes": ["Give at most 1 decimal place."]}
