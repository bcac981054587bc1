"""A bedside monitor's observations, mapped to one set of vital signs in the chart's units.

The listener (``kapstone.monitors``) parses an HL7 v2 ORU^R01 message (IHE PCD-01) into plain
:class:`Observation` tuples; this module decides what they mean: which code is which vital sign
(IEEE 11073-10101 MDC codes by default, plus the codes a device or gateway uses locally), which
unit a value is in and how it converts to the chart's unit (kPa to mmHg), and when it was
observed. Everything it cannot use is said in a :class:`~kapstone.clinical.problems.Problem`,
never guessed: a pressure without a unit is not assumed to be in mmHg.

Pure: no Django, no HL7 library, no clock (``received_at`` and the clinic's zone are passed in).
:func:`map_observations` returns for every input; it never raises.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from kapstone.clinical.problems import Problem
from kapstone.clinical.provenance import Evidence, Source, Verification


class Quantity(StrEnum):
    """What an observation measures, in the chart's own terms."""

    SYSTOLIC = "systolic"
    DIASTOLIC = "diastolic"
    MEAN_ARTERIAL = "mean_arterial"
    HEART_RATE = "heart_rate"
    PULSE_RATE = "pulse_rate"
    SPO2 = "spo2"
    RESPIRATORY_RATE = "respiratory_rate"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Quantity.SYSTOLIC: "systolic blood pressure",
    Quantity.DIASTOLIC: "diastolic blood pressure",
    Quantity.MEAN_ARTERIAL: "mean arterial pressure",
    Quantity.HEART_RATE: "heart rate",
    Quantity.PULSE_RATE: "pulse rate (oximeter)",
    Quantity.SPO2: "SpO2",
    Quantity.RESPIRATORY_RATE: "respiratory rate",
}


class Dimension(StrEnum):
    PRESSURE = "pressure"
    RATE = "rate"
    PERCENT = "percent"


DIMENSION = {
    Quantity.SYSTOLIC: Dimension.PRESSURE,
    Quantity.DIASTOLIC: Dimension.PRESSURE,
    Quantity.MEAN_ARTERIAL: Dimension.PRESSURE,
    Quantity.HEART_RATE: Dimension.RATE,
    Quantity.PULSE_RATE: Dimension.RATE,
    Quantity.SPO2: Dimension.PERCENT,
    Quantity.RESPIRATORY_RATE: Dimension.RATE,
}

# IEEE 11073-10101 codes as HL7 v2 carries them (OBX-3 with coding system "MDC"): the
# "context-free" code, partition * 2**16 + term code. Partition 2 (SCADA) holds the measurements,
# partition 4 (DIM) the units. The term codes were checked against public code that reproduces the
# standard's tables (§12), not against the standard itself, hence SECONDARY.
MDC_SOURCE = Source(
    "IEEE11073-10101",
    Verification.SECONDARY,
    Evidence.GUIDELINE,
    "Context-free code = partition * 65536 + term code; SCADA partition 2, DIM partition 4 (§12).",
)
UCUM_SOURCE = Source(
    "UCUM", Verification.SECONDARY, Evidence.GUIDELINE, "Unit codes as UCUM writes them (§12)."
)
# The conventional millimetre of mercury: 13.5951 g/cm3 x 9.80665 m/s2 x 1 mm = 133.322387415 Pa.
MMHG_SOURCE = Source(
    "§12",
    Verification.SECONDARY,
    Evidence.GUIDELINE,
    "1 mmHg = 133.322387415 Pa (the conventional millimetre of mercury)",
)
PASCALS_PER_MMHG = Decimal("133.322387415")

SCADA = 2 * 65536
DIM = 4 * 65536

