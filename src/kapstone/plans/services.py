"""Writes for program templates and treatment plans, each in one transaction with its audit row.

Nothing here updates a row: a template edit adds a version, a plan change adds a plan version, and
signing adds a signature. Every check runs before anything is written and raises
:class:`~kapstone.errors.InputError` naming the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record, snapshot
from kapstone.clinical.access import Modality, Role
from kapstone.clinical.dosing import DEFAULT_DOSING_POLICY, DoseRefused
from kapstone.clinical.programs import ProgramTemplate, validate_template
from kapstone.clinical.routes import Route
from kapstone.errors import InputError, problem_errors
from kapstone.intake.models import decision_label
from kapstone.intake.selectors import signed_eligibility
from kapstone.measures.models import MeasurementCarePlan
from kapstone.measures.plans import PLANS
from kapstone.measures.selectors import current_care_plan
from kapstone.measures.services import set_care_plan
from kapstone.names import name_errors
from kapstone.patients.models import Patient
from kapstone.patients.selectors import current_weight
from kapstone.plans import doses, programs, selectors
from kapstone.plans.models import PlanSignature, ProgramTemplateVersion, TreatmentPlan
from kapstone.plans.sections import Consent, Preparation, RelapsePrevention
from kapstone.plans.signing import signing_refusal

# --- program templates ------------------------------------------------------------------------


def ensure_default_templates(*, now: dt.datetime | None = None) -> list[ProgramTemplateVersion]:
    """Adds each default program the clinic does not have yet (idempotent); returns those added."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            created = programs.seed_missing(ProgramTemplateVersion, now=now)
            for row in created:
                record(
                    actor=None,
                    action="program_template.seeded",
                    obj=row,
                    summary=f"Program {row.name} ({row.ref}) added from the clinic's defaults",
                    after={"ref": row.ref},
                )
    except IntegrityError:
        return []  # another process seeded them at the same moment
    return created


def _template_errors(template: ProgramTemplate) -> dict[str, list[str]]:
    return problem_errors(
        validate_template(template), fields=programs.problem_field, say=programs.problem_message
    )


def _measurement_plan_errors(name: str) -> dict[str, list[str]]:
    if name and name not in PLANS:
        known = ", ".join(PLANS)
        return {"measurement_plan": [f"{name!r} is not a measurement plan; the plans are {known}."]}
    return {}


def _next_version(key: str, now: dt.datetime) -> str:
    count = ProgramTemplateVersion.objects.filter(key=key).count()
    return f"{timezone.localdate(now):%Y-%m}-{count + 1}"


_TEMPLATE_AUDIT = (
    "name",
    "routes",
    "dosing_sessions",
    "sessions_per_period",
    "period_days",
    "course_weeks",
    "min_gap_days",
    "integration",
    "modalities",
    "session_lengths",
    "standard_dose",
    "relapse_rules_may_trigger",
    "measurement_plan",
)


