"""The professional claim's checks: NPI, tax id, diagnoses and pointers, codes by date."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from kapstone.clinical.billing.charges import (
    EncounterKind,
    PlaceOfService,
    SignedEncounter,
    propose_charges,
)
from kapstone.clinical.billing.claim import (
    Address,
    Claim,
    ClaimPayer,
    Person,
    Provider,
    ServiceLine,
    Sex,
    Subscriber,
    check_claim,
    claim_problems,
    npi_is_valid,
)
from kapstone.clinical.problems import Refused
from kapstone.clinical.routes import Route

DAY = date(2026, 3, 2)
ADDRESS = Address("1 Main St", "Springfield", "IL", "62701")
PATIENT = Person("Doe", "Alex", date(1980, 5, 1), Sex.UNKNOWN, ADDRESS)


def claim(**changes: object) -> Claim:
    base = Claim(
        claim_id="CLM-1",
        billing_provider=Provider("Kapstone Clinic", "1234567893", ADDRESS, tax_id="123456789"),
        rendering_provider=Provider("Smith", "1245319599", first_name="Jo", is_person=True),
        patient=PATIENT,
        subscriber=Subscriber(PATIENT, "MEM123"),
        payer=ClaimPayer("Acme Health", "ACME1"),
        diagnoses=("F33.1", "F41.1"),
        lines=(
            ServiceLine(DAY, PlaceOfService.OFFICE, "96372", 1, 15_000, ("A", "B")),
            ServiceLine(DAY, PlaceOfService.OFFICE, "99213", 1, 12_000, ("A",), ("25",)),
        ),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def fields(c: Claim) -> set[str]:
    return {p.field for p in claim_problems(c)}


def test_a_good_claim_has_no_problems() -> None:
    assert claim_problems(claim()) == ()
    assert check_claim(claim()).total_cents == 27_000


def test_npi_check_digit() -> None:
    assert npi_is_valid("1234567893")  # CMS's published example
    assert not npi_is_valid("1234567890")
    assert not npi_is_valid("123456789")
    assert not npi_is_valid("12345678a3")


def test_missing_and_bad_npi_and_tax_id() -> None:
    bad = claim(
        billing_provider=Provider("Kapstone Clinic", "", ADDRESS, tax_id="12-345678"),
        rendering_provider=Provider("Smith", "1234567890"),
    )
    assert {"billing_provider.npi", "billing_provider.tax_id", "rendering_provider.npi"} <= fields(
        bad
    )


def test_at_most_twelve_diagnoses() -> None:
    thirteen = tuple(f"F32.{n}" for n in (0, 1, 2, 3, 4, 5, 9)) + tuple(
        f"F33.{n}" for n in (0, 1, 2, 3, 8, 9)
    )
    assert "diagnoses" not in fields(claim(diagnoses=tuple(thirteen[:12])))
    assert "diagnoses" in fields(claim(diagnoses=tuple(thirteen)))


def test_pointers_at_most_four_and_each_to_a_diagnosis() -> None:
    line = ServiceLine(DAY, PlaceOfService.OFFICE, "96372", 1, 100, ("A", "B", "C", "D", "E"))
    six = ("F33.1", "F41.1", "F43.10", "F41.0", "F40.10", "F33.2")
    assert "lines.0.diagnosis_pointers" in fields(claim(diagnoses=six, lines=(line,)))
    four = dataclasses.replace(line, diagnosis_pointers=("A", "B", "C", "D"))
    assert fields(claim(diagnoses=six, lines=(four,))) == set()
    dangling = dataclasses.replace(line, diagnosis_pointers=("C",))
    assert "lines.0.diagnosis_pointers" in fields(claim(lines=(dangling,)))


def test_a_line_without_a_diagnosis() -> None:
    line = ServiceLine(DAY, PlaceOfService.OFFICE, "96372", 1, 100, ())
    assert "lines.0.diagnosis_pointers" in fields(claim(lines=(line,)))


def test_codes_checked_on_the_line_date_and_line_values() -> None:
    old = ServiceLine(DAY, PlaceOfService.OFFICE, "S0013", 56, 100, ("A",))
    assert "lines.0.code" in fields(claim(lines=(old,)))
    bad = ServiceLine(
        DAY, PlaceOfService.OFFICE, "J0013", 0, -1, ("A",), ("25", "x", "59", "76", "77")
    )
    found = fields(claim(lines=(bad,)))
    assert {"lines.0.units", "lines.0.charge_cents", "lines.0.modifiers"} <= found


def test_no_lines_no_member_id_no_payer_unknown_diagnosis() -> None:
    bad = claim(
        lines=(),
        subscriber=Subscriber(PATIENT, " "),
        payer=ClaimPayer("", ""),
        diagnoses=("96372",),
    )
    assert {"lines", "subscriber.member_id", "payer", "diagnoses.0"} <= fields(bad)
    with pytest.raises(Refused) as refused:
        check_claim(bad)
    assert len(refused.value.problems) >= 4


def test_proposed_charges_make_a_claim_without_problems() -> None:
    encounter = SignedEncounter(
        encounter_id="e1",
        kind=EncounterKind.IM_INJECTION,
        service_date=DAY,
        rendering_clinician_id="c1",
        place_of_service=PlaceOfService.OFFICE,
        diagnoses=("F33.1", "F41.1"),
        route=Route.IM,
        em_level=3,
    )
    proposal = propose_charges(encounter)
    lines = tuple(ServiceLine.from_charge(line, charge_cents=10_000) for line in proposal.lines)
    built = claim(lines=lines)
    assert claim_problems(built) == ()
    assert [line.code for line in built.lines] == ["96372", "J3490", "99213"]
    assert built.lines[2].modifiers == ("25",) and built.total_cents == 30_000
