"""Dose calculator: worked examples per route, each ceiling and refusal, the ascending schedule."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.dosing import (
    DEFAULT_DOSING_POLICY,
    GLUE2017_ASCENDING_MG_PER_KG,
    DoseRefused,
    DoseRequest,
    DosingPolicy,
    PolicyValue,
    ascending_schedule,
    calculate_dose,
)
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.routes import ROUTE_FACTS, Route
from tests.reference import REFERENCE


def iv(weight: str = "70", mg_per_kg: str = "0.5", conc: str = "10", minutes: str = "40"):
    return DoseRequest(
        Route.IV,
        weight_kg=D(weight),
        mg_per_kg=D(mg_per_kg),
        concentration_mg_per_ml=D(conc),
        minutes=D(minutes),
    )


def refused_fields(request: DoseRequest, policy: DosingPolicy = DEFAULT_DOSING_POLICY):
    with pytest.raises(DoseRefused) as caught:
        calculate_dose(request, policy)
    return caught.value.fields


# --- worked examples ------------------------------------------------------------------------------


def test_iv_standard_dose_70_kg():
    c = calculate_dose(iv())
    assert c.dose_mg == D(35)
    assert c.volume_ml == D("3.5")
    assert c.rate_mg_per_min == D("0.875")  # 35 mg / 40 min
    assert c.rate_ml_per_hour == D("5.25")  # 3.5 mL over 40 min
    assert c.effective_mg_per_kg == D("0.5")
    assert c.policy_version == "default-2026-11"
    names = {ceiling.name for ceiling in c.ceilings}
    assert names == {"absolute dose", "weight-based dose", "volume"}


def test_iv_diluted_bag_gives_infusion_pump_rate():
    # 35 mg at 0.35 mg/mL is a 100 mL bag over 40 minutes: 150 mL/h.
    c = calculate_dose(iv(conc="0.35"))
    assert c.volume_ml == D(100)
    assert c.rate_ml_per_hour == D(150)


def test_iv_rounds_to_nearest_half_mg_and_records_it():
    c = calculate_dose(iv(weight="73.3"))  # 36.65 mg
    assert c.exact_dose_mg == D("36.65")
    assert c.dose_mg == D("36.5")
    assert "nearest 0.5 mg" in c.rounding
    assert c.volume_ml == D("3.65")


def test_rounding_never_goes_past_the_weight_based_ceiling():
    # 1.0 mg/kg x 70.8 kg = 70.8 mg, exactly the weight-based ceiling; the nearest 0.5 mg step
    # (71.0) lies above it, so the dose is rounded down to 70.5 instead.
    c = calculate_dose(iv(weight="70.8", mg_per_kg="1.0"))
    assert c.dose_mg == D("70.5")
    assert "rounded down" in c.rounding
    assert c.dose_mg <= D("1.0") * D("70.8")


def test_im_example():
    c = calculate_dose(
        DoseRequest(Route.IM, weight_kg=D(80), mg_per_kg=D("0.5"), concentration_mg_per_ml=D(50))
    )
    assert c.dose_mg == D(40)
    assert c.volume_ml == D("0.8")
    assert c.rate_ml_per_hour is None
    assert c.rate_mg_per_min is None


def test_sc_example_glue2017_top_step():
    c = calculate_dose(
        DoseRequest(Route.SC, weight_kg=D(60), mg_per_kg=D("1.0"), concentration_mg_per_ml=D(50))
    )
    assert c.dose_mg == D(60)
    assert c.volume_ml == D("1.2")


def test_lozenge_weight_based_rounds_to_tablets():
    c = calculate_dose(DoseRequest(Route.SUBLINGUAL_LOZENGE, weight_kg=D(70), mg_per_kg=D(3)))
    assert c.exact_dose_mg == D(210)
    assert c.dose_mg == D(200)
    assert [(u.strength_mg, u.count) for u in c.units] == [(D(100), 2)]


def test_lozenge_fixed_dose_uses_fewest_tablets():
    c = calculate_dose(DoseRequest(Route.SUBLINGUAL_LOZENGE, weight_kg=D(70), mg=D(250)))
    assert c.dose_mg == D(250)
    assert [(u.strength_mg, u.count) for u in c.units] == [(D(100), 2), (D(50), 1)]
    assert c.effective_mg_per_kg == D("3.571")  # truncated, not rounded up


def test_oral_fixed_and_weight_based():
    fixed = calculate_dose(DoseRequest(Route.ORAL, weight_kg=D(70), mg=D(150)))
    assert fixed.dose_mg == D(150)
    weighted = calculate_dose(DoseRequest(Route.ORAL, weight_kg=D(70), mg_per_kg=D("2.0")))
    assert weighted.dose_mg == D(140)
    solution = calculate_dose(
        DoseRequest(Route.ORAL, weight_kg=D(70), mg=D(150), concentration_mg_per_ml=D(10))
    )
    assert solution.volume_ml == D(15)


@pytest.mark.parametrize(("mg", "devices"), [("28", 1), ("56", 2), ("84", 3)])
def test_esketamine_label_doses(mg, devices):
    c = calculate_dose(DoseRequest(Route.INTRANASAL_ESKETAMINE, mg=D(mg)))
    assert c.dose_mg == D(mg)
    assert c.devices == devices
    assert c.ceilings[0].source.key == "SPRAVATO-US"


def test_devices_is_none_for_racemic_routes():
    assert calculate_dose(iv()).devices is None


# --- ceilings: one test each ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "ceiling", "extra"),
    [
        (Route.IV, "1.0", {"concentration_mg_per_ml": D(10), "minutes": D(40)}),
        (Route.IM, "1.5", {"concentration_mg_per_ml": D(100)}),
        (Route.SC, "1.0", {"concentration_mg_per_ml": D(100)}),
        (Route.SUBLINGUAL_LOZENGE, "7.0", {}),
        (Route.ORAL, "7.0", {}),
    ],
)
def test_mg_per_kg_ceiling_per_route(route, ceiling, extra):
    at = DoseRequest(route, weight_kg=D(40), mg_per_kg=D(ceiling), **extra)
    calculate_dose(at)  # exactly at the ceiling is allowed
    above = dataclasses.replace(at, mg_per_kg=D(ceiling) + D("0.01"))
    assert refused_fields(above) == {"mg_per_kg"}


@pytest.mark.parametrize(
    ("route", "max_mg", "mg_per_kg", "extra"),
    [
        (Route.IV, 100, "0.5", {"concentration_mg_per_ml": D(10), "minutes": D(40)}),
        (Route.IM, 150, "1.0", {"concentration_mg_per_ml": D(100)}),
        (Route.SC, 100, "0.5", {"concentration_mg_per_ml": D(100)}),
        (Route.SUBLINGUAL_LOZENGE, 400, "2.0", {}),
        (Route.ORAL, 400, "2.0", {}),
    ],
)
def test_absolute_mg_ceiling_per_route(route, max_mg, mg_per_kg, extra):
    # The mg/kg is within the route's mg/kg ceiling; the weight pushes the mg past the absolute one.
    weight_at_ceiling = D(max_mg) / D(mg_per_kg)
    at = DoseRequest(route, weight_kg=weight_at_ceiling, mg_per_kg=D(mg_per_kg), **extra)
    assert calculate_dose(at).dose_mg == D(max_mg)
    above = dataclasses.replace(at, weight_kg=weight_at_ceiling + D("0.5"))
    with pytest.raises(DoseRefused) as caught:
        calculate_dose(above)
    assert caught.value.fields == {"dose_mg"}
    assert f"at most {max_mg} mg" in caught.value.problems[0].accepts


def test_esketamine_ceiling_is_the_label_maximum():
    assert refused_fields(DoseRequest(Route.INTRANASAL_ESKETAMINE, mg=D(112))) == {"mg"}


def test_esketamine_ceiling_follows_a_stricter_clinic_policy():
    limits = DEFAULT_DOSING_POLICY.routes[Route.INTRANASAL_ESKETAMINE]
    stricter = dataclasses.replace(
        DEFAULT_DOSING_POLICY,
        version="md-2026-12",
        routes={
            **DEFAULT_DOSING_POLICY.routes,
            Route.INTRANASAL_ESKETAMINE: dataclasses.replace(
                limits, max_mg=PolicyValue(D(56), limits.max_mg.source)
            ),
        },
    )
    with pytest.raises(DoseRefused) as caught:
        calculate_dose(DoseRequest(Route.INTRANASAL_ESKETAMINE, mg=D(84)), stricter)
    assert "28 or 56 mg" in caught.value.problems[0].accepts
    assert calculate_dose(iv(), stricter).policy_version == "md-2026-12"


def test_fixed_dose_mg_per_kg_ceiling():
    # 400 mg at 50 kg is 8 mg/kg, above the 7 mg/kg lozenge ceiling though within 400 mg.
    request = DoseRequest(Route.SUBLINGUAL_LOZENGE, weight_kg=D(50), mg=D(400))
    with pytest.raises(DoseRefused) as caught:
        calculate_dose(request)
    assert caught.value.fields == {"mg"}
    assert "8 mg/kg" in caught.value.problems[0].message


def test_fixed_dose_absolute_ceiling():
    assert refused_fields(DoseRequest(Route.ORAL, weight_kg=D(100), mg=D(405))) == {"mg"}


def test_volume_ceiling_im():
    # 1.5 mg/kg x 100 kg = 150 mg at 10 mg/mL is 15 mL: too much for one IM site (5 mL).
    request = DoseRequest(
        Route.IM, weight_kg=D(100), mg_per_kg=D("1.5"), concentration_mg_per_ml=D(10)
    )
    assert refused_fields(request) == {"volume_ml"}


def test_volume_ceiling_sc():
    request = DoseRequest(
        Route.SC, weight_kg=D(60), mg_per_kg=D(1), concentration_mg_per_ml=D(10)
    )  # 6 mL > 2 mL
    assert refused_fields(request) == {"volume_ml"}


def test_volume_ceiling_iv_bag():
    assert refused_fields(iv(conc="0.1")) == {"volume_ml"}  # 350 mL > 250 mL


def test_volume_too_small_to_draw_up():
    request = DoseRequest(
        Route.IM, weight_kg=D(40), mg_per_kg=D("0.1"), concentration_mg_per_ml=D(100)
    )  # 4 mg at 100 mg/mL = 0.04 mL
    assert refused_fields(request) == {"volume_ml"}


# --- refusals: one test each ----------------------------------------------------------------------


@pytest.mark.parametrize("weight", ["29.9", "300.1", "0", "-70"])
def test_weight_out_of_bounds(weight):
    assert refused_fields(iv(weight=weight)) == {"weight_kg"}


def test_weight_bounds_are_inclusive():
    calculate_dose(iv(weight="30"))
    calculate_dose(iv(weight="300", mg_per_kg="0.3"))


def test_weight_missing_for_racemic_route():
    request = dataclasses.replace(iv(), weight_kg=None)
    assert refused_fields(request) == {"weight_kg"}


def test_mg_per_kg_below_route_floor():
    assert refused_fields(iv(mg_per_kg="0.05")) == {"mg_per_kg"}


def test_mg_per_kg_not_positive():
    assert refused_fields(iv(mg_per_kg="0")) == {"mg_per_kg"}


def test_mg_per_kg_not_a_number():
    assert refused_fields(iv(mg_per_kg="NaN")) == {"mg_per_kg"}


def test_no_dose_given():
    request = dataclasses.replace(iv(), mg_per_kg=None)
    assert refused_fields(request) == {"mg_per_kg"}


def test_both_mg_and_mg_per_kg():
    request = DoseRequest(Route.ORAL, weight_kg=D(70), mg_per_kg=D(2), mg=D(140))
    assert refused_fields(request) == {"mg"}


def test_fixed_mg_refused_for_weight_based_injection():
    request = dataclasses.replace(iv(), mg_per_kg=None, mg=D(35))
    with pytest.raises(DoseRefused) as caught:
        calculate_dose(request)
    assert caught.value.fields == {"mg"}
    assert "mg_per_kg" in caught.value.problems[0].accepts


def test_fixed_mg_not_a_whole_number_of_tablets():
    request = DoseRequest(Route.SUBLINGUAL_LOZENGE, weight_kg=D(70), mg=D(120))
    assert refused_fields(request) == {"mg"}


def test_esketamine_weight_based_request_is_refused_with_a_message():
    request = DoseRequest(Route.INTRANASAL_ESKETAMINE, weight_kg=D(70), mg_per_kg=D("0.5"))
    with pytest.raises(DoseRefused) as caught:
        calculate_dose(request)
    problem = next(p for p in caught.value.problems if p.field == "mg_per_kg")
    assert "by device" in problem.message
    assert "28, 56 or 84" in problem.accepts


@pytest.mark.parametrize("mg", ["0", "14", "42", "70"])
def test_esketamine_only_28_56_84(mg):
    assert refused_fields(DoseRequest(Route.INTRANASAL_ESKETAMINE, mg=D(mg))) == {"mg"}


def test_concentration_out_of_bounds():
    assert refused_fields(iv(conc="200")) == {"concentration_mg_per_ml"}
    assert refused_fields(iv(conc="0.05")) == {"concentration_mg_per_ml"}


def test_concentration_missing_for_injection():
    request = dataclasses.replace(iv(), concentration_mg_per_ml=None)
    assert refused_fields(request) == {"concentration_mg_per_ml"}


def test_concentration_does_not_apply_to_lozenge():
    request = DoseRequest(
        Route.SUBLINGUAL_LOZENGE, weight_kg=D(70), mg=D(200), concentration_mg_per_ml=D(10)
    )
    assert refused_fields(request) == {"concentration_mg_per_ml"}


def test_duration_out_of_bounds():
    assert refused_fields(iv(minutes="1")) == {"minutes"}
    assert refused_fields(iv(minutes="101")) == {"minutes"}


def test_duration_missing_for_iv():
    assert refused_fields(dataclasses.replace(iv(), minutes=None)) == {"minutes"}


def test_duration_does_not_apply_to_im():
    request = DoseRequest(
        Route.IM,
        weight_kg=D(70),
        mg_per_kg=D("0.5"),
        concentration_mg_per_ml=D(50),
        minutes=D(40),
    )
    assert refused_fields(request) == {"minutes"}


def test_dose_rounding_to_zero_is_refused():
    limits = DEFAULT_DOSING_POLICY.routes[Route.ORAL]
    coarse = dataclasses.replace(
        DEFAULT_DOSING_POLICY,
        routes={
            **DEFAULT_DOSING_POLICY.routes,
            Route.ORAL: dataclasses.replace(
                limits, dose_step_mg=PolicyValue(D(50), limits.dose_step_mg.source)
            ),
        },
    )
    request = DoseRequest(Route.ORAL, weight_kg=D(40), mg_per_kg=D("0.25"))  # 10 mg -> 0
    assert refused_fields(request, coarse) == {"dose_mg"}


def test_every_problem_is_listed_at_once():
    request = DoseRequest(
        Route.IV,
        weight_kg=D(10),
        mg_per_kg=D(3),
        concentration_mg_per_ml=D(500),
        minutes=D(500),
    )
    assert refused_fields(request) == {
        "weight_kg",
        "mg_per_kg",
        "concentration_mg_per_ml",
        "minutes",
    }


def test_problem_names_what_is_accepted_with_its_source():
    with pytest.raises(DoseRefused) as caught:
        calculate_dose(iv(mg_per_kg="1.2"))
    (problem,) = caught.value.problems
    assert "1.2 mg/kg" in problem.message
    assert "at most 1 mg/kg" in problem.accepts
    assert "§3 (unverified)" in problem.accepts


# --- ascending schedule ---------------------------------------------------------------------------


def test_ascending_schedule_glue2017_then_holds_top_step():
    base = DoseRequest(Route.SC, weight_kg=D(80), concentration_mg_per_ml=D(50))
    schedule = ascending_schedule(base, sessions=5)
    assert [c.request.mg_per_kg for c in schedule] == [
        D("0.25"),
        D("0.5"),
        D("1.0"),
        D("1.0"),
        D("1.0"),
    ]
    assert [c.dose_mg for c in schedule] == [D(20), D(40), D(80), D(80), D(80)]


def test_ascending_schedule_shorter_than_steps():
    base = DoseRequest(Route.SC, weight_kg=D(80), concentration_mg_per_ml=D(50))
    assert len(ascending_schedule(base, sessions=2)) == 2


def test_ascending_schedule_refuses_step_above_ceiling_naming_the_session():
    base = DoseRequest(Route.IV, weight_kg=D(70), concentration_mg_per_ml=D(10), minutes=D(40))
    with pytest.raises(DoseRefused) as caught:
        ascending_schedule(base, sessions=4, steps_mg_per_kg=(D("0.5"), D("1.2")))
    assert caught.value.fields == {
        "session 2: mg_per_kg",
        "session 3: mg_per_kg",
        "session 4: mg_per_kg",
    }


def test_ascending_schedule_refuses_esketamine_and_non_ascending_steps():
    with pytest.raises(DoseRefused) as caught:
        ascending_schedule(
            DoseRequest(Route.INTRANASAL_ESKETAMINE),
            sessions=0,
            steps_mg_per_kg=(D("0.5"), D("0.5")),
        )
    assert caught.value.fields == {"route", "sessions", "steps_mg_per_kg"}


def test_glue2017_steps_are_the_reference_values():
    assert (D("0.25"), D("0.5"), D("1.0")) == GLUE2017_ASCENDING_MG_PER_KG


# --- provenance -----------------------------------------------------------------------------------


def _all_sources() -> list[Source]:
    found: list[Source] = []
    policy = DEFAULT_DOSING_POLICY
    for f in dataclasses.fields(policy):
        value = getattr(policy, f.name)
        if isinstance(value, PolicyValue):
            found.append(value.source)
    for limits in policy.routes.values():
        for f in dataclasses.fields(limits):
            value = getattr(limits, f.name)
            if isinstance(value, PolicyValue):
                found.append(value.source)
    for facts in ROUTE_FACTS.values():
        found.extend(fact.source for fact in facts.facts)
    return found


def test_every_source_key_is_in_the_reference():
    text = REFERENCE.read_text(encoding="utf-8")
    sections = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", text, flags=re.MULTILINE))
    for source in _all_sources():
        if source.key.startswith("§"):
            assert source.key[1:] in sections, source
        else:
            assert f"| {source.key} |" in text, source


def test_unverified_policy_values_are_clinic_policy():
    for source in _all_sources():
        if source.verification is Verification.UNVERIFIED:
            assert source.is_clinic_policy
    assert all(
        v.source.evidence is Evidence.CLINIC_POLICY
        for limits in DEFAULT_DOSING_POLICY.routes.values()
        for v in (limits.min_mg_per_kg, limits.max_mg_per_kg)
        if v is not None
    )


def test_every_route_has_limits_and_facts():
    assert set(DEFAULT_DOSING_POLICY.routes) == set(Route)
    assert set(ROUTE_FACTS) == set(Route)
    assert all(route.label and route.facts.facts for route in Route)


# --- properties -----------------------------------------------------------------------------------

WEIGHTS = st.decimals(min_value=30, max_value=300, places=1)
MG_PER_KG = st.decimals(min_value=D("0.1"), max_value=D("1.0"), places=2)


@settings(max_examples=150, deadline=None)
@given(weight=WEIGHTS, mg_per_kg=MG_PER_KG, factor=st.integers(min_value=2, max_value=3))
def test_dose_is_linear_in_weight_and_mg_per_kg(weight, mg_per_kg, factor):
    def exact(w: D, m: D) -> D | None:
        try:
            return calculate_dose(iv(weight=str(w), mg_per_kg=str(m), conc="1")).exact_dose_mg
        except DoseRefused:
            return None

    base = exact(weight, mg_per_kg)
    if base is None:
        return
    assert base == weight * mg_per_kg
    scaled_weight = exact(weight / factor, mg_per_kg)
    if scaled_weight is not None:
        assert scaled_weight * factor == pytest.approx(base)
    scaled_dose = exact(weight, mg_per_kg / factor)
    if scaled_dose is not None:
        assert scaled_dose * factor == pytest.approx(base)


@settings(max_examples=300, deadline=None)
@given(
    route=st.sampled_from([Route.IV, Route.IM, Route.SC, Route.SUBLINGUAL_LOZENGE, Route.ORAL]),
    weight=st.decimals(min_value=20, max_value=320, places=2),
    mg_per_kg=st.decimals(min_value=D("0.01"), max_value=D("9"), places=3)
    | st.sampled_from([D("1.0"), D("1.5"), D("7.0")]),  # exactly at a ceiling: rounding matters
    conc=st.sampled_from([D(10), D(50), D(100)]),
)
def test_a_dose_never_exceeds_a_ceiling_it_is_refused_instead(route, weight, mg_per_kg, conc):
    facts = ROUTE_FACTS[route]
    request = DoseRequest(
        route,
        weight_kg=weight,
        mg_per_kg=mg_per_kg,
        concentration_mg_per_ml=conc if facts.needs_concentration else None,
        minutes=D(40) if facts.needs_duration else None,
    )
    limits = DEFAULT_DOSING_POLICY.routes[route]
    assert limits.max_mg_per_kg is not None
    try:
        c = calculate_dose(request)
    except DoseRefused as refused:
        refused_for = refused.fields
    else:
        refused_for = frozenset()
    if refused_for:
        over = (
            mg_per_kg > limits.max_mg_per_kg.value
            or weight * mg_per_kg > limits.max_mg.value
            or not D(30) <= weight <= D(300)
        )
        assert over or refused_for & {"mg_per_kg", "volume_ml", "dose_mg"}
        return
    assert c.dose_mg <= limits.max_mg.value
    assert c.dose_mg <= limits.max_mg_per_kg.value * weight
    assert abs(c.dose_mg - c.exact_dose_mg) < limits.dose_step_mg.value
    assert c.dose_mg % limits.dose_step_mg.value == 0
    if c.volume_ml is not None:
        assert c.volume_ml * conc <= c.dose_mg
        assert limits.max_volume_ml is None or c.volume_ml <= limits.max_volume_ml.value


FAULTS = {
    "weight_kg": {"weight_kg": D(10)},
    "mg_per_kg": {"mg_per_kg": D(5)},
    "concentration_mg_per_ml": {"concentration_mg_per_ml": D(1000)},
    "minutes": {"minutes": D(1)},
}


@settings(max_examples=60, deadline=None)
@given(faults=st.sets(st.sampled_from(sorted(FAULTS)), min_size=1))
def test_refusals_list_every_problem(faults):
    request = iv()
    for fault in faults:
        request = dataclasses.replace(request, **FAULTS[fault])
    assert refused_fields(request) == faults


def test_policy_values_carry_sources():
    assert isinstance(DEFAULT_DOSING_POLICY.min_weight_kg.source, Source)
    assert DEFAULT_DOSING_POLICY.min_weight_kg.value == D(30)
    assert DEFAULT_DOSING_POLICY.max_weight_kg.value == D(300)
