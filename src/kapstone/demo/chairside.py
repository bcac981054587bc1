"""The demo clinic's chair-side records: every dosing session held so far, charted and signed.

Each record has its pre-dose checklist, a baseline, the dose matched to the ledger's 'administered'
entry where there is one, vitals on the protocol's cadence with realistic values, CADSS-6 at the
expected peak, an occasional adverse event, a discharge and a signature. Alerts are not invented:
every generated reading is graded by the core (``alerts.evaluate``) against its baseline, and what
fires is written and acknowledged with an action a nurse would take. A few sessions carry a
blood-pressure spike or a low SpO2 so the record shows alerts at work.

Rows are written with bulk_create (hundreds of sessions, in a few seconds); the signature goes
through ``services.sign_record``, so each record's signing, and its session's completion, has its
real audit row.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from kapstone.accounts.models import StaffUser
from kapstone.chairside import services
from kapstone.chairside.models import (
    AdverseEvent,
    ChairsideRecord,
    ChecklistAnswer,
    DischargeSignoff,
    DissociationRating,
    DoseAdministration,
    SessionAlert,
    SessionAlertAcknowledgement,
    VitalReading,
)
from kapstone.chairside.policy import checklist_policy, monitoring_policy
from kapstone.clinical.alerts import AlertAssessment, AlertGrade, Symptom, evaluate
from kapstone.clinical.discharge import DischargeChecklist, assess_discharge
from kapstone.clinical.dosing import ESKETAMINE_DEVICE_MG
from kapstone.clinical.ledger_entries import EntryKind
from kapstone.clinical.monitoring_cadence import DoseTiming
from kapstone.clinical.pre_dose_checklist import ChecklistItem
from kapstone.clinical.routes import Route
from kapstone.clinical.vital_signs import DissociationScale, SedationLevel, VitalSign
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.ledger.models import LedgerEntry

M = dt.timedelta(minutes=1)
ACK_FOR = {
    AlertGrade.RECHECK_IN_5_MINUTES: ("rechecked", "Repeated after 5 minutes; settling."),
    AlertGrade.PAUSE_OR_SLOW_INFUSION: (
        "infusion_slowed",
        "Rate halved; patient reassured; BP rechecked in 5 minutes.",
    ),
    AlertGrade.STOP_AND_CALL_PRESCRIBER: (
        "prescriber_called",
        "Prescriber at the chair side; observed, no further dosing today.",
    ),
    AlertGrade.EMERGENCY: ("emergency_called", "Emergency team called."),
}


def _vitals(
    rng: random.Random, base: VitalSign, when: dt.datetime, lift: int, sedation: str
) -> VitalSign:
    return VitalSign(
        taken_at=when,
        systolic_mmhg=base.systolic_mmhg + lift + rng.randint(-4, 4),
        diastolic_mmhg=base.diastolic_mmhg + lift // 2 + rng.randint(-3, 3),
        heart_rate_bpm=base.heart_rate_bpm + lift // 3 + rng.randint(-4, 4),
        spo2_percent=min(100, base.spo2_percent + rng.randint(-1, 1)),
        respiratory_rate_per_min=base.respiratory_rate_per_min + rng.randint(-1, 1),
        sedation=SedationLevel(sedation),
    )


def build_chairside(*, now: dt.datetime, seed: int = 2026) -> int:  # noqa: C901, PLR0915 (over the ceiling before it came in; to be split)
    """Charts and signs every held session without a record; returns how many were charted."""
    rng = random.Random(seed)
    policy = monitoring_policy()
    held = list(
        DosingSession.objects.filter(ends_at__lte=now, chairside__isnull=True)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("patient__nurse", "patient__prescriber", "nurse", "prescriber")
        .order_by("starts_at", "pk")
    )
    if not held:
        return 0
    given = {
        e.dosing_session_id: e
        for e in LedgerEntry.objects.filter(
            kind=EntryKind.ADMINISTERED, dosing_session__in=held
        ).select_related("lot__product", "draw")
    }
    nurses = list(StaffUser.objects.filter(role="nurse", is_active=True).order_by("pk"))

    records: list[ChairsideRecord] = []
    for session in held:
        route = Route(session.route or "iv")
        nurse = session.nurse or session.patient.nurse or nurses[0]
        records.append(
            ChairsideRecord(
                session=session,
                opened_at=session.starts_at - 10 * M,
                opened_by=nurse,
                route=route.value,
                protocol_id=policy.protocol_for(route).protocol_id,
                policy_version=policy.version,
                checklist_policy_version=checklist_policy().version,
                # Esketamine is watched 2 hours from the first device; IV 1 hour after the end.
                discharged_at=session.starts_at
                + (135 if route is Route.INTRANASAL_ESKETAMINE else 125) * M,
            )
        )
    ChairsideRecord.objects.bulk_create(records)

    answers: list[ChecklistAnswer] = []
    readings: list[tuple[VitalReading, VitalSign, VitalSign | None, bool]] = []
    doses: list[DoseAdministration] = []
    ratings: list[DissociationRating] = []
    events: list[tuple[AdverseEvent, Symptom | None, VitalSign | None, VitalSign]] = []
    discharges: list[DischargeSignoff] = []
    for k, (session, record) in enumerate(zip(held, records, strict=True)):
        nurse = record.opened_by
        t0 = session.starts_at
        route = record.route_value
        for item in ChecklistItem:
            answers.append(
                ChecklistAnswer(
                    record=record,
                    item=item.value,
                    value=True
                    if item in (ChecklistItem.IDENTITY, ChecklistItem.FASTING, ChecklistItem.ESCORT)
                    else "",
                    outcome="pass",
                    message="Confirmed at the chair side.",
                    answered_by=nurse,
                    answered_at=t0 - 6 * M,
                )
            )
        base = VitalSign(
            taken_at=t0 - 5 * M,
            systolic_mmhg=rng.randint(108, 136),
            diastolic_mmhg=rng.randint(66, 86),
            heart_rate_bpm=rng.randint(60, 86),
            spo2_percent=rng.randint(96, 99),
            respiratory_rate_per_min=rng.randint(12, 16),
            sedation=SedationLevel.ALERT,
        )
        readings.append((_reading(record, base, nurse, True), base, None, False))

        # The dose: the ledger's 'administered' entry where the session drew stock.
        entry = given.get(session.pk)
        start, stop = t0 + 10 * M, t0 + 50 * M
        if route is Route.INTRANASAL_ESKETAMINE:
            # The devices the ledger gave (whole devices), so the record and the ledger agree.
            devices = (
                entry.quantity
                if entry is not None and entry.lot.product.unit == "device"
                else 2
                if k % 3
                else 3
            )
            dose_mg = ESKETAMINE_DEVICE_MG * devices
            stop = t0 + 15 * M
        else:
            devices = None
            dose_mg = (
                Decimal(entry.quantity) / 1000
                if entry is not None
                else Decimal(rng.randint(30, 45))
            )
        lot = entry.lot if entry is not None else None
        doses.append(
            DoseAdministration(
                record=record,
                product=lot.product if lot else None,
                lot=lot,
                expires_on=lot.expires_on if lot else None,
                concentration_mg_per_ml=lot.product.concentration_mg_per_ml if lot else None,
                planned_dose_mg=dose_mg,
                dose_mg=dose_mg,
                route=route.value,
                started_at=start,
                stopped_at=stop,
                rate_ml_per_hour=(dose_mg / 50 * 60 / 40).quantize(Decimal("0.01"))
                if route is Route.IV
                else None,
                given_by=nurse,
                witnessed_by=entry.draw.witness if entry is not None and entry.draw else None,
                devices=devices,
                ledger_entry=entry,
                recorded_by=nurse,
                recorded_at=stop + M,
            )
        )

        # Vitals on the cadence: every 10 min during an infusion, every 15 after.
        if route is Route.IV:
            during, after = [20, 30, 40, 50], [65, 80, 95, 110, 120]
        else:  # the label's check 40 minutes after the first device, then every 30
            during, after = [30, 50], [80, 100, 130]
        spike = k % 11 == 5  # a BP surge during dosing: the label's rise-from-baseline measure
        low_sat = k % 13 == 7
        for minute in during + after:
            infusing = route is Route.IV and minute < 50
            lift = rng.randint(3, 12) if minute <= 60 else rng.randint(-2, 6)
            if spike and minute == 30:
                lift = rng.randint(41, 48)
            sedation = "drowsy" if infusing and rng.random() < 0.4 else "alert"
            v = _vitals(rng, base, t0 + minute * M, lift, sedation)
            if low_sat and minute == 40:
                v = VitalSign(
                    v.taken_at,
                    v.systolic_mmhg,
                    v.diastolic_mmhg,
                    v.heart_rate_bpm,
                    93,
                    v.respiratory_rate_per_min,
                    None,
                    v.sedation,
                )
            readings.append((_reading(record, v, nurse, False), v, base, infusing))

        peak = 50 if route is Route.IV else 40
        ratings.append(_rating(record, nurse, t0 - 4 * M, rng.randint(0, 2), baseline=True))
        ratings.append(_rating(record, nurse, t0 + peak * M, rng.randint(3, 17), baseline=False))

        if k % 8 == 3:
            kind, symptom = rng.choice(
                (
                    ("nausea", Symptom.NAUSEA),
                    ("nausea", Symptom.NAUSEA),
                    ("agitation", Symptom.AGITATION),
                    ("emergence_reaction", Symptom.EMERGENCE_REACTION),
                )
            )
            action = {
                "nausea": "Ondansetron 4 mg ODT; sips of water; settled within 20 minutes.",
                "agitation": "Reassured, lights dimmed, music lowered; settled.",
                "emergence_reaction": "Grounding with the therapist; settled without medication.",
            }[kind]
            events.append(
                (
                    AdverseEvent(
                        record=record,
                        kind=kind,
                        severity="mild",
                        action=action,
                        onset_at=t0 + 45 * M,
                        recorded_by=nurse,
                        recorded_at=t0 + 47 * M,
                    ),
                    symptom,
                    None,
                    base,
                )
            )

    ChecklistAnswer.objects.bulk_create(answers)
    VitalReading.objects.bulk_create([r for r, _, _, _ in readings])
    DoseAdministration.objects.bulk_create(doses)
    DissociationRating.objects.bulk_create(ratings)
    AdverseEvent.objects.bulk_create([e for e, _, _, _ in events])

    # What the core says about each reading and event, acknowledged as a nurse would.
    alerts: list[SessionAlert] = []
    for row, v, baseline, infusing in readings:
        if baseline is None:
            continue
        graded = evaluate(
            v, baseline, policy=policy, route=row.record.route_value, infusion_running=infusing
        )
        if graded.fired:
            alerts.append(_alert(row.record, graded, row.recorded_at, reading=row))
    for event, felt, _, event_baseline in events:
        graded = evaluate(
            None,
            event_baseline,
            policy=policy,
            route=event.record.route_value,
            infusion_running=False,
            symptoms=[felt] if felt else [],
        )
        if graded.fired:
            alerts.append(_alert(event.record, graded, event.recorded_at, event=event))
    SessionAlert.objects.bulk_create(alerts)
    SessionAlertAcknowledgement.objects.bulk_create(
        SessionAlertAcknowledgement(
            alert=a,
            action=ACK_FOR[AlertGrade(a.grade)][0],
            note=ACK_FOR[AlertGrade(a.grade)][1],
            by=a.record.opened_by,
            at=a.raised_at + 2 * M,
        )
        for a in alerts
    )

    last: dict[int, VitalSign] = {}
    for row, v, _, _ in readings:
        last[row.record.pk] = v
    first_vitals = {row.record.pk: v for row, v, base, _ in readings if base is None}
    for record, dose in zip(records, doses, strict=True):
        discharged = record.discharged_at
        assert discharged is not None
        readiness = assess_discharge(
            dose=DoseTiming(record.route_value, dose.started_at, dose.stopped_at),
            baseline=first_vitals[record.pk],
            latest_vitals=last[record.pk],
            checklist=DischargeChecklist(True, True, True, True, True),
            now=discharged,
            policy=policy,
        )
        discharges.append(
            DischargeSignoff(
                record=record,
                criteria={
                    "ready": readiness.ready,
                    "blockers": [
                        {"criterion": b.criterion.value, "message": b.message}
                        for b in readiness.blockers
                    ],
                    "earliest_discharge_at": readiness.earliest_discharge_at.isoformat()
                    if readiness.earliest_discharge_at
                    else None,
                    "checklist": {
                        "alert_and_oriented": True,
                        "dissociation_resolved": True,
                        "tolerating_fluids": True,
                        "escort_present": True,
                        "instructions_given": True,
                        "on_supplemental_oxygen": False,
                    },
                    "protocol_id": readiness.protocol_id,
                    "policy_version": readiness.policy_version,
                },
                ready=readiness.ready,
                override_reason=""
                if readiness.ready
                else "Clinically stable on review; partner present to take the patient home.",
                signed_by=record.opened_by,
                signed_at=discharged,
            )
        )
    DischargeSignoff.objects.bulk_create(discharges)

    for record in records:
        assert record.discharged_at is not None
        services.sign_record(by=record.opened_by, record=record, now=record.discharged_at + 5 * M)
    return len(records)


def _reading(record: ChairsideRecord, v: VitalSign, by: StaffUser, baseline: bool) -> VitalReading:
    return VitalReading(
        record=record,
        taken_at=v.taken_at,
        systolic=v.systolic_mmhg,
        diastolic=v.diastolic_mmhg,
        heart_rate=v.heart_rate_bpm,
        spo2=v.spo2_percent,
        respiratory_rate=v.respiratory_rate_per_min,
        sedation=v.sedation.value if v.sedation else "",
        is_baseline=baseline,
        recorded_by=by,
        recorded_at=v.taken_at + M,
    )


def _rating(
    record: ChairsideRecord, by: StaffUser, when: dt.datetime, score: int, *, baseline: bool
) -> DissociationRating:
    return DissociationRating(
        record=record,
        scale=DissociationScale.CADSS_6.value,
        score=score,
        taken_at=when,
        is_baseline=baseline,
        rated_by=by,
        recorded_at=when + M,
    )


def _alert(
    record: ChairsideRecord,
    graded: AlertAssessment,
    at: dt.datetime,
    *,
    reading: VitalReading | None = None,
    event: AdverseEvent | None = None,
) -> SessionAlert:
    return SessionAlert(
        record=record,
        grade=graded.grade.value,
        rules=[
            {
                "rule_id": f.rule_id,
                "grade": f.grade.value,
                "rule_grade": f.rule_grade.value,
                "message": f.message,
                "source": {
                    "key": f.source.key,
                    "verification": f.source.verification.value,
                    "evidence": f.source.evidence.value,
                    "note": f.source.note,
                },
            }
            for f in graded.fired
        ],
        message=f"{graded.grade.label}. " + " ".join(f.message for f in graded.fired),
        raised_at=at,
        reading=reading,
        adverse_event=event,
        policy_version=graded.policy_version,
    )
