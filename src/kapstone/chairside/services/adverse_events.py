"""Adverse events, graded at once for the symptoms the core knows."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.chairside import facts
from kapstone.chairside.models import (
    SEDATION_CHOICES,
    AdverseEvent,
    AdverseEventKind,
    ChairsideRecord,
    SessionAlert,
    Severity,
)
from kapstone.chairside.policy import monitoring_policy
from kapstone.chairside.services._common import (
    SYMPTOM_OF_KIND,
    SYMPTOMS_PRESENT_FOR,
    _audit_chart,
    _charting,
    _text_problems,
    _time_problems,
    _unsigned,
    _write_alert,
)
from kapstone.clinical.alerts import evaluate
from kapstone.clinical.vital_signs import SedationLevel

ADVERSE_EVENT_DESCRIPTION_CHARS = 300  # the column's width


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
    if sedation and sedation not in {s for s, _ in SEDATION_CHOICES}:
        errors["sedation"] = ["Choose a sedation level from the list."]
    errors |= _time_problems("onset_at", onset_at, record, now)
    with _charting(record, errors) as locked:
        assert onset_at is not None
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
        _audit_chart(
            by=by,
            record=locked,
            action="chairside.adverse_event",
            obj=event,
            summary=f"{event.get_kind_display()} ({severity}): {event.action}"[:300],
            after={"kind": kind, "severity": severity, "alert": alert.pk if alert else None},
        )
    return event, alert
