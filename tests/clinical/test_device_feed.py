"""A monitor's observations mapped to a reading: MDC and local codes, units, times, and never a crash."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from kapstone.clinical.device_feed import (
    MDC_CODES,
    MDC_UNITS,
    SPECIAL_VALUES,
    Observation,
    Quantity,
    kpa_from_mmhg,
    map_observations,
    mmhg_from_kpa,
    parse_code_map,
    parse_hl7_time,
)

ZONE = ZoneInfo("America/New_York")
RECEIVED = dt.datetime(2026, 12, 6, 15, 0, 30, tzinfo=dt.UTC)  # 10:00:30 in New York
MMHG = "266016"
KPA = "265987"


def obs(code, value, unit=MMHG, at="20261206100000-0500", system="MDC", status="F", **kw):
    return Observation(
        code=code,
        coding_system=system,
        value=value,
        unit=unit,
        unit_system="MDC" if unit.isdigit() else "UCUM",
        status=status,
        observed_at=at,
        **kw,
    )


def mapped(observations, local_codes=None, message_time="20261206100000-0500"):
    return map_observations(
        observations,
        local_codes=local_codes or {},
        message_time=message_time,
        received_at=RECEIVED,
        zone=ZONE,
    )


GE_STYLE = [
    Observation(code="69965", text="MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS", coding_system="MDC"),
    obs("150021", "142"),
    obs("150022", "91"),
    obs("150023", "108"),
    obs("147842", "78", unit="264864"),
    obs("150456", "97", unit="262688"),
    obs("151562", "14", unit="264928"),
]


def test_a_monitor_sending_mdc_codes_gives_one_full_reading():
    result = mapped(GE_STYLE)
    assert result.problems == ()
    assert result.ignored == ("69965",)
    r = result.reading
    assert r is not None
    assert (r.systolic, r.diastolic, r.mean_arterial) == (142, 91, 108)
    assert (r.heart_rate, r.spo2, r.respiratory_rate) == (78, 97, 14)
    assert r.observed_at == dt.datetime(2026, 12, 6, 15, 0, tzinfo=dt.UTC)


def test_a_gateway_with_local_codes_is_read_through_its_code_map():
    codes, problems = parse_code_map(
        {
            "170": "systolic",
            "171": "diastolic",
            "101": "heart_rate",
            "160": "spo2",
            "151": "respiratory_rate",
        }
    )
    assert problems == ()
    result = mapped(
        [
            obs("170", "120", unit="mm[Hg]", system="99MNDRY"),
            obs("171", "80", unit="mm[Hg]", system="99MNDRY"),
            obs("101", "66", unit="/min", system="99MNDRY"),
            obs("160", "98", unit="%", system="99MNDRY"),
            obs("151", "12", unit="{breath}/min", system="99MNDRY"),
        ],
        codes,
    )
    assert result.problems == ()
    r = result.reading
    assert r is not None
    assert (r.systolic, r.diastolic, r.heart_rate, r.spo2, r.respiratory_rate) == (
        120,
        80,
        66,
        98,
        12,
    )


def test_kpa_is_converted_to_mmhg():
    result = mapped([obs("150021", "18.9", unit=KPA), obs("150022", "12.0", unit="kPa")])
    assert result.reading is not None
    assert (result.reading.systolic, result.reading.diastolic) == (142, 90)


def test_a_pressure_without_a_unit_is_never_assumed_to_be_mmhg():
    result = mapped([obs("150021", "18", unit=""), obs("147842", "70", unit="264864")])
    assert result.reading is not None
    assert result.reading.systolic is None
    assert result.reading.heart_rate == 70
    assert any("unit" in p.message for p in result.problems)


def test_a_rate_in_mmhg_is_refused():
    result = mapped([obs("147842", "70", unit=MMHG)])
    assert result.reading is None
    assert "cannot be in mmHg" in result.problems[0].message


def test_unknown_codes_with_values_are_problems_and_the_rest_is_read():
    result = mapped([obs("150344", "36.6", unit="268192"), obs("150456", "96", unit="%")])
    assert result.reading is not None and result.reading.spo2 == 96
    assert [p.message for p in result.problems] == ["this code is not in the device's code map."]


def test_the_no_value_sentinel_and_unusable_status_are_not_readings():
    result = mapped([obs("150456", "8388607", unit="%"), obs("147842", "80", "264864", status="X")])
    assert result.reading is None
    assert len(result.problems) == 2


def test_the_oximeter_pulse_stands_in_for_heart_rate_only_without_an_ecg():
    alone = mapped([obs("149530", "71", unit="264864")])
    assert alone.reading is not None and alone.reading.heart_rate == 71
    both = mapped([obs("149530", "71", unit="264864"), obs("147842", "74", unit="264864")])
    assert both.reading is not None and both.reading.heart_rate == 74


def test_the_reading_takes_the_blood_pressure_time_and_leaves_out_stale_values():
    result = mapped(
        [
            obs("150021", "130", at="20261206095900-0500"),
            obs("150456", "97", unit="%", at="20261206100000-0500"),
            obs("151562", "15", unit="264928", at="20261206094000-0500"),
        ]
    )
    r = result.reading
    assert r is not None
    assert r.observed_at == dt.datetime(2026, 12, 6, 14, 59, tzinfo=dt.UTC)
    assert r.spo2 == 97 and r.respiratory_rate is None
    assert any("left out" in p.message for p in result.problems)


def test_a_time_without_offset_is_the_clinics_local_time_and_obx14_falls_back_to_the_message():
    result = mapped([obs("150456", "97", unit="%", at="")], message_time="202612061000")
    assert result.reading is not None
    assert result.reading.observed_at == dt.datetime(2026, 12, 6, 15, 0, tzinfo=dt.UTC)


def test_a_clock_far_ahead_is_refused_and_a_little_ahead_is_dated_to_arrival():
    ahead = mapped([obs("150456", "97", unit="%", at="20261206101000-0500")])
    assert ahead.reading is None and "clock" in ahead.problems[0].message
    slightly = mapped([obs("150456", "97", unit="%", at="20261206100100-0500")])
    assert slightly.reading is not None and slightly.reading.observed_at == RECEIVED


def test_parse_hl7_time():
    assert parse_hl7_time("20261206100000.25+0100", ZONE) == dt.datetime(
        2026, 12, 6, 9, 0, 0, 250000, tzinfo=dt.UTC
    )
    assert parse_hl7_time("20261206", ZONE) is None  # to the day: of no use at the chair
    assert parse_hl7_time("20261345100000", ZONE) is None
    assert parse_hl7_time("nonsense", ZONE) is None


def test_code_map_entries_are_checked():
    codes, problems = parse_code_map({"HR": "heart_rate", "x|y": "spo2", "T": "temperature"})
    assert codes == {"HR": Quantity.HEART_RATE}
    assert len(problems) == 2


def test_the_mdc_tables_hold_the_codes_the_issue_names():
    assert {k: v.value for k, v in MDC_CODES.items()} == {
        "150021": "systolic",
        "150022": "diastolic",
        "150023": "mean_arterial",
        "147842": "heart_rate",
        "149530": "pulse_rate",
        "150456": "spo2",
        "151562": "respiratory_rate",
    }
    assert MDC_UNITS["266016"].value == "mmHg" and MDC_UNITS["265987"].value == "kPa"


# --- properties ------------------------------------------------------------------------------

pressures = st.decimals(min_value=Decimal("1"), max_value=Decimal("400"), places=3)


@given(pressures)
def test_kpa_and_mmhg_convert_back_exactly_enough(mmhg):
    assert abs(mmhg_from_kpa(kpa_from_mmhg(mmhg)) - mmhg) < Decimal("1e-20")


@given(st.integers(min_value=20, max_value=300))
def test_a_whole_mmhg_sent_in_kpa_to_two_decimals_reads_back_within_one(mmhg):
    kpa = (kpa_from_mmhg(Decimal(mmhg))).quantize(Decimal("0.01"))
    result = mapped([obs("150021", str(kpa), unit=KPA)])
    assert result.reading is not None
    assert abs(result.reading.systolic - mmhg) <= 1


text = st.text(max_size=30)
observations = st.builds(
    Observation,
    code=st.one_of(text, st.sampled_from(sorted(MDC_CODES)), st.sampled_from(["170", "101"])),
    text=text,
    coding_system=st.one_of(text, st.just("MDC")),
    value=st.one_of(
        text,
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.sampled_from(sorted(SPECIAL_VALUES)).map(str),
    ),
    unit=st.one_of(text, st.sampled_from(sorted(MDC_UNITS))),
    unit_text=text,
    unit_system=text,
    status=text,
    observed_at=st.one_of(text, st.just("20261206100000-0500"), st.just("99999999999999+9999")),
)


@given(
    st.lists(observations, max_size=12),
    text,
    st.dictionaries(st.sampled_from(["170", "101", "x"]), st.sampled_from(list(Quantity))),
)
def test_any_input_gives_a_result_and_never_an_exception(items, message_time, local):
    result = mapped(items, local, message_time)
    if result.reading is not None:
        assert not result.reading.is_empty
        assert result.reading.observed_at <= RECEIVED
        for value in (result.reading.systolic, result.reading.spo2, result.reading.heart_rate):
            assert value is None or 0 <= value <= 1000
    else:
        assert result.problems


@given(st.dictionaries(text, text, max_size=8))
def test_any_code_map_is_checked_without_an_exception(entries):
    codes, problems = parse_code_map(entries)
    assert len(codes) + len(problems) == len(entries)
