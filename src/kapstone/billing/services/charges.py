"""The biller's review of proposed charge lines: finalise (the line goes on the patient account),
void, recode (a corrected proposal replaces it), and reverse a finalised line (a reversing line and
a reversal entry: a finalised line is never edited)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.billing.models import (
    AccountEntry,
    ChargeDecision,
    ChargeLine,
    ChargeStatus,
    EntryKind,
)
from kapstone.billing.services._common import refused_role, unit_price
from kapstone.billing.services.diagnoses import diagnosis_errors
from kapstone.clinical.access import Permission
from kapstone.clinical.billing.codes import DEFAULT_CODE_TABLE, CodeKind
from kapstone.clinical.plausibility import text_problem
from kapstone.errors import InputError, sentence

_CODE = re.compile(r"^[A-Z0-9]{5}$")
_MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
_POS = re.compile(r"^\d{2}$")
MAX_UNITS = 99


def status_of(line: ChargeLine) -> ChargeStatus:
    decision = ChargeDecision.objects.filter(line=line).first()
    return ChargeStatus(decision.status) if decision else ChargeStatus.PROPOSED


def _locked(line: ChargeLine) -> ChargeLine:
    return ChargeLine.objects.select_for_update().get(pk=line.pk)


def _decide(
    *, by: StaffUser, line: ChargeLine, status: ChargeStatus, reason: str, now: dt.datetime
) -> ChargeDecision:
    if ChargeDecision.objects.filter(line=line).exists():
        raise InputError.single("", "This line was already decided: reload the queue.")
    return ChargeDecision.objects.create(
        line=line, status=status, reason=reason, decided_by=by, decided_at=now
    )


def _reason_errors(reason: str) -> dict[str, list[str]]:
    if not reason.strip():
        return {"reason": ["Say why."]}
    problem = text_problem(reason.strip(), "The reason")
    return {"reason": [problem]} if problem else {}


def _snapshot(line: ChargeLine) -> dict[str, object]:
    return {
        "code": line.code,
        "units": line.units,
        "modifiers": line.modifiers,
        "diagnoses": line.diagnoses,
        "pointers": line.diagnosis_pointers,
        "fee_cents": line.fee_cents,
        "service_date": line.service_date.isoformat(),
    }


def finalise_charge(
    *, by: StaffUser, line: ChargeLine, now: dt.datetime | None = None
) -> ChargeDecision:
    """The biller accepts a proposed line: it is charged to the patient's account at its fee."""
    now = now or timezone.now()
    errors = refused_role(by, Permission.FINALISE_CHARGES, "finalise charges")
    if not errors and (line.needs_coding or not line.code):
        errors["code"] = ["This line needs coding first: recode it with a code and units."]
    if not errors and not line.diagnoses:
        errors["diagnoses"] = ["Give at least one diagnosis (ICD-10-CM) before finalising."]
    if not errors and line.reverses_id is not None:
        errors[""] = ["A reversing line is final as it is written."]
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        locked = _locked(line)
        decision = _decide(by=by, line=locked, status=ChargeStatus.FINALISED, reason="", now=now)
        AccountEntry.objects.create(
            patient_id=locked.patient_id,
            kind=EntryKind.CHARGE,
            cents=locked.fee_cents,
            charge=locked,
            memo=f"{locked.code} x{locked.units}",
            effective_on=locked.service_date,
            posted_by=by,
            posted_at=now,
        )
        record(
            actor=by,
            action="billing.charge_finalised",
            patient=locked.patient,
            obj=decision,
            summary=f"Charge {locked.code} x{locked.units} finalised",
            after=_snapshot(locked) | {"status": ChargeStatus.FINALISED},
        )
    return decision


def void_charge(
    *, by: StaffUser, line: ChargeLine, reason: str, now: dt.datetime | None = None
) -> ChargeDecision:
    """The biller drops a proposed line (not billable, a duplicate): nothing is charged."""
    now = now or timezone.now()
    errors = refused_role(by, Permission.FINALISE_CHARGES, "void charges") or _reason_errors(reason)
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        locked = _locked(line)
        decision = _decide(
            by=by, line=locked, status=ChargeStatus.VOIDED, reason=reason.strip(), now=now
        )
        record(
            actor=by,
            action="billing.charge_voided",
            patient=locked.patient,
            obj=decision,
            summary=f"Proposed charge {locked.code or '(needs coding)'} voided: {reason.strip()}",
            after=_snapshot(locked) | {"status": ChargeStatus.VOIDED, "reason": reason.strip()},
        )
    return decision


def line_errors(
    *,
    service_date: dt.date,
    code: str,
    units: int,
    modifiers: Sequence[str],
    diagnoses: Sequence[str],
    pointers: Sequence[int],
    place_of_service: str,
) -> dict[str, list[str]]:
    """The form-level checks of a line a person codes (the code tables' rules are the core's)."""
    errors: dict[str, list[str]] = {}
    if not _CODE.match(code):
        errors["code"] = ["Give a 5-character CPT or HCPCS code, e.g. 90837 or J3490."]
    elif found := DEFAULT_CODE_TABLE.problems(code, service_date):
        errors["code"] = [sentence(p) for p in found]
    elif DEFAULT_CODE_TABLE.by_code()[code][0].kind is CodeKind.ICD10CM:
        errors["code"] = [f"{code} is a diagnosis: give the procedure's code."]
    if not 1 <= units <= MAX_UNITS:
        errors["units"] = [f"Units are 1 to {MAX_UNITS}."]
    if len(modifiers) > 4 or any(not _MODIFIER.match(m) for m in modifiers):
        errors["modifiers"] = ["Up to four 2-character modifiers, e.g. 25."]
    if problems := diagnosis_errors(diagnoses, service_date):
        errors["diagnoses"] = problems
    elif not pointers or len(pointers) > 4 or any(not 1 <= p <= len(diagnoses) for p in pointers):
        errors["diagnosis_pointers"] = [
            f"One to four pointers, each 1 to {len(diagnoses)} (the diagnoses' order)."
        ]
    if not _POS.match(place_of_service):
        errors["place_of_service"] = ["Give the 2-digit place-of-service code, e.g. 11 (office)."]
    return errors