MDC_CODES: Mapping[str, Quantity] = {
    str(SCADA + 18949): Quantity.SYSTOLIC,  # 150021 MDC_PRESS_BLD_NONINV_SYS
    str(SCADA + 18950): Quantity.DIASTOLIC,  # 150022 MDC_PRESS_BLD_NONINV_DIA
    str(SCADA + 18951): Quantity.MEAN_ARTERIAL,  # 150023 MDC_PRESS_BLD_NONINV_MEAN
    str(SCADA + 16770): Quantity.HEART_RATE,  # 147842 MDC_ECG_HEART_RATE
    str(SCADA + 18458): Quantity.PULSE_RATE,  # 149530 MDC_PULS_OXIM_PULS_RATE
    str(SCADA + 19384): Quantity.SPO2,  # 150456 MDC_PULS_OXIM_SAT_O2
    str(SCADA + 20490): Quantity.RESPIRATORY_RATE,  # 151562 MDC_RESP_RATE
}
# Some senders put the reference id where the numeric code belongs.
MDC_REFERENCE_IDS: Mapping[str, Quantity] = {
    "MDC_PRESS_BLD_NONINV_SYS": Quantity.SYSTOLIC,
    "MDC_PRESS_BLD_NONINV_DIA": Quantity.DIASTOLIC,
    "MDC_PRESS_BLD_NONINV_MEAN": Quantity.MEAN_ARTERIAL,
    "MDC_ECG_HEART_RATE": Quantity.HEART_RATE,
    "MDC_PULS_OXIM_PULS_RATE": Quantity.PULSE_RATE,
    "MDC_PULS_OXIM_SAT_O2": Quantity.SPO2,
    "MDC_RESP_RATE": Quantity.RESPIRATORY_RATE,
}


class Unit(StrEnum):
    MMHG = "mmHg"
    KPA = "kPa"
    PER_MIN = "/min"
    PERCENT = "%"


UNIT_DIMENSION = {
    Unit.MMHG: Dimension.PRESSURE,
    Unit.KPA: Dimension.PRESSURE,
    Unit.PER_MIN: Dimension.RATE,
    Unit.PERCENT: Dimension.PERCENT,
}

# OBX-6: an MDC unit code, a UCUM code, or the same spelled as text (case kept where it matters:
# UCUM is case-sensitive, so "mm[Hg]" and "kPa" only). Which table a code is read from does not
# change its meaning here: no code is in two of them with different meanings.
MDC_UNITS: Mapping[str, Unit] = {
    str(DIM + 3872): Unit.MMHG,  # 266016 MDC_DIM_MMHG
    str(DIM + 3843): Unit.KPA,  # 265987 MDC_DIM_KILO_PASCAL
    str(DIM + 2720): Unit.PER_MIN,  # 264864 MDC_DIM_BEAT_PER_MIN
    str(DIM + 2784): Unit.PER_MIN,  # 264928 MDC_DIM_RESP_PER_MIN
    str(DIM + 544): Unit.PERCENT,  # 262688 MDC_DIM_PERCENT
    "MDC_DIM_MMHG": Unit.MMHG,
    "MDC_DIM_KILO_PASCAL": Unit.KPA,
    "MDC_DIM_BEAT_PER_MIN": Unit.PER_MIN,
    "MDC_DIM_RESP_PER_MIN": Unit.PER_MIN,
    "MDC_DIM_PERCENT": Unit.PERCENT,
}
UCUM_UNITS: Mapping[str, Unit] = {
    "mm[Hg]": Unit.MMHG,
    "kPa": Unit.KPA,
    "/min": Unit.PER_MIN,
    "1/min": Unit.PER_MIN,
    "{beat}/min": Unit.PER_MIN,
    "{beats}/min": Unit.PER_MIN,
    "{breath}/min": Unit.PER_MIN,
    "{breaths}/min": Unit.PER_MIN,
    "%": Unit.PERCENT,
}
TEXT_UNITS: Mapping[str, Unit] = {
    "mmhg": Unit.MMHG,
    "mm hg": Unit.MMHG,
    "kpa": Unit.KPA,
    "bpm": Unit.PER_MIN,
    "rpm": Unit.PER_MIN,
    "brpm": Unit.PER_MIN,
    "/min": Unit.PER_MIN,
}

# IEEE 11073-20601 FLOAT-Type special values (NaN 0x7FFFFF, NRes, +/-INFINITY, reserved): a monitor
# sends them for "no value"; they are not readings.
SPECIAL_VALUES = frozenset({8388606, 8388607, 8388608, 8388609, 8388610})

