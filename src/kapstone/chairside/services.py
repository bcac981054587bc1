"""Writes to the chair-side record, each in one transaction with its audit row.

The core decides (checklist outcomes, alert grades, the monitoring schedule, discharge readiness);
these functions gather the facts, refuse bad input with field-keyed messages before writing, and
record what the core said next to what the clinician did. Every clinical row is appended, never
changed, so two staff charting the same session at once each add their own rows.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record as audit
from kapstone.chairside import facts
from kapstone.chairside.models import (
    AdverseEvent,
    AdverseEventKind,
    AlertAction,
    ChairsideRecord,
    ChecklistAnswer,
    DischargeSignoff,
    DissociationRating,
    DoseAdministration,
    DoseChangeDecision,
    ProceedDecision,
    SessionAddendum,
    SessionAlert,
    SessionAlertAcknowledgement,
    Severity,
    VitalReading,
    VitalStrike,
)
from kapstone.chairside.policy import checklist_policy, monitoring_policy
from kapstone.clinical import plausibility as limits
from kapstone.clinical.access import CLINICAL_ROLES, Permission, role_may
from kapstone.clinical.alerts import AlertAssessment, AlertGrade, PreDoseOutcome, Symptom, evaluate
from kapstone.clinical.discharge import (
    DischargeChecklist,
    DischargeReadiness,
    assess_discharge,
)
from kapstone.clinical.dose_moment import is_pre_dose
from kapstone.clinical.dosing import ESKETAMINE_DEVICE_MG, ESKETAMINE_MOST_DEVICES
from kapstone.clinical.ledger_entries import EntryKind
from kapstone.clinical.pre_dose_checklist import ChecklistItem
from kapstone.clinical.pregnancy import PregnancyStatus
from kapstone.clinical.provenance import Source
from kapstone.clinical.routes import Route
from kapstone.clinical.vital_signs import (
    InvalidVitalSign,
    SedationLevel,
    validate_dissociation_rating,
    validate_reading,
)
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.errors import InputError
from kapstone.ledger.models import LedgerEntry, Lot
from kapstone.ledger.services import give_from_draw
from kapstone.ledger.units import dose_in_stock_units, volume_text
from kapstone.patients.models import BodyMeasurement
from kapstone.patients.services import record_body_measurement
from kapstone.plans.selectors import signed_plan
from kapstone.safety.models import SafetyAlert
from kapstone.web.labels import clinic_zone, labels

logger = logging.getLogger(__name__)

ADVERSE_EVENT_DESCRIPTION_CHARS = 300  # the column's width
# A reading may be charted late (paper first, then the tablet), but not before the session's day.
EARLIEST_BEFORE_START = dt.timedelta(hours=3)
FUTURE_SLACK = dt.timedelta(minutes=1)
# Symptoms charted this recently count as present when a new reading is graded (hypertensive
# emergency = severe BP with chest pain, severe headache or neurological signs).
SYMPTOMS_PRESENT_FOR = dt.timedelta(minutes=30)

# Which products a route's dose may be drawn as (kapstone.ledger.models.ProductForm values).
FORMS_FOR_ROUTE = {
    Route.IV: {"vial"},
    Route.IM: {"vial"},
    Route.SC: {"vial"},
    Route.SUBLINGUAL_LOZENGE: {"lozenge", "tablet"},
    Route.ORAL: {"vial", "lozenge", "tablet"},
    Route.INTRANASAL_ESKETAMINE: {"nasal_device"},
}

_CORE_FIELDS = {
    "systolic_mmhg": "systolic",
    "diastolic_mmhg": "diastolic",
    "heart_rate_bpm": "heart_rate",
    "spo2_percent": "spo2",
    "respiratory_rate_per_min": "respiratory_rate",
    "taken_at": "taken_at",
    "rated_at": "taken_at",
    "total": "score",
    "scale": "scale",
    "sedation": "sedation",
}
SYMPTOM_OF_KIND = {
    AdverseEventKind.NAUSEA: Symptom.NAUSEA,
    AdverseEventKind.VOMITING: Symptom.VOMITING,
    AdverseEventKind.AGITATION: Symptom.AGITATION,
    AdverseEventKind.EMERGENCE_REACTION: Symptom.EMERGENCE_REACTION,
    AdverseEventKind.CHEST_PAIN: Symptom.CHEST_PAIN,
    AdverseEventKind.SEVERE_HEADACHE: Symptom.SEVERE_HEADACHE,
    AdverseEventKind.NEUROLOGICAL_SIGNS: Symptom.NEUROLOGICAL_SIGNS,
}


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise InputError(errors)


def _text_problems(**texts: str) -> dict[str, list[str]]:
    """Every free text over the core's length limit, keyed by its field."""
    errors: dict[str, list[str]] = {}
    for field, text in texts.items():
        if (problem := limits.text_problem(text or "")) is not None:
            errors[field] = [problem]
    return errors


def _core_problems(exc: InvalidVitalSign) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for p in exc.problems:
        reason = p.reason[0].upper() + p.reason[1:] + "."
        errors.setdefault(_CORE_FIELDS.get(p.field, p.field), []).append(reason)
    return errors


def _time_problems(
    field: str, value: dt.datetime | None, record: ChairsideRecord, now: dt.datetime
) -> dict[str, list[str]]:
    if value is None:
        return {field: ["Give the time."]}
    if value.tzinfo is None:
        return {field: ["Give the time with its time zone."]}
    if value > now + FUTURE_SLACK:
        return {field: ["That time is in the future."]}
    if value < record.session.starts_at - EARLIEST_BEFORE_START:
        return {field: ["That time is before this session's day began."]}
    return {}


def _unsigned(record: ChairsideRecord) -> dict[str, list[str]]:
    if record.is_signed:
        return {"": ["This record is signed and locked: add an addendum instead."]}
    return {}


