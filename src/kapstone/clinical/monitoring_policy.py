"""The clinic's monitoring policy: every threshold, cadence and observation time, with its Source.

The reference confirms few monitoring numbers (§2.2: intra-session stop thresholds are UNVERIFIED),
so almost everything here is a clinic-policy default the medical director reviews, edits and
versions in the shell. Every result computed from a policy records ``policy.version``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from kapstone.clinical.problems import Problem
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.routes import Route
from kapstone.clinical.vital_signs import (
    DEFAULT_PLAUSIBILITY_LIMITS,
    InvalidInput,
    PlausibilityLimits,
    SedationLevel,
)

DEFAULT_POLICY_VERSION = "default-2026-11"


class InvalidMonitoringPolicy(InvalidInput):
    """A policy the engine cannot apply consistently (duplicate rule ids, missing route...)."""


class InvalidMonitoringInput(InvalidInput):
    """Session facts that contradict each other or the policy (a dose ending before it starts)."""


@dataclass(frozen=True, slots=True)
class Sourced[T]:
    """A policy value and where it comes from."""

    value: T
    source: Source


def clinic_policy(key: str, note: str) -> Source:
    """A default the reference does not confirm: the medical director owns it."""
    return Source(key, Verification.UNVERIFIED, Evidence.CLINIC_POLICY, note)


_SEED = (
    "Seed candidate, no ketamine guideline number confirmed (§2.2); set by the medical director."
)


# --- alert grades and rules -------------------------------------------------------------------


class AlertGrade(StrEnum):
    """Ordered recommendation: none < recheck < pause/slow < stop and call < emergency."""

    NONE = "none"
    RECHECK_IN_5_MINUTES = "recheck_in_5_minutes"
    PAUSE_OR_SLOW_INFUSION = "pause_or_slow_infusion"
    STOP_AND_CALL_PRESCRIBER = "stop_and_call_prescriber"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        return _GRADE_ORDER.index(self)

    @property
    def label(self) -> str:
        return _GRADE_LABELS[self]


_GRADE_ORDER = tuple(AlertGrade)
_GRADE_LABELS = {
    AlertGrade.NONE: "No action",
    AlertGrade.RECHECK_IN_5_MINUTES: "Recheck in 5 minutes",
    AlertGrade.PAUSE_OR_SLOW_INFUSION: "Pause or slow the infusion",
    AlertGrade.STOP_AND_CALL_PRESCRIBER: "Stop dosing and call the prescriber",
    AlertGrade.EMERGENCY: "Emergency: call for emergency help",
}


class Measure(StrEnum):
    SYSTOLIC = "systolic"
    DIASTOLIC = "diastolic"
    HEART_RATE = "heart_rate"
    SPO2 = "spo2"
    RESPIRATORY_RATE = "respiratory_rate"
    SYSTOLIC_RISE_FROM_BASELINE = "systolic_rise_from_baseline"
    DIASTOLIC_RISE_FROM_BASELINE = "diastolic_rise_from_baseline"

    @property
    def unit(self) -> str:
        return _UNITS[self]

    @property
    def needs_baseline(self) -> bool:
        return self in (Measure.SYSTOLIC_RISE_FROM_BASELINE, Measure.DIASTOLIC_RISE_FROM_BASELINE)


_UNITS = {
    Measure.SYSTOLIC: "mmHg",
    Measure.DIASTOLIC: "mmHg",
    Measure.HEART_RATE: "bpm",
    Measure.SPO2: "%",
    Measure.RESPIRATORY_RATE: "/min",
    Measure.SYSTOLIC_RISE_FROM_BASELINE: "mmHg",
    Measure.DIASTOLIC_RISE_FROM_BASELINE: "mmHg",
}


class Direction(StrEnum):
    """HIGH fires at value >= threshold; LOW fires at value < threshold."""

    HIGH = "high"
    LOW = "low"


class Symptom(StrEnum):
    CHEST_PAIN = "chest_pain"
    SEVERE_HEADACHE = "severe_headache"
    NEUROLOGICAL_SIGNS = (
        "neurological_signs"  # new focal weakness, speech or vision change, seizure
    )
    VOMITING = "vomiting"
    NAUSEA = "nausea"
    AGITATION = "agitation"
    EMERGENCE_REACTION = "emergence_reaction"


@dataclass(frozen=True, slots=True)
class ThresholdRule:
    rule_id: str
    measure: Measure
    direction: Direction
    threshold: int
    grade: AlertGrade
    source: Source

    def fires(self, value: int) -> bool:
        if self.direction is Direction.HIGH:
            return value >= self.threshold
        return value < self.threshold


@dataclass(frozen=True, slots=True)
class SedationRule:
    """Fires when sedation is at or deeper than ``at_least``."""

    rule_id: str
    at_least: SedationLevel
    grade: AlertGrade
    source: Source


@dataclass(frozen=True, slots=True)
class SymptomRule:
    """Fires on the symptom, or only at ``only_when_sedated_at_least`` or deeper when set."""

    rule_id: str
    symptom: Symptom
    grade: AlertGrade
    source: Source
    only_when_sedated_at_least: SedationLevel | None = None


@dataclass(frozen=True, slots=True)
class HypertensiveEmergencyRule:
    """Severe BP together with a symptom of end-organ harm: the emergency YIP2022 distinguishes."""

    rule_id: str
    systolic_at_least: int
    diastolic_at_least: int
    symptoms: frozenset[Symptom]
    grade: AlertGrade
    source: Source


def _t(
    rule_id: str, m: Measure, d: Direction, threshold: int, g: AlertGrade, s: Source
) -> ThresholdRule:
    return ThresholdRule(rule_id, m, d, threshold, g, s)


_H, _L = Direction.HIGH, Direction.LOW
_RECHECK = AlertGrade.RECHECK_IN_5_MINUTES
_PAUSE = AlertGrade.PAUSE_OR_SLOW_INFUSION
_STOP = AlertGrade.STOP_AND_CALL_PRESCRIBER
_EMERGENCY = AlertGrade.EMERGENCY
_LABEL_RISE = Source(
    "SPRAVATO-US",
    Verification.VERIFIED,
    Evidence.LABEL,
    "The label reports rises of >= 40 mmHg systolic and/or >= 25 mmHg diastolic in the first 1.5 h "
    "as its BP-increase measure; using them as alert triggers, and the grade, is clinic policy.",
)
_CRISIS = clinic_policy(
    "§2.1", "ACC/AHA hypertensive-crisis figure (> 180 / > 120) recalled, not verified; " + _SEED
)

DEFAULT_THRESHOLD_RULES: tuple[ThresholdRule, ...] = (
    _t("sbp.high.recheck", Measure.SYSTOLIC, _H, 160, _RECHECK, clinic_policy("§2.2", _SEED)),
    _t("sbp.high.pause", Measure.SYSTOLIC, _H, 180, _PAUSE, clinic_policy("§2.2", _SEED)),
    _t("sbp.high.stop", Measure.SYSTOLIC, _H, 200, _STOP, clinic_policy("§2.2", _SEED)),
    _t("sbp.low.recheck", Measure.SYSTOLIC, _L, 90, _RECHECK, clinic_policy("§2.2", _SEED)),
    _t("dbp.high.recheck", Measure.DIASTOLIC, _H, 100, _RECHECK, clinic_policy("§2.2", _SEED)),
    _t("dbp.high.pause", Measure.DIASTOLIC, _H, 110, _PAUSE, clinic_policy("§2.2", _SEED)),
    _t("dbp.high.stop", Measure.DIASTOLIC, _H, 120, _STOP, _CRISIS),
    _t("hr.high.recheck", Measure.HEART_RATE, _H, 110, _RECHECK, clinic_policy("§2.2", _SEED)),
    _t("hr.high.pause", Measure.HEART_RATE, _H, 120, _PAUSE, clinic_policy("§2.2", _SEED)),
    _t("hr.high.stop", Measure.HEART_RATE, _H, 150, _STOP, clinic_policy("§2.2", _SEED)),
    _t("hr.low.recheck", Measure.HEART_RATE, _L, 50, _RECHECK, clinic_policy("§2.2", _SEED)),
    _t("hr.low.stop", Measure.HEART_RATE, _L, 40, _STOP, clinic_policy("§2.2", _SEED)),
    _t("spo2.low.recheck", Measure.SPO2, _L, 94, _RECHECK, clinic_policy("§2.2", _SEED)),
    _t("spo2.low.stop", Measure.SPO2, _L, 92, _STOP, clinic_policy("§2.2", _SEED)),
    _t("spo2.low.emergency", Measure.SPO2, _L, 85, _EMERGENCY, clinic_policy("§2.2", _SEED)),
    _t("rr.low.recheck", Measure.RESPIRATORY_RATE, _L, 10, _RECHECK, clinic_policy("§2.2", _SEED)),
    _t("rr.low.stop", Measure.RESPIRATORY_RATE, _L, 8, _STOP, clinic_policy("§2.2", _SEED)),
    _t("rr.high.recheck", Measure.RESPIRATORY_RATE, _H, 25, _RECHECK, clinic_policy("§2.2", _SEED)),
    _t("rr.high.pause", Measure.RESPIRATORY_RATE, _H, 30, _PAUSE, clinic_policy("§2.2", _SEED)),
    _t("sbp.rise.pause", Measure.SYSTOLIC_RISE_FROM_BASELINE, _H, 40, _PAUSE, _LABEL_RISE),
    _t("dbp.rise.pause", Measure.DIASTOLIC_RISE_FROM_BASELINE, _H, 25, _PAUSE, _LABEL_RISE),
)

_SEDATION_SOURCE = Source(
    "SPRAVATO-US",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "Label: sedation in 48 to 61 %, loss of consciousness 0.3 to 0.4 % (VERIFIED); the levels "
    "and grades on Kapstone's sedation scale are clinic policy.",
)
DEFAULT_SEDATION_RULES: tuple[SedationRule, ...] = (
    SedationRule("sedation.touch.stop", SedationLevel.ROUSABLE_TO_TOUCH, _STOP, _SEDATION_SOURCE),
    SedationRule(
        "sedation.unresponsive.emergency", SedationLevel.UNRESPONSIVE, _EMERGENCY, _SEDATION_SOURCE
    ),
)

_SYMPTOM_NOTE = "Symptom trigger listed in §2.2 (seed); its grade is clinic policy."
DEFAULT_SYMPTOM_RULES: tuple[SymptomRule, ...] = (
    SymptomRule(
        "symptom.chest_pain", Symptom.CHEST_PAIN, _STOP, clinic_policy("§2.2", _SYMPTOM_NOTE)
    ),
    SymptomRule(
        "symptom.severe_headache",
        Symptom.SEVERE_HEADACHE,
        _STOP,
        clinic_policy("§2.2", _SYMPTOM_NOTE),
    ),
    SymptomRule(
        "symptom.neurological_signs",
        Symptom.NEUROLOGICAL_SIGNS,
        _EMERGENCY,
        clinic_policy("§2.2", _SYMPTOM_NOTE + " SPRAVATO-US warns where raised BP/ICP is a risk."),
    ),
    SymptomRule(
        "symptom.vomiting_while_sedated",
        Symptom.VOMITING,
        _STOP,
        clinic_policy("§2.2", _SYMPTOM_NOTE + " Aspiration risk; 'sedated' = drowsy or deeper."),
        only_when_sedated_at_least=SedationLevel.DROWSY,
    ),
    SymptomRule(
        "symptom.emergence_reaction",
        Symptom.EMERGENCE_REACTION,
        _PAUSE,
        clinic_policy("§2.2", "Emergence reaction: listed in issue 5, not in the reference."),
    ),
    SymptomRule(
        "symptom.agitation",
        Symptom.AGITATION,
        _RECHECK,
        clinic_policy("§2.2", "Agitation: listed in issue 5, not in the reference."),
    ),
)

DEFAULT_HYPERTENSIVE_EMERGENCY_RULES: tuple[HypertensiveEmergencyRule, ...] = (
    HypertensiveEmergencyRule(
        "bp.hypertensive_emergency",
        systolic_at_least=180,
        diastolic_at_least=120,
        symptoms=frozenset(
            {Symptom.CHEST_PAIN, Symptom.SEVERE_HEADACHE, Symptom.NEUROLOGICAL_SIGNS}
        ),
        grade=_EMERGENCY,
        source=Source(
            "YIP2022",
            Verification.UNVERIFIED,
            Evidence.CLINIC_POLICY,
            "YIP2022 (VERIFIED, abstract) separates asymptomatic elevation from hypertensive "
            "emergency; the 180/120 figures are recalled ACC/AHA values (UNVERIFIED).",
        ),
    ),
)


# --- monitoring cadence -----------------------------------------------------------------------


class TimeReference(StrEnum):
    DOSE_START = "dose_start"  # first device / start of infusion / injection
    DOSE_END = "dose_end"  # end of infusion; for a bolus or nasal dose, the last administration


class CheckKind(StrEnum):
    VITALS = "vitals"
    DISSOCIATION = "dissociation"


@dataclass(frozen=True, slots=True)
class AnchoredCheck:
    """A check due at a fixed time after the dose (e.g. esketamine BP at 40 minutes)."""

    check_id: str
    kind: CheckKind
    reference: TimeReference
    offset: timedelta
    label: str
    source: Source


@dataclass(frozen=True, slots=True)
class MonitoringProtocol:
    """How one route / protocol is watched and for how long."""

    protocol_id: str
    route: Route
    after_dose_interval: Sourced[timedelta]
    minimum_observation: Sourced[timedelta]
    observation_from: Sourced[TimeReference]
    anchored_checks: tuple[AnchoredCheck, ...]
    # Only infusions have a "during" phase; None means the route is a bolus or a nasal dose.
    during_infusion_interval: Sourced[timedelta] | None = None

    @property
    def is_infusion(self) -> bool:
        return self.during_infusion_interval is not None


_RIVA = Source(
    "RIVAPOSSE2018",
    Verification.VERIFIED,
    Evidence.PUBLISHED_PRACTICE,
    "Emory: BP every 10 min during a 40-min 0.5 mg/kg infusion, every 15 min thereafter.",
)
_RIVA_ADOPTED = clinic_policy(
    "RIVAPOSSE2018", "IV post-infusion cadence (every 15 min) adopted for this route; not studied."
)
_OBS_DEFAULT = clinic_policy("§2.3", "Minimum observation for routes other than esketamine.")
_PEAK = clinic_policy(
    "§2.2",
    "Rate CADSS / CADSS-6 at about 40 min or the expected peak; timing for this route is policy.",
)


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def _dissociation_at(ref: TimeReference, minutes: int, source: Source = _PEAK) -> AnchoredCheck:
    when = "end of dose" if ref is TimeReference.DOSE_END and minutes == 0 else f"{minutes} min"
    return AnchoredCheck(
        "dissociation.peak",
        CheckKind.DISSOCIATION,
        ref,
        _minutes(minutes),
        f"Dissociation rating (CADSS / CADSS-6) at expected peak ({when})",
        source,
    )


def _bolus_protocol(route: Route, peak_minutes: int, observe_minutes: int) -> MonitoringProtocol:
    return MonitoringProtocol(
        protocol_id=f"{route.value}-default",
        route=route,
        after_dose_interval=Sourced(_minutes(15), _RIVA_ADOPTED),
        minimum_observation=Sourced(_minutes(observe_minutes), _OBS_DEFAULT),
        observation_from=Sourced(TimeReference.DOSE_END, _OBS_DEFAULT),
        anchored_checks=(_dissociation_at(TimeReference.DOSE_START, peak_minutes),),
    )


_ESK_LABEL = Source("SPRAVATO-US", Verification.VERIFIED, Evidence.LABEL)

DEFAULT_PROTOCOLS: tuple[MonitoringProtocol, ...] = (
    MonitoringProtocol(
        protocol_id="iv-infusion-default",
        route=Route.IV,
        during_infusion_interval=Sourced(_minutes(10), _RIVA),
        after_dose_interval=Sourced(_minutes(15), _RIVA),
        minimum_observation=Sourced(
            _minutes(60),
            clinic_policy(
                "§2.2",
                "60 min after the infusion ends; BP/HR back to baseline within 1.5 h "
                "post-infusion in Szarmach 2020 (§2.2).",
            ),
        ),
        observation_from=Sourced(TimeReference.DOSE_END, _OBS_DEFAULT),
        anchored_checks=(_dissociation_at(TimeReference.DOSE_END, 0),),
    ),
    _bolus_protocol(Route.IM, peak_minutes=15, observe_minutes=90),
    _bolus_protocol(Route.SC, peak_minutes=30, observe_minutes=90),
    _bolus_protocol(Route.SUBLINGUAL_LOZENGE, peak_minutes=45, observe_minutes=120),
    _bolus_protocol(Route.ORAL, peak_minutes=45, observe_minutes=120),
    MonitoringProtocol(
        protocol_id="esketamine-rems-default",
        route=Route.INTRANASAL_ESKETAMINE,
        after_dose_interval=Sourced(
            _minutes(30),
            clinic_policy(
                "SPRAVATO-US",
                "Label: after the 40-min check, 'as clinically warranted until values remain "
                "consistent at a safe level'; the 30-min interval is policy.",
            ),
        ),
        minimum_observation=Sourced(
            _minutes(120),
            Source(
                "SPRAVATO-US",
                Verification.VERIFIED,
                Evidence.LABEL,
                "Boxed warning: monitor at least 2 hours at each session.",
            ),
        ),
        observation_from=Sourced(
            TimeReference.DOSE_START,
            Source(
                "SPRAVATO-US",
                Verification.VERIFIED,
                Evidence.LABEL,
                "REMS Patient Monitoring Form (§11.2) counts treatment duration from the first "
                "device.",
            ),
        ),
        anchored_checks=(
            AnchoredCheck(
                "vitals.esketamine_40_min",
                CheckKind.VITALS,
                TimeReference.DOSE_START,
                _minutes(40),
                "Blood pressure 40 minutes after administration (BP peak)",
                Source(
                    "SPRAVATO-US",
                    Verification.VERIFIED,
                    Evidence.LABEL,
                    "BP prior to and 40 minutes after administration (spravatohcp.com).",
                ),
            ),
            AnchoredCheck(
                "vitals.before_session_completion",
                CheckKind.VITALS,
                TimeReference.DOSE_START,
                _minutes(120),
                "Blood pressure before the session is completed (REMS form)",
                Source(
                    "SPRAVATO-US",
                    Verification.VERIFIED,
                    Evidence.LABEL,
                    "REMS form (§11.2) asks BP prior to session completion; timing it at 2 h is "
                    "policy.",
                ),
            ),
            _dissociation_at(
                TimeReference.DOSE_START,
                40,
                Source(
                    "§2.2",
                    Verification.UNVERIFIED,
                    Evidence.CLINIC_POLICY,
                    "CADSS at ~40 min (label Cmax / BP peak); the reference gives no status.",
                ),
            ),
        ),
    ),
)

_PRE_DOSE_BASELINE = Source(
    "§2.1",
    Verification.VERIFIED,
    Evidence.LABEL,
    "BP before each dose is mandatory (SPRAVATO-US); Kapstone takes a full baseline set.",
)


# --- pre-dose blood pressure ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PreDoseBloodPressurePolicy:
    """Above these (strictly greater), dosing needs the prescriber's documented decision."""

    systolic_above: Sourced[int] = Sourced(
        140,
        Source(
            "SPRAVATO-EU",
            Verification.VERIFIED,
            Evidence.LABEL,
            "'as a general guide: >140/90' (SmPC text, truncated); US PI wording SECONDARY.",
        ),
    )
    diastolic_above: Sourced[int] = Sourced(
        90,
        Source("SPRAVATO-EU", Verification.VERIFIED, Evidence.LABEL, "'>140/90' general guide."),
    )
    # The > 150/90 split for >= 65 years is UNVERIFIED and would loosen the guide, so it is off
    # unless the medical director turns it on.
    older_adult_age: Sourced[int | None] = Sourced(
        None, clinic_policy("§2.1", "Age split (>= 65 years) UNVERIFIED; disabled by default.")
    )
    older_adult_systolic_above: Sourced[int] = Sourced(
        150, clinic_policy("§2.1", "> 150/90 for >= 65 years UNVERIFIED.")
    )
    severe_systolic_at_least: Sourced[int] = Sourced(180, _CRISIS)
    severe_diastolic_at_least: Sourced[int] = Sourced(110, _CRISIS)