# OBX-11: values a sender marks as not to be used (X cannot be obtained, D delete, W wrong).
UNUSABLE_STATUS = frozenset({"X", "D", "W"})

# How far apart the observations of one reading may have been taken, and how far a monitor's clock
# may run ahead of ours before a reading is refused rather than dated to its arrival.
READING_SPREAD = dt.timedelta(minutes=5)
CLOCK_AHEAD = dt.timedelta(minutes=2)
FEED_POLICY_SOURCE = Source(
    "§12",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "5 minutes between a reading's observations, a monitor clock up to 2 minutes ahead",
)


@dataclass(frozen=True, slots=True)
class Observation:
    """One OBX segment, as the listener read it (strings as sent, nothing interpreted)."""

    code: str  # OBX-3.1
    text: str = ""  # OBX-3.2
    coding_system: str = ""  # OBX-3.3
    value: str = ""  # OBX-5
    unit: str = ""  # OBX-6.1
    unit_text: str = ""  # OBX-6.2
    unit_system: str = ""  # OBX-6.3
    status: str = ""  # OBX-11
    observed_at: str = ""  # OBX-14 (HL7 DTM)


@dataclass(frozen=True, slots=True)
class Reading:
    """One set of vital signs, in the chart's units, as whole numbers."""

    observed_at: dt.datetime
    systolic: int | None = None
    diastolic: int | None = None
    mean_arterial: int | None = None
    heart_rate: int | None = None
    spo2: int | None = None
    respiratory_rate: int | None = None

    @property
    def is_empty(self) -> bool:
        return all(
            v is None
            for v in (
                self.systolic,
                self.diastolic,
                self.heart_rate,
                self.spo2,
                self.respiratory_rate,
            )
        )


@dataclass(frozen=True, slots=True)
class Mapped:
    """What a message's observations came to: a reading (or none) and every problem found.

    ``problems`` are observations left out, each with why; ``ignored`` the codes with no value
    that only describe the device (PCD-01 sends its MDS/VMD/channel hierarchy as OBX rows)."""

    reading: Reading | None
    problems: tuple[Problem, ...] = ()
    ignored: tuple[str, ...] = field(default_factory=tuple)


_DTM = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d{1,4})?([+-]\d{4})?$")


def parse_hl7_time(text: str, zone: dt.tzinfo) -> dt.datetime | None:
    """An HL7 DTM (``YYYY[MM[DD[HH[MM[SS[.S...]]]]]][+/-ZZZZ]``) as an aware moment, or None.

    A time without an offset is the clinic's local time (``zone``): a monitor on the clinic's
    network keeps the clinic's clock. Precision below the minute is required: a reading dated
    to the day is of no use at the chair.
    """
    match = _DTM.match(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if minute is None:
        return None
    try:
        tz: dt.tzinfo = zone
        if offset is not None:
            sign = -1 if offset[0] == "-" else 1
            hours, minutes = int(offset[1:3]), int(offset[3:5])
            if hours > 14 or minutes > 59:
                return None
            tz = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
        micro = round(float(fraction) * 1_000_000) if fraction else 0
        return dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            min(micro, 999_999),
            tzinfo=tz,
        )
    except (ValueError, OverflowError):
        return None


def mmhg_from_kpa(kpa: Decimal) -> Decimal:
    return kpa * 1000 / PASCALS_PER_MMHG


def kpa_from_mmhg(mmhg: Decimal) -> Decimal:
    return mmhg * PASCALS_PER_MMHG / 1000


def quantity_of(obs: Observation, local_codes: Mapping[str, Quantity]) -> Quantity | None:
    """The device's own code first (a gateway's local code map), then the MDC table."""
    code = obs.code.strip()
    if code in local_codes:
        return local_codes[code]
    system = obs.coding_system.strip().upper()
    if system in {"MDC", ""} and code in MDC_CODES:
        return MDC_CODES[code]
    for name in (code, obs.text.strip()):
        if name in MDC_REFERENCE_IDS:
            return MDC_REFERENCE_IDS[name]
    return None


