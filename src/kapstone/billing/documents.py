"""What the superbill, the CMS-1500 and the 837P say, assembled from the selectors: one place, so
the three documents of a claim never disagree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from kapstone.billing import selectors
from kapstone.billing.models import BillingProvider, ChargeLine, ChargeStatus, Claim, Payer
from kapstone.billing.x12 import Envelope, Submission, write_837p
from kapstone.clinical.billing import claim as core
from kapstone.clinical.billing.account import format_cents
from kapstone.clinical.billing.charges import (
    POINTER_LETTERS,
    PlaceOfService,
)
from kapstone.patients.models import Patient


def dollars(cents: int) -> str:
    """``-1250`` -> ``-$12.50`` (the core's cents, with the dollar sign)."""
    text = format_cents(cents)
    return f"-${text[1:]}" if text.startswith("-") else f"${text}"


def diagnoses_of(lines: list[ChargeLine]) -> list[str]:
    """The lines' diagnoses in first-seen order (at most 12: the claim's limit)."""
    seen: list[str] = []
    for line in lines:
        for code in line.diagnoses:
            if code not in seen:
                seen.append(code)
    return seen[:12]


def pointers_into(line: ChargeLine, diagnoses: list[str]) -> list[int]:
    """A line's pointers renumbered into the claim's diagnosis list (1-based)."""
    out = []
    for pointer in line.diagnosis_pointers:
        code = line.diagnoses[pointer - 1] if 0 < pointer <= len(line.diagnoses) else None
        if code in diagnoses:
            out.append(diagnoses.index(code) + 1)
    return out[:4]


@dataclass(frozen=True)
class DocLine:
    line: ChargeLine
    pointers: list[int]
    letters: str
    fee: str


def _doc_lines(lines: list[ChargeLine], diagnoses: list[str]) -> list[DocLine]:
    rows = []
    for line in lines:
        pointers = pointers_into(line, diagnoses)
        rows.append(
            DocLine(
                line=line,
                pointers=pointers,
                letters="".join(POINTER_LETTERS[p - 1] for p in pointers),
                fee=dollars(line.fee_cents),
            )
        )
    return rows


def superbill(patient: Patient) -> dict[str, object]:
    """Every finalised, standing line of the patient, with what was paid and what is owed."""
    account = selectors.account_of(patient)
    lines = [
        line
        for line in account.lines
        if line.status == ChargeStatus.FINALISED  # type: ignore[attr-defined]
        and line.reverses_id is None
        and not line.was_reversed  # type: ignore[attr-defined]
    ]
    diagnoses = diagnoses_of(lines)
    npis = selectors.clinician_npis([line.rendering_id for line in lines])
    return {
        "patient": patient,
        "provider": selectors.provider_for(patient),
        "diagnoses": list(enumerate(diagnoses, start=1)),
        "lines": _doc_lines(lines, diagnoses),
        "npis": npis,
        "total": dollars(sum(line.fee_cents for line in lines)),
        "paid": dollars(account.paid_cents),
        "adjusted": dollars(account.adjusted_cents),
        "balance": dollars(account.balance_cents),
        "generated_on": timezone.localdate(),
    }


def cms1500(row: selectors.ClaimRow) -> dict[str, object]:
    claim = row.claim
    lines = selectors.claim_lines(claim)
    diagnoses = diagnoses_of(lines)
    npis = selectors.clinician_npis([line.rendering_id for line in lines])
    rendering = lines[0].rendering if lines else None
    return {
        "claim": claim,
        "status": row.status,
        "patient": claim.patient,
        "provider": claim.provider,
        "diagnoses": list(zip(POINTER_LETTERS, diagnoses, strict=False)),
        "lines": _doc_lines(lines, diagnoses),
        "npis": npis,
        "rendering": rendering,
        "rendering_npi": npis.get(rendering.pk, "") if rendering else "",
        "total": dollars(sum(line.fee_cents for line in lines)),
        "paid": dollars(selectors.paid_on_claim(claim)),
        "generated_on": timezone.localdate(),
    }


def core_claim(
    *,
    claim_id: str,
    provider: BillingProvider,
    patient: Patient,
    member_id: str,
    group_number: str,
    address: core.Address,
    payer: Payer,
    lines: list[ChargeLine],
) -> core.Claim:
    """The claim as the core checks it (``claim_problems``) and the 837P writer sends it."""
    diagnoses = diagnoses_of(lines)
    npis = selectors.clinician_npis([line.rendering_id for line in lines])
    rendering = lines[0].rendering if lines else None
    person = core.Person(
        last_name=patient.family_name,
        first_name=patient.given_name,
        birth_date=patient.date_of_birth,
        sex={"female": core.Sex.FEMALE, "male": core.Sex.MALE}.get(
            patient.sex_at_birth, core.Sex.UNKNOWN
        ),
        address=address,
    )
    return core.Claim(
        claim_id=claim_id,
        billing_provider=core.Provider(
            name=provider.name,
            npi=provider.npi,
            address=core.Address(
                provider.address_line, provider.city, provider.state, provider.postal_code
            ),
            tax_id=provider.tax_id,
            taxonomy=provider.taxonomy_code,
        ),
        rendering_provider=core.Provider(
            name=(rendering.last_name or rendering.username) if rendering else "",
            first_name=rendering.first_name if rendering else "",
            npi=npis.get(rendering.pk, "") if rendering else "",
            is_person=True,
        ),
        patient=person,
        subscriber=core.Subscriber(person=person, member_id=member_id, group_number=group_number),
        payer=core.ClaimPayer(name=payer.name, payer_id=payer.payer_id),
        diagnoses=tuple(diagnoses),
        lines=tuple(
            core.ServiceLine(
                service_date=line.service_date,
                place_of_service=PlaceOfService(line.place_of_service),
                code=line.code,
                units=line.units,
                charge_cents=line.fee_cents,
                diagnosis_pointers=tuple(
                    POINTER_LETTERS[p - 1] for p in pointers_into(line, diagnoses)
                ),
                modifiers=tuple(line.modifiers),
            )
            for line in lines
        ),
    )


def claim_of(row: selectors.ClaimRow) -> core.Claim:
    claim: Claim = row.claim
    return core_claim(
        claim_id=claim.control_number,
        provider=claim.provider,
        patient=claim.patient,
        member_id=claim.member_id,
        group_number=claim.group_number,
        address=core.Address(claim.address_line, claim.city, claim.state, claim.postal_code),
        payer=claim.payer,
        lines=selectors.claim_lines(claim),
    )


def x12_of(row: selectors.ClaimRow, *, now: dt.datetime) -> str:
    """The claim's 837P. The submitter is the practice (its NPI as the submitter ID), the
    receiver the payer (its payer ID): a clearing house's own IDs go here when the clinic uses one."""
    claim: Claim = row.claim
    provider = claim.provider
    submission = Submission(
        submitter_name=provider.name,
        submitter_id=provider.npi,
        contact_name=provider.name,
        contact_phone=provider.phone or "0000000000",
        receiver_name=claim.payer.name,
        receiver_id=claim.payer.payer_id,
    )
    envelope = Envelope(
        sender_id=provider.npi,
        receiver_id=claim.payer.payer_id[:15],
        control_number=claim.pk,
        created_at=timezone.localtime(now),
    )
    return write_837p(claim_of(row), submission=submission, envelope=envelope)