# --- discharge --------------------------------------------------------------------------------

_DISCHARGE = clinic_policy("§2.3", "Discharge vital-sign limit ('within acceptable limits').")


@dataclass(frozen=True, slots=True)
class DischargePolicy:
    """Vital signs acceptable for discharge: absolute bounds and closeness to the baseline."""

    systolic_below: Sourced[int] = Sourced(160, _DISCHARGE)
    systolic_at_least: Sourced[int] = Sourced(90, _DISCHARGE)
    diastolic_below: Sourced[int] = Sourced(100, _DISCHARGE)
    heart_rate_at_least: Sourced[int] = Sourced(50, _DISCHARGE)
    heart_rate_below: Sourced[int] = Sourced(110, _DISCHARGE)
    spo2_at_least: Sourced[int] = Sourced(94, _DISCHARGE)
    respiratory_rate_at_least: Sourced[int] = Sourced(10, _DISCHARGE)
    respiratory_rate_below: Sourced[int] = Sourced(25, _DISCHARGE)
    systolic_rise_below: Sourced[int] = Sourced(
        20, clinic_policy("§2.3", "'Returned to baseline' tolerance; UNVERIFIED.")
    )
    diastolic_rise_below: Sourced[int] = Sourced(
        15, clinic_policy("§2.3", "'Returned to baseline' tolerance; UNVERIFIED.")
    )
    deepest_sedation: Sourced[SedationLevel] = Sourced(
        SedationLevel.ALERT,
        Source(
            "SPRAVATO-US",
            Verification.VERIFIED,
            Evidence.LABEL,
            "REMS objective (§11.1): monitor until sedation, dissociation and respiratory "
            "depression resolve.",
        ),
    )
    vitals_max_age: Sourced[timedelta] = Sourced(
        _minutes(15), clinic_policy("§2.3", "Discharge vitals must be this recent.")
    )
    # None: dissociation is judged by the clinician alone (the reference has no verified CADSS cut).
    dissociation_max_rise_over_baseline: Sourced[int | None] = Sourced(
        None,
        clinic_policy("§4.10", "'CADSS back to about pre-dose' — threshold UNVERIFIED (§2.3)."),
    )


