"""A claim to a payer for a patient's finalised lines, the status a biller records by hand as the
payer answers (submitted, paid, denied with the reason, resubmitted), and the audit row of each
time a claim, a superbill or a statement leaves the clinic as a file."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.billing import documents
from kapstone.billing.models import (
    BillingProvider,
    ChargeDecision,
    ChargeLine,
    ChargeStatus,
    Claim,
    ClaimLine,
    ClaimStatus,
    ClaimStatusEvent,
    ClinicianNumber,
    Payer,
)
from kapstone.billing.services._common import refused_role
from kapstone.clinical.access import Permission
from kapstone.clinical.billing import claim as core
from kapstone.clinical.billing.claim import claim_problems
from kapstone.errors import InputError, problem_errors
from kapstone.patients.models import Patient

MAX_LINES = 50  # an 837P claim carries at most 50 service lines
# Which status may follow which: a claim is sent, then paid or denied; a denied claim is sent again.
NEXT = {
    None: {ClaimStatus.SUBMITTED},
    ClaimStatus.SUBMITTED: {ClaimStatus.PAID, ClaimStatus.DENIED},
    ClaimStatus.RESUBMITTED: {ClaimStatus.PAID, ClaimStatus.DENIED},
    ClaimStatus.DENIED: {ClaimStatus.RESUBMITTED},
    ClaimStatus.PAID: set(),
}
_MEMBER = re.compile(r"^[A-Za-z0-9-]{2,40}$")


def latest_status(claim: Claim) -> ClaimStatus | None:
    event = ClaimStatusEvent.objects.filter(claim=claim).order_by("-recorded_at", "-pk").first()
    return ClaimStatus(event.status) if event else None


def _line_errors(patient: Patient, lines: Sequence[ChargeLine]) -> list[str]:
    problems: list[str] = []
    if not lines:
        return ["Choose at least one finalised line."]
    if len(lines) > MAX_LINES:
        problems.append(f"A claim carries at most {MAX_LINES} lines.")
    finalised = set(
        ChargeDecision.objects.filter(line__in=lines, status=ChargeStatus.FINALISED).values_list(
            "line_id", flat=True
        )
    )
    reversed_ids = set(
        ChargeLine.objects.filter(reverses__in=lines).values_list("reverses_id", flat=True)
    )
    claimed = {
        cl.charge_id
        for cl in ClaimLine.objects.filter(charge__in=lines).select_related("claim")
        if latest_status(cl.claim) != ClaimStatus.DENIED
    }
    for line in lines:
        name = f"{line.code} on {line.service_date}"
        if line.patient_id != patient.pk:
            problems.append(f"{name} is another patient's.")
        elif line.pk not in finalised or line.reverses_id is not None:
            problems.append(f"{name} is not a finalised charge.")
        elif line.pk in reversed_ids:
            problems.append(f"{name} was reversed.")
        elif line.pk in claimed:
            problems.append(f"{name} is on another claim already.")
        elif (
            line.rendering_id is None
            or not ClinicianNumber.objects.filter(staff_id=line.rendering_id).exists()
        ):
            problems.append(f"{name}: the rendering clinician has no NPI on file.")
    if len({line.site_id for line in lines}) > 1:
        problems.append("Lines from different sites go on separate claims.")
    if len({line.rendering_id for line in lines}) > 1:
        problems.append("Lines rendered by different clinicians go on separate claims.")
    return problems


def create_claim(
    *,
    by: StaffUser,
    patient: Patient,
    payer: Payer,
    lines: Sequence[ChargeLine],
    member_id: str,
    group_number: str,
    address_line: str,
    city: str,
    state: str,
    postal_code: str,
    now: dt.datetime | None = None,
) -> Claim:
    """A claim for the lines, with the subscriber details it is sent with (the patient is the
    subscriber). Its status is recorded once it is sent."""
    now = now or timezone.now()
    errors = refused_role(by, Permission.MANAGE_CLAIMS, "make claims")
    if errors:
        raise InputError(errors)
    if problems := _line_errors(patient, lines):
        errors["lines"] = problems
    if not payer.is_active:
        errors["payer"] = ["This payer is no longer used."]
    if not _MEMBER.match(member_id.strip()):
        errors["member_id"] = ["Give the member ID on the insurance card."]
    if not address_line.strip() or not city.strip():
        errors["address_line"] = ["Give the patient's street address and city."]
    if not re.match(r"^[A-Z]{2}$", state):
        errors["state"] = ["Give the state's two-letter code."]
    if not re.match(r"^\d{5}(\d{4})?$", postal_code.replace("-", "")):
        errors["postal_code"] = ["Give the ZIP code: 5 digits, or ZIP+4."]
    provider = BillingProvider.objects.filter(site_id=lines[0].site_id).first() if lines else None
    if lines and provider is None:
        errors[""] = ["The site has no billing details (NPI, tax ID): ask the biller to add them."]
    if not errors:
        assert provider is not None
        # The core's checks of the whole claim (NPIs, codes in force, pointers, diagnoses ...).
        checked = documents.core_claim(
            claim_id="KAP-NEW",
            provider=provider,
            patient=patient,
            member_id=member_id.strip(),
            group_number=group_number.strip(),
            address=core.Address(address_line.strip(), city.strip(), state, postal_code),
            payer=payer,
            lines=list(lines),
        )
        errors = problem_errors(claim_problems(checked), default="")
    if errors:
        raise InputError(errors)
    assert provider is not None
    with transaction.atomic():
        highest = Claim.objects.select_for_update().aggregate(top=Max("pk"))["top"] or 0
        claim = Claim.objects.create(
            patient=patient,
            payer=payer,
            provider=provider,
            control_number=f"KAP{highest + 1:07d}",
            member_id=member_id.strip(),
            group_number=group_number.strip(),
            address_line=address_line.strip(),
            city=city.strip(),
            state=state,
            postal_code=postal_code.replace("-", ""),
            created_by=by,
            created_at=now,
        )
        ClaimLine.objects.bulk_create(ClaimLine(claim=claim, charge=line) for line in lines)
        record(
            actor=by,
            action="billing.claim_created",
            patient=patient,
            obj=claim,
            summary=f"Claim {claim.control_number} to {payer.name} for {len(lines)} line(s)",
            after={"payer": payer.pk, "lines": [line.pk for line in lines]},
        )
    return claim


def record_claim_status(
    *,
    by: StaffUser,
    claim: Claim,
    status: str,
    reason: str = "",
    reference: str = "",
    now: dt.datetime | None = None,
) -> ClaimStatusEvent:
    """What the payer did, recorded by hand; a denial needs its reason."""
    now = now or timezone.now()
    errors = refused_role(by, Permission.MANAGE_CLAIMS, "record claim status")
    if errors:
        raise InputError(errors)
    current = latest_status(claim)
    if status not in {s.value for s in ClaimStatus}:
        errors["status"] = ["Unknown status."]
    elif ClaimStatus(status) not in NEXT[current]:
        allowed = ", ".join(sorted(s.label.lower() for s in NEXT[current])) or "nothing"
        now_is = current.label.lower() if current else "not sent yet"
        errors["status"] = [f"The claim is {now_is}: it can be marked {allowed}."]
    if status == ClaimStatus.DENIED and not reason.strip():
        errors["reason"] = ["Give the denial reason the payer sent."]
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        event = ClaimStatusEvent.objects.create(
            claim=claim,
            status=status,
            reason=reason.strip(),
            reference=reference.strip()[:60],
            recorded_by=by,
            recorded_at=now,
        )
        record(
            actor=by,
            action="billing.claim_status",
            patient=claim.patient,
            obj=event,
            summary=f"Claim {claim.control_number} {ClaimStatus(status).label.lower()}"
            + (f": {reason.strip()}" if reason.strip() else ""),
            before={"status": current.value if current else None},
            after={"status": status, "reason": reason.strip()},
        )
    return event


READS = {
    "superbill": ("billing.superbill_exported", "Superbill PDF downloaded"),
    "statement": ("billing.statement_exported", "Statement PDF downloaded"),
    "cms1500": ("billing.cms1500_exported", "CMS-1500 PDF of claim"),
    "x12": ("billing.x12_exported", "837P file of claim"),
}


def record_claim_read(
    *, by: StaffUser, patient: Patient, what: str, claim: Claim | None = None
) -> None:
    """A billing document left the clinic as a file: who took which."""
    action, summary = READS[what]
    record(
        actor=by,
        action=action,
        patient=patient,
        obj=claim,
        summary=f"{summary} {claim.control_number}" if claim else summary,
    )