def recode_charge(
    *,
    by: StaffUser,
    line: ChargeLine,
    code: str,
    units: int,
    modifiers: Sequence[str],
    diagnoses: Sequence[str],
    pointers: Sequence[int],
    place_of_service: str,
    reason: str,
    now: dt.datetime | None = None,
) -> ChargeLine:
    """Replaces a proposed (or needs-coding) line by a corrected proposal from the same encounter;
    the old line is voided with the reason. The fee is the site's self-pay price on the service day."""
    now = now or timezone.now()
    code = code.strip().upper()
    modifiers = [m.strip().upper() for m in modifiers if m.strip()]
    diagnoses = [d.strip().upper() for d in diagnoses if d.strip()]
    errors = refused_role(by, Permission.FINALISE_CHARGES, "code charges")
    if not errors:
        errors = line_errors(
            service_date=line.service_date,
            code=code,
            units=units,
            modifiers=modifiers,
            diagnoses=diagnoses,
            pointers=pointers,
            place_of_service=place_of_service,
        ) | _reason_errors(reason)
    price = unit_price(site=line.site, payer=None, code=code, on=line.service_date)
    if not errors and price is None:
        errors["code"] = [f"The fee schedule of {line.site.name} has no price for {code}."]
    if errors:
        raise InputError(errors)
    assert price is not None
    with transaction.atomic():
        locked = _locked(line)
        _decide(
            by=by,
            line=locked,
            status=ChargeStatus.VOIDED,
            reason=f"Recoded: {reason.strip()}",
            now=now,
        )
        replacement = ChargeLine.objects.create(
            patient_id=locked.patient_id,
            site_id=locked.site_id,
            chairside_record_id=locked.chairside_record_id,
            integration_note_id=locked.integration_note_id,
            code=code,
            description=locked.description if code == locked.code else "",
            units=units,
            modifiers=modifiers,
            diagnoses=diagnoses,
            diagnosis_pointers=list(pointers),
            rendering_id=locked.rendering_id,
            place_of_service=place_of_service,
            service_date=locked.service_date,
            fee_cents=price * units,
            rule=f"coded by hand: {reason.strip()}"[:200],
            proposed_at=now,
            proposed_by=by,
        )
        record(
            actor=by,
            action="billing.charge_recoded",
            patient=locked.patient,
            obj=replacement,
            summary=f"Proposed charge {locked.code or '(needs coding)'} recoded as {code} x{units}",
            before=_snapshot(locked),
            after=_snapshot(replacement) | {"reason": reason.strip()},
        )
    return replacement


def reverse_charge(
    *, by: StaffUser, line: ChargeLine, reason: str, now: dt.datetime | None = None
) -> ChargeLine:
    """Undoes a finalised line: a reversing line (final as written) and a reversal entry for its
    charge on the account. To correct it, the encounter's line is then recoded and finalised anew."""
    now = now or timezone.now()
    errors = refused_role(by, Permission.FINALISE_CHARGES, "reverse charges") or _reason_errors(
        reason
    )
    if not errors and status_of(line) != ChargeStatus.FINALISED:
        errors[""] = ["Only a finalised line is reversed; a proposed one is voided or recoded."]
    if not errors and (
        line.reverses_id is not None or ChargeLine.objects.filter(reverses=line).exists()
    ):
        errors[""] = ["This line is a reversal or was reversed already."]
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        locked = _locked(line)
        charge = AccountEntry.objects.get(charge=locked, kind=EntryKind.CHARGE)
        reversing = ChargeLine.objects.create(
            patient_id=locked.patient_id,
            site_id=locked.site_id,
            chairside_record_id=locked.chairside_record_id,
            integration_note_id=locked.integration_note_id,
            code=locked.code,
            description=locked.description,
            units=locked.units,
            modifiers=locked.modifiers,
            diagnoses=locked.diagnoses,
            diagnosis_pointers=locked.diagnosis_pointers,
            rendering_id=locked.rendering_id,
            place_of_service=locked.place_of_service,
            service_date=locked.service_date,
            fee_cents=locked.fee_cents,
            rule=f"reverses line {locked.pk}: {reason.strip()}"[:200],
            reverses=locked,
            proposed_at=now,
            proposed_by=by,
        )
        ChargeDecision.objects.create(
            line=reversing,
            status=ChargeStatus.FINALISED,
            reason=reason.strip(),
            decided_by=by,
            decided_at=now,
        )
        AccountEntry.objects.create(
            patient_id=locked.patient_id,
            kind=EntryKind.REVERSAL,
            cents=charge.cents,
            charge=reversing,
            reverses=charge,
            memo=f"Reversal of {locked.code} x{locked.units}",
            effective_on=now.date(),
            posted_by=by,
            posted_at=now,
        )
        record(
            actor=by,
            action="billing.charge_reversed",
            patient=locked.patient,
            obj=reversing,
            summary=f"Finalised charge {locked.code} x{locked.units} reversed: {reason.strip()}",
            before=_snapshot(locked),
            after={"reversed_by": reversing.pk, "reason": reason.strip()},
        )
    return reversing
