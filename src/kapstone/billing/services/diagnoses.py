"""The patient's diagnoses for claims: ICD-10-CM codes in order, checked against the core's code
table on the day they are recorded; a new version replaces the last (both kept)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.billing.models import PatientDiagnoses
from kapstone.billing.services._common import refused_role
from kapstone.clinical.access import Permission
from kapstone.clinical.billing.charges import MAX_DIAGNOSES
from kapstone.clinical.billing.codes import DEFAULT_CODE_TABLE, CodeKind
from kapstone.errors import InputError, sentence
from kapstone.patients.models import Patient


def diagnosis_errors(codes: Sequence[str], on: dt.date) -> list[str]:
    """Every reason these are not the ICD-10-CM diagnoses of a claim on ``on`` (the core's table)."""
    problems: list[str] = []
    if not codes:
        return ["Give at least one ICD-10-CM diagnosis, e.g. F33.2."]
    if len(codes) > MAX_DIAGNOSES:
        problems.append(f"At most {MAX_DIAGNOSES} diagnoses fit a claim.")
    if len(set(codes)) != len(codes):
        problems.append("A diagnosis is listed twice.")
    by_code = DEFAULT_CODE_TABLE.by_code()
    for code in codes:
        found = DEFAULT_CODE_TABLE.problems(code, on)
        if found:
            problems.extend(sentence(p) for p in found)
        elif by_code[code][0].kind is not CodeKind.ICD10CM:
            problems.append(f"{code} is not an ICD-10-CM diagnosis.")
    return problems


def record_diagnoses(
    *, by: StaffUser, patient: Patient, codes: Sequence[str], now: dt.datetime | None = None
) -> PatientDiagnoses:
    now = now or timezone.now()
    codes = [c.strip().upper() for c in codes if c.strip()]
    errors = refused_role(by, Permission.MANAGE_CLAIMS, "record diagnoses for claims")
    if not errors and (problems := diagnosis_errors(codes, timezone.localdate(now))):
        errors["codes"] = problems
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        version = PatientDiagnoses.objects.create(
            patient=patient, codes=codes, recorded_by=by, recorded_at=now
        )
        record(
            actor=by,
            action="billing.diagnoses_recorded",
            patient=patient,
            obj=version,
            summary=f"Diagnoses for claims: {', '.join(codes)}",
            after={"codes": codes},
        )
    return version
