"""Chair-side observations: a set of vital signs, the sedation level and a dissociation rating.

``validate_reading`` is the gate between what a nurse typed and what the alert engine trusts: it
rejects impossible or malformed values field by field and never clamps. The plausibility limits
are data-entry limits (what a monitor can show on a living adult), not clinical thresholds; those
live in ``monitoring_policy``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from kapstone.clinical.checks import is_naive, is_whole
from kapstone.clinical.problems import Problem, Refused
from kapstone.clinical.provenance import Evidence, Source, Verification


class SedationLevel(StrEnum):
    """Kapstone's ordinal sedation scale, least to most sedated.

    The reference names no sedation scale (§2.2 says only "observe level of consciousness"), so
    this is a documented clinic scale ranked by the stimulus needed to rouse the patient.
    """

    ALERT = "alert"
    DROWSY = "drowsy"  # rouses to a normal voice
    ROUSABLE_TO_LOUD_VOICE = "rousable_to_loud_voice"
    ROUSABLE_TO_TOUCH = "rousable_to_touch"  # responds only to touch or shaking
    UNRESPONSIVE = "unresponsive"

    @property
    def rank(self) -> int:
        return _SEDATION_ORDER.index(self)

    @property
    def label(self) -> str:
        return _SEDATION_LABELS[self]


_SEDATION_ORDER = tuple(SedationLevel)
_SEDATION_LABELS = {
    SedationLevel.ALERT: "0 Awake and alert",
    SedationLevel.DROWSY: "1 Drowsy, rouses to normal voice",
    SedationLevel.ROUSABLE_TO_LOUD_VOICE: "2 Rouses only to loud voice or name",
    SedationLevel.ROUSABLE_TO_TOUCH: "3 Rouses only to touch or shaking",
    SedationLevel.UNRESPONSIVE: "4 No response to voice or touch",
}

SEDATION_SCALE_SOURCE = Source(
    key="§2.2",
    verification=Verification.UNVERIFIED,
    evidence=Evidence.CLINIC_POLICY,
    note="The reference names no sedation scale; Kapstone's 0 to 4 scale by rousing stimulus.",
)


class DissociationScale(StrEnum):
    """CADSS totals as used in the ketamine literature (§4.10)."""

    CADSS = "cadss"  # 23 items, 0 to 4 each
    CADSS_6 = "cadss_6"  # items 1, 2, 6, 7, 15, 22 of the 23-item CADSS

    @property
    def max_total(self) -> int:
        return 92 if self is DissociationScale.CADSS else 24


CADSS_SOURCE = Source(
    key="§4.10",
    verification=Verification.VERIFIED,
    evidence=Evidence.INSTRUMENT_MANUAL,
    note="23 items and the CADSS-6 item set VERIFIED; item range 0 to 4 (totals 0 to 92 and "
    "0 to 24) UNVERIFIED.",
)


class InvalidInput(Refused):
    """Input refused; ``problems`` lists every field at fault, not just the first."""


class InvalidVitalSign(InvalidInput):
    """A vital-sign reading or dissociation rating that cannot be charted as given."""


@dataclass(frozen=True, slots=True)
class PlausibleRange:
    low: float
    high: float
    unit: str
    source: Source

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def describe(self) -> str:
        return f"{_fmt(self.low)}{_EN_DASH}{_fmt(self.high)} {self.unit}"


def _entry_limit(note: str) -> Source:
    return Source(
        key="§2.2",
        verification=Verification.UNVERIFIED,
        evidence=Evidence.CLINIC_POLICY,
        note=f"Data-entry plausibility limit, not a clinical threshold. {note}".strip(),
    )


@dataclass(frozen=True, slots=True)
class PlausibilityLimits:
    """Values outside these ranges are typing or device errors and are refused, never clamped."""

    systolic_mmhg: PlausibleRange = PlausibleRange(50, 300, "mmHg", _entry_limit(""))
    diastolic_mmhg: PlausibleRange = PlausibleRange(20, 200, "mmHg", _entry_limit(""))
    heart_rate_bpm: PlausibleRange = PlausibleRange(20, 250, "bpm", _entry_limit(""))
    spo2_percent: PlausibleRange = PlausibleRange(
        50, 100, "%", _entry_limit("Pulse oximeters are unreliable below about 50 %.")
    )
    respiratory_rate_per_min: PlausibleRange = PlausibleRange(2, 70, "/min", _entry_limit(""))
    temperature_c: PlausibleRange = PlausibleRange(30, 43, "°C", _entry_limit(""))
    version: str = "default-2026-11"


DEFAULT_PLAUSIBILITY_LIMITS = PlausibilityLimits()


@dataclass(frozen=True, slots=True)
class VitalSign:
    """One set of vital signs. Build it through ``validate_reading``; the alert engine trusts it."""

    taken_at: datetime
    systolic_mmhg: int
    diastolic_mmhg: int
    heart_rate_bpm: int
    spo2_percent: int
    respiratory_rate_per_min: int
    temperature_c: float | None = None
    sedation: SedationLevel | None = None


@dataclass(frozen=True, slots=True)
class DissociationRating:
    scale: DissociationScale
    total: int
    rated_at: datetime


def validate_reading(
    *,
    taken_at: object,
    systolic_mmhg: object,
    diastolic_mmhg: object,
    heart_rate_bpm: object,
    spo2_percent: object,
    respiratory_rate_per_min: object,
    temperature_c: object = None,
    sedation: object = None,
    limits: PlausibilityLimits = DEFAULT_PLAUSIBILITY_LIMITS,
) -> VitalSign:
    """Return a VitalSign, or raise InvalidVitalSign naming every bad field and what is accepted."""
    problems: list[Problem] = []
    when = _aware_datetime("taken_at", taken_at, problems)
    sys_ = _whole_number("systolic_mmhg", systolic_mmhg, limits.systolic_mmhg, "systolic", problems)
    dia = _whole_number(
        "diastolic_mmhg", diastolic_mmhg, limits.diastolic_mmhg, "diastolic", problems
    )
    hr = _whole_number(
        "heart_rate_bpm", heart_rate_bpm, limits.heart_rate_bpm, "heart rate", problems
    )
    spo2 = _whole_number("spo2_percent", spo2_percent, limits.spo2_percent, "SpO2", problems)
    rr = _whole_number(
        "respiratory_rate_per_min",
        respiratory_rate_per_min,
        limits.respiratory_rate_per_min,
        "respiratory rate",
        problems,
    )
    if sys_ is not None and dia is not None and dia >= sys_:
        problems.append(Problem("diastolic_mmhg", f"diastolic {dia} is not below systolic {sys_}"))
    temp = _temperature(temperature_c, limits.temperature_c, problems)
    level = _sedation(sedation, problems)
    if problems or when is None or sys_ is None or dia is None:
        raise InvalidVitalSign(problems)
    if hr is None or spo2 is None or rr is None:
        raise InvalidVitalSign(problems)
    return VitalSign(
        taken_at=when,
        systolic_mmhg=sys_,
        diastolic_mmhg=dia,
        heart_rate_bpm=hr,
        spo2_percent=spo2,
        respiratory_rate_per_min=rr,
        temperature_c=temp,
        sedation=level,
    )


def validate_dissociation_rating(
    *, scale: object, total: object, rated_at: object
) -> DissociationRating:
    problems: list[Problem] = []
    when = _aware_datetime("rated_at", rated_at, problems)
    parsed_scale: DissociationScale | None = None
    if isinstance(scale, DissociationScale):
        parsed_scale = scale
    elif isinstance(scale, str) and scale in {s.value for s in DissociationScale}:
        parsed_scale = DissociationScale(scale)
    else:
        accepted = ", ".join(s.value for s in DissociationScale)
        problems.append(Problem("scale", f"scale must be one of: {accepted}"))
    value: int | None = None
    if parsed_scale is not None:
        name = "CADSS" if parsed_scale is DissociationScale.CADSS else "CADSS-6"
        rng = PlausibleRange(0, parsed_scale.max_total, "points", CADSS_SOURCE)
        value = _whole_number("total", total, rng, f"{name} total", problems)
    if problems or when is None or parsed_scale is None or value is None:
        raise InvalidVitalSign(problems)
    return DissociationRating(scale=parsed_scale, total=value, rated_at=when)


_EN_DASH = "\u2013"


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _aware_datetime(field: str, value: object, problems: list[Problem]) -> datetime | None:
    if not isinstance(value, datetime):
        problems.append(Problem(field, f"{field} must be a date and time"))
        return None
    if is_naive(value):
        problems.append(
            Problem(field, f"{field} must carry a time zone (naive times are ambiguous)")
        )
        return None
    return value


def _whole_number(
    field: str, value: object, rng: PlausibleRange, name: str, problems: list[Problem]
) -> int | None:
    # bool is an int subclass; a checkbox value is never a measurement.
    if value is None:
        problems.append(Problem(field, f"{name} is required"))
        return None
    if not is_whole(value):
        problems.append(Problem(field, f"{name} must be a whole number, got {value!r}"))
        return None
    if not rng.contains(value):
        problems.append(Problem(field, f"{name} must be {rng.describe()}, got {value}"))
        return None
    return value


def _temperature(value: object, rng: PlausibleRange, problems: list[Problem]) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        problems.append(Problem("temperature_c", f"temperature must be a number, got {value!r}"))
        return None
    number = float(value)
    if not math.isfinite(number) or not rng.contains(number):
        problems.append(
            Problem("temperature_c", f"temperature must be {rng.describe()}, got {value}")
        )
        return None
    return number


def _sedation(value: object, problems: list[Problem]) -> SedationLevel | None:
    if value is None or isinstance(value, SedationLevel):
        return value
    if isinstance(value, str) and value in {s.value for s in SedationLevel}:
        return SedationLevel(value)
    accepted = ", ".join(s.value for s in SedationLevel)
    problems.append(Problem("sedation", f"sedation must be one of: {accepted}"))
    return None
