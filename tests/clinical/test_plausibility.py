"""The strict number reader and the plausibility limits, on their own (pure, no database)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapstone.clinical import plausibility as limits
from kapstone.clinical.dosing import DEFAULT_DOSING_POLICY
from kapstone.clinical.numbers import (
    MAX_NUMBER_CHARS,
    NumberError,
    NumberFormat,
    parse_number,
    parse_whole,
)
from kapstone.clinical.provenance import Source
from kapstone.clinical.routes import Route

DOSE = limits.DOSE_MG  # two decimal places, unsigned
SIGNED = NumberFormat("a change", "-1.5", places=3, signed=True)
ACCEPTED = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


# --- the reader -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("34.5", Decimal("34.5")), (" 35 ", Decimal(35)), ("0.25", Decimal("0.25")), ("7.", 7)],
)
def test_plain_ascii_numbers_are_read(text, value):
    assert parse_number(text, DOSE) == value


@pytest.mark.parametrize(
    "text",
    [
        "²",  # superscript two: str.isdigit() says yes, int() then raises
        "3²",
        "٣٤",  # Arabic-Indic digits: int() and Decimal() read them as 34
        "３４",  # full-width digits
        "1_000",  # int() accepts underscores
        "1e3",  # Decimal() accepts exponents
        "NaN",
        "Infinity",
        "-5",  # the dose is unsigned
        "12.345",  # three decimals where two are allowed
        "",
        "   ",
        ".",
        "1.2.3",
        "0x10",
        "9" * 5000,  # int() raises beyond 4,300 digits; refused before any conversion
    ],
)
def test_everything_else_is_refused_with_a_hint(text):
    with pytest.raises(NumberError) as refused:
        parse_number(text, DOSE)
    message = str(refused.value)
    assert "the dose in mg" in message and "e.g. 34.5." in message


def test_an_over_long_number_says_so():
    with pytest.raises(NumberError, match="too long for the dose in mg"):
        parse_number("1" * (MAX_NUMBER_CHARS + 1), DOSE)


def test_whole_numbers_refuse_a_decimal_point():
    with pytest.raises(NumberError, match="whole number"):
        parse_whole("2.5", limits.DEVICES)
    assert parse_whole("3", limits.DEVICES) == 3


@given(st.text(max_size=40))
def test_the_reader_never_raises_anything_but_its_own_error(text):
    try:
        value = parse_number(text, SIGNED)
    except NumberError:
        return
    assert isinstance(value, Decimal) and value.is_finite()


@given(st.text(max_size=40))
def test_it_accepts_exactly_ascii_digits_with_one_point_and_a_sign(text):
    stripped = text.strip()
    decimals = stripped.partition(".")[2].rstrip("0")
    should = (
        bool(ACCEPTED.fullmatch(stripped))
        and len(stripped) <= MAX_NUMBER_CHARS
        and len(decimals) <= SIGNED.places
    )
    try:
        value = parse_number(text, SIGNED)
    except NumberError:
        assert not should
    else:
        assert should
        assert value == Decimal(stripped if not stripped.endswith(".") else stripped + "0")


@given(
    st.decimals(
        min_value=-(10**9), max_value=10**9, places=3, allow_nan=False, allow_infinity=False
    )
)
def test_every_plain_number_reads_back_as_itself(number):
    assert parse_number(f"{number:f}", SIGNED) == number


# --- the limits -----------------------------------------------------------------------------------


def test_the_dose_ceiling_is_the_calculators_own():
    for route in Route:
        assert limits.dose_ceiling(route) == DEFAULT_DOSING_POLICY.limits(route).max_mg
    iv = limits.dose_range(Route.IV)
    assert iv.problem(Decimal(35)) is None
    assert iv.problem(Decimal("100")) is None
    assert "not plausible" in (iv.problem(Decimal("99999.99")) or "")
    assert iv.problem(Decimal(0)) is not None and iv.problem(Decimal(-1)) is not None


def test_concentration_and_rate_are_strictly_positive_and_bounded():
    assert limits.CONCENTRATION_MG_PER_ML.problem(Decimal(10)) is None
    for bad in (Decimal(0), Decimal(-10), Decimal("100.001")):
        assert limits.CONCENTRATION_MG_PER_ML.problem(bad) is not None
    assert limits.INFUSION_RATE_ML_PER_HOUR.high == Decimal(7500)
    assert limits.INFUSION_RATE_ML_PER_HOUR.problem(Decimal("5.25")) is None
    for bad in (Decimal(0), Decimal(-5), Decimal(7501)):
        assert limits.INFUSION_RATE_ML_PER_HOUR.problem(bad) is not None


def test_a_dose_more_than_a_tenth_from_the_plan_needs_the_prescriber():
    assert not limits.needs_prescriber_decision(planned_mg=Decimal(35), given_mg=Decimal("38.5"))
    assert limits.needs_prescriber_decision(planned_mg=Decimal(35), given_mg=Decimal("38.51"))
    assert limits.needs_prescriber_decision(planned_mg=Decimal(35), given_mg=Decimal(30))


def test_text_lot_expiry_and_clinical_dates():
    assert limits.text_problem("x" * 2000) is None
    assert "1,000,000 characters" in (limits.text_problem("x" * 1_000_000, "The reason") or "")
    today = dt.date(2026, 12, 6)
    assert limits.lot_expiry_problem(dt.date(2031, 12, 6), today=today) is None
    assert "more than 5 years" in (
        limits.lot_expiry_problem(dt.date(9999, 1, 1), today=today) or ""
    )
    assert limits.clinical_date_problem(today, today=today) is None
    assert "before 1900" in (limits.clinical_date_problem(dt.date(1800, 1, 1), today=today) or "")
    born = dt.date(1980, 5, 1)
    assert "before the patient's birth" in (
        limits.clinical_date_problem(dt.date(1979, 1, 1), today=today, born=born) or ""
    )
    assert "future" in (limits.clinical_date_problem(dt.date(2026, 12, 7), today=today) or "")
    now = dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC)
    assert limits.clinical_time_problem(now + dt.timedelta(minutes=4), now=now) is None
    assert limits.clinical_time_problem(now + dt.timedelta(minutes=6), now=now) is not None


def test_every_limit_says_where_it_comes_from():
    """A technical limit says it is not a clinical fact; a clinical one cites the reference."""
    for name in dir(limits):
        value = getattr(limits, name)
        if isinstance(value, limits.Limit | limits.Range):
            assert isinstance(value.source, Source), name
            assert value.source.key, name
    for technical in (
        limits.TEXT_LIMIT,
        limits.RECEIPT_CONTAINERS,
        limits.LOT_EXPIRY_WINDOW,
        limits.DATE_FLOOR,
        limits.SCHEDULE_SESSIONS,
        limits.INFUSION_RATE_ML_PER_HOUR,
        limits.LIST_ROWS,
        limits.NOTE_LIMIT,
        limits.VIAL_VOLUME_ML,
    ):
        assert limits.PLAUSIBILITY in technical.source.note
