"""Signing the treatment plan: only on a signed eligibility decision that allows it, only by a
prescriber (the medical director for a specialist protocol), only when complete; signing starts the
program's measurement plan; signed plans never change and are amended by a new version."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.clinical.access import Modality
from kapstone.clinical.routes import Route
from kapstone.errors import InputError
from kapstone.measures.models import MeasurementCarePlan
from kapstone.measures.selectors import current_care_plan
from kapstone.patients.services import record_body_measurement
from kapstone.plans import services
from kapstone.plans.models import AppendOnlyError, PlanSignature
from kapstone.plans.sections import Consent, Preparation, RelapsePrevention
from kapstone.plans.selectors import missing_for_signing, signed_plan
from tests.conftest import verified_client
from tests.shell.intake_support import complete_intake, signed_eligibility_for
from tests.shell.plans_support import draft_plan, ready_to_sign


def _history(condition: str, status: str = "active") -> dict:
    return {"medical_history": [{"condition": condition, "status": status}]}


def _eligibility(clinic, **sections):
    patient, prescriber = clinic.on_team, clinic.staff["prescriber"]
    if sections:
        complete_intake(patient, prescriber, **sections)
    return signed_eligibility_for(patient, prescriber)


def _ready(clinic, **overrides):
    return ready_to_sign(
        clinic.on_team, clinic.staff["prescriber"], clinic.staff["therapist"], **overrides
    )


def test_a_plan_cannot_be_signed_without_a_signed_eligibility_decision(clinic):
    plan = _ready(clinic)
    with pytest.raises(InputError) as refused:
        services.sign_plan(by=clinic.staff["prescriber"], plan=plan)
    assert refused.value.errors[""] == [
        "The plan cannot be signed before the patient's eligibility decision is signed: "
        "complete the intake and sign the eligibility review first."
    ]
    assert not PlanSignature.objects.exists()


@pytest.mark.parametrize(
    ("sections", "decision", "message"),
    [
        (
            {"history": _history("aneurysmal_vascular_disease")},
            "not_eligible",
            "The signed eligibility decision is Not eligible: no treatment plan can be signed.",
        ),
        (
            {"questionnaires": {"cssrs_risk": "high", "questionnaire_flags": []}},
            "urgent_safety_review",
            "The signed eligibility decision is Urgent safety review: the safety review comes "
            "first",
        ),
    ],
    ids=["not_eligible", "urgent_safety_review"],
)
def test_no_plan_is_signed_on_a_decision_that_rules_treatment_out(
    clinic, sections, decision, message
):
    review = _eligibility(clinic, **sections)
    assert review.decision == decision
    plan = _ready(clinic)
    for signer in (clinic.staff["prescriber"], clinic.staff["medical_director"]):
        with pytest.raises(InputError) as refused:
            services.sign_plan(by=signer, plan=plan)
        assert refused.value.errors[""][0].startswith(message)
    assert not PlanSignature.objects.exists()


def test_a_specialist_protocol_is_signed_by_the_medical_director(clinic):
    review = _eligibility(clinic, history=_history("bipolar_disorder", "controlled"))
    assert review.decision == "specialist_protocol"
    plan = _ready(clinic)
    with pytest.raises(InputError, match="the medical director signs this plan, not a prescriber"):
        services.sign_plan(by=clinic.staff["prescriber"], plan=plan)
    signature = services.sign_plan(by=clinic.staff["medical_director"], plan=plan)
    assert (signature.signer_role, signature.eligibility_decision) == (
        "medical_director",
        "specialist_protocol",
    )


def test_a_nurse_cannot_sign(clinic, as_role):
    _eligibility(clinic)
    plan = _ready(clinic)
    url = reverse("plans:sign", args=[clinic.on_team.pk, plan.pk])
    client = as_role("nurse")
    assert client.get(url).status_code == 403
    assert client.post(url, {"confirm": "on"}).status_code == 403
    with pytest.raises(InputError, match="signed by a prescriber or the medical director"):
        services.sign_plan(by=clinic.staff["nurse"], plan=plan)
    # Nor a prescriber who is not on the patient's care team.
    client.logout()
    other = verified_client(client, clinic.others["prescriber"])
    assert other.post(url, {"confirm": "on"}).status_code == 403
    assert not PlanSignature.objects.exists()


def test_an_incomplete_plan_is_not_signed_and_says_what_is_missing(clinic):
    _eligibility(clinic)
    plan = draft_plan(clinic.on_team, clinic.staff["prescriber"])
    with pytest.raises(InputError) as refused:
        services.sign_plan(by=clinic.staff["prescriber"], plan=plan)
    assert refused.value.errors[""] == [
        "The plan is not complete: missing the therapist's confirmation of the integration "
        "modalities."
    ]
    bare = draft_plan(
        clinic.elsewhere,
        clinic.others["prescriber"],
        preparation=Preparation(),
        consent=Consent(),
        relapse_prevention=RelapsePrevention(warning_signs="Sleeping in"),
    )
    missing = missing_for_signing(bare)
    assert missing[1].startswith("preparation: the date of the preparation session")
    assert missing[2].startswith("informed consent: the consent form version")
    assert missing[3] == (
        "relapse-prevention plan: what to do, supports, when maintenance is considered"
    )


def test_consent_is_recorded_whole_or_not_at_all(clinic):
    with pytest.raises(InputError) as refused:
        draft_plan(
            clinic.on_team,
            clinic.staff["prescriber"],
            consent=Consent(form_version="KAP-consent-2026-11"),
        )
    assert set(refused.value.errors) == {"consent_given_by", "consent_witness", "consent_at"}


def test_signing_starts_the_program_s_measurement_plan_in_the_same_transaction(clinic):
    review = _eligibility(clinic)
    plan = _ready(clinic, key="intensive_retreat", infusion_minutes=Decimal(40))
    signature = services.sign_plan(by=clinic.staff["prescriber"], plan=plan)
    care_plan = current_care_plan(clinic.on_team)
    assert care_plan is not None and care_plan.plan == "intensive-retreat"
    assert care_plan.intake_at == review.signed_at
    assert signature.measurement_care_plan == care_plan
    assert signature.eligibility_review_id == review.pk
    actions = list(
        AuditEntry.objects.filter(patient=clinic.on_team)
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["measures.care_plan_started", "treatment_plan.signed"]


def test_an_iv_induction_switches_to_the_standard_induction_plan_and_keeps_the_intake(clinic):
    from kapstone.measures.services import set_care_plan

    _eligibility(clinic)
    intake_at = timezone.now() - dt.timedelta(days=10)
    set_care_plan(
        by=clinic.staff["therapist"],
        patient=clinic.on_team,
        plan="intensive-retreat",
        intake_at=intake_at,
    )
    services.sign_plan(by=clinic.staff["prescriber"], plan=_ready(clinic))
    care_plan = current_care_plan(clinic.on_team)
    assert (care_plan.plan, care_plan.intake_at) == ("standard-induction", intake_at)


def test_a_program_without_a_measurement_plan_says_none_applies(clinic, as_role):
    _eligibility(clinic)
    plan = _ready(
        clinic,
        key="maintenance_monthly",
        route=Route.INTRANASAL_ESKETAMINE,
        dose_basis="mg",
        dose_steps=(Decimal(56),),
        concentration_mg_per_ml=None,
        infusion_minutes=None,
    )
    page = as_role("prescriber").get(reverse("plans:sign", args=[clinic.on_team.pk, plan.pk]))
    assert "none applies: set one on the Measures tab if needed" in page.content.decode()
    signature = services.sign_plan(by=clinic.staff["prescriber"], plan=plan)
    assert signature.measurement_care_plan is None
    assert not MeasurementCarePlan.objects.exists()


def test_a_draft_made_before_a_new_weight_is_not_signed(clinic):
    _eligibility(clinic)
    plan = _ready(clinic)
    record_body_measurement(
        by=clinic.staff["nurse"],
        patient=clinic.on_team,
        weight_kg=Decimal("64.0"),
        measured_on=timezone.localdate(),
    )
    with pytest.raises(InputError, match=r"A newer weight \(64.0 kg"):
        services.sign_plan(by=clinic.staff["prescriber"], plan=plan)


def test_signed_plans_are_immutable_and_amended_by_a_new_version(clinic):
    _eligibility(clinic)
    prescriber = clinic.staff["prescriber"]
    plan = _ready(clinic)
    services.sign_plan(by=prescriber, plan=plan)
    plan.refresh_from_db()

    # Neither the ORM nor SQL can change the signed plan or its signature.
    plan.prep_music = "Something else"
    with pytest.raises(AppendOnlyError):
        plan.save()
    for sql in (
        "UPDATE plans_treatmentplan SET relapse_actions = 'x' WHERE id = %s",
        "DELETE FROM plans_treatmentplan WHERE id = %s",
        "UPDATE plans_plansignature SET signed_at = signed_at WHERE plan_id = %s",
        "DELETE FROM plans_plansignature WHERE plan_id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [plan.pk])
    with pytest.raises(InputError, match="is signed and cannot change"):
        services.confirm_modalities(
            by=clinic.staff["therapist"], plan=plan, modalities=[Modality.EMDR], reason="x"
        )
    with pytest.raises(InputError, match="is signed and cannot change"):
        services.sign_plan(by=prescriber, plan=plan)

    # An amendment needs a reason; the signed version stays in force until it is signed.
    with pytest.raises(InputError) as refused:
        draft_plan(clinic.on_team, prescriber)
    assert refused.value.errors["change_reason"] == [
        f"Plan version {plan.revision} is signed: say why it is amended."
    ]
    amendment = draft_plan(
        clinic.on_team, prescriber, change_reason="Partner works nights: a taxi takes her home"
    )
    assert amendment.supersedes == plan and not amendment.is_signed
    assert amendment.modalities_confirmed_by == clinic.staff["therapist"]  # carried over
    assert signed_plan(clinic.on_team).plan == plan
    services.sign_plan(by=prescriber, plan=amendment)
    assert signed_plan(clinic.on_team).plan == amendment
    assert AuditEntry.objects.filter(action="treatment_plan.amendment_drafted").count() == 1


def test_signed_plan_gives_the_scheduler_what_it_needs(clinic):
    _eligibility(clinic)
    assert signed_plan(clinic.on_team) is None
    plan = _ready(
        clinic,
        key="extended_outpatient_weekly",
        route=Route.SC,
        dose_steps=(Decimal("0.25"), Decimal("0.5"), Decimal("1.0")),
        concentration_mg_per_ml=Decimal(50),
        infusion_minutes=None,
    )
    services.sign_plan(by=clinic.staff["prescriber"], plan=plan)
    found = signed_plan(clinic.on_team)
    assert found is not None
    assert found.template_ref == "extended_outpatient_weekly@2026-11-1"
    assert (found.route, found.sessions, found.sessions_per_week) == (Route.SC, 12, Fraction(1))
    assert found.modalities == (Modality.IFS, Modality.CBT, Modality.BEHAVIOURAL_ACTIVATION)
    assert [d.dose_mg for d in found.doses[:4]] == [Decimal("17.5"), 35, 70, 70]
    assert found.doses[0].mg_per_kg == Decimal("0.25")
    assert found.doses[2].volume_ml == Decimal("1.4")
    assert found.session_length.observation_minutes == 90


def test_the_prescriber_signs_on_the_sign_page(clinic, as_role):
    _eligibility(clinic)
    plan = _ready(clinic)
    client = as_role("prescriber")
    url = reverse("plans:sign", args=[clinic.on_team.pk, plan.pk])
    page = client.get(url).content.decode()
    assert "Eligible, signed" in page
    response = client.post(url, {})
    assert "Tick the box to sign." in response.content.decode()
    response = client.post(url, {"confirm": "on"})
    assert response.status_code == 302
    assert PlanSignature.objects.get().signed_by == clinic.staff["prescriber"]
    page = client.get(reverse("plans:chart_tab", args=[clinic.on_team.pk])).content.decode()
    assert "Signed</span> by Prescriber Tester" in page and "(in force)" in page
    assert "Sign the plan" not in page and "Amend the plan" in page


def test_the_sign_page_explains_a_refusal(clinic, as_role):
    _eligibility(clinic, history=_history("aneurysmal_vascular_disease"))
    plan = _ready(clinic)
    client = as_role("prescriber")
    url = reverse("plans:sign", args=[clinic.on_team.pk, plan.pk])
    assert "Not eligible: no treatment plan can be signed" in client.get(url).content.decode()
    response = client.post(url, {"confirm": "on"})
    assert response.status_code == 200
    assert (
        "Not eligible: no treatment plan can be signed"
        in (response.context["form"].non_field_errors()[0])
    )
