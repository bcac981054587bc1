"""What the superbill, the CMS-1500 and the 837P say, assembled from the selectors: one place, so
the three documents of a claim never disagree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from kapstone.billing import selectors
from kapstone.billing.models import BillingProvider, ChargeLine, ChargeStatus, Claim
from kapstone.billing.x12 import ClaimFile, Envelope, Party, ServiceLine
from kapstone.patients.models import Patient

POINTER_LETTERS = "ABCDEFGHIJKL"


def dollars(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) / 100:,.2f}"


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


def _provider_party(provider: BillingProvider) -> Party:
    return Party(
        provider.name,
        provider.npi,
        address_line=provider.address_line,
        city=provider.city,
        state=provider.state,
        postal_code=provider.postal_code,
    )


def claim_file(row: selectors.ClaimRow, *, now: dt.datetime) -> tuple[ClaimFile, Envelope]:
    """The claim as the 837P writer takes it. The submitter is the practice (its NPI as the
    submitter ID), the receiver the payer (its payer ID): a clearing house's own IDs go here when
    the clinic uses one."""
    claim: Claim = row.claim
    lines = selectors.claim_lines(claim)
    diagnoses = diagnoses_of(lines)
    npis = selectors.clinician_npis([line.rendering_id for line in lines])
    rendering = lines[0].rendering if lines else None
    patient = claim.patient
    provider = claim.provider
    sex = {"female": "F", "male": "M"}.get(patient.sex_at_birth, "U")
    file = ClaimFile(
        submitter=Party(provider.name, provider.npi),
        submitter_contact=provider.name,
        submitter_phone=provider.phone or "0000000000",
        receiver=Party(claim.payer.name, claim.payer.payer_id),
        billing_provider=_provider_party(provider),
        billing_tax_id=provider.tax_id,
        subscriber=Party(
            patient.family_name,
            claim.member_id,
            first_name=patient.given_name,
            address_line=claim.address_line,
            city=claim.city,
            state=claim.state,
            postal_code=claim.postal_code,
        ),
        subscriber_birth_date=patient.date_of_birth,
        subscriber_sex=sex,
        group_number=claim.group_number,
        payer=Party(claim.payer.name, claim.payer.payer_id),
        patient_control_number=claim.control_number,
        place_of_service=lines[0].place_of_service if lines else "11",
        diagnoses=tuple(diagnoses),
        lines=tuple(
            ServiceLine(
                code=line.code,
                modifiers=tuple(line.modifiers),
                charge_cents=line.fee_cents,
                units=line.units,
                pointers=tuple(pointers_into(line, diagnoses)),
                service_date=line.service_date,
            )
            for line in lines
        ),
        rendering=Party(
            rendering.last_name or rendering.username,
            npis[rendering.pk],
            first_name=rendering.first_name,
        )
        if rendering is not None and rendering.pk in npis
        else None,
    )
    envelope = Envelope(
        sender_id=provider.npi,
        receiver_id=claim.payer.payer_id[:15],
        control_number=claim.pk,
        created_at=timezone.localtime(now),
    )
    return file, envelope
