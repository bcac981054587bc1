"""Vital signs: a reading (typed, or from the bedside monitor) graded against the baseline, and a
wrong reading struck through."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.chairside import facts
from kapstone.chairside.models import (
    AdverseEventKind,
    ChairsideRecord,
    SessionAlert,
    VitalReading,
    VitalSource,
    VitalStrike,
)
from kapstone.chairside.policy import monitoring_policy
from kapstone.chairside.services._common import (
    SYMPTOM_OF_KIND,
    SYMPTOMS_PRESENT_FOR,
    _audit_chart,
    _charting,
    _raise,
    _text_problems,
    _time_problems,
    _unsigned,
    _validated,
    _write_alert,
)
from kapstone.clinical.alerts import AlertAssessment, Symptom, evaluate
from kapstone.clinical.device_artifacts import ArtifactDecision, Verdict
from kapstone.clinical.dose_moment import is_pre_dose
from kapstone.clinical.vital_signs import VitalSign, validate_reading
from kapstone.errors import InputError


def _recent_symptoms(record: ChairsideRecord, at: dt.datetime) -> set[Symptom]:
    kinds = record.adverse_events.filter(
        onset_at__gte=at - SYMPTOMS_PRESENT_FOR, onset_at__lte=at
    ).values_list("kind", flat=True)
    return {SYMPTOM_OF_KIND[AdverseEventKind(k)] for k in kinds if k in SYMPTOM_OF_KIND}


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
    reading = _validated(
        lambda: validate_reading(
            taken_at=taken_at,
            systolic_mmhg=systolic,
            diastolic_mmhg=diastolic,
            heart_rate_bpm=heart_rate,
            spo2_percent=spo2,
            respiratory_rate_per_min=respiratory_rate,
            sedation=sedation or None,
            limits=monitoring_policy().plausibility,
        ),
        errors,
    )
    if reading is not None:
        errors |= _time_problems("taken_at", reading.taken_at, record, now)
    with _charting(record, errors) as locked:
        assert reading is not None
        return write_graded_reading(locked=locked, reading=reading, by=by, now=now)


@dataclass(frozen=True)
class FromMonitor:
    """What a monitor reading carries besides its values: where it came from and the artifact
    policy's verdict on it (kapstone.clinical.device_artifacts)."""

    device_label: str
    message_id: str
    decision: ArtifactDecision


def write_graded_reading(
    *,
    locked: ChairsideRecord,
    reading: VitalSign,
    by: StaffUser | None,
    now: dt.datetime,
    monitor: FromMonitor | None = None,
) -> tuple[VitalReading, SessionAlert | None]:
    """The one path every reading takes, typed or from the monitor: stored, graded by the core's
    alert engine against the baseline under the director's policy, any alert written with it, and
    audited, inside the caller's transaction on the ``locked`` record.

    A monitor reading the artifact policy holds is stored but not graded: the next reading confirms
    it (and is graded) or shows it was an artifact."""
    is_baseline = is_pre_dose(reading.taken_at, facts.first_dose_at(locked))
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
        **(_monitor_fields(monitor) if monitor is not None else {}),
    )
    held = monitor is not None and monitor.decision.verdict is Verdict.HELD
    alert = None
    graded = None
    if not held:
        graded = _graded(locked, reading, baseline_row)
        alert = _write_alert(
            record=locked, assessment=graded, rule_ids=None, reading=row, event=None, now=now
        )
    origin = f" from monitor {monitor.device_label}" if monitor is not None else ""
    _audit_chart(
        by=by,
        record=locked,
        action="chairside.vitals_recorded",
        obj=row,
        summary=f"Vitals at {timezone.localtime(row.taken_at):%H:%M}{origin}"
        + (" (pre-dose baseline)" if is_baseline else "")
        + (": held, awaiting confirmation" if held else "")
        + (f": alert, {graded.grade.label}" if alert and graded else ""),
        after={
            "taken_at": row.taken_at,
            "bp": f"{row.systolic}/{row.diastolic}",
            "hr": row.heart_rate,
            "spo2": row.spo2,
            "rr": row.respiratory_rate,
            "sedation": row.sedation,
            "alert": alert.pk if alert else None,
            "source": row.source,
            **(
                {
                    "device": row.device_label,
                    "message_id": row.device_message_id,
                    "verdict": row.device_verdict,
                    "device_policy_version": row.device_policy_version,
                }
                if monitor is not None
                else {}
            ),
        },
    )
    return row, alert


def _monitor_fields(monitor: FromMonitor) -> dict[str, str]:
    return {
        "source": VitalSource.DEVICE,
        "device_label": monitor.device_label,
        "device_message_id": monitor.message_id,
        "device_verdict": monitor.decision.verdict.value,
        "device_policy_version": monitor.decision.policy_version,
        "device_note": monitor.decision.message[:400],
    }


def _graded(
    locked: ChairsideRecord, reading: VitalSign, baseline_row: VitalReading | None
) -> AlertAssessment:
    """The core's grade of a reading, symptoms charted in the last half hour included (a severe
    BP with chest pain, severe headache or neurological signs is a hypertensive emergency)."""
    policy = monitoring_policy()
    running = facts.infusion_running(locked, reading.taken_at)
    baseline = facts.core_reading(baseline_row) if baseline_row is not None else None
    graded = evaluate(
        reading, baseline, policy=policy, route=locked.route_value, infusion_running=running
    )
    symptoms = _recent_symptoms(locked, reading.taken_at)
    if not symptoms:
        return graded
    emergency_ids = {r.rule_id for r in policy.hypertensive_emergency_rules}
    with_symptoms = evaluate(
        reading,
        baseline,
        policy=policy,
        route=locked.route_value,
        infusion_running=running,
        symptoms=symptoms,
    )
    extra = [f for f in with_symptoms.fired if f.rule_id in emergency_ids]
    return AlertAssessment(
        grade=max([graded.grade, *(f.grade for f in extra)], key=lambda g: g.rank),
        fired=tuple(sorted([*extra, *graded.fired], key=lambda f: -f.grade.rank)),
        notes=graded.notes,
        policy_version=graded.policy_version,
        reading_taken_at=graded.reading_taken_at,
    )


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
        _audit_chart(
            by=by,
            record=locked.record,
            action="chairside.vitals_struck",
            obj=strike,
            summary=f"Vitals of {timezone.localtime(locked.taken_at):%H:%M} struck through: "
            f"{strike.reason}",
            after={"reading": locked.pk, "reason": strike.reason},
        )
    return strike