# --- readings from the bedside monitor ---------------------------------------------------------

_ARTIFACT = clinic_policy(
    "§2.2",
    "Monitor artifact rule (movement, a loose probe, a cuff cycled on a moving arm); no guideline "
    "number; set by the medical director.",
)


@dataclass(frozen=True, slots=True)
class DeviceReadingPolicy:
    """How the chair side treats readings the bedside monitor sends (kapstone.clinical.
    device_artifacts): a change between two monitor readings larger than these, within the window
    of its kind, is physiologically implausible and is held until the next reading confirms it.

    Blood pressure comes from the cuff (NIBP), one measurement per cycle minutes apart; heart rate,
    SpO2 and respiratory rate are continuous signals, sampled often, where a loose probe or a moving
    hand makes brief false values. Each kind has its own window.
    """

    systolic_jump: Sourced[int] = Sourced(40, _ARTIFACT)
    diastolic_jump: Sourced[int] = Sourced(30, _ARTIFACT)
    heart_rate_jump: Sourced[int] = Sourced(40, _ARTIFACT)
    spo2_jump: Sourced[int] = Sourced(8, _ARTIFACT)
    respiratory_rate_jump: Sourced[int] = Sourced(12, _ARTIFACT)
    cuff_window: Sourced[timedelta] = Sourced(
        _minutes(20),
        clinic_policy("§2.2", "Two cuff readings this close are compared (cycles are 5-15 min)."),
    )
    continuous_window: Sourced[timedelta] = Sourced(
        _minutes(5),
        clinic_policy("§2.2", "Two samples of a continuous signal this close are compared."),
    )
    # With no message for longer than this, the console says the monitor feed is silent (the
    # monitors the clinic uses send a reading at least every 15 s while connected).
    feed_silent_after: Sourced[timedelta] = Sourced(
        timedelta(seconds=60),
        clinic_policy("§2.2", "Monitor feed is called silent after this long without a message."),
    )


