"""The pre-dose checklist: the nurse's answers, graded by the core."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.chairside import facts
from kapstone.chairside.models import ChairsideRecord, ChecklistAnswer
from kapstone.chairside.services._common import (
    _audit_chart,
    _charting,
    _text_problems,
    _unsigned,
)
from kapstone.clinical import plausibility as limits
from kapstone.clinical.pre_dose_checklist import ChecklistItem
from kapstone.clinical.pregnancy import PregnancyStatus
from kapstone.patients.models import BodyMeasurement
from kapstone.patients.services import record_body_measurement


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
    patient = record.session.patient
    values: dict[ChecklistItem, Any] = {
        ChecklistItem.IDENTITY: bool(identity_confirmed),
        ChecklistItem.FASTING: bool(fasting_confirmed),
        ChecklistItem.ESCORT: bool(escort_confirmed),
        # "" is "not given" (JSON null cannot be stored in a NOT NULL column).
        ChecklistItem.PREGNANCY: pregnancy_status or "",
        ChecklistItem.WEIGHT: str(weight_kg) if weight_kg is not None else "",
    }
    with _charting(record, errors) as locked:
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
        _audit_chart(
            by=by,
            record=locked,
            action="chairside.checklist_answered",
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