def _comparable(fields: dict[str, Any]) -> dict[str, Any]:
    """A template's content without its version and sources: what an edit can change."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "source"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return {k: strip(v) for k, v in fields.items() if k not in {"version", "source", "measurement"}}


def add_program_template(
    *,
    by: StaffUser,
    key: str,
    changes: programs.TemplateChanges,
    reason: str,
    now: dt.datetime | None = None,
) -> ProgramTemplateVersion:
    """A new program (its first version)."""
    now = now or timezone.now()
    key = key.strip()
    reason = reason.strip()
    template = programs.build_template(
        key=key, version=_next_version(key, now), changes=changes, previous=None, reason=reason
    )
    errors = _template_errors(template) | _measurement_plan_errors(changes.measurement_plan)
    if ProgramTemplateVersion.objects.filter(key=key).exists():
        errors.setdefault("key", []).append(
            f"A program with the key {key!r} exists already: edit it to make a new version."
        )
    if not reason:
        errors["reason"] = ["Say why the clinic adds this program."]
    if errors:
        raise InputError(errors)
    try:
        with transaction.atomic():
            row = ProgramTemplateVersion.objects.create(
                **programs.template_fields(template),
                measurement_plan=changes.measurement_plan,
                supersedes=None,
                change_reason=reason,
                created_by=by,
                created_at=now,
            )
            record(
                actor=by,
                action="program_template.added",
                obj=row,
                summary=f"Program {row.name} ({row.ref}) added: {reason}",
                after={k: getattr(row, k) for k in _TEMPLATE_AUDIT} | {"ref": row.ref},
            )
    except IntegrityError as exc:
        raise InputError.single(
            "key", f"A program with the key {key!r} was added meanwhile: edit it instead."
        ) from exc
    return row


def edit_program_template(
    *,
    by: StaffUser,
    previous: ProgramTemplateVersion,
    changes: programs.TemplateChanges,
    reason: str,
    now: dt.datetime | None = None,
) -> ProgramTemplateVersion:
    """A new version of a program superseding ``previous`` (kept, with the plans made from it)."""
    now = now or timezone.now()
    reason = reason.strip()
    old = previous.as_template()
    template = programs.build_template(
        key=previous.key,
        version=_next_version(previous.key, now),
        changes=changes,
        previous=old,
        reason=reason,
    )
    errors = _template_errors(template) | _measurement_plan_errors(changes.measurement_plan)
    if not reason:
        errors["reason"] = ["Say why the program changes: plans made from it keep this version."]
    new_fields = programs.template_fields(template)
    unchanged = (
        _comparable(new_fields) == _comparable(programs.template_fields(old))
        and changes.measurement_plan == previous.measurement_plan
    )
    if unchanged and not errors:
        raise InputError.single("", "Nothing changed: this is the version in force.")
    if errors:
        raise InputError(errors)
    try:
        with transaction.atomic():
            if not selectors.is_current(previous):
                raise IntegrityError("superseded")
            row = ProgramTemplateVersion.objects.create(
                **new_fields,
                measurement_plan=changes.measurement_plan,
                supersedes=previous,
                change_reason=reason,
                created_by=by,
                created_at=now,
            )
            record(
                actor=by,
                action="program_template.edited",
                obj=row,
                summary=f"Program {row.name}: version {row.version} replaces {previous.version}: "
                f"{reason}",
                before={k: getattr(previous, k) for k in _TEMPLATE_AUDIT} | {"ref": previous.ref},
                after={k: getattr(row, k) for k in _TEMPLATE_AUDIT} | {"ref": row.ref},
            )
    except IntegrityError as exc:
        raise InputError.single(
            "",
            f"Version {previous.version} of {previous.name} was replaced meanwhile: open the "
            "version in force and edit that.",
        ) from exc
    return row


# --- treatment plans ------------------------------------------------------------------------------

NO_PREPARATION, NO_CONSENT, NO_RELAPSE_PLAN = Preparation(), Consent(), RelapsePrevention()


def _shown(at: dt.datetime) -> str:
    return f"{timezone.localtime(at):%d %b %Y %H:%M}"


def _staff_errors(field: str, staff_id: int | None, what: str) -> dict[str, list[str]]:
    if staff_id is not None and not StaffUser.objects.filter(pk=staff_id, is_active=True).exists():
        return {field: [f"{what} must be an active member of staff."]}
    return {}


def _section_errors(
    preparation: Preparation, consent: Consent, now: dt.datetime
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if preparation.held_on is not None and preparation.held_on > timezone.localdate(now):
        errors["prep_held_on"] = ["The preparation session cannot be dated in the future."]
    errors |= _staff_errors("prep_held_by", preparation.held_by_id, "Who held the session")
    if consent.started:
        # Consent is recorded whole or not at all: a half-recorded consent reads as given.
        if not consent.form_version.strip():
            errors["consent_form_version"] = ["Give the version of the consent form signed."]
        if not consent.given_by.strip():
            errors["consent_given_by"] = ["Give the name of the person who consented."]
        else:
            errors |= name_errors({"consent_given_by": consent.given_by}, ["consent_given_by"])
        if consent.witness_id is None:
            errors["consent_witness"] = ["Choose the member of staff who witnessed the consent."]
        else:
            errors |= _staff_errors("consent_witness", consent.witness_id, "The witness")
        if consent.given_at is None:
            errors["consent_at"] = ["Give the date and time consent was given."]
        elif consent.given_at > now + dt.timedelta(minutes=5):
            errors["consent_at"] = ["Consent cannot be recorded as given in the future."]
    return errors


def _dose_inputs(plan: TreatmentPlan) -> doses.DoseInputs:
    return doses.DoseInputs(
        route=plan.route_value,
        basis=plan.dose_basis,
        steps=plan.step_values,
        concentration_mg_per_ml=plan.concentration_mg_per_ml,
        minutes=plan.infusion_minutes,
    )


_PLAN_AUDIT = (
    "revision",
    "program",
    "route",
    "weight_kg",
    "dose_basis",
    "dose_steps",
    "concentration_mg_per_ml",
    "infusion_minutes",
    "dose_change_reason",
    "modalities",
    "modalities_reason",
    "modalities_confirmed_by",
    "prep_held_on",
    "consent_form_version",
    "consent_given_by",
    "consent_witness",
    "consent_at",
    "change_reason",
)


def _plan_audit(plan: TreatmentPlan) -> dict[str, Any]:
    return snapshot(plan, _PLAN_AUDIT) | {"program_ref": plan.program.ref}


def _copied(plan: TreatmentPlan) -> dict[str, Any]:
    """Every field of a plan version that a new version carries over unchanged."""
    skip = {"id", "revision", "supersedes", "created_by", "created_at", "change_reason"}
    return {
        f.attname: getattr(plan, f.attname)
        for f in TreatmentPlan._meta.concrete_fields
        if f.name not in skip
    }


def _create_version(
    *,
    patient: Patient,
    expected_revision: int | None,
    values: dict[str, Any],
    by: StaffUser,
    now: dt.datetime,
    action: str,
    summary: str,
) -> TreatmentPlan:
    """Adds the next version of the patient's plan, superseding the latest, with its audit row."""
    try:
        with transaction.atomic():
            locked = Patient.objects.select_for_update().get(pk=patient.pk)
            latest = TreatmentPlan.objects.filter(patient=locked).order_by("-revision").first()
            if expected_revision is not None and (latest.revision if latest else 0) != (
                expected_revision
            ):
                raise InputError.single(
                    "",
                    "A newer version of this plan was saved meanwhile: reload the page and make "
                    "your change on that version.",
                )
            plan = TreatmentPlan.objects.create(
                patient=locked,
                revision=(latest.revision if latest else 0) + 1,
                supersedes=latest,
                created_by=by,
                created_at=now,
                **values,
            )
            record(
                actor=by,
                action=action,
                patient=locked,
                obj=plan,
                summary=summary,
                before=_plan_audit(latest) if latest else None,
                after=_plan_audit(plan),
            )
    except IntegrityError as exc:
        raise InputError.single(
            "", "A newer version of this plan was saved meanwhile: reload the page."
        ) from exc
    return plan


