"""Plausibility limits on every number and date a clinician types: one definition each.

Clinical ceilings are not restated here: they are the dose calculator's (:mod:`kapstone.clinical.
dosing`, whose sources cite §3 of the reference), so the chart refuses exactly what the calculator
would. The rest are technical limits, each marked "plausibility limit, not a clinical fact": they
catch a slipped finger (99,999.99 mg, a lot expiring in 9999, a weight dated 1800) and keep absurd
input away from the database; none is a clinical threshold.

Pure: no Django, no clock (callers pass ``today`` / ``now``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from kapstone.clinical.dosing import DEFAULT_DOSING_POLICY, DosingPolicy, PolicyValue
from kapstone.clinical.numbers import NumberFormat
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.routes import Route

PLAUSIBILITY = "plausibility limit, not a clinical fact"


def _plausibility(note: str) -> Source:
    return Source("§10", Verification.UNVERIFIED, Evidence.CLINIC_POLICY, f"{PLAUSIBILITY}: {note}")


@dataclass(frozen=True, slots=True)
class Limit:
    """A bound with where it comes from."""

    value: Decimal
    source: Source


@dataclass(frozen=True, slots=True)
class Range:
    """``low`` < value (or <=, when ``low_inclusive``) and value <= ``high``, in ``unit``."""

    what: str
    unit: str
    low: Decimal
    high: Decimal
    low_inclusive: bool
    source: Source

    def problem(self, value: Decimal) -> str | None:
        """The message for a value outside the range, else None."""
        if not value.is_finite():
            return f"Enter {self.what} as a number."
        unit = f" {self.unit}" if self.unit else ""
        too_low = value < self.low if self.low_inclusive else value <= self.low
        if too_low or value > self.high:
            low = f"from {self.low:f}" if self.low_inclusive else f"above {self.low:f}"
            return (
                f"{self.what[0].upper()}{self.what[1:]} must be {low} to {self.high:f}{unit}; "
                f"{value:f}{unit} is not plausible."
            )
        return None


# --- free text --------------------------------------------------------------------------------

MAX_TEXT_CHARS = 2000
TEXT_LIMIT = Limit(
    Decimal(MAX_TEXT_CHARS), _plausibility("reasons, notes and descriptions are a few sentences")
)


# Narratives (a therapy session's note, a prescriber's risk review) run longer than a reason.
MAX_NOTE_CHARS = 20_000
NOTE_LIMIT = Limit(
    Decimal(MAX_NOTE_CHARS), _plausibility("a session narrative is a few pages at most")
)


def text_problem(text: str, what: str = "This text") -> str | None:
    if len(text) > MAX_TEXT_CHARS:
        return f"{what} is {len(text):,} characters long; keep it to {MAX_TEXT_CHARS:,}."
    return None


# --- doses ------------------------------------------------------------------------------------


def dose_ceiling(route: Route, policy: DosingPolicy = DEFAULT_DOSING_POLICY) -> PolicyValue:
    """The route's absolute ceiling in mg, the same value the dose calculator refuses above."""
    return policy.limits(route).max_mg


def dose_range(route: Route, policy: DosingPolicy = DEFAULT_DOSING_POLICY) -> Range:
    ceiling = dose_ceiling(route, policy)
    return Range(
        what=f"a dose by the {route.label.lower()} route",
        unit="mg",
        low=Decimal(0),
        high=ceiling.value,
        low_inclusive=False,
        source=ceiling.source,
    )


# The dose calculator's adult weight bounds (§3: "adult weight bound", UNVERIFIED, clinic policy):
# a weight it could not dose by is not charted, registered or taken from the intake either. The one
# definition (issue 16): the intake facts format allowed 20-400 kg; the calculator's 30-300 kg wins,
# since a weight outside it would be refused at the first dose anyway.
WEIGHT_RANGE_KG = Range(
    what="the weight",
    unit="kg",
    low=DEFAULT_DOSING_POLICY.min_weight_kg.value,
    high=DEFAULT_DOSING_POLICY.max_weight_kg.value,
    low_inclusive=True,
    source=DEFAULT_DOSING_POLICY.max_weight_kg.source,
)

