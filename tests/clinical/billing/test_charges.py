"""Charge rules at every edge: infusion minutes, psychotherapy bands, esketamine dose and date."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapstone.clinical.billing.charges import (
    EncounterKind,
    EsketaminePathway,
    PlaceOfService,
    SignedEncounter,
    infusion_units,
    kind_for_route,
    propose_charges,
    psychotherapy_code,
)
from kapstone.clinical.billing.policy import BillingPolicy, BillingValue
from kapstone.clinical.dosing import ESKETAMINE_DEVICE_MG
from kapstone.clinical.problems import Refused
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.routes import Route

DAY = date(2026, 3, 2)


def encounter(
    kind: EncounterKind = EncounterKind.IV_INFUSION, **changes: object
) -> SignedEncounter:
    routes = {
        EncounterKind.IV_INFUSION: Route.IV,
        EncounterKind.IM_INJECTION: Route.IM,
        EncounterKind.SC_INJECTION: Route.SC,
        EncounterKind.ESKETAMINE_INTRANASAL: Route.INTRANASAL_ESKETAMINE,
        EncounterKind.ORAL_KETAMINE: Route.SUBLINGUAL_LOZENGE,
    }
    base = SignedEncounter(
        encounter_id="enc-1",
        kind=kind,
        service_date=DAY,
        rendering_clinician_id="clin-7",
        place_of_service=PlaceOfService.OFFICE,
        diagnoses=("F33.1",),
        route=routes.get(kind),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def lines(enc: SignedEncounter, **kwargs: object) -> dict[str, int]:
    return {line.code: line.units for line in propose_charges(enc, **kwargs).lines}  # type: ignore[arg-type]


# --- IV infusion: 96374 / 96365 / 96366 at every edge (AMA-CPT-INFUSION) ---------------------------


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (1, {"96374": 1}),
        (15, {"96374": 1}),  # 15 or fewer: a push
        (16, {"96365": 1}),  # more than 15: an infusion
        (60, {"96365": 1}),
        (61, {"96365": 1}),
        (90, {"96365": 1}),  # 30 past the hour: not yet a further hour
        (91, {"96365": 1, "96366": 1}),  # more than 30 past the hour
        (120, {"96365": 1, "96366": 1}),
        (150, {"96365": 1, "96366": 1}),
        (151, {"96365": 1, "96366": 2}),
        (210, {"96365": 1, "96366": 2}),
        (211, {"96365": 1, "96366": 3}),
    ],
)
def test_infusion_minutes_give_codes_and_units(minutes: int, expected: dict[str, int]) -> None:
    assert infusion_units(minutes) == expected
    proposed = lines(encounter(infusion_start_minute=600, infusion_stop_minute=600 + minutes))
    assert proposed == {**expected, "J3490": 1}


def test_infusion_without_times_or_backwards_is_refused() -> None:
    with pytest.raises(Refused) as missing:
        propose_charges(encounter())
    assert "infusion_minutes" in missing.value.fields
    with pytest.raises(Refused) as backwards:
        propose_charges(encounter(infusion_start_minute=50, infusion_stop_minute=50))
    assert "infusion_minutes" in backwards.value.fields


@given(st.integers(min_value=16, max_value=24 * 60))
def test_infusion_units_never_bill_more_hours_than_started(minutes: int) -> None:
    units = infusion_units(minutes)
    hours = units.get("96365", 0) + units.get("96366", 0)
    assert units["96365"] == 1
    assert hours == 1 or (hours - 1) * 60 + 30 < minutes  # each further hour had > 30 min
    assert minutes <= hours * 60 + 30  # and no hour of > 30 minutes was left out


def test_a_clinic_may_change_the_threshold_and_the_policy_version_is_recorded() -> None:
    src = Source("AMA-CPT-INFUSION", Verification.UNVERIFIED, Evidence.CLINIC_POLICY, "payer X")
    strict = BillingPolicy(
        version="strict-1", additional_hour_more_than_minutes=BillingValue(45, src)
    )
    assert infusion_units(100, strict) == {"96365": 1}
    assert infusion_units(106, strict) == {"96365": 1, "96366": 1}
    enc = encounter(infusion_start_minute=0, infusion_stop_minute=100)
    assert propose_charges(enc, policy=strict).policy_version == "strict-1"


# --- injections ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [EncounterKind.IM_INJECTION, EncounterKind.SC_INJECTION])
def test_an_injection_is_96372_once_with_the_drug(kind: EncounterKind) -> None:
    assert lines(encounter(kind)) == {"96372": 1, "J3490": 1}


def test_e_m_with_a_procedure_carries_modifier_25() -> None:
    proposal = propose_charges(encounter(EncounterKind.IM_INJECTION, em_level=3))
    em = next(line for line in proposal.lines if line.code == "99213")
    assert em.modifiers == ("25",)
    oral = propose_charges(encounter(EncounterKind.ORAL_KETAMINE, em_level=3))
    assert [line.modifiers for line in oral.lines] == [()]


# --- esketamine ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("devices", "code"), [(1, "G2082"), (2, "G2082"), (3, "G2083")])
def test_esketamine_devices_to_g_codes_at_56_mg(devices: int, code: str) -> None:
    enc = encounter(EncounterKind.ESKETAMINE_INTRANASAL, esketamine_devices=devices, em_level=4)
    proposal = propose_charges(enc)
    assert proposal.codes == (code,)  # the G code includes the drug and the E/M
    assert any("includes the E/M" in note for note in proposal.notes)


def test_the_g_code_edge_is_the_policy_ceiling_in_mg() -> None:
    at = encounter(EncounterKind.ESKETAMINE_INTRANASAL, dose_mg=ESKETAMINE_DEVICE_MG * 2)
    above = encounter(EncounterKind.ESKETAMINE_INTRANASAL, dose_mg=ESKETAMINE_DEVICE_MG * 3)
    assert lines(at) == {"G2082": 1} and lines(above) == {"G2083": 1}


@pytest.mark.parametrize(
    ("day", "code"),
    [(date(2025, 12, 31), "S0013"), (date(2026, 1, 1), "J0013")],
)
def test_buy_and_bill_uses_the_drug_code_of_the_day_per_mg(day: date, code: str) -> None:
    enc = encounter(
        EncounterKind.ESKETAMINE_INTRANASAL,
        service_date=day,
        esketamine_devices=3,
        esketamine_pathway=EsketaminePathway.BUY_AND_BILL,
        em_level=3,
    )
    assert lines(enc) == {code: int(ESKETAMINE_DEVICE_MG * 3), "99213": 1}


def test_pharmacy_benefit_bills_no_drug() -> None:
    enc = encounter(
        EncounterKind.ESKETAMINE_INTRANASAL,
        esketamine_devices=2,
        esketamine_pathway=EsketaminePathway.PHARMACY_BENEFIT,
        em_level=2,
    )
    proposal = propose_charges(enc)
    assert proposal.codes == ("99212",)
    assert any("pharmacy" in note for note in proposal.notes)


def test_esketamine_dose_must_be_whole_devices_and_agree() -> None:
    for changes in (
        {},
        {"dose_mg": Decimal(30)},
        {"esketamine_devices": 2, "dose_mg": ESKETAMINE_DEVICE_MG * 3},
        {"esketamine_devices": 0},
    ):
        with pytest.raises(Refused):
            propose_charges(encounter(EncounterKind.ESKETAMINE_INTRANASAL, **changes))


# --- psychotherapy: every band edge (AMA-CPT-TIME) --------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "alone", "with_em"),
    [
        (0, None, None),
        (15, None, None),
        (16, "90832", "90833"),
        (37, "90832", "90833"),
        (38, "90834", "90836"),
        (52, "90834", "90836"),
        (53, "90837", "90838"),
        (120, "90837", "90838"),
    ],
)
def test_psychotherapy_minutes_to_the_band(
    minutes: int, alone: str | None, with_em: str | None
) -> None:
    assert psychotherapy_code(minutes, with_em=False) == alone
    assert psychotherapy_code(minutes, with_em=True) == with_em
    integration = encounter(EncounterKind.INTEGRATION_PSYCHOTHERAPY, psychotherapy_minutes=minutes)
    assert lines(integration) == ({alone: 1} if alone else {})
    with_visit = dataclasses.replace(integration, em_level=4)
    assert lines(with_visit) == ({"99214": 1, with_em: 1} if with_em else {"99214": 1})


def test_under_sixteen_minutes_is_a_note_not_a_line() -> None:
    proposal = propose_charges(
        encounter(EncounterKind.INTEGRATION_PSYCHOTHERAPY, psychotherapy_minutes=15)
    )
    assert proposal.lines == () and proposal.notes


def test_interactive_complexity_only_with_psychotherapy() -> None:
    enc = encounter(
        EncounterKind.INTEGRATION_PSYCHOTHERAPY,
        psychotherapy_minutes=45,
        interactive_complexity=True,
    )
    assert lines(enc) == {"90834": 1, "90785": 1}
    short = dataclasses.replace(enc, psychotherapy_minutes=10)
    proposal = propose_charges(short)
    assert proposal.lines == () and any("interactive" in n for n in proposal.notes)


def test_g_code_day_psychotherapy_is_standalone() -> None:
    enc = encounter(
        EncounterKind.ESKETAMINE_INTRANASAL,
        esketamine_devices=2,
        em_level=3,
        psychotherapy_minutes=40,
    )
    assert lines(enc) == {"G2082": 1, "90834": 1}


# --- Category III monitoring ---------------------------------------------------------------------


def test_monitoring_codes_are_off_unless_the_clinic_turns_them_on() -> None:
    enc = encounter(
        EncounterKind.IM_INJECTION,
        monitoring_minutes_first=120,
        monitoring_minutes_second=31,
        monitoring_minutes_staff=30,
    )
    off = propose_charges(enc)
    assert "0820T" not in off.codes and any("0820T" in n for n in off.notes)
    on = lines(enc, policy=BillingPolicy(propose_psychedelic_monitoring=True))
    assert on["0820T"] == 2 and on["0821T"] == 1 and "0822T" not in on


def test_monitoring_codes_refused_before_2024() -> None:
    enc = encounter(
        EncounterKind.IM_INJECTION, service_date=date(2023, 12, 31), monitoring_minutes_first=60
    )
    with pytest.raises(Refused):
        propose_charges(enc, policy=BillingPolicy(propose_psychedelic_monitoring=True))


# --- the encounter itself ------------------------------------------------------------------------


def test_pointers_place_and_clinician_on_every_line() -> None:
    enc = encounter(
        EncounterKind.IM_INJECTION, diagnoses=("F33.1", "F41.1", "F43.10", "F41.0", "F40.10")
    )
    for line in propose_charges(enc).lines:
        assert line.diagnosis_pointers == ("A", "B", "C", "D")
        assert line.place_of_service is PlaceOfService.OFFICE
        assert line.rendering_clinician_id == "clin-7"
        assert line.service_date == DAY and line.source.key


def test_every_fault_is_listed_at_once() -> None:
    bad = encounter(
        EncounterKind.IV_INFUSION,
        route=Route.IM,
        diagnoses=("F99.99", "96365", "F33.1", "F33.1"),
        rendering_clinician_id=" ",
        em_level=6,
        psychotherapy_minutes=-1,
    )
    with pytest.raises(Refused) as refused:
        propose_charges(bad)
    assert {
        "route",
        "diagnoses.0",
        "diagnoses.1",
        "diagnoses",
        "rendering_clinician_id",
        "em_level",
        "psychotherapy_minutes",
        "infusion_minutes",
    } <= refused.value.fields


def test_no_diagnosis_and_f32a_before_its_date_are_refused() -> None:
    with pytest.raises(Refused):
        propose_charges(encounter(EncounterKind.IM_INJECTION, diagnoses=()))
    with pytest.raises(Refused):
        propose_charges(
            encounter(
                EncounterKind.IM_INJECTION, service_date=date(2021, 9, 30), diagnoses=("F32.A",)
            )
        )


def test_kind_for_route_covers_every_route() -> None:
    assert {kind_for_route(route) for route in Route} == set(EncounterKind) - {
        EncounterKind.INTEGRATION_PSYCHOTHERAPY
    }


def test_the_proposal_records_the_table_and_policy_versions() -> None:
    proposal = propose_charges(encounter(EncounterKind.IM_INJECTION))
    assert proposal.code_table_version and proposal.policy_version
    assert proposal.encounter_id == "enc-1"


_ORDER = [None, "90832", "90834", "90837"]


@given(st.integers(min_value=0, max_value=300), st.integers(min_value=0, max_value=300))
def test_more_psychotherapy_minutes_never_give_a_shorter_code(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert _ORDER.index(psychotherapy_code(low, with_em=False)) <= _ORDER.index(
        psychotherapy_code(high, with_em=False)
    )


@given(st.integers(min_value=1, max_value=600), st.integers(min_value=1, max_value=600))
def test_a_longer_infusion_never_bills_fewer_hours(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert sum(infusion_units(low).values()) <= sum(infusion_units(high).values())