def save_draft(  # noqa: C901 (over the ceiling before it came in; to be split)
    *,
    by: StaffUser,
    patient: Patient,
    program: ProgramTemplateVersion,
    route: Route,
    dose_basis: str,
    dose_steps: Sequence[Decimal],
    concentration_mg_per_ml: Decimal | None = None,
    infusion_minutes: Decimal | None = None,
    dose_change_reason: str = "",
    preparation: Preparation = NO_PREPARATION,
    consent: Consent = NO_CONSENT,
    relapse_prevention: RelapsePrevention = NO_RELAPSE_PLAN,
    change_reason: str = "",
    expected_revision: int | None = None,
    now: dt.datetime | None = None,
) -> TreatmentPlan:
    """A new draft version of the patient's plan (the first, a replacement for the draft, or an
    amendment of the signed plan). The dose is computed from the current weight by the core's
    calculator; the modalities are proposed from the intake unless the therapist confirmed some."""
    now = now or timezone.now()
    latest = selectors.latest_plan(patient)
    template = program.as_template()
    errors: dict[str, list[str]] = {}

    if not selectors.is_current(program) and (latest is None or latest.program_id != program.pk):
        errors["program"] = [
            f"{program.name} version {program.version} was replaced by a newer version: choose "
            "the version in force."
        ]
    if route not in template.routes:
        offered = ", ".join(r.label for r in template.routes)
        errors["route"] = [f"{template.name} does not offer {route.label}: choose {offered}."]
    if dose_basis not in (doses.MG_PER_KG, doses.MG):
        errors["dose_basis"] = ["Give the dose in mg/kg or in mg."]
    # The plan stores what the calculator used: more decimals than stored would be rounded away.
    for name, value, places in (
        ("concentration_mg_per_ml", concentration_mg_per_ml, 3),
        ("infusion_minutes", infusion_minutes, 1),
    ):
        if value is not None and value.is_finite() and value != round(value, places):
            errors[name] = [f"Give at most {places} decimal place{'s' if places > 1 else ''}."]

    # Esketamine is dosed by device, so its plan does not depend on (or go stale with) a weight.
    weight = current_weight(patient) if route.facts.weight_based else None
    inputs = doses.DoseInputs(
        route=route,
        basis=dose_basis,
        steps=tuple(dose_steps),
        concentration_mg_per_ml=concentration_mg_per_ml,
        minutes=infusion_minutes,
    )
    schedule: tuple[Any, ...] = ()
    if not errors:
        try:
            schedule = doses.dose_schedule(
                inputs,
                weight_kg=weight.weight_kg if weight else None,
                sessions=template.dosing_sessions,
            )
        except DoseRefused as refused:
            errors |= doses.refusal_errors(refused)

    dose_change_reason = dose_change_reason.strip()
    if not errors and not dose_change_reason:
        standard = doses.differs_from_standard(template, inputs)
        if standard is not None:
            errors["dose_change_reason"] = [
                f"The program's standard dose is {standard}: give the reason for this dose."
            ]
        elif latest is not None and not doses.same_dose(_dose_inputs(latest), inputs):
            errors["dose_change_reason"] = [
                f"The dose changes from plan version {latest.revision} "
                f"({doses.describe(latest.dose_basis, latest.step_values, latest.infusion_minutes)})"
                ": give the reason."
            ]

    errors |= _section_errors(preparation, consent, now)
    change_reason = change_reason.strip()
    if latest is not None and latest.is_signed and not change_reason:
        errors["change_reason"] = [
            f"Plan version {latest.revision} is signed: say why it is amended."
        ]
    if errors:
        raise InputError(errors)

    profile, match = selectors.propose_modalities(patient)
    proposed = [m.value for m in match.modalities if m in template.modalities]
    modalities: dict[str, Any] = {
        "modalities": proposed,
        "modalities_reason": "",
        "modalities_confirmed_by_id": None,
        "modalities_confirmed_at": None,
    }
    # A therapist's confirmation stands while the program still offers what they chose.
    if (
        latest is not None
        and latest.modalities_confirmed_by_id is not None
        and set(latest.modalities) <= {m.value for m in template.modalities}
    ):
        modalities = {
            "modalities": latest.modalities,
            "modalities_reason": latest.modalities_reason,
            "modalities_confirmed_by_id": latest.modalities_confirmed_by_id,
            "modalities_confirmed_at": latest.modalities_confirmed_at,
        }

    values = {
        "program": program,
        "route": route.value,
        "weight": weight,
        "weight_kg": weight.weight_kg if weight else None,
        "dose_basis": dose_basis,
        "dose_steps": [str(s) for s in dose_steps],
        "concentration_mg_per_ml": concentration_mg_per_ml,
        "infusion_minutes": infusion_minutes,
        "dose_schedule": [c.to_dict() for c in schedule],
        "dose_policy_version": DEFAULT_DOSING_POLICY.version,
        "dose_change_reason": dose_change_reason,
        "presentation": None if profile is None else _profile_data(profile),
        "modality_proposal": selectors.proposal_data(match),
        "matching_policy_version": match.policy_version,
        **modalities,
        "prep_held_on": preparation.held_on,
        "prep_held_by_id": preparation.held_by_id,
        "prep_expectations": preparation.expectations.strip(),
        "prep_intentions": preparation.intentions.strip(),
        "prep_fears": preparation.fears.strip(),
        "prep_dissociation": preparation.dissociation.strip(),
        "prep_fasting": preparation.fasting.strip(),
        "prep_ride_home": preparation.ride_home.strip(),
        "prep_room_light": preparation.room_light,
        "prep_music": preparation.music.strip(),
        "consent_explained": list(consent.explained),
        "consent_notes": consent.notes.strip(),
        "consent_form_version": consent.form_version.strip(),
        "consent_given_by": consent.given_by.strip(),
        "consent_relationship": consent.relationship.strip(),
        "consent_witness_id": consent.witness_id,
        "consent_at": consent.given_at,
        "relapse_warning_signs": relapse_prevention.warning_signs.strip(),
        "relapse_actions": relapse_prevention.actions.strip(),
        "relapse_supports": relapse_prevention.supports.strip(),
        "relapse_maintenance_when": relapse_prevention.maintenance_when.strip(),
        "change_reason": change_reason,
    }
    if latest is None:
        action, what = "treatment_plan.drafted", "drafted"
    elif latest.is_signed:
        action, what = "treatment_plan.amendment_drafted", f"amendment of version {latest.revision}"
    else:
        action, what = "treatment_plan.redrafted", f"draft replacing version {latest.revision}"
    summary = (
        f"Treatment plan {what}: {template.name} ({template.ref}), {route.label}, "
        f"{doses.describe(dose_basis, list(dose_steps), infusion_minutes)}"
    )
    return _create_version(
        patient=patient,
        expected_revision=expected_revision,
        values=values,
        by=by,
        now=now,
        action=action,
        summary=summary,
    )


