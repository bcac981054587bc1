"""Discharge: the core's readiness assessment and the nurse's sign-off."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.chairside import facts, selectors
from kapstone.chairside.models import ChairsideRecord, DischargeSignoff
from kapstone.chairside.policy import monitoring_policy
from kapstone.chairside.services._common import (
    _audit_chart,
    _charting,
    _source,
    _text_problems,
    _unsigned,
)
from kapstone.clinical.discharge import DischargeChecklist, DischargeReadiness, assess_discharge
from kapstone.errors import InputError
from kapstone.safety.models import SafetyAlert
from kapstone.web.labels import clinic_zone


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
        unacknowledged_alerts=len(selectors.open_alerts(record)),
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
    errors = _unsigned(record) | _text_problems(override_reason=override_reason)
    with _charting(record, errors) as locked:
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
        _audit_chart(
            by=by,
            record=locked,
            action="chairside.discharged",
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
