"""A professional claim, the one shape the CMS-1500 PDF and the X12 837P are both built from (§13.5).

:func:`claim_problems` lists every reason the claim would be rejected before it is sent: a missing
or malformed NPI (its check digit: the Luhn formula over "80840" and the number), a tax id that is
not 9 digits, more than 12 diagnoses, more than 4 pointers on a line, a pointer to no diagnosis, a
line without one, a code not in force on the line's date, no lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from kapstone.clinical.billing.charges import (
    MAX_DIAGNOSES,
    MAX_POINTERS_PER_LINE,
    POINTER_LETTERS,
    ChargeLine,
    PlaceOfService,
)
from kapstone.clinical.billing.codes import DEFAULT_CODE_TABLE, CodeKind, CodeTable
from kapstone.clinical.problems import Problem, Refused

MAX_MODIFIERS = 4
MAX_LINES_837P = 50
_NPI = re.compile(r"^\d{10}$")
_TAX_ID = re.compile(r"^\d{9}$")
_MODIFIER = re.compile(r"^[A-Z0-9]{2}$")


class Sex(StrEnum):
    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"


class Relationship(StrEnum):
    """The patient's relationship to the subscriber (X12 individual relationship codes)."""

    SELF = "18"
    SPOUSE = "01"
    CHILD = "19"
    OTHER = "G8"


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    state: str
    postal_code: str
    line2: str = ""


@dataclass(frozen=True, slots=True)
class Provider:
    """A billing or rendering provider: an organisation (billing) or a person (rendering)."""

    name: str
    npi: str
    address: Address | None = None
    tax_id: str = ""
    taxonomy: str = ""
    first_name: str = ""
    is_person: bool = False


@dataclass(frozen=True, slots=True)
class Person:
    last_name: str
    first_name: str
    birth_date: date
    sex: Sex
    address: Address


@dataclass(frozen=True, slots=True)
class Subscriber:
    """The insured: the patient themselves (``relationship`` SELF) or someone else."""

    person: Person
    member_id: str
    relationship: Relationship = Relationship.SELF
    group_number: str = ""


@dataclass(frozen=True, slots=True)
class ClaimPayer:
    name: str
    payer_id: str
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class ServiceLine:
    service_date: date
    place_of_service: PlaceOfService
    code: str
    units: int
    charge_cents: int
    diagnosis_pointers: tuple[str, ...]
    modifiers: tuple[str, ...] = ()
    ndc: str = ""

    @classmethod
    def from_charge(cls, line: ChargeLine, *, charge_cents: int, ndc: str = "") -> ServiceLine:
        """A proposed (and finalised) charge line as a claim line, at the fee for all its units."""
        return cls(
            service_date=line.service_date,
            place_of_service=line.place_of_service,
            code=line.code,
            units=line.units,
            charge_cents=charge_cents,
            diagnosis_pointers=line.diagnosis_pointers,
            modifiers=line.modifiers,
            ndc=ndc,
        )


@dataclass(frozen=True, slots=True)
class Claim:
    """One professional claim: who bills, who rendered, for whom, to whom, for what."""

    claim_id: str
    billing_provider: Provider
    rendering_provider: Provider
    patient: Person
    subscriber: Subscriber
    payer: ClaimPayer
    diagnoses: tuple[str, ...]
    lines: tuple[ServiceLine, ...]
    signed_on: date | None = None

    @property
    def total_cents(self) -> int:
        return sum(line.charge_cents for line in self.lines)

    def pointer_code(self, letter: str) -> str | None:
        """The diagnosis a pointer letter names (A is the first)."""
        index = POINTER_LETTERS.find(letter)
        return self.diagnoses[index] if 0 <= index < len(self.diagnoses) else None


def npi_is_valid(npi: str) -> bool:
    """Ten digits whose last is the Luhn check digit of "80840" followed by the first nine."""
    if not _NPI.match(npi):
        return False
    digits = [int(c) for c in "80840" + npi]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _provider_problems(name: str, provider: Provider, *, billing: bool) -> list[Problem]:
    problems: list[Problem] = []
    if not provider.name.strip():
        problems.append(Problem(f"{name}.name", "is required"))
    if not provider.npi:
        problems.append(Problem(f"{name}.npi", "the NPI is missing"))
    elif not npi_is_valid(provider.npi):
        problems.append(
            Problem(f"{name}.npi", "is not a valid NPI", accepts="10 digits, check digit")
        )
    if billing:
        if not _TAX_ID.match(provider.tax_id):
            problems.append(Problem(f"{name}.tax_id", "the tax id must be 9 digits"))
        if provider.address is None:
            problems.append(Problem(f"{name}.address", "the billing address is required"))
    return problems