def _profile_data(profile: Any) -> dict[str, Any]:
    return {
        "anxiety_mainly": profile.anxiety_mainly.value if profile.anxiety_mainly else None,
        "features": sorted(f.value for f in profile.features()),
    }


def _only_the_latest_draft(plan: TreatmentPlan) -> None:
    """Read afresh from the database: a cached relation could hide a signature made meanwhile."""
    latest = TreatmentPlan.objects.filter(patient_id=plan.patient_id).order_by("-revision").first()
    if latest is None or latest.pk != plan.pk:
        raise InputError.single(
            "",
            f"Plan version {plan.revision} was replaced by version "
            f"{latest.revision if latest else '?'}: work on the latest version.",
        )
    if PlanSignature.objects.filter(plan_id=plan.pk).exists():
        raise InputError.single(
            "",
            f"Plan version {plan.revision} is signed and cannot change: amend it with a new "
            "version.",
        )


def confirm_modalities(
    *,
    by: StaffUser,
    plan: TreatmentPlan,
    modalities: Sequence[Modality],
    reason: str = "",
    now: dt.datetime | None = None,
) -> TreatmentPlan:
    """The therapist confirms the proposed integration modalities or changes them with a reason;
    a new draft version records the choice."""
    now = now or timezone.now()
    if by.staff_role not in (Role.THERAPIST, Role.MEDICAL_DIRECTOR):
        raise InputError.single(
            "",
            "The integration modalities are confirmed by a therapist (or the medical director), "
            f"not a {by.staff_role.label.lower()}.",
        )
    _only_the_latest_draft(plan)
    template = plan.program.as_template()
    chosen = list(dict.fromkeys(modalities))
    reason = reason.strip()
    errors: dict[str, list[str]] = {}
    if template.integration.required and not chosen:
        errors["modalities"] = [
            f"{template.name} includes integration after each dose: choose at least one modality."
        ]
    not_offered = [m for m in chosen if m not in template.modalities]
    if not_offered:
        errors.setdefault("modalities", []).append(
            f"{template.name} does not offer {', '.join(m.label for m in not_offered)}."
        )
    offered_here = set().union(
        *(t.modalities for t in selectors.therapists_for_matching(plan.patient))
    )
    nobody = [m for m in chosen if m not in offered_here]
    if nobody:
        errors.setdefault("modalities", []).append(
            "No therapist at "
            f"{plan.patient.home_site} is credentialed in {', '.join(m.label for m in nobody)}: "
            "choose another modality or record the credential first."
        )
    proposed = selectors.proposed_modalities(plan)
    differs = {m.value for m in chosen} != set(proposed)
    if differs and not reason:
        was = ", ".join(Modality(m).label for m in proposed) or "nothing (no presentation profile)"
        errors["reason"] = [f"The choice differs from the proposal ({was}): give the reason."]
    if (
        not errors
        and plan.modalities_confirmed_by_id is not None
        and plan.modalities == [m.value for m in chosen]
        and plan.modalities_reason == reason
    ):
        raise InputError.single("", "Nothing changed: these modalities are already confirmed.")
    if errors:
        raise InputError(errors)

    values = _copied(plan) | {
        "modalities": [m.value for m in chosen],
        "modalities_reason": reason,
        "modalities_confirmed_by_id": by.pk,
        "modalities_confirmed_at": now,
        "change_reason": "Integration modalities " + ("changed" if differs else "confirmed"),
    }
    labels = ", ".join(m.label for m in chosen) or "none"
    return _create_version(
        patient=plan.patient,
        expected_revision=plan.revision,
        values=values,
        by=by,
        now=now,
        action="treatment_plan.modalities_changed"
        if differs
        else "treatment_plan.modalities_confirmed",
        summary=f"Integration modalities {'changed to' if differs else 'confirmed'}: {labels}"
        + (f" ({reason})" if reason else ""),
    )