def unit_of(obs: Observation) -> Unit | None:
    for candidate in (obs.unit.strip(), obs.unit_text.strip()):
        if not candidate:
            continue
        if candidate in MDC_UNITS:
            return MDC_UNITS[candidate]
        if candidate in UCUM_UNITS:
            return UCUM_UNITS[candidate]
        if candidate.lower() in TEXT_UNITS:
            return TEXT_UNITS[candidate.lower()]
    return None


def _number(text: str) -> Decimal | None:
    text = text.strip()
    if not text or len(text) > 20:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _problem(obs: Observation, what: str, message: str, accepts: str = "") -> Problem:
    name = what or f"code {obs.code[:40]!r}"
    return Problem(f"OBX {name}", message, accepts, code="device_feed")


def _value_in_chart_unit(obs: Observation, quantity: Quantity) -> tuple[int | None, Problem | None]:
    what = quantity.label
    value = _number(obs.value)
    if value is None:
        return None, _problem(obs, what, f"{obs.value[:40]!r} is not a number.")
    if value in SPECIAL_VALUES:
        return None, _problem(obs, what, "the monitor sent its code for 'no value'.")
    unit = unit_of(obs)
    if unit is None:
        shown = obs.unit or obs.unit_text or "none"
        return None, _problem(
            obs,
            what,
            f"unit {shown[:40]!r} is not one Kapstone can read, so the value is not used.",
            "mmHg or kPa (MDC 266016, 265987; UCUM mm[Hg], kPa); /min; %",
        )
    if UNIT_DIMENSION[unit] is not DIMENSION[quantity]:
        return None, _problem(obs, what, f"a {what} cannot be in {unit.value}.")
    if unit is Unit.KPA:
        value = mmhg_from_kpa(value)
    whole = value.to_integral_value(rounding=ROUND_HALF_UP)
    if whole < 0 or whole > 1000:
        return None, _problem(obs, what, f"{whole} is not a {what}.")
    return int(whole), None


def _moment(
    obs: Observation, fallback: dt.datetime | None, zone: dt.tzinfo
) -> tuple[dt.datetime | None, Problem | None]:
    if not obs.observed_at.strip():
        return fallback, None
    moment = parse_hl7_time(obs.observed_at, zone)
    if moment is None:
        return fallback, _problem(
            obs,
            "",
            f"observation time {obs.observed_at[:30]!r} is not an HL7 time; "
            "the message's time is used.",
        )
    return moment, None


@dataclass(slots=True)
class _Found:
    value: int
    at: dt.datetime | None


def _collect(
    observations: Iterable[Observation],
    local_codes: Mapping[str, Quantity],
    fallback: dt.datetime | None,
    zone: dt.tzinfo,
) -> tuple[dict[Quantity, _Found], list[Problem], list[str]]:
    found: dict[Quantity, _Found] = {}
    problems: list[Problem] = []
    ignored: list[str] = []
    for obs in observations:
        quantity = quantity_of(obs, local_codes)
        if quantity is None:
            if obs.value.strip():
                problems.append(_problem(obs, "", "this code is not in the device's code map."))
            else:
                ignored.append(obs.code)
            continue
        if obs.status.strip().upper() in UNUSABLE_STATUS:
            problems.append(_problem(obs, quantity.label, "the monitor marked it not usable."))
            continue
        value, problem = _value_in_chart_unit(obs, quantity)
        if problem is not None:
            problems.append(problem)
            continue
        assert value is not None
        at, time_problem = _moment(obs, fallback, zone)
        if time_problem is not None:
            problems.append(time_problem)
        if quantity in found:
            problems.append(
                _problem(obs, quantity.label, "sent twice in one message; the first is used.")
            )
            continue
        found[quantity] = _Found(value, at)
    return found, problems, ignored