def _locked(record: ChairsideRecord) -> ChairsideRecord:
    """The record, locked for this transaction, refused if it was signed meanwhile."""
    locked = (
        ChairsideRecord.objects.select_for_update(of=("self",))
        .select_related("session__patient")
        .get(pk=record.pk)
    )
    _raise(_unsigned(locked))
    return locked


def _source(source: Source) -> dict[str, str]:
    return {
        "key": source.key,
        "verification": source.verification.value,
        "evidence": source.evidence.value,
        "note": source.note,
    }


def _write_alert(
    *,
    record: ChairsideRecord,
    assessment: AlertAssessment,
    rule_ids: Iterable[str] | None,
    reading: VitalReading | None,
    event: AdverseEvent | None,
    now: dt.datetime,
) -> SessionAlert | None:
    """A SessionAlert for the rules that fired (limited to ``rule_ids`` when given), or None."""
    keep = None if rule_ids is None else set(rule_ids)
    fired = [f for f in assessment.fired if keep is None or f.rule_id in keep]
    if not fired:
        return None
    grade = max((f.grade for f in fired), key=lambda g: g.rank)
    alert = SessionAlert.objects.create(
        record=record,
        grade=grade.value,
        rules=[
            {
                "rule_id": f.rule_id,
                "grade": f.grade.value,
                "rule_grade": f.rule_grade.value,
                "message": f.message,
                "source": _source(f.source),
            }
            for f in fired
        ],
        message=f"{grade.label}. " + " ".join(f.message for f in fired),
        raised_at=now,
        reading=reading,
        adverse_event=event,
        policy_version=assessment.policy_version,
    )
    audit(
        actor=None,
        action="chairside.alert_raised",
        patient=record.session.patient,
        obj=alert,
        summary=f"Chair-side alert: {grade.label} ({labels(f.rule_id for f in fired)})",
        after={"grade": grade.value, "rules": [f.rule_id for f in fired]},
    )
    return alert


def _recent_symptoms(record: ChairsideRecord, at: dt.datetime) -> set[Symptom]:
    kinds = record.adverse_events.filter(
        onset_at__gte=at - SYMPTOMS_PRESENT_FOR, onset_at__lte=at
    ).values_list("kind", flat=True)
    return {SYMPTOM_OF_KIND[AdverseEventKind(k)] for k in kinds if k in SYMPTOM_OF_KIND}


# --- opening the record ---------------------------------------------------------------------


def open_record(
    *, by: StaffUser, session: DosingSession, now: dt.datetime | None = None
) -> ChairsideRecord:
    """The session's chair-side record, opened now if it is not yet (opening twice is harmless)."""
    now = now or timezone.now()
    existing = ChairsideRecord.objects.filter(session=session).first()
    if existing is not None:
        return existing
    if session.status == SessionStatus.CANCELLED:
        raise InputError.single("", "This session was cancelled; it cannot be charted.")
    route = session.route or (session.plan.route if session.plan is not None else "")
    if not route:
        plan = signed_plan(session.patient)
        route = plan.route.value if plan is not None else ""
    if not route:
        raise InputError.single(
            "", "The session has no route and the patient has no signed plan: book it with one."
        )
    policy = monitoring_policy()
    protocol = policy.protocol_for(Route(route))
    try:
        with transaction.atomic():
            record = ChairsideRecord.objects.create(
                session=session,
                opened_at=now,
                opened_by=by,
                route=route,
                protocol_id=protocol.protocol_id,
                policy_version=policy.version,
                checklist_policy_version=checklist_policy().version,
            )
            audit(
                actor=by,
                action="chairside.record_opened",
                patient=session.patient,
                obj=record,
                summary=f"Chair-side record opened ({Route(route).label}, {protocol.protocol_id})",
                after={"route": route, "protocol": protocol.protocol_id},
            )
    except IntegrityError:
        # A colleague opened it a moment earlier: use theirs.
        return ChairsideRecord.objects.get(session=session)
    return record


# --- pre-dose checklist ---------------------------------------------------------------------