def sign_plan(
    *, by: StaffUser, plan: TreatmentPlan, now: dt.datetime | None = None
) -> PlanSignature:
    """Signs the latest draft: the patient's eligibility must be signed and allow it, the plan
    complete and its dose computed from the current weight. A program with a measurement plan
    starts (or switches to) that plan in the same transaction."""
    now = now or timezone.now()
    patient = plan.patient
    _only_the_latest_draft(plan)
    review = signed_eligibility(patient)
    refusal = signing_refusal(review.decision if review else None, by.staff_role)
    if refusal:
        raise InputError.single("", refusal)
    assert review is not None
    missing = selectors.missing_for_signing(plan)
    if missing:
        raise InputError.single("", "The plan is not complete: missing " + "; ".join(missing) + ".")
    weight = current_weight(patient)
    if plan.weight_id is not None and weight is not None and weight.pk != plan.weight_id:
        raise InputError.single(
            "",
            f"A newer weight ({weight.weight_kg} kg on {weight.measured_on:%d %b %Y}) was "
            "recorded after this draft: save the draft again so the dose is computed from it.",
        )
    try:
        signature = _sign(by=by, plan=plan, review=review, now=now)
    except IntegrityError as exc:
        raise InputError.single("", f"Plan version {plan.revision} was signed meanwhile.") from exc
    return signature


