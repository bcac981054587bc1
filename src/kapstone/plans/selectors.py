"""Reads for program templates and treatment plans, and what the scheduler will need:
:func:`signed_plan` (the plan in force, with its template version, route, cadence, modalities and
dose per session)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db.models import QuerySet

from kapstone.accounts.models import StaffUser
from kapstone.clinical.access import Modality, Role
from kapstone.clinical.modality_matching import (
    CredentialedTherapist,
    ModalityMatch,
    PresentationProfile,
    match_modalities,
)
from kapstone.clinical.programs import ProgramTemplate, SessionLength
from kapstone.clinical.routes import Route
from kapstone.consents.selectors import ConsentStatus, consent_status
from kapstone.intake.models import decision_label
from kapstone.intake.selectors import (
    Precaution,
    precautions,
    presentation_profile,
    signed_eligibility,
)
from kapstone.kernel.read_once import once_per_page
from kapstone.kernel.related import load_related
from kapstone.measures.plans import plan_label
from kapstone.patients.models import Patient
from kapstone.plans.doses import describe
from kapstone.plans.models import PlanSignature, ProgramTemplateVersion, TreatmentPlan
from kapstone.plans.sections import CONSENT_TOPIC_TEXT, consent_topics_for, room_light_label

# --- program templates ------------------------------------------------------------------------


def current_templates() -> QuerySet[ProgramTemplateVersion]:
    """The version in force of each program: the one no later version supersedes."""
    return ProgramTemplateVersion.objects.filter(superseded_by__isnull=True).order_by("name")


def template_versions(key: str) -> list[ProgramTemplateVersion]:
    """Every version of one program, newest first."""
    return list(
        ProgramTemplateVersion.objects.filter(key=key).select_related("created_by").order_by("-pk")
    )


def is_current(version: ProgramTemplateVersion) -> bool:
    return not ProgramTemplateVersion.objects.filter(supersedes=version).exists()


def measurement_plan_text(version: ProgramTemplateVersion) -> str:
    if version.measurement_plan:
        return f"{plan_label(version.measurement_plan)} ({version.measurement_plan})"
    return "none applies: set one on the Measures tab if needed"


# --- treatment plans --------------------------------------------------------------------------


def _plans(patient: Patient) -> QuerySet[TreatmentPlan]:
    """The versions with what the plan pages show of them. The staff members they name (five keys
    to one table) are read afterwards in one query (:func:`_with_staff`), not joined: on PostgreSQL
    the join of all of them took ~28 ms to plan, on every read of a plan."""
    return (
        TreatmentPlan.objects.filter(patient=patient)
        .select_related("program", "weight", "signature")
        .order_by("-revision")
    )


_STAFF = ("created_by", "modalities_confirmed_by", "prep_held_by", "consent_witness")


def _with_staff(plans: list[TreatmentPlan]) -> list[TreatmentPlan]:
    signatures = [getattr(plan, "signature", None) for plan in plans]
    load_related(
        [
            *((plan, name) for plan in plans for name in _STAFF),
            *((signature, "signed_by") for signature in signatures if signature is not None),
        ]
    )
    return plans


def _first(plans: QuerySet[TreatmentPlan]) -> TreatmentPlan | None:
    return next(iter(_with_staff(list(plans[:1]))), None)


def plan_history(patient: Patient) -> list[TreatmentPlan]:
    return _with_staff(list(_plans(patient)))


def latest_plan(patient: Patient) -> TreatmentPlan | None:
    return _first(_plans(patient))


def plan_in_force(patient: Patient) -> TreatmentPlan | None:
    """The latest signed version (an amendment in draft does not replace it until signed)."""
    return _first(_plans(patient).filter(signature__isnull=False))


def get_plan(patient: Patient, plan_id: int) -> TreatmentPlan | None:
    return _first(_plans(patient).filter(pk=plan_id))


def programs_offered(latest: TreatmentPlan | None) -> QuerySet[ProgramTemplateVersion]:
    """The programs a new draft may use: each version in force, and the version the patient's
    latest plan was made from (a plan keeps it, even after the program is edited)."""
    offered = current_templates()
    if latest is None:
        return offered
    return ProgramTemplateVersion.objects.filter(
        pk__in=[*offered.values_list("pk", flat=True), latest.program_id]
    ).order_by("name", "-pk")


# --- modality matching ------------------------------------------------------------------------


def credentialed_therapists(patient: Patient) -> list[StaffUser]:
    """Active therapists working at the patient's home site, with their credentials."""
    return list(
        StaffUser.objects.filter(
            role=Role.THERAPIST.value, is_active=True, sites=patient.home_site_id
        )
        .prefetch_related("modality_credentials")
        .order_by("last_name", "first_name")
    )


def therapists_for_matching(patient: Patient) -> tuple[CredentialedTherapist, ...]:
    return tuple(
        CredentialedTherapist(str(t.pk), t.modalities()) for t in credentialed_therapists(patient)
    )


def propose_modalities(patient: Patient) -> tuple[PresentationProfile | None, ModalityMatch]:
    """The core's proposal from the intake's presentation profile (empty without one)."""
    profile = presentation_profile(patient)
    return profile, match_modalities(
        profile or PresentationProfile(), therapists_for_matching(patient)
    )