def _reading_time(found: Mapping[Quantity, _Found]) -> dt.datetime | None:
    """The blood pressure's time when there is one (it is measured now and then; the rest run
    continuously), else the latest observation's."""
    for quantity in (Quantity.SYSTOLIC, Quantity.DIASTOLIC):
        if quantity in found and found[quantity].at is not None:
            return found[quantity].at
    times = [f.at for f in found.values() if f.at is not None]
    return max(times) if times else None


def map_observations(
    observations: Iterable[Observation],
    *,
    local_codes: Mapping[str, Quantity],
    message_time: str,
    received_at: dt.datetime,
    zone: dt.tzinfo,
) -> Mapped:
    """A message's observations as one reading (or none), with every problem found.

    ``message_time`` is OBR-7 or MSH-7, used for an observation without OBX-14. ``received_at``
    (aware) is when the listener got the frame: a monitor clock ahead of it by up to
    ``CLOCK_AHEAD`` is dated to the arrival, further ahead the reading is refused.
    """
    fallback = parse_hl7_time(message_time, zone) if message_time.strip() else None
    found, problems, ignored = _collect(observations, local_codes, fallback, zone)
    if Quantity.HEART_RATE not in found and Quantity.PULSE_RATE in found:
        # The oximeter's pulse rate stands in for the ECG's heart rate when there is no ECG.
        found[Quantity.HEART_RATE] = found[Quantity.PULSE_RATE]
    if not found:
        if not problems:
            problems.append(
                Problem("OBX", "the message has no vital sign Kapstone reads.", "", "device_feed")
            )
        return Mapped(None, tuple(problems), tuple(ignored))
    at = _reading_time(found)
    if at is None:
        problems.append(
            Problem("OBX-14", "no observation time and no message time.", "", "device_feed")
        )
        return Mapped(None, tuple(problems), tuple(ignored))
    for quantity in list(found):
        when = found[quantity].at
        if when is not None and abs(when - at) > READING_SPREAD:
            problems.append(
                Problem(
                    f"OBX {quantity.label}",
                    f"observed more than {READING_SPREAD.seconds // 60} minutes from the "
                    "reading's time; left out.",
                    "",
                    "device_feed",
                )
            )
            del found[quantity]
    if at > received_at + CLOCK_AHEAD:
        problems.append(
            Problem(
                "OBX-14",
                "the monitor's clock is ahead of Kapstone's by more than "
                f"{CLOCK_AHEAD.seconds // 60} minutes; set the monitor's clock.",
                "",
                "device_feed",
            )
        )
        return Mapped(None, tuple(problems), tuple(ignored))
    at = min(at, received_at)

    def value(quantity: Quantity) -> int | None:
        return found[quantity].value if quantity in found else None

    reading = Reading(
        observed_at=at,
        systolic=value(Quantity.SYSTOLIC),
        diastolic=value(Quantity.DIASTOLIC),
        mean_arterial=value(Quantity.MEAN_ARTERIAL),
        heart_rate=value(Quantity.HEART_RATE),
        spo2=value(Quantity.SPO2),
        respiratory_rate=value(Quantity.RESPIRATORY_RATE),
    )
    if reading.is_empty:
        return Mapped(None, tuple(problems), tuple(ignored))
    return Mapped(reading, tuple(problems), tuple(ignored))


def parse_code_map(entries: Mapping[str, str]) -> tuple[dict[str, Quantity], tuple[Problem, ...]]:
    """A device's local code map as the administrator wrote it (code -> quantity name)."""
    codes: dict[str, Quantity] = {}
    problems: list[Problem] = []
    names = {q.value for q in Quantity}
    for code, name in entries.items():
        code_text = str(code).strip()
        if not code_text or len(code_text) > 40 or any(c in code_text for c in "|^~\\&\r\n"):
            problems.append(
                Problem("code_map", f"{code_text[:40]!r} is not a code.", "1 to 40 characters")
            )
        elif str(name) not in names:
            problems.append(
                Problem(
                    "code_map",
                    f"{code_text}: {str(name)[:40]!r} is not a vital sign Kapstone reads.",
                    ", ".join(sorted(names)),
                )
            )
        else:
            codes[code_text] = Quantity(str(name))
    return codes, tuple(problems)