def _sign(*, by: StaffUser, plan: TreatmentPlan, review: Any, now: dt.datetime) -> PlanSignature:
    program = plan.program
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=plan.patient_id)
        _only_the_latest_draft(plan)
        care_plan: MeasurementCarePlan | None = None
        if program.measurement_plan:
            care_plan = current_care_plan(locked)
            if care_plan is None or care_plan.plan != program.measurement_plan:
                care_plan = set_care_plan(
                    by=by,
                    patient=locked,
                    plan=program.measurement_plan,
                    # The baseline runs from the intake the care plan already counts from, or
                    # else from when the eligibility decision was signed.
                    intake_at=care_plan.intake_at if care_plan else review.signed_at,
                    now=now,
                )
        signature = PlanSignature.objects.create(
            plan=plan,
            signed_by=by,
            signer_role=by.staff_role.value,
            signed_at=now,
            eligibility_review_id=review.pk,
            eligibility_decision=review.decision,
            eligibility_signed_at=review.signed_at,
            measurement_plan=program.measurement_plan,
            measurement_care_plan=care_plan,
        )
        record(
            actor=by,
            action="treatment_plan.signed",
            patient=locked,
            obj=signature,
            summary=f"Treatment plan version {plan.revision} signed ({program.name}, "
            f"{plan.route_value.label}); eligibility {decision_label(review.decision)} signed "
            f"{_shown(review.signed_at)}",
            after={
                "plan": plan.pk,
                "revision": plan.revision,
                "program_ref": program.ref,
                "eligibility_review": review.pk,
                "eligibility_decision": review.decision,
                "measurement_plan": program.measurement_plan,
                "measurement_care_plan": care_plan.pk if care_plan else None,
            },
        )
    return signature


def record_plan_read(*, by: StaffUser, plan: TreatmentPlan, what: str) -> None:
    """Reading or exporting a plan is part of the clinical record's audit trail."""
    actions = {
        "page": ("treatment_plan.viewed", "Viewed"),
        "pdf": ("treatment_plan.exported", "Exported as PDF"),
        "relapse_pdf": ("treatment_plan.relapse_plan_exported", "Relapse-prevention plan PDF of"),
    }
    action, verb = actions[what]
    record(
        actor=by,
        action=action,
        patient=plan.patient,
        obj=plan,
        summary=f"{verb} treatment plan version {plan.revision}",
    )