def proposal_data(match: ModalityMatch) -> list[dict[str, Any]]:
    """The proposal as a plan stores it: each modality with its reasons and who can offer it."""
    return [
        {
            "rank": p.rank,
            "modality": p.modality.value,
            "reasons": [
                {"feature": r.feature.value, "reason": r.reason, "source": r.source.cite()}
                for r in p.reasons
            ],
            "therapist_ids": list(p.therapist_ids),
            "flag": p.flag,
        }
        for p in match.proposals
    ]


def proposed_modalities(plan: TreatmentPlan) -> list[str]:
    return [p["modality"] for p in plan.modality_proposal]


# --- what a signed plan must hold -------------------------------------------------------------


def missing_for_signing(plan: TreatmentPlan) -> list[str]:
    """Every part still missing before the plan can be signed, in words."""
    missing = []
    template = plan.program.as_template()
    if plan.modalities_confirmed_by_id is None:
        missing.append("the therapist's confirmation of the integration modalities")
    elif template.integration.required and not plan.modalities:
        missing.append("an integration modality")
    prep = plan.preparation.missing()
    if prep:
        missing.append("preparation: " + ", ".join(prep))
    consent = plan.consent.missing(plan.route_value)
    if consent:
        missing.append("informed consent: " + ", ".join(consent))
    relapse = plan.relapse_prevention.missing()
    if relapse:
        missing.append("relapse-prevention plan: " + ", ".join(relapse))
    return missing


# --- for the scheduler ------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionDose:
    session: int  # 1-based
    dose_mg: Decimal
    mg_per_kg: Decimal | None  # as prescribed (None for a fixed dose)
    volume_ml: Decimal | None
    rate_ml_per_hour: Decimal | None
    rate_mg_per_min: Decimal | None
    minutes: Decimal | None
    units: tuple[tuple[str, Decimal, int], ...]  # (unit, strength mg, count): devices, lozenges


@dataclass(frozen=True)
class SignedPlan:
    plan: TreatmentPlan
    signature: PlanSignature
    template: ProgramTemplate
    template_ref: str  # key@version the plan was made from
    route: Route
    sessions: int
    sessions_per_week: Fraction
    modalities: tuple[Modality, ...]
    doses: tuple[SessionDose, ...]

    @property
    def session_length(self) -> SessionLength:
        return self.template.session_length(self.route)


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _session_dose(number: int, calc: dict[str, Any]) -> SessionDose:
    inputs = calc["inputs"]
    return SessionDose(
        session=number,
        dose_mg=Decimal(str(calc["dose_mg"])),
        mg_per_kg=_decimal(inputs["mg_per_kg"]),
        volume_ml=_decimal(calc["volume_ml"]),
        rate_ml_per_hour=_decimal(calc["rate_ml_per_hour"]),
        rate_mg_per_min=_decimal(calc["rate_mg_per_min"]),
        minutes=_decimal(inputs["minutes"]),
        units=tuple(
            (u["unit"], Decimal(str(u["strength_mg"])), int(u["count"])) for u in calc["units"]
        ),
    )


@once_per_page
def signed_plan(patient: Patient) -> SignedPlan | None:
    """The patient's signed plan in force, or None."""
    plan = plan_in_force(patient)
    if plan is None:
        return None
    template = plan.program.as_template()
    return SignedPlan(
        plan=plan,
        signature=plan.signature,
        template=template,
        template_ref=template.ref,
        route=plan.route_value,
        sessions=template.dosing_sessions,
        sessions_per_week=template.sessions_per_week,
        modalities=tuple(plan.modality_values),
        doses=tuple(_session_dose(n, c) for n, c in enumerate(plan.dose_schedule, start=1)),
    )


# --- the plan page and its PDF ----------------------------------------------------------------


@dataclass(frozen=True)
class DoseRow:
    sessions: str
    dose: str
    mg_per_kg: str
    volume: str
    rate: str
    units: str
    rounding: str


def _num(value: object, unit: str) -> str:
    if value is None:
        return "—"
    return f"{format(Decimal(str(value)).normalize(), 'f')} {unit}"


def _units(calc: dict[str, Any]) -> str:
    parts = []
    for u in calc["units"]:
        plural = "s" if u["count"] != 1 else ""
        parts.append(f"{u['count']} × {_num(u['strength_mg'], 'mg')} {u['unit']}{plural}")
    return ", ".join(parts) or "—"