# No clinical source bounds an adult's height (the reference has none), so like the technical
# limits below it is a plausibility limit: 100-250 cm catches a slipped unit (inches, metres). The
# registry and its database constraint used 100-250 cm, the intake facts format 90-250 cm; 100-250
# cm is the one definition.
HEIGHT_RANGE_CM = Range(
    what="the height",
    unit="cm",
    low=Decimal(100),
    high=Decimal(250),
    low_inclusive=True,
    source=_plausibility("an adult's height in cm; catches inches or metres typed as cm"),
)

# The dose calculator's own concentration bounds (diluted infusion to strongest vial).
CONCENTRATION_MG_PER_ML = Range(
    what="the concentration",
    unit="mg/mL",
    low=DEFAULT_DOSING_POLICY.min_concentration_mg_per_ml.value,
    high=DEFAULT_DOSING_POLICY.max_concentration_mg_per_ml.value,
    low_inclusive=True,
    source=DEFAULT_DOSING_POLICY.max_concentration_mg_per_ml.source,
)

# Fastest plausible pump rate: the largest IV bag run over the shortest infusion the calculator
# accepts (250 mL in 2 minutes = 7,500 mL/h). Derived from the dosing policy's bounds.
_IV = DEFAULT_DOSING_POLICY.limits(Route.IV)
assert _IV.max_volume_ml is not None
INFUSION_RATE_ML_PER_HOUR = Range(
    what="the infusion rate",
    unit="mL/h",
    low=Decimal(0),
    high=_IV.max_volume_ml.value * 60 / DEFAULT_DOSING_POLICY.min_infusion_minutes.value,
    low_inclusive=False,
    source=_plausibility(
        "largest IV bag (dosing policy max_volume_ml) over the shortest infusion "
        "(dosing policy min_infusion_minutes)"
    ),
)

# A dose more than this fraction away from the signed plan's dose for the session is a new
# prescription, so it needs a prescriber's documented decision, not only the nurse's reason.
DOSE_CHANGE_FRACTION = Limit(
    Decimal("0.10"),
    Source(
        "§3",
        Verification.UNVERIFIED,
        Evidence.CLINIC_POLICY,
        "rounding and a nurse's small adjustment stay within 10%; " + PLAUSIBILITY,
    ),
)


def needs_prescriber_decision(
    *, planned_mg: Decimal, given_mg: Decimal, fraction: Decimal = DOSE_CHANGE_FRACTION.value
) -> bool:
    """True when the dose given differs from the plan's by more than ``fraction`` of it."""
    return abs(given_mg - planned_mg) > planned_mg * fraction


# --- stock ------------------------------------------------------------------------------------

MAX_RECEIPT_CONTAINERS = 2000
RECEIPT_CONTAINERS = Range(
    what="the number of vials, devices, lozenges or tablets received",
    unit="",
    low=Decimal(0),
    high=Decimal(MAX_RECEIPT_CONTAINERS),
    low_inclusive=False,
    source=_plausibility(
        "a clinic's delivery is a few boxes; larger stock arrives as several receipts"
    ),
)
VIAL_VOLUME_ML = Range(
    what="the volume per vial",
    unit="mL",
    low=Decimal(0),
    high=Decimal(100),
    low_inclusive=False,
    source=_plausibility("ketamine vials hold 10 to 50 mL"),
)
# No single lozenge, tablet or device holds more than the largest single dose any route allows.
_LARGEST_CEILING = max(
    (r.max_mg for r in DEFAULT_DOSING_POLICY.routes.values()), key=lambda v: v.value
)
UNIT_STRENGTH_MG = Range(
    what="the mg per lozenge, tablet or device",
    unit="mg",
    low=Decimal(0),
    high=_LARGEST_CEILING.value,
    low_inclusive=False,
    source=_LARGEST_CEILING.source,
)
LOT_EXPIRY_MAX_YEARS = 5
LOT_EXPIRY_WINDOW = Limit(
    Decimal(LOT_EXPIRY_MAX_YEARS),
    _plausibility("ketamine and esketamine shelf lives are a few years; 9999 is a typing slip"),
)


