"""What every chair-side workflow shares: field-keyed refusals, the record's lock, alerts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models, transaction

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record as audit
from kapstone.chairside.models import (
    AdverseEvent,
    AdverseEventKind,
    ChairsideRecord,
    SessionAlert,
    VitalReading,
)
from kapstone.clinical import plausibility as limits
from kapstone.clinical.alerts import AlertAssessment, Symptom
from kapstone.clinical.provenance import Source
from kapstone.clinical.vital_signs import InvalidVitalSign
from kapstone.errors import InputError, problem_errors
from kapstone.web.labels import labels

# A reading may be charted late (paper first, then the tablet), but not before the session's day.
EARLIEST_BEFORE_START = dt.timedelta(hours=3)
FUTURE_SLACK = dt.timedelta(minutes=1)
# Symptoms charted this recently count as present when a new reading is graded (hypertensive
# emergency = severe BP with chest pain, severe headache or neurological signs).
SYMPTOMS_PRESENT_FOR = dt.timedelta(minutes=30)

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
    return problem_errors(exc.problems, fields=_CORE_FIELDS)


def _validated[T](validate: Callable[[], T], errors: dict[str, list[str]]) -> T | None:
    """What the core's validator returns, or None with its refusals added to ``errors`` under
    the form's field names."""
    try:
        return validate()
    except InvalidVitalSign as exc:
        errors |= _core_problems(exc)
        return None


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


@contextmanager
def _charting(record: ChairsideRecord, errors: dict[str, list[str]]) -> Iterator[ChairsideRecord]:
    """The step every write to the chart shares: what is wrong is refused before anything is
    written, then one transaction holds the record locked (refused if it was signed meanwhile)
    for the rows and their audit row."""
    _raise(errors)
    with transaction.atomic():
        yield _locked(record)


def _audit_chart(
    *,
    by: StaffUser | None,
    record: ChairsideRecord,
    action: str,
    obj: models.Model,
    summary: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any],
) -> None:
    """The audit row of a write to the chart, filed under the record's patient."""
    audit(
        actor=by,
        action=action,
        patient=record.session.patient,
        obj=obj,
        summary=summary,
        before=before,
        after=after,
    )


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
    _audit_chart(
        by=None,
        record=record,
        action="chairside.alert_raised",
        obj=alert,
        summary=f"Chair-side alert: {grade.label} ({labels(f.rule_id for f in fired)})",
        after={"grade": grade.value, "rules": [f.rule_id for f in fired]},
    )
    return alert


def parse_decimal(value: object) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except InvalidOperation:
        return None
