"""The code table: dates, the S0013 -> J0013 switch, refusals, own-words descriptions."""

from __future__ import annotations

from datetime import date

import pytest

from kapstone.clinical.billing.codes import (
    DEFAULT_CODE_TABLE,
    INTAKE_DIAGNOSES,
    CodeKind,
    CodeProblem,
    code_on,
    esketamine_drug_code,
)
from kapstone.clinical.eligibility.facts import PresentingCondition
from kapstone.clinical.problems import Refused
from kapstone.clinical.provenance import Verification
from tests.reference import REFERENCE

KAP_CODES = (
    "96365",
    "96366",
    "96374",
    "96372",
    "J3490",
    "S0013",
    "J0013",
    "G2082",
    "G2083",
    "90832",
    "90834",
    "90837",
    "90833",
    "90836",
    "90838",
    "90785",
    "99212",
    "99213",
    "99214",
    "99215",
    "0820T",
    "0821T",
    "0822T",
)


def test_every_code_a_kap_clinic_uses_is_in_the_table() -> None:
    known = DEFAULT_CODE_TABLE.by_code()
    assert [c for c in KAP_CODES if c not in known] == []
    for code in ("F32.0", "F32.9", "F32.A", "F33.0", "F33.9", "F41.1", "F43.10", "F43.12"):
        assert known[code][0].kind is CodeKind.ICD10CM


@pytest.mark.parametrize(
    ("day", "expected"),
    [(date(2025, 12, 31), "S0013"), (date(2026, 1, 1), "J0013"), (date(2027, 6, 1), "J0013")],
)
def test_the_esketamine_drug_code_switches_on_new_year_2026(day: date, expected: str) -> None:
    assert esketamine_drug_code(day) == expected
    assert code_on(expected, day).code == expected


def test_s0013_is_refused_from_2026_and_j0013_before_it() -> None:
    with pytest.raises(Refused) as ended:
        code_on("S0013", date(2026, 1, 1))
    assert ended.value.problems[0].code == CodeProblem.NO_LONGER_EFFECTIVE
    assert "J0013" in ended.value.problems[0].accepts
    with pytest.raises(Refused) as early:
        code_on("J0013", date(2025, 12, 31))
    assert early.value.problems[0].code == CodeProblem.NOT_YET_EFFECTIVE


def test_category_iii_codes_start_in_2024_and_carry_a_payer_note() -> None:
    with pytest.raises(Refused):
        code_on("0820T", date(2023, 12, 31))
    entry = code_on("0820T", date(2024, 1, 1))
    assert entry.kind is CodeKind.CPT_III and entry.payer_note


def test_unknown_code_is_refused() -> None:
    with pytest.raises(Refused) as refused:
        code_on("99999", date(2026, 3, 1))
    assert refused.value.problems[0].code == CodeProblem.UNKNOWN


def test_lowercase_and_spaces_are_tolerated() -> None:
    assert code_on(" j0013 ", date(2026, 3, 1)).code == "J0013"


def test_no_trd_code_and_intake_suggestions_exist() -> None:
    assert "F41.1" in INTAKE_DIAGNOSES[PresentingCondition.GENERALISED_ANXIETY]
    assert all(
        c.startswith(("F32", "F33")) for c in INTAKE_DIAGNOSES[PresentingCondition.MAJOR_DEPRESSION]
    )
    assert not any(
        "TRD" in e.code or "resistant" in e.description.lower() for e in DEFAULT_CODE_TABLE.codes
    )


def test_every_code_has_dates_a_description_and_a_key_in_the_reference() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    for entry in DEFAULT_CODE_TABLE.codes:
        assert entry.description and entry.source.key in text
        assert entry.effective_to is None or entry.effective_to >= entry.effective_from
        if entry.source.verification is Verification.UNVERIFIED:
            assert entry.source.is_clinic_policy


# Words of the AMA's licensed descriptors that our own short descriptions must not copy.
LICENSED_PHRASES = (
    "for therapy, prophylaxis, or diagnosis",
    "insight oriented, behavior modifying",
    "list separately in addition to code for primary procedure",
    "continuous in-person monitoring and intervention (eg, psychotherapy, crisis intervention)",
    "requires the supervision of a physician or other qualified health care professional",
)


def test_descriptions_are_in_our_own_words() -> None:
    for entry in DEFAULT_CODE_TABLE.codes:
        for phrase in LICENSED_PHRASES:
            assert phrase not in entry.description.lower(), entry.code


def test_in_force_lists_the_codes_of_a_day() -> None:
    before = {e.code for e in DEFAULT_CODE_TABLE.in_force(date(2025, 6, 1), kinds=[CodeKind.HCPCS])}
    after = {e.code for e in DEFAULT_CODE_TABLE.in_force(date(2026, 6, 1), kinds=[CodeKind.HCPCS])}
    assert "S0013" in before and "J0013" not in before
    assert "J0013" in after and "S0013" not in after