def dose_rows(schedule: Sequence[dict[str, Any]]) -> list[DoseRow]:
    """Consecutive sessions with the same dose share a row."""
    rows: list[DoseRow] = []
    start = 0
    for index in range(1, len(schedule) + 1):
        if index < len(schedule) and schedule[index] == schedule[start]:
            continue
        calc = schedule[start]
        inputs = calc["inputs"]
        label = f"{start + 1}" if index - start == 1 else f"{start + 1}–{index}"
        rate = "—"
        if calc["rate_mg_per_min"] is not None:
            rate = _num(calc["rate_mg_per_min"], "mg/min")
            if calc["rate_ml_per_hour"] is not None:
                rate = f"{_num(calc['rate_ml_per_hour'], 'mL/h')} ({rate})"
            rate += f" over {_num(inputs['minutes'], 'minutes')}"
        volume = "—"
        if calc["volume_ml"] is not None:
            volume = f"{_num(calc['volume_ml'], 'mL')} at {_num(inputs['concentration_mg_per_ml'], 'mg/mL')}"
        per_kg = _num(inputs["mg_per_kg"], "mg/kg")
        if inputs["mg_per_kg"] is None and calc["effective_mg_per_kg"] is not None:
            per_kg = f"{_num(calc['effective_mg_per_kg'], 'mg/kg')} (fixed dose)"
        rows.append(
            DoseRow(
                sessions=label,
                dose=_num(calc["dose_mg"], "mg"),
                mg_per_kg=per_kg,
                volume=volume,
                rate=rate,
                units=_units(calc),
                rounding=calc["rounding"],
            )
        )
        start = index
    return rows


@dataclass(frozen=True)
class ProposalRow:
    label: str
    reasons: list[str]
    therapists: list[str]
    flag: str | None
    chosen: bool


@dataclass
class PlanView:
    """Everything the plan page and the PDF show for one plan version."""

    plan: TreatmentPlan
    template: ProgramTemplate
    signature: PlanSignature | None
    dose_summary: str
    dose_rows: list[DoseRow]
    proposals: list[ProposalRow]
    chosen: list[str]
    modalities_changed: bool
    consent_topics: list[tuple[str, bool]]
    room_light: str
    measurement_plan: str
    missing: list[str]
    eligibility: Any  # the intake's EligibilityReview for a draft, None once signed
    superseded: bool
    in_force: bool
    weight: str = ""
    precautions: list[Precaution] = field(default_factory=list)
    # The patient's electronic consent from the companion (kapstone.consents), if any.
    e_consent: ConsentStatus | None = None

    @property
    def eligibility_decision(self) -> str | None:
        if self.signature is not None:
            return self.signature.eligibility_decision
        return self.eligibility.decision if self.eligibility is not None else None

    @property
    def eligibility_label(self) -> str:
        decision = self.eligibility_decision
        return decision_label(decision) if decision else ""

    @property
    def eligibility_signed_at(self) -> Any:
        if self.signature is not None:
            return self.signature.eligibility_signed_at
        return self.eligibility.signed_at if self.eligibility is not None else None


def plan_view(plan: TreatmentPlan) -> PlanView:
    template = plan.program.as_template()
    names = {
        str(t.pk): t.display_name
        for t in StaffUser.objects.filter(
            pk__in={int(i) for p in plan.modality_proposal for i in p["therapist_ids"]}
        )
    }
    proposals = [
        ProposalRow(
            label=Modality(p["modality"]).label,
            reasons=[r["reason"] for r in p["reasons"]],
            therapists=[names.get(i, f"staff #{i}") for i in p["therapist_ids"]],
            flag=p["flag"],
            chosen=p["modality"] in plan.modalities,
        )
        for p in plan.modality_proposal
    ]
    signature = plan.signature_or_none
    in_force = plan_in_force(plan.patient)
    steps = plan.step_values
    eligibility = None if signature else signed_eligibility(plan.patient)
    review_id = (
        signature.eligibility_review_id
        if signature
        else (eligibility.pk if eligibility is not None else None)
    )
    return PlanView(
        plan=plan,
        template=template,
        signature=signature,
        dose_summary=describe(plan.dose_basis, steps, plan.infusion_minutes)
        if steps
        else "no dose",
        dose_rows=dose_rows(plan.dose_schedule),
        proposals=proposals,
        chosen=[m.label for m in plan.modality_values],
        modalities_changed=set(plan.modalities) != set(proposed_modalities(plan)),
        consent_topics=[
            (CONSENT_TOPIC_TEXT[k], k in plan.consent_explained)
            for k in consent_topics_for(plan.route_value)
        ],
        room_light=room_light_label(plan.prep_room_light),
        measurement_plan=measurement_plan_text(plan.program),
        missing=[] if signature else missing_for_signing(plan),
        eligibility=eligibility,
        precautions=precautions(review_id),
        superseded=TreatmentPlan.objects.filter(supersedes=plan).exists(),
        in_force=in_force is not None and in_force.pk == plan.pk,
        weight=weight_basis(plan),
        e_consent=consent_status(plan),
    )


def weight_basis(plan: TreatmentPlan) -> str:
    if plan.weight_kg is None:
        return "not used (a fixed dose)"
    measured = f" measured {plan.weight.measured_on:%d %b %Y}" if plan.weight else ""
    return f"{format(plan.weight_kg.normalize(), 'f')} kg{measured}"


def template_version(template_id: int) -> ProgramTemplateVersion | None:
    return ProgramTemplateVersion.objects.filter(pk=template_id).first()


def plans_made_from(version: ProgramTemplateVersion) -> int:
    """How many treatment plans were written on this template version."""
    return version.treatment_plans.count()
