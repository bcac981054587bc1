"""Vital-sign validation: every bad field named, never clamped; plausibility limits are data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.provenance import Evidence
from kapstone.clinical.vital_signs import (
    DEFAULT_PLAUSIBILITY_LIMITS,
    DissociationScale,
    InvalidVitalSign,
    PlausibilityLimits,
    PlausibleRange,
    SedationLevel,
    validate_dissociation_rating,
    validate_reading,
)

T0 = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
LIMITS = DEFAULT_PLAUSIBILITY_LIMITS


def good(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "taken_at": T0,
        "systolic_mmhg": 120,
        "diastolic_mmhg": 80,
        "heart_rate_bpm": 72,
        "spo2_percent": 98,
        "respiratory_rate_per_min": 14,
    }
    values.update(overrides)
    return values


def problems_of(**overrides: Any) -> dict[str, str]:
    with pytest.raises(InvalidVitalSign) as caught:
        validate_reading(**good(**overrides))
    return {p.field: p.message for p in caught.value.problems}


def test_valid_reading_is_kept_exactly() -> None:
    v = validate_reading(**good(temperature_c=Decimal("36.8"), sedation="drowsy"))
    assert (v.systolic_mmhg, v.diastolic_mmhg, v.heart_rate_bpm) == (120, 80, 72)
    assert (v.spo2_percent, v.respiratory_rate_per_min) == (98, 14)
    assert v.temperature_c == pytest.approx(36.8)
    assert v.sedation is SedationLevel.DROWSY
    assert v.taken_at == T0


def test_optional_fields_may_be_absent() -> None:
    v = validate_reading(**good())
    assert v.temperature_c is None
    assert v.sedation is None


def test_diastolic_must_be_below_systolic() -> None:
    assert problems_of(systolic_mmhg=120, diastolic_mmhg=130) == {
        "diastolic_mmhg": "diastolic 130 is not below systolic 120"
    }
    assert "diastolic_mmhg" in problems_of(systolic_mmhg=120, diastolic_mmhg=120)


def test_spo2_message_names_the_accepted_range() -> None:
    assert problems_of(spo2_percent=101) == {"spo2_percent": "SpO2 must be 50\u2013100 %, got 101"}
    assert problems_of(spo2_percent=49) == {"spo2_percent": "SpO2 must be 50\u2013100 %, got 49"}


def test_every_bad_field_is_reported_at_once() -> None:
    found = problems_of(
        systolic_mmhg=400,
        heart_rate_bpm="fast",
        spo2_percent=None,
        respiratory_rate_per_min=True,
        temperature_c=float("nan"),
        sedation="sleepy",
        taken_at=datetime(2026, 11, 3, 10, 0),  # naive on purpose
    )
    assert set(found) == {
        "systolic_mmhg",
        "heart_rate_bpm",
        "spo2_percent",
        "respiratory_rate_per_min",
        "temperature_c",
        "sedation",
        "taken_at",
    }
    assert "300" in found["systolic_mmhg"]
    assert "whole number" in found["heart_rate_bpm"]
    assert "required" in found["spo2_percent"]
    assert "time zone" in found["taken_at"]
    assert "alert" in found["sedation"]  # lists the accepted levels


@pytest.mark.parametrize("value", [120.0, 120.5, "120", Decimal(120), True])
def test_measurements_must_be_whole_numbers_of_int_type(value: object) -> None:
    assert "systolic_mmhg" in problems_of(systolic_mmhg=value)


def test_no_clamping_just_past_each_limit() -> None:
    for field, rng in (
        ("systolic_mmhg", LIMITS.systolic_mmhg),
        ("heart_rate_bpm", LIMITS.heart_rate_bpm),
        ("spo2_percent", LIMITS.spo2_percent),
        ("respiratory_rate_per_min", LIMITS.respiratory_rate_per_min),
    ):
        assert field in problems_of(**{field: int(rng.high) + 1})
        assert field in problems_of(**{field: int(rng.low) - 1})


def test_temperature_limits_and_other_time_zones() -> None:
    assert "temperature_c" in problems_of(temperature_c=43.1)
    assert "temperature_c" in problems_of(temperature_c=29.9)
    assert validate_reading(**good(temperature_c=43)).temperature_c == 43.0
    east = timezone(timedelta(hours=10))
    assert validate_reading(**good(taken_at=T0.astimezone(east))).taken_at == T0


def test_limits_are_data_with_sources_and_can_be_changed() -> None:
    for rng in (
        LIMITS.systolic_mmhg,
        LIMITS.diastolic_mmhg,
        LIMITS.heart_rate_bpm,
        LIMITS.spo2_percent,
        LIMITS.respiratory_rate_per_min,
        LIMITS.temperature_c,
    ):
        assert rng.source.evidence is Evidence.CLINIC_POLICY
        assert rng.source.is_clinic_policy
    strict = PlausibilityLimits(
        spo2_percent=PlausibleRange(70, 100, "%", LIMITS.spo2_percent.source), version="test"
    )
    with pytest.raises(InvalidVitalSign):
        validate_reading(**good(spo2_percent=60), limits=strict)
    assert validate_reading(**good(spo2_percent=60)).spo2_percent == 60


def test_sedation_scale_is_ordered_least_to_most() -> None:
    ranks = [level.rank for level in SedationLevel]
    assert ranks == sorted(ranks) == list(range(5))
    assert SedationLevel.ALERT.rank < SedationLevel.UNRESPONSIVE.rank
    assert all(level.label for level in SedationLevel)


def test_dissociation_rating_ranges() -> None:
    r = validate_dissociation_rating(scale="cadss_6", total=24, rated_at=T0)
    assert (r.scale, r.total) == (DissociationScale.CADSS_6, 24)
    assert validate_dissociation_rating(scale=DissociationScale.CADSS, total=92, rated_at=T0)
    with pytest.raises(InvalidVitalSign) as caught:
        validate_dissociation_rating(scale="cadss_6", total=25, rated_at=T0)
    assert "CADSS-6 total must be 0\u201324" in str(caught.value)
    with pytest.raises(InvalidVitalSign) as caught:
        validate_dissociation_rating(scale="des", total=3, rated_at=T0)
    assert caught.value.problems[0].field == "scale"
    with pytest.raises(InvalidVitalSign):
        validate_dissociation_rating(scale="cadss", total=-1, rated_at=T0)


# --- properties -------------------------------------------------------------------------------

INT_FIELDS = {
    "systolic_mmhg": LIMITS.systolic_mmhg,
    "diastolic_mmhg": LIMITS.diastolic_mmhg,
    "heart_rate_bpm": LIMITS.heart_rate_bpm,
    "spo2_percent": LIMITS.spo2_percent,
    "respiratory_rate_per_min": LIMITS.respiratory_rate_per_min,
}


@st.composite
def in_range_reading(draw: st.DrawFn) -> dict[str, Any]:
    systolic = draw(st.integers(int(LIMITS.systolic_mmhg.low), int(LIMITS.systolic_mmhg.high)))
    diastolic_high = min(int(LIMITS.diastolic_mmhg.high), systolic - 1)
    return good(
        systolic_mmhg=systolic,
        diastolic_mmhg=draw(st.integers(int(LIMITS.diastolic_mmhg.low), diastolic_high)),
        heart_rate_bpm=draw(st.integers(20, 250)),
        spo2_percent=draw(st.integers(50, 100)),
        respiratory_rate_per_min=draw(st.integers(2, 70)),
        temperature_c=draw(st.none() | st.floats(30, 43)),
        sedation=draw(st.none() | st.sampled_from(SedationLevel)),
    )


@settings(max_examples=200, deadline=None)
@given(in_range_reading())
def test_every_in_range_reading_is_accepted_unchanged(values: dict[str, Any]) -> None:
    v = validate_reading(**values)
    for field in INT_FIELDS:
        assert getattr(v, field) == values[field]


@settings(max_examples=300, deadline=None)
@given(st.data(), st.sampled_from(sorted(INT_FIELDS)))
def test_every_out_of_range_value_is_rejected_for_that_field(
    data: st.DataObject, field: str
) -> None:
    rng = INT_FIELDS[field]
    bad = data.draw(
        st.integers(max_value=int(rng.low) - 1) | st.integers(min_value=int(rng.high) + 1)
    )
    # Keep the other fields valid and the BP pair consistent unless it is the field under test.
    overrides: dict[str, Any] = {"systolic_mmhg": 299, "diastolic_mmhg": 80} | {field: bad}
    assert field in problems_of(**overrides)