def lot_expiry_problem(expires_on: dt.date, *, today: dt.date) -> str | None:
    latest = _years_after(today, LOT_EXPIRY_MAX_YEARS)
    if expires_on > latest:
        return (
            f"An expiry of {expires_on:%d %b %Y} is more than {LOT_EXPIRY_MAX_YEARS} years "
            "away; check the date on the box."
        )
    return None


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# --- clinical dates ---------------------------------------------------------------------------

CLINICAL_DATE_FLOOR = dt.date(1900, 1, 1)
DATE_FLOOR = Limit(
    Decimal(CLINICAL_DATE_FLOOR.year), _plausibility("nothing is charted before 1900")
)
# A clock a little ahead on the tablet should not refuse a reading taken just now.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


def clinical_date_problem(
    value: dt.date, *, today: dt.date, born: dt.date | None = None, what: str = "The date"
) -> str | None:
    """A charted date must lie between the patient's birth (or 1900) and today."""
    floor = max(CLINICAL_DATE_FLOOR, born) if born is not None else CLINICAL_DATE_FLOOR
    if value > today:
        return f"{what} {value:%d %b %Y} is in the future."
    if value < floor:
        return (
            f"{what} {value:%d %b %Y} is before the patient's birth."
            if born is not None and floor == born
            else f"{what} {value:%d %b %Y} is before {CLINICAL_DATE_FLOOR.year}."
        )
    return None


def clinical_time_problem(
    value: dt.datetime, *, now: dt.datetime, born: dt.date | None = None, what: str = "The time"
) -> str | None:
    """As :func:`clinical_date_problem`, for a moment, with :data:`FUTURE_TOLERANCE`."""
    if value > now + FUTURE_TOLERANCE:
        return f"{what} is in the future."
    floor = max(CLINICAL_DATE_FLOOR, born) if born is not None else CLINICAL_DATE_FLOOR
    if value.date() < floor:
        return (
            f"{what} is before the patient's birth."
            if born is not None and floor == born
            else f"{what} is before {CLINICAL_DATE_FLOOR.year}."
        )
    return None


# --- lists typed row by row (formsets) -----------------------------------------------------------

MAX_LIST_ROWS = 50
LIST_ROWS = Limit(
    Decimal(MAX_LIST_ROWS), _plausibility("medications, substances or events listed in one form")
)


# --- course length (the pure CLI) -------------------------------------------------------------

MAX_SCHEDULE_SESSIONS = 52
SCHEDULE_SESSIONS = Limit(
    Decimal(MAX_SCHEDULE_SESSIONS),
    _plausibility("a year of weekly sessions; the longest default program has 12"),
)


# --- how each clinical number is typed ---------------------------------------------------------

DOSE_MG = NumberFormat("the dose in mg", "34.5", places=2)
CONCENTRATION = NumberFormat("the concentration in mg/mL", "10", places=3)
RATE = NumberFormat("the rate in mL/h", "60", places=2)
WEIGHT_KG = NumberFormat("the weight in kg", "72.5", places=1)
HEIGHT_CM = NumberFormat("the height in cm", "172", places=1)
DEVICES = NumberFormat("the number of devices", "2")
CONTAINERS = NumberFormat("the number of vials, devices, lozenges or tablets", "10")
VOLUME_ML = NumberFormat("the volume in mL", "10", places=3)
STRENGTH_MG = NumberFormat("the mg in one unit", "28", places=3)
WHOLE = NumberFormat("a whole number", "12")