# --- the policy -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MonitoringPolicy:
    version: str = DEFAULT_POLICY_VERSION
    plausibility: PlausibilityLimits = DEFAULT_PLAUSIBILITY_LIMITS
    protocols: tuple[MonitoringProtocol, ...] = DEFAULT_PROTOCOLS
    pre_dose_baseline_source: Source = _PRE_DOSE_BASELINE
    threshold_rules: tuple[ThresholdRule, ...] = DEFAULT_THRESHOLD_RULES
    sedation_rules: tuple[SedationRule, ...] = DEFAULT_SEDATION_RULES
    symptom_rules: tuple[SymptomRule, ...] = DEFAULT_SYMPTOM_RULES
    hypertensive_emergency_rules: tuple[HypertensiveEmergencyRule, ...] = (
        DEFAULT_HYPERTENSIVE_EMERGENCY_RULES
    )
    # With no infusion running there is nothing to pause: the grade moves up to calling the
    # prescriber (esketamine: the prescriber is on site, §11.1). Must be RECHECK or STOP so that
    # grading stays monotone.
    pause_without_infusion_becomes: Sourced[AlertGrade] = Sourced(
        AlertGrade.STOP_AND_CALL_PRESCRIBER,
        clinic_policy(
            "SPRAVATO-US", "No infusion to pause: escalate to the prescriber on site (REMS, §11.1)."
        ),
    )
    overdue_grace: Sourced[timedelta] = Sourced(
        _minutes(2), clinic_policy("§2.2", "A check is overdue this long after it falls due.")
    )
    anchored_check_early_window: Sourced[timedelta] = Sourced(
        _minutes(5),
        clinic_policy("§2.2", "A reading this early still counts for a timed check (e.g. 40 min)."),
    )
    pre_dose: PreDoseBloodPressurePolicy = field(default_factory=PreDoseBloodPressurePolicy)
    discharge: DischargePolicy = field(default_factory=DischargePolicy)
    device: DeviceReadingPolicy = field(default_factory=DeviceReadingPolicy)

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        ids = [r.rule_id for r in self.threshold_rules]
        ids += [r.rule_id for r in self.sedation_rules]
        ids += [r.rule_id for r in self.symptom_rules]
        ids += [r.rule_id for r in self.hypertensive_emergency_rules]
        for rule_id, count in Counter(ids).items():
            if count > 1:
                problems.append(Problem("rules", f"rule id {rule_id!r} is used {count} times"))
        protocol_ids = Counter(p.protocol_id for p in self.protocols)
        for protocol_id, count in protocol_ids.items():
            if count > 1:
                problems.append(
                    Problem("protocols", f"protocol id {protocol_id!r} is used {count} times")
                )
        for p in self.protocols:
            if p.is_infusion and p.route is not Route.IV:
                problems.append(Problem("protocols", "only IV protocols have an infusion phase"))
        allowed = (AlertGrade.RECHECK_IN_5_MINUTES, AlertGrade.STOP_AND_CALL_PRESCRIBER)
        if self.pause_without_infusion_becomes.value not in allowed:
            problems.append(
                Problem(
                    "pause_without_infusion_becomes",
                    "must be recheck_in_5_minutes or stop_and_call_prescriber",
                )
            )
        InvalidMonitoringPolicy.refuse_if_any(problems)

    def protocol_for(self, route: Route, protocol_id: str | None = None) -> MonitoringProtocol:
        """The named protocol, or the first one for the route."""
        for p in self.protocols:
            if (protocol_id is None and p.route is route) or p.protocol_id == protocol_id:
                if p.route is not route:
                    raise InvalidMonitoringInput(
                        [
                            Problem(
                                "protocol_id",
                                f"protocol {protocol_id!r} is for {p.route.value}, "
                                f"not {route.value}",
                            )
                        ]
                    )
                return p
        known = ", ".join(p.protocol_id for p in self.protocols if p.route is route) or "none"
        raise InvalidMonitoringInput(
            [
                Problem(
                    "protocol_id",
                    f"no monitoring protocol {protocol_id or ''} for route {route.value}; "
                    f"known for this route: {known}",
                )
            ]
        )


DEFAULT_MONITORING_POLICY = MonitoringPolicy()