def answer_checklist(
    *,
    by: StaffUser,
    record: ChairsideRecord,
    identity_confirmed: bool,
    fasting_confirmed: bool,
    escort_confirmed: bool,
    pregnancy_status: str = "",
    weight_kg: Decimal | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> list[ChecklistAnswer]:
    """The nurse's answers, and the whole checklist as the core grades it at this moment."""
    now = now or timezone.now()
    errors = _unsigned(record) | _text_problems(note=note)
    if pregnancy_status and pregnancy_status not in {p.value for p in PregnancyStatus}:
        errors["pregnancy_status"] = ["Choose a pregnancy status from the list."]
    if weight_kg is not None and (problem := limits.WEIGHT_RANGE_KG.problem(weight_kg)):
        errors["weight_kg"] = [problem]
    _raise(errors)
    patient = record.session.patient
    values: dict[ChecklistItem, Any] = {
        ChecklistItem.IDENTITY: bool(identity_confirmed),
        ChecklistItem.FASTING: bool(fasting_confirmed),
        ChecklistItem.ESCORT: bool(escort_confirmed),
        # "" is "not given" (JSON null cannot be stored in a NOT NULL column).
        ChecklistItem.PREGNANCY: pregnancy_status or "",
        ChecklistItem.WEIGHT: str(weight_kg) if weight_kg is not None else "",
    }
    with transaction.atomic():
        locked = _locked(record)
        today = timezone.localdate(now)
        if (
            weight_kg is not None
            and not BodyMeasurement.objects.filter(
                patient=patient, measured_on=today, weight_kg=weight_kg
            ).exists()
        ):
            record_body_measurement(by=by, patient=patient, measured_on=today, weight_kg=weight_kg)
        # Graded with the new answers in place, so each row keeps what the nurse then saw.
        assessment = facts.pre_dose_assessment(
            locked, now, answers={k.value: v for k, v in values.items()}
        )
        answers = ChecklistAnswer.objects.bulk_create(
            ChecklistAnswer(
                record=locked,
                item=r.item.value,
                value=values.get(r.item, ""),
                outcome=r.outcome.value,
                message=r.message[:400],
                note=note.strip(),
                answered_by=by,
                answered_at=now,
            )
            for r in assessment.items
        )
        audit(
            actor=by,
            action="chairside.checklist_answered",
            patient=patient,
            obj=locked,
            summary="Pre-dose checklist: "
            + (
                "may dose"
                if assessment.may_dose
                else f"blocked by {', '.join(r.item.label for r in assessment.blocking)}"
            ),
            after={
                "answers": {k.value: v for k, v in values.items()},
                "outcomes": {r.item.value: r.outcome.value for r in assessment.items},
                "policy_version": assessment.policy_version,
            },
        )
    return answers


# --- vital signs ----------------------------------------------------------------------------


def record_vitals(
    *,
    by: StaffUser,
    record: ChairsideRecord,
    taken_at: object,
    systolic: object,
    diastolic: object,
    heart_rate: object,
    spo2: object,
    respiratory_rate: object,
    sedation: object = None,
    now: dt.datetime | None = None,
) -> tuple[VitalReading, SessionAlert | None]:
    """A reading, graded by the core against the baseline; any alert is written with it."""
    now = now or timezone.now()
    errors = _unsigned(record)
    try:
        reading = validate_reading(
            taken_at=taken_at,
            systolic_mmhg=systolic,
            diastolic_mmhg=diastolic,
            heart_rate_bpm=heart_rate,
            spo2_percent=spo2,
            respiratory_rate_per_min=respiratory_rate,
            sedation=sedation or None,
            limits=monitoring_policy().plausibility,
        )
    except InvalidVitalSign as exc:
        errors |= _core_problems(exc)
        reading = None
    if reading is not None:
        errors |= _time_problems("taken_at", reading.taken_at, record, now)
    _raise(errors)
    assert reading is not None
    with transaction.atomic():
        locked = _locked(record)
        first = facts.first_dose_at(locked)
        is_baseline = is_pre_dose(reading.taken_at, first)
        baseline_row = None if is_baseline else facts.baseline_reading(locked)
        row = VitalReading.objects.create(
            record=locked,
            taken_at=reading.taken_at,
            systolic=reading.systolic_mmhg,
            diastolic=reading.diastolic_mmhg,
            heart_rate=reading.heart_rate_bpm,
            spo2=reading.spo2_percent,
            respiratory_rate=reading.respiratory_rate_per_min,
            sedation=reading.sedation.value if reading.sedation else "",
            is_baseline=is_baseline,
            recorded_by=by,
            recorded_at=now,
        )
        policy = monitoring_policy()
        running = facts.infusion_running(locked, reading.taken_at)
        baseline = facts.core_reading(baseline_row) if baseline_row is not None else None
        graded = evaluate(
            reading, baseline, policy=policy, route=locked.route_value, infusion_running=running
        )
        symptoms = _recent_symptoms(locked, reading.taken_at)
        emergency_ids = {r.rule_id for r in policy.hypertensive_emergency_rules}
        if symptoms:
            with_symptoms = evaluate(
                reading,
                baseline,
                policy=policy,
                route=locked.route_value,
                infusion_running=running,
                symptoms=symptoms,
            )
            extra = [f for f in with_symptoms.fired if f.rule_id in emergency_ids]
            graded = AlertAssessment(
                grade=max([graded.grade, *(f.grade for f in extra)], key=lambda g: g.rank),
                fired=tuple(sorted([*extra, *graded.fired], key=lambda f: -f.grade.rank)),
                notes=graded.notes,
                policy_version=graded.policy_version,
                reading_taken_at=graded.reading_taken_at,
            )
        alert = _write_alert(
            record=locked, assessment=graded, rule_ids=None, reading=row, event=None, now=now
        )
        audit(
            actor=by,
            action="chairside.vitals_recorded",
            patient=locked.session.patient,
            obj=row,
            summary=f"Vitals at {timezone.localtime(row.taken_at):%H:%M}"
            + (" (pre-dose baseline)" if is_baseline else "")
            + (f": alert, {graded.grade.label}" if alert else ""),
            after={
                "taken_at": row.taken_at,
                "bp": f"{row.systolic}/{row.diastolic}",
                "hr": row.heart_rate,
                "spo2": row.spo2,
                "rr": row.respiratory_rate,
                "sedation": row.sedation,
                "alert": alert.pk if alert else None,
            },
        )
    return row, alert


def strike_vital(
    *, by: StaffUser, reading: VitalReading, reason: str, now: dt.datetime | None = None
) -> VitalStrike:
    """A wrong reading struck through with a reason; allowed after signing too (it only adds)."""
    now = now or timezone.now()
    if not reason.strip():
        raise InputError.single("reason", "Say why this reading is wrong.")
    _raise(_text_problems(reason=reason))
    with transaction.atomic():
        locked = VitalReading.objects.select_for_update().get(pk=reading.pk)
        if VitalStrike.objects.filter(reading=locked).exists():
            raise InputError.single("", "That reading is already struck through.")
        strike = VitalStrike.objects.create(reading=locked, reason=reason.strip(), by=by, at=now)
        audit(
            actor=by,
            action="chairside.vitals_struck",
            patient=locked.record.session.patient,
            obj=strike,
            summary=f"Vitals of {timezone.localtime(locked.taken_at):%H:%M} struck through: "
            f"{strike.reason}",
            after={"reading": locked.pk, "reason": strike.reason},
        )
    return strike


# --- the prescriber's decision --------------------------------------------------------------


def decide_to_proceed(
    *, by: StaffUser, record: ChairsideRecord, rationale: str, now: dt.datetime | None = None
) -> ProceedDecision:
    """The prescriber documents dosing despite a pre-dose BP above the policy guide."""
    now = now or timezone.now()
    errors = _unsigned(record)
    if not role_may(by.staff_role, Permission.DECIDE_TO_PROCEED):
        errors[""] = ["Only a prescriber or the medical director decides to proceed."]
    if not rationale.strip():
        errors["rationale"] = ["Document why dosing may proceed (the risk weighed)."]
    errors |= _text_problems(rationale=rationale)
    baseline = facts.baseline_reading(record)
    if baseline is None:
        errors.setdefault("", []).append("There is no pre-dose reading to decide on.")
    else:
        check, _ = facts.blood_pressure_check(record, baseline)
        if check is not None and not check.elevated:
            errors.setdefault("", []).append(
                "The pre-dose blood pressure is within the guide: no decision is needed."
            )
    _raise(errors)
    assert baseline is not None
    with transaction.atomic():
        locked = _locked(record)
        decision = ProceedDecision.objects.create(
            record=locked,
            reading=baseline,
            prescriber=by,
            rationale=rationale.strip(),
            decided_at=now,
        )
        check, _ = facts.blood_pressure_check(locked, baseline)
        assert check is not None and check.outcome is PreDoseOutcome.PROCEED
        audit(
            actor=by,
            action="chairside.proceed_decided",
            patient=locked.session.patient,
            obj=decision,
            summary=f"Decision to proceed despite pre-dose BP {baseline.systolic}/"
            f"{baseline.diastolic}: {decision.rationale}"[:300],
            after={
                "reading": baseline.pk,
                "rationale": decision.rationale,
                "reasons": list(check.reasons),
                "severe": check.severe,
                "policy_version": check.policy_version,
            },
        )
    return decision


# --- a dose far from the plan: the prescriber's decision --------------------------------------


def dose_change_decision(record: ChairsideRecord, dose_mg: Decimal) -> DoseChangeDecision | None:
    """The newest prescriber's decision on this record to give exactly ``dose_mg``."""
    return (
        record.dose_change_decisions.filter(dose_mg=dose_mg).order_by("-decided_at", "-pk").first()
    )


def decide_dose_change(
    *,
    by: StaffUser,
    record: ChairsideRecord,
    dose_mg: Decimal | None,
    rationale: str,
    now: dt.datetime | None = None,
) -> DoseChangeDecision:
    """The prescriber decides a dose more than the policy fraction away from the signed plan's;
    the nurse may then chart exactly that dose. The ceiling still applies: no decision lifts it."""
    now = now or timezone.now()
    errors = _unsigned(record)
    if not role_may(by.staff_role, Permission.DECIDE_TO_PROCEED):
        errors[""] = ["Only a prescriber or the medical director decides a change of dose."]
    planned = facts.planned_dose(record)
    route = record.route_value
    if planned is None:
        errors.setdefault("", []).append(
            "This session has no dose on a signed plan, so there is no planned dose to change."
        )
    if dose_mg is None or dose_mg <= 0:
        errors["dose_mg"] = ["Give the dose in mg."]
    elif (problem := limits.dose_range(route).problem(dose_mg)) is not None:
        errors["dose_mg"] = [
            f"{problem} The ceiling is {limits.dose_ceiling(route).source.cite()}."
        ]
    elif planned is not None and not limits.needs_prescriber_decision(
        planned_mg=planned.dose_mg, given_mg=dose_mg
    ):
        errors["dose_mg"] = [
            f"{dose_mg} mg is within {limits.DOSE_CHANGE_FRACTION.value:.0%} of the plan's "
            f"{planned.dose_mg} mg: the nurse's reason suffices, no decision is needed."
        ]
    if not rationale.strip():
        errors["rationale"] = ["Document why this dose is to be given instead of the plan's."]
    errors |= _text_problems(rationale=rationale)
    _raise(errors)
    assert planned is not None and dose_mg is not None
    with transaction.atomic():
        locked = _locked(record)
        decision = DoseChangeDecision.objects.create(
            record=locked,
            prescriber=by,
            planned_dose_mg=planned.dose_mg,
            dose_mg=dose_mg,
            rationale=rationale.strip(),
            decided_at=now,
        )
        audit(
            actor=by,
            action="chairside.dose_change_decided",
            patient=locked.session.patient,
            obj=decision,
            summary=f"Decision to give {dose_mg} mg instead of the plan's {planned.dose_mg} mg: "
            f"{decision.rationale}"[:300],
            after={
                "planned_dose_mg": planned.dose_mg,
                "dose_mg": dose_mg,
                "rationale": decision.rationale,
                "fraction": limits.DOSE_CHANGE_FRACTION.value,
            },
        )
    return decision


# --- medication administration --------------------------------------------------------------


def session_draws(record: ChairsideRecord) -> list[LedgerEntry]:
    """The ledger's draws for this session that were not reversed."""
    return list(
        LedgerEntry.objects.filter(
            kind=EntryKind.DRAW, dosing_session=record.session, reversed_by__isnull=True
        )
        .select_related("lot__product", "location", "account")
        .order_by("seq")
    )


def open_draws(record: ChairsideRecord) -> list[LedgerEntry]:
    """The session's draws with drug not yet given, wasted or returned."""
    return [d for d in session_draws(record) if not d.account.closed]  # type: ignore[attr-defined]


def unreconciled(record: ChairsideRecord) -> list[str]:
    """What each open draw of the session still needs, in the words a nurse reads a syringe in."""
    return [
        f"Draw #{d.seq}: {volume_text(d.account.remaining, d.lot.product)} drawn is not yet "  # type: ignore[attr-defined]
        "given, wasted or returned: record waste or return with a witness."
        for d in open_draws(record)
    ]


def _draw_for_dose(
    record: ChairsideRecord,
    chosen: LedgerEntry | None,
    route: Route,
    dose_mg: Decimal | None,
    devices: int | None,
) -> tuple[LedgerEntry | None, int, dict[str, list[str]]]:
    """The open draw this dose is given from and the dose in its stock units, or what is wrong.

    Drug is drawn from the safe on the ledger before it is given; charting the dose then posts
    exactly what was given to that draw, so the record and the ledger hold one entry per dose."""
    draws = open_draws(record)
    if chosen is None:
        if not draws:
            return (
                None,
                0,
                {
                    "ledger_entry": [
                        "There is no open ledger draw for this session: draw the dose from the safe "
                        "first (Ledger, Draw for a dose), then chart it."
                    ]
                },
            )
        if len(draws) > 1:
            return None, 0, {"ledger_entry": ["Choose the ledger draw this dose was given from."]}
        chosen = draws[0]
    elif chosen.seq not in {d.seq for d in draws}:
        return (
            None,
            0,
            {
                "ledger_entry": [
                    f"Ledger entry #{chosen.seq} is not an open draw for this session: choose one of "
                    "its open draws, or draw again."
                ]
            },
        )
    else:
        chosen = next(d for d in draws if d.seq == chosen.seq)
    product = chosen.lot.product
    if product.form not in FORMS_FOR_ROUTE[route]:
        return (
            None,
            0,
            {
                "ledger_entry": [
                    f"Draw #{chosen.seq} is {product.name}, not for a {route.label} dose."
                ]
            },
        )
    if dose_mg is None:
        return chosen, 0, {}
    try:
        quantity = dose_in_stock_units(product, dose_mg, devices)
    except ValueError as exc:
        return None, 0, {"dose_mg": [f"{exc}."]}
    return chosen, quantity, {}


def give_dose(
    *,
    by: StaffUser,
    record: ChairsideRecord,
    dose_mg: Decimal | None,
    started_at: dt.datetime | None,
    stopped_at: dt.datetime | None = None,
    change_reason: str = "",
    lot: Lot | None = None,
    ledger_entry: LedgerEntry | None = None,
    concentration_mg_per_ml: Decimal | None = None,
    rate_ml_per_hour: Decimal | None = None,
    witnessed_by: StaffUser | None = None,
    devices: int | None = None,
    now: dt.datetime | None = None,
) -> DoseAdministration:
    """One MAR line, and in the same transaction its 'given' entry on the session's open ledger
    draw (``ledger_entry``: which draw, when the session has several). Refused while the pre-dose
    checklist blocks dosing, and when no draw holds the dose."""
    now = now or timezone.now()
    errors = _unsigned(record)
    if not errors:
        assessment = facts.pre_dose_assessment(record, now)
        if not assessment.may_dose:
            errors[""] = [
                f"Dosing is blocked: {r.item.label}: {r.message}" for r in assessment.blocking
            ]
    route = record.route_value
    planned = facts.planned_dose(record)
    if route is Route.INTRANASAL_ESKETAMINE:
        if devices is None or not 1 <= devices <= ESKETAMINE_MOST_DEVICES:
            errors["devices"] = [
                f"Give the number of {ESKETAMINE_DEVICE_MG} mg devices used "
                f"(1 to {ESKETAMINE_MOST_DEVICES})."
            ]
        elif dose_mg is None:
            dose_mg = ESKETAMINE_DEVICE_MG * devices
        elif dose_mg != ESKETAMINE_DEVICE_MG * devices:
            errors["dose_mg"] = [f"{devices} device(s) give {ESKETAMINE_DEVICE_MG * devices} mg."]
    elif devices is not None:
        errors["devices"] = ["Devices are counted for esketamine only."]
    decision: DoseChangeDecision | None = None
    if dose_mg is None or dose_mg <= 0:
        errors["dose_mg"] = ["Give the dose in mg."]
    elif (problem := limits.dose_range(route).problem(dose_mg)) is not None:
        errors["dose_mg"] = [
            f"{problem} The ceiling is {limits.dose_ceiling(route).source.cite()}."
        ]
    elif planned is not None and dose_mg != planned.dose_mg:
        if not change_reason.strip():
            errors["change_reason"] = [
                f"The plan's dose for this session is {planned.dose_mg} mg: say why it is changed."
            ]
        if limits.needs_prescriber_decision(planned_mg=planned.dose_mg, given_mg=dose_mg):
            decision = dose_change_decision(record, dose_mg)
            if decision is None:
                errors.setdefault("dose_mg", []).append(
                    f"{dose_mg} mg is more than {limits.DOSE_CHANGE_FRACTION.value:.0%} away from "
                    f"the plan's {planned.dose_mg} mg: a prescriber must first document the "
                    "decision to give it (Dose change decision)."
                )
    errors |= _text_problems(change_reason=change_reason)
    for field, value, limit in (
        ("concentration_mg_per_ml", concentration_mg_per_ml, limits.CONCENTRATION_MG_PER_ML),
        ("rate_ml_per_hour", rate_ml_per_hour, limits.INFUSION_RATE_ML_PER_HOUR),
    ):
        if value is not None and (problem := limit.problem(value)) is not None:
            errors[field] = [problem]
    errors |= _time_problems("started_at", started_at, record, now)
    if stopped_at is not None:
        errors |= _time_problems("stopped_at", stopped_at, record, now)
        if started_at is not None and stopped_at < started_at:
            errors["stopped_at"] = ["The dose cannot stop before it starts."]
    if witnessed_by is not None and (
        witnessed_by.pk == by.pk
        or not witnessed_by.is_active
        or witnessed_by.staff_role not in CLINICAL_ROLES
    ):
        errors["witnessed_by"] = ["The witness is another active clinical staff member."]
    draw, quantity, draw_errors = _draw_for_dose(
        record, ledger_entry, route, dose_mg if not errors.get("dose_mg") else None, devices
    )
    for field, problems in draw_errors.items():
        errors.setdefault(field, []).extend(problems)
    if draw is not None:
        if lot is not None and lot.pk != draw.lot_id:
            errors["lot"] = [
                f"Draw #{draw.seq} is lot {draw.lot.lot_number}, not {lot.lot_number}."
            ]
        lot = draw.lot
    if (
        lot is not None
        and started_at is not None
        and lot.expires_on < timezone.localdate(started_at)
    ):
        errors["lot"] = [f"Lot {lot.lot_number} expired on {lot.expires_on:%d %b %Y}."]
    _raise(errors)
    assert dose_mg is not None and started_at is not None
    product = lot.product if lot is not None else None
    if concentration_mg_per_ml is None and product is not None:
        concentration_mg_per_ml = product.concentration_mg_per_ml
    assert draw is not None
    with transaction.atomic():
        locked = _locked(record)
        given = give_from_draw(by=by, draw=draw, quantity=quantity, now=now)
        dose = DoseAdministration.objects.create(
            record=locked,
            product=product,
            lot=lot,
            expires_on=lot.expires_on if lot is not None else None,
            concentration_mg_per_ml=concentration_mg_per_ml,
            planned_dose_mg=planned.dose_mg if planned is not None else None,
            dose_mg=dose_mg,
            change_reason=change_reason.strip(),
            route=locked.route,
            started_at=started_at,
            stopped_at=stopped_at,
            rate_ml_per_hour=rate_ml_per_hour,
            given_by=by,
            witnessed_by=witnessed_by,
            devices=devices,
            ledger_entry=given,
            recorded_by=by,
            recorded_at=now,
        )
        # Readings taken before this dose started are its baseline, whenever they were charted.
        audit(
            actor=by,
            action="chairside.dose_given",
            patient=locked.session.patient,
            obj=dose,
            summary=f"{dose_mg} mg {route.label} at {timezone.localtime(started_at):%H:%M}"
            + (f" (plan {planned.dose_mg} mg: {dose.change_reason})" if dose.changed else ""),
            after={
                "dose_mg": dose_mg,
                "planned_dose_mg": dose.planned_dose_mg,
                "change_reason": dose.change_reason,
                "lot": lot.lot_number if lot else None,
                "ledger_entry": given.seq,
                "draw": draw.seq,
                "devices": devices,
                "witnessed_by": witnessed_by.pk if witnessed_by else None,
                "concentration_mg_per_ml": concentration_mg_per_ml,
                "rate_ml_per_hour": rate_ml_per_hour,
                "dose_change_decision": decision.pk if decision else None,
            },
        )
    return dose


def stop_dose(
    *,
    by: StaffUser,
    dose: DoseAdministration,
    stopped_at: dt.datetime | None,
    now: dt.datetime | None = None,
) -> DoseAdministration:
    """An infusion's end, written once."""
    now = now or timezone.now()
    record = dose.record
    errors = _unsigned(record) | _time_problems("stopped_at", stopped_at, record, now)
    if stopped_at is not None and stopped_at < dose.started_at:
        errors["stopped_at"] = ["The dose cannot stop before it starts."]
    _raise(errors)
    with transaction.atomic():
        _locked(record)
        changed = DoseAdministration.objects.filter(pk=dose.pk, stopped_at__isnull=True).update(
            stopped_at=stopped_at
        )
        if not changed:
            raise InputError.single("", "That dose's stop time is already recorded.")
        dose.refresh_from_db()
        audit(
            actor=by,
            action="chairside.dose_stopped",
            patient=record.session.patient,
            obj=dose,
            summary=f"Dose stopped at {timezone.localtime(dose.stopped_at):%H:%M}",
            before={"stopped_at": None},
            after={"stopped_at": dose.stopped_at},
        )
    return dose


# --- dissociation and adverse events --------------------------------------------------------


def rate_dissociation(
    *,
    by: StaffUser,
    record: ChairsideRecord,
    scale: str,
    score: object,
    taken_at: object,
    now: dt.datetime | None = None,
) -> DissociationRating:
    now = now or timezone.now()
    errors = _unsigned(record)
    try:
        rating = validate_dissociation_rating(scale=scale, total=score, rated_at=taken_at)
    except InvalidVitalSign as exc:
        errors |= _core_problems(exc)
        rating = None
    if rating is not None:
        errors |= _time_problems("taken_at", rating.rated_at, record, now)
    _raise(errors)
    assert rating is not None
    with transaction.atomic():
        locked = _locked(record)
        first = facts.first_dose_at(locked)
        row = DissociationRating.objects.create(
            record=locked,
            scale=rating.scale.value,
            score=rating.total,
            taken_at=rating.rated_at,
            is_baseline=is_pre_dose(rating.rated_at, first),
            rated_by=by,
            recorded_at=now,
        )
        audit(
            actor=by,
            action="chairside.dissociation_rated",
            patient=locked.session.patient,
            obj=row,
            summary=f"{row.get_scale_display()} {row.score} at "
            f"{timezone.localtime(row.taken_at):%H:%M}",
            after={"scale": row.scale, "score": row.score, "baseline": row.is_baseline},
        )
    return row


def record_adverse_event(
    *,
    by: StaffUser,
    record: ChairsideRecord,
    kind: str,
    severity: str,
    action: str,
    onset_at: dt.datetime | None,
    sedation: str = "",
    description: str = "",
    now: dt.datetime | None = None,
) -> tuple[AdverseEvent, SessionAlert | None]:
    """An adverse event; the symptoms the core knows are graded at once (with the latest reading
    for a hypertensive emergency, and sedation for vomiting while sedated)."""
    now = now or timezone.now()
    errors = _unsigned(record)
    if kind not in AdverseEventKind.values:
        errors["kind"] = ["Choose what happened from the list."]
    if severity not in Severity.values:
        errors["severity"] = ["Choose the severity."]
    if not action.strip():
        errors["action"] = ["Say what was done."]
    if kind == AdverseEventKind.OTHER and not description.strip():
        errors["description"] = ["Describe the event."]
    errors |= _text_problems(action=action)
    if len(description.strip()) > ADVERSE_EVENT_DESCRIPTION_CHARS:
        errors["description"] = [
            f"Keep the description to {ADVERSE_EVENT_DESCRIPTION_CHARS} characters."
        ]
    if sedation and sedation not in {
        s for s, _ in VitalReading._meta.get_field("sedation").choices
    }:
        errors["sedation"] = ["Choose a sedation level from the list."]
    errors |= _time_problems("onset_at", onset_at, record, now)
    _raise(errors)
    assert onset_at is not None
    with transaction.atomic():
        locked = _locked(record)
        event = AdverseEvent.objects.create(
            record=locked,
            kind=kind,
            description=description.strip(),
            severity=severity,
            action=action.strip(),
            onset_at=onset_at,
            sedation=sedation,
            recorded_by=by,
            recorded_at=now,
        )
        alert = None
        symptom = SYMPTOM_OF_KIND.get(AdverseEventKind(kind))
        if symptom is not None:
            policy = monitoring_policy()
            latest = [v for v in facts.live_vitals(locked) if v.taken_at <= onset_at]
            recent = (
                latest[-1]
                if latest and onset_at - latest[-1].taken_at <= SYMPTOMS_PRESENT_FOR
                else None
            )
            baseline_row = facts.baseline_reading(locked)
            graded = evaluate(
                facts.core_reading(recent) if recent is not None else None,
                facts.core_reading(baseline_row) if baseline_row is not None else None,
                policy=policy,
                route=locked.route_value,
                infusion_running=facts.infusion_running(locked, onset_at),
                symptoms=[symptom],
                sedation=SedationLevel(sedation) if sedation else None,
            )
            # Only what the symptom adds: the reading's own rules were graded when it was saved.
            symptom_ids = {r.rule_id for r in policy.symptom_rules}
            symptom_ids |= {r.rule_id for r in policy.hypertensive_emergency_rules}
            alert = _write_alert(
                record=locked,
                assessment=graded,
                rule_ids=symptom_ids,
                reading=None,
                event=event,
                now=now,
            )
        audit(
            actor=by,
            action="chairside.adverse_event",
            patient=locked.session.patient,
            obj=event,
            summary=f"{event.get_kind_display()} ({severity}): {event.action}"[:300],
            after={"kind": kind, "severity": severity, "alert": alert.pk if alert else None},
        )
    return event, alert


# --- alerts ---------------------------------------------------------------------------------


def acknowledge_alert(
    *,
    by: StaffUser,
    alert: SessionAlert,
    action: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> SessionAlertAcknowledgement:
    """Closes an alert with the action taken; 'treated' and 'no action' need a note."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if action not in AlertAction.values:
        errors["action"] = ["Choose the action taken."]
    elif action in (AlertAction.TREATED, AlertAction.NO_ACTION) and not note.strip():
        errors["note"] = ["Say what was done, or why no action was needed."]
    errors |= _text_problems(note=note)
    _raise(errors)
    with transaction.atomic():
        locked = SessionAlert.objects.select_for_update().get(pk=alert.pk)
        if SessionAlertAcknowledgement.objects.filter(alert=locked).exists():
            raise InputError.single("", "That alert was already acknowledged.")
        ack = SessionAlertAcknowledgement.objects.create(
            alert=locked, action=action, note=note.strip(), by=by, at=now
        )
        audit(
            actor=by,
            action="chairside.alert_acknowledged",
            patient=locked.record.session.patient,
            obj=ack,
            summary=f"Alert {locked.pk} ({AlertGrade(locked.grade).label}) acknowledged: "
            f"{ack.get_action_display()}" + (f"; {ack.note}" if ack.note else ""),
            after={"alert": locked.pk, "action": action, "note": ack.note},
        )
    return ack


# --- discharge, signature, addenda ----------------------------------------------------------


def discharge_readiness(
    record: ChairsideRecord, checklist: DischargeChecklist, now: dt.datetime
) -> DischargeReadiness:
    """The core's discharge assessment of the record as it stands."""
    vitals = facts.live_vitals(record)
    baseline = facts.baseline_reading(record)
    rated = facts.ratings(record)
    baseline_rating = next((r for r in reversed(rated) if r.is_baseline), None)
    latest_rating = next(
        (
            r
            for r in reversed(rated)
            if not r.is_baseline and (baseline_rating is None or r.scale == baseline_rating.scale)
        ),
        None,
    )
    return assess_discharge(
        dose=facts.dose_timing(record),
        baseline=facts.core_reading(baseline) if baseline is not None else None,
        latest_vitals=facts.core_reading(vitals[-1]) if vitals else None,
        checklist=checklist,
        now=now,
        policy=monitoring_policy(),
        latest_dissociation=facts.core_rating(latest_rating) if latest_rating else None,
        baseline_dissociation=facts.core_rating(baseline_rating) if baseline_rating else None,
        unacknowledged_alerts=record.alerts.filter(acknowledgement__isnull=True).count(),
        new_high_risk_finding=SafetyAlert.objects.filter(
            patient=record.session.patient, raised_at__gte=record.opened_at
        ).exists(),
        zone=clinic_zone(record.session.site),
    )


def discharge(
    *,
    by: StaffUser,
    record: ChairsideRecord,
    checklist: DischargeChecklist,
    override_reason: str = "",
    now: dt.datetime | None = None,
) -> DischargeSignoff:
    """The nurse's discharge. While the core still lists blockers, a reason is required (the
    clinician decides; the record shows what was outstanding and why they went ahead)."""
    now = now or timezone.now()
    _raise(_unsigned(record) | _text_problems(override_reason=override_reason))
    with transaction.atomic():
        locked = _locked(record)
        if locked.discharged_at is not None:
            raise InputError.single("", "The patient is already discharged.")
        readiness = discharge_readiness(locked, checklist, now)
        if not readiness.ready and not override_reason.strip():
            raise InputError(
                {
                    "override_reason": [
                        "Discharge is still blocked: "
                        + " ".join(b.message for b in readiness.blockers)
                        + " Give the reason to discharge anyway, or wait."
                    ]
                }
            )
        criteria = {
            "ready": readiness.ready,
            "blockers": [
                {"criterion": b.criterion.value, "message": b.message, "source": _source(b.source)}
                for b in readiness.blockers
            ],
            "earliest_discharge_at": readiness.earliest_discharge_at.isoformat()
            if readiness.earliest_discharge_at
            else None,
            "checklist": {
                "alert_and_oriented": checklist.alert_and_oriented,
                "dissociation_resolved": checklist.dissociation_resolved,
                "tolerating_fluids": checklist.tolerating_fluids,
                "escort_present": checklist.escort_present,
                "instructions_given": checklist.instructions_given,
                "on_supplemental_oxygen": checklist.on_supplemental_oxygen,
            },
            "protocol_id": readiness.protocol_id,
            "policy_version": readiness.policy_version,
        }
        signoff = DischargeSignoff.objects.create(
            record=locked,
            criteria=criteria,
            ready=readiness.ready,
            override_reason="" if readiness.ready else override_reason.strip(),
            signed_by=by,
            signed_at=now,
        )
        ChairsideRecord.objects.filter(pk=locked.pk, discharged_at__isnull=True).update(
            discharged_at=now
        )
        audit(
            actor=by,
            action="chairside.discharged",
            patient=locked.session.patient,
            obj=signoff,
            summary="Discharged"
            + ("" if readiness.ready else f" despite blockers: {signoff.override_reason}"),
            after={
                "ready": readiness.ready,
                "blockers": [b.criterion.value for b in readiness.blockers],
                "override_reason": signoff.override_reason,
            },
        )
    record.refresh_from_db()
    return signoff


def sign_record(
    *, by: StaffUser, record: ChairsideRecord, now: dt.datetime | None = None
) -> ChairsideRecord:
    """Signs and locks the record; the dosing session is then completed."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(record)
        errors: dict[str, list[str]] = {}
        if locked.discharged_at is None:
            errors[""] = ["Discharge the patient before signing."]
        open_alerts = locked.alerts.filter(acknowledgement__isnull=True).count()
        if open_alerts:
            errors.setdefault("", []).append(
                f"{open_alerts} alert(s) still need acknowledging with the action taken."
            )
        if not locked.doses.exists():
            errors.setdefault("", []).append(
                "No dose is charted: if none was given, add the reason as an adverse event or "
                "cancel the session."
            )
        # The controlled-substance book closes with the record: drawn = given + wasted + returned.
        for missing in unreconciled(locked):
            errors.setdefault("", []).append(missing)
        _raise(errors)
        ChairsideRecord.objects.filter(pk=locked.pk, signed_at__isnull=True).update(
            signed_at=now, signed_by=by
        )
        session = locked.session
        DosingSession.objects.filter(pk=session.pk, status=SessionStatus.BOOKED).update(
            status=SessionStatus.COMPLETED
        )
        audit(
            actor=by,
            action="chairside.signed",
            patient=session.patient,
            obj=locked,
            summary="Chair-side record signed and locked; dosing session completed",
            before={"session_status": session.status},
            after={"signed_at": now, "session_status": SessionStatus.COMPLETED},
        )
        if locked.route == Route.INTRANASAL_ESKETAMINE:
            _prepare_rems_form(session=session, by=by, now=now)
    record.refresh_from_db()
    return record


def _prepare_rems_form(*, session: DosingSession, by: StaffUser, now: dt.datetime) -> None:
    """The REMS Patient Monitoring Form is due within 7 days of an esketamine session: prepare it
    as the record is signed. A form the record cannot fill yet must not stop the signature: the
    REMS queue's "prepare missing forms" (and its task) picks the session up again."""
    from kapstone.rems.services import prepare_form

    try:
        with transaction.atomic():
            prepare_form(session=session, by=by, now=now)
    except InputError:
        logger.warning("REMS form not prepared at signing for session %s", session.pk)


def add_addendum(
    *,
    by: StaffUser,
    record: ChairsideRecord,
    reason: str,
    text: str,
    now: dt.datetime | None = None,
) -> SessionAddendum:
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if not record.is_signed:
        errors[""] = ["The record is not signed yet: chart the correction directly."]
    if not reason.strip():
        errors["reason"] = ["Say why the addendum is added."]
    if not text.strip():
        errors["text"] = ["Write the addendum."]
    errors |= _text_problems(text=text)
    _raise(errors)
    with transaction.atomic():
        addendum = SessionAddendum.objects.create(
            record=record, reason=reason.strip()[:300], text=text.strip(), by=by, at=now
        )
        audit(
            actor=by,
            action="chairside.addendum",
            patient=record.session.patient,
            obj=addendum,
            summary=f"Addendum: {addendum.reason}",
            after={"reason": addendum.reason, "text": addendum.text},
        )
    return addendum


def parse_decimal(value: object) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except InvalidOperation:
        return None