def _diagnosis_problems(claim: Claim, table: CodeTable) -> list[Problem]:
    problems: list[Problem] = []
    if not claim.diagnoses:
        problems.append(Problem("diagnoses", "a claim needs at least one diagnosis"))
    if len(claim.diagnoses) > MAX_DIAGNOSES:
        problems.append(
            Problem("diagnoses", f"{len(claim.diagnoses)} diagnoses; at most {MAX_DIAGNOSES}")
        )
    if len(set(claim.diagnoses)) != len(claim.diagnoses):
        problems.append(Problem("diagnoses", "a diagnosis is listed twice"))
    by_code = table.by_code()
    first_day = min((line.service_date for line in claim.lines), default=None)
    for i, code in enumerate(claim.diagnoses):
        entries = by_code.get(code.strip().upper(), ())
        if not entries or entries[0].kind is not CodeKind.ICD10CM:
            problems.append(
                Problem(f"diagnoses.{i}", f"{code} is not an ICD-10-CM code in the table")
            )
        elif first_day is not None:
            problems.extend(table.problems(code, first_day, field_name=f"diagnoses.{i}"))
    return problems


def _line_problems(claim: Claim, i: int, line: ServiceLine, table: CodeTable) -> list[Problem]:
    name = f"lines.{i}"
    problems = table.problems(line.code, line.service_date, field_name=f"{name}.code")
    if line.units < 1:
        problems.append(Problem(f"{name}.units", "at least one unit"))
    if line.charge_cents < 0:
        problems.append(Problem(f"{name}.charge_cents", "cannot be negative"))
    if len(line.modifiers) > MAX_MODIFIERS:
        problems.append(Problem(f"{name}.modifiers", f"at most {MAX_MODIFIERS} modifiers"))
    problems.extend(
        Problem(f"{name}.modifiers", f"{m!r} is not a modifier", accepts="2 letters or digits")
        for m in line.modifiers
        if not _MODIFIER.match(m)
    )
    if not line.diagnosis_pointers:
        problems.append(Problem(f"{name}.diagnosis_pointers", "a line needs a diagnosis"))
    if len(line.diagnosis_pointers) > MAX_POINTERS_PER_LINE:
        problems.append(
            Problem(f"{name}.diagnosis_pointers", f"at most {MAX_POINTERS_PER_LINE} pointers")
        )
    if len(set(line.diagnosis_pointers)) != len(line.diagnosis_pointers):
        problems.append(Problem(f"{name}.diagnosis_pointers", "a pointer is repeated"))
    problems.extend(
        Problem(f"{name}.diagnosis_pointers", f"{p!r} points to no diagnosis")
        for p in line.diagnosis_pointers
        if claim.pointer_code(p) is None
    )
    return problems


def claim_problems(claim: Claim, *, table: CodeTable = DEFAULT_CODE_TABLE) -> tuple[Problem, ...]:
    """Every reason the claim is not ready to send (empty when it is)."""
    problems: list[Problem] = []
    if not claim.claim_id.strip():
        problems.append(Problem("claim_id", "is required"))
    problems.extend(_provider_problems("billing_provider", claim.billing_provider, billing=True))
    problems.extend(
        _provider_problems("rendering_provider", claim.rendering_provider, billing=False)
    )
    if not claim.subscriber.member_id.strip():
        problems.append(Problem("subscriber.member_id", "the member id is required"))
    if not claim.payer.name.strip() or not claim.payer.payer_id.strip():
        problems.append(Problem("payer", "the payer's name and id are required"))
    problems.extend(_diagnosis_problems(claim, table))
    if not claim.lines:
        problems.append(Problem("lines", "a claim needs at least one service line"))
    if len(claim.lines) > MAX_LINES_837P:
        problems.append(Problem("lines", f"at most {MAX_LINES_837P} lines on one claim"))
    for i, line in enumerate(claim.lines):
        problems.extend(_line_problems(claim, i, line, table))
    return tuple(problems)


def check_claim(claim: Claim, *, table: CodeTable = DEFAULT_CODE_TABLE) -> Claim:
    """The claim, or ``Refused`` with every problem found."""
    Refused.refuse_if_any(claim_problems(claim, table=table))
    return claim
