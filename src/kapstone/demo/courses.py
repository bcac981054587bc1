"""A demo patient's way into a course, as the clinic does it: an intake screened and signed by the
prescriber, then a treatment plan drafted, its modalities confirmed by the therapist and signed.

Shared by the history (patients well into or past their course), the retreat week waiting to be
scheduled and today's patients on the day board, so each has what the chair side and the booking
form need: a signed plan with its route and consent.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kapstone.accounts.models import Site, StaffUser
from kapstone.clinical.access import Modality, Role
from kapstone.clinical.eligibility import Decision
from kapstone.clinical.routes import Route
from kapstone.errors import InputError
from kapstone.intake import selectors as intake_selectors
from kapstone.intake import services as intake
from kapstone.intake.signoff import overridden
from kapstone.patients.models import Patient, ReferralSource, SexAtBirth
from kapstone.patients.selectors import current_weight
from kapstone.patients.services import register_patient
from kapstone.plans import selectors as plan_selectors
from kapstone.plans import services as plans
from kapstone.plans.models import TreatmentPlan
from kapstone.plans.sections import CONSENT_TOPICS, Consent, Preparation, RelapsePrevention

# An eligible adult with treatment-resistant major depression, in the eligibility facts format.
ELIGIBLE_ADULT: dict[str, dict[str, Any]] = {
    "conditions": {"presenting_conditions": ["major_depression"]},
    "episode": {
        "current_episode": {
            "started_on": "2025-01-15",
            "antidepressant_trials": [
                {
                    "drug": "sertraline",
                    "daily_dose_mg": 150,
                    "weeks": 10,
                    "adequate_dose": True,
                    "outcome": "no_response",
                },
                {
                    "drug": "venlafaxine",
                    "daily_dose_mg": 225,
                    "weeks": 8,
                    "adequate_dose": True,
                    "outcome": "no_response",
                },
            ],
        },
        "earlier_antidepressant_trials": [],
    },
    "treatments": {
        "psychotherapy": [{"kind": "cbt", "sessions": 16, "helped": False}],
        "neuromodulation": [],
        "prior_ketamine": [],
    },
    "history": {"medical_history": []},
    "substances": {"substance_use": []},
    "reproductive": {
        "reproductive": {
            "reproductive_potential": False,
            "pregnancy": "not_pregnant",
            "breastfeeding": False,
        }
    },
    "medications": {"medications": []},
    "vitals": {
        "baseline_vitals": {
            "measured_on": None,
            "systolic_mmhg": 122,
            "diastolic_mmhg": 78,
            "heart_rate_bpm": 70,
            "weight_kg": 72.0,
            "height_cm": 172.0,
        }
    },
    "questionnaires": {"cssrs_risk": "none", "questionnaire_flags": []},
    "presentation": {
        "anxiety_mainly": None,
        "trauma_rooted_memories": False,
        "intrusive_imagery": False,
        "harsh_self_criticism": True,
        "rumination": True,
        "body_symptoms": False,
        "panic_and_avoidance": False,
        "withdrawal": True,
    },
}
# Program by route: racemic ketamine in the intensive retreat, esketamine in its own induction.
PROGRAM_FOR_ROUTE = {Route.INTRANASAL_ESKETAMINE: "esketamine_induction"}


@dataclass(frozen=True)
class SyntheticPatient:
    """Who a demo patient is, and the site (an index into the clinic's sites) and route of their
    course."""

    given: str
    family: str
    sex: str
    born: dt.date
    site: int
    route: Route


@dataclass(frozen=True)
class FrontDesk:
    """How one group of demo patients is registered. The n-th of the group gets MRN
    ``KAP-<mrn + n>``, phone ``(207) 555-<phone + n>`` (their emergency contact 100 numbers on)
    and house ``number + n`` on ``street``; the contact is (given name, relationship), with the
    patient's family name; the referral is (source, referrer)."""

    mrn: int
    phone: int
    number: int
    street: str
    contact: tuple[str, str]
    referral: tuple[ReferralSource, str]
    weight_kg: Decimal
    height_cm: Decimal


def register_synthetic(
    who: SyntheticPatient,
    n: int,
    *,
    desk: FrontDesk,
    by: StaffUser,
    site: Site,
    care_team: dict[str, StaffUser | None],
    measured_on: dt.date,
) -> Patient:
    """Registers the n-th patient of a demo group: no preferred name or gender identity, pronouns
    by sex, an address at a reserved mail domain."""
    phone = desk.phone + n
    return register_patient(
        by=by,
        details={
            "mrn": f"KAP-{desk.mrn + n}",
            "given_name": who.given,
            "family_name": who.family,
            "preferred_name": "",
            "date_of_birth": who.born,
            "sex_at_birth": who.sex,
            "gender_identity": "",
            "pronouns": "she/her" if who.sex == SexAtBirth.FEMALE else "he/him",
            "phone": f"(207) 555-{phone:04d}",
            "email": f"{who.given.lower()}.{who.family.lower()}@example.invalid",
            "address": f"{desk.number + n} {desk.street}",
            "emergency_contact_name": f"{desk.contact[0]} {who.family}",
            "emergency_contact_relationship": desk.contact[1],
            "emergency_contact_phone": f"(207) 555-{phone + 100:04d}",
            "referral_source": desk.referral[0],
            "referrer_name": desk.referral[1],
            "home_site": site,
        },
        care_team=care_team,
        weight_kg=desk.weight_kg,
        height_cm=desk.height_cm,
        measured_on=measured_on,
    )


def intake_sections(patient: Patient, on: dt.date, *, trauma: bool = False) -> dict[str, Any]:
    sections = copy.deepcopy(ELIGIBLE_ADULT)
    vitals = sections["vitals"]["baseline_vitals"]
    vitals["measured_on"] = on.isoformat()
    weight = current_weight(patient)
    if weight is not None:
        vitals["weight_kg"] = float(weight.weight_kg)
        if weight.height_cm is not None:
            vitals["height_cm"] = float(weight.height_cm)
    sections["presentation"]["trauma_rooted_memories"] = trauma
    sections["presentation"]["intrusive_imagery"] = trauma
    return sections


def sign_eligibility(
    patient: Patient, prescriber: StaffUser, sections: dict[str, Any], now: dt.datetime
) -> None:
    for section, value in sections.items():
        intake.save_intake_section(
            by=prescriber, patient=patient, section=section, value=value, now=now
        )
    review = intake.screen(by=prescriber, patient=patient, now=now)
    final = Decision(review.screened_decision)
    intake.sign(
        by=prescriber,
        patient=patient,
        review=review,
        final_decision=final.value,
        reasons={
            f["rule_id"]: "Reviewed at the intake interview"
            for f in overridden(review.findings, final)
        },
        now=now,
    )
    assert intake_selectors.signed_eligibility(patient) is not None


def ready_to_dose(
    patient: Patient,
    *,
    route: Route,
    screened_at: dt.datetime,
    planned_at: dt.datetime,
    trauma: bool = False,
    program_key: str = "intensive_retreat",
    modality: Modality | None = None,
) -> TreatmentPlan:
    """The intake saved and the eligibility signed at ``screened_at``, then the plan signed at
    ``planned_at``, by the patient's care team: the patient may be booked."""
    prescriber, therapist, nurse = patient.prescriber, patient.therapist, patient.nurse
    assert prescriber is not None and therapist is not None and nurse is not None
    sections = intake_sections(patient, timezone.localdate(screened_at), trauma=trauma)
    sign_eligibility(patient, prescriber, sections, screened_at)
    return sign_plan(
        patient,
        prescriber=prescriber,
        therapist=therapist,
        nurse=nurse,
        route=route,
        now=planned_at,
        program_key=program_key,
        modality=modality,
    )


def sign_plan(
    patient: Patient,
    *,
    prescriber: StaffUser,
    therapist: StaffUser,
    nurse: StaffUser,
    route: Route,
    now: dt.datetime,
    program_key: str = "intensive_retreat",
    modality: Modality | None = None,
) -> TreatmentPlan:
    """Drafts, confirms and signs a plan as of ``now``; a specialist protocol (an older patient,
    say) is signed by the medical director, as the clinic requires."""
    esketamine = route is Route.INTRANASAL_ESKETAMINE
    draft = plans.save_draft(
        by=prescriber,
        patient=patient,
        program=plan_selectors.current_templates().get(
            key=PROGRAM_FOR_ROUTE.get(route, program_key)
        ),
        route=route,
        dose_basis="mg" if esketamine else "mg_per_kg",
        dose_steps=(Decimal("56"),) if esketamine else (Decimal("0.5"),),
        concentration_mg_per_ml=None if esketamine else Decimal(10 if route is Route.IV else 50),
        infusion_minutes=Decimal("40") if route is Route.IV else None,
        preparation=Preparation(
            held_on=timezone.localdate(now) - dt.timedelta(days=2),
            held_by_id=therapist.pk,
            expectations="Hopes to break the cycle of low mood; knows not everyone responds.",
            intentions="To feel some distance from the heaviness and re-engage with family.",
            fears="Losing control; reassured a nurse stays nearby throughout.",
            dissociation="Floating, time stretching, distance from the body; temporary and safe.",
            fasting="No food for 2 hours and no drinks for 30 minutes before each session.",
            ride_home="A family member drives home after every session.",
            room_light="dimmed",
            music="Ambient instrumental playlist, low volume.",
        ),
        consent=Consent(
            explained=tuple(key for key, _ in CONSENT_TOPICS),
            notes="Asked about driving; answered: not until the next day.",
            form_version="KAP-consent-2026-11",
            given_by=f"{patient.given_name} {patient.family_name}",
            relationship="",
            witness_id=nurse.pk,
            given_at=now - dt.timedelta(days=1),
        ),
        relapse_prevention=RelapsePrevention(
            warning_signs="Sleeping late, cancelling plans, withdrawing from friends.",
            actions="Tell a family member, book a session with my therapist.",
            supports="Family; the clinic on weekdays.",
            maintenance_when="If two questionnaires in a row show low mood coming back.",
        ),
        now=now,
    )
    proposed = [Modality(m) for m in draft.modalities]
    if modality is None:
        # One the patient's therapist is credentialed in, trendable ones first (EMDR's SUD, IFS's
        # Self-energy, activities done), so the integration notes and their charts follow the plan.
        credentialed = therapist.modalities()
        offered = draft.program.as_template().modalities
        trendable = (Modality.EMDR, Modality.IFS, Modality.BEHAVIOURAL_ACTIVATION)
        fits = [m for m in (*trendable, *proposed, *offered) if m in credentialed and m in offered]
        chosen = fits[:1] or proposed[:1] or list(offered)[:1]
    else:
        chosen = [modality]
    reason = (
        ""
        if proposed == chosen
        else f"{chosen[0].label} suits the presentation and is offered at the patient's site"
    )
    confirmed = plans.confirm_modalities(
        by=therapist, plan=draft, modalities=chosen, reason=reason, now=now
    )
    try:
        plans.sign_plan(by=prescriber, plan=confirmed, now=now)
    except InputError:
        director = StaffUser.objects.filter(role=Role.MEDICAL_DIRECTOR).order_by("pk").first()
        assert director is not None
        plans.sign_plan(by=director, plan=confirmed, now=now)
    confirmed.refresh_from_db()
    return confirmed
