"""The medical director's changes to the monitoring policy, applied to the cited defaults.

The defaults in :mod:`kapstone.clinical.monitoring_policy` are mostly clinic policy (§2.2: the
intra-session numbers are UNVERIFIED). A clinic tunes them without code: an override names a rule by
its id (or a pre-dose / discharge limit by its field) and gives the new number or grade. Each changed
value's Source keeps the default's citation and adds who set it and why, so a reviewer sees both.
Nothing here loosens a check silently: every override is listed by :func:`describe_changes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from kapstone.clinical.checks import is_whole
from kapstone.clinical.monitoring_policy import (
    AlertGrade,
    DeviceReadingPolicy,
    DischargePolicy,
    MonitoringPolicy,
    PreDoseBloodPressurePolicy,
    Sourced,
)
from kapstone.clinical.problems import Problem
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.vital_signs import InvalidInput

# The whole-number limits a director may set, with the range a typo cannot escape.
PRE_DOSE_FIELDS: Mapping[str, tuple[int, int]] = {
    "systolic_above": (100, 200),
    "diastolic_above": (60, 130),
    "severe_systolic_at_least": (140, 260),
    "severe_diastolic_at_least": (90, 160),
}
DISCHARGE_FIELDS: Mapping[str, tuple[int, int]] = {
    "systolic_below": (120, 220),
    "systolic_at_least": (60, 120),
    "diastolic_below": (70, 140),
    "heart_rate_at_least": (30, 70),
    "heart_rate_below": (80, 160),
    "spo2_at_least": (85, 100),
    "respiratory_rate_at_least": (4, 14),
    "respiratory_rate_below": (16, 40),
    "systolic_rise_below": (5, 60),
    "diastolic_rise_below": (5, 40),
}
# The monitor artifact limits (kapstone.clinical.device_artifacts): a jump larger than this between
# two monitor readings is held until the next confirms it.
DEVICE_FIELDS: Mapping[str, tuple[int, int]] = {
    "systolic_jump": (15, 120),
    "diastolic_jump": (10, 90),
    "heart_rate_jump": (10, 120),
    "spo2_jump": (3, 30),
    "respiratory_rate_jump": (4, 40),
}
THRESHOLD_RANGE = (0, 300)


class InvalidOverride(InvalidInput):
    """An override the policy cannot take: an unknown rule, a number out of range, a bad grade."""


@dataclass(frozen=True, slots=True)
class Change:
    """One value that differs from the default, for the policy page and the audit trail."""

    where: str
    default: str
    value: str


def _local(default: Source, set_by: str, reason: str) -> Source:
    # The reference key stays: the value is the clinic's, the topic is still where it was cited.
    return Source(
        default.key,
        Verification.UNVERIFIED,
        Evidence.CLINIC_POLICY,
        f"Set by {set_by}: {reason} (the default was {default.verification.value}: {default.note})",
    )


def _whole(value: object, where: str, bounds: tuple[int, int], problems: list[Problem]) -> int:
    low, high = bounds
    if not is_whole(value):
        problems.append(Problem(where, repr(value), f"a whole number from {low} to {high}"))
        return low
    if not low <= value <= high:
        problems.append(Problem(where, repr(value), f"a whole number from {low} to {high}"))
    return value


def _grade(value: object, where: str, problems: list[Problem]) -> AlertGrade:
    try:
        grade = AlertGrade(str(value))
    except ValueError:
        grade = AlertGrade.NONE
    if grade is AlertGrade.NONE:
        accepted = ", ".join(g.value for g in AlertGrade if g is not AlertGrade.NONE)
        problems.append(Problem(where, repr(value), f"one of {accepted}"))
    return grade


def apply_overrides(
    policy: MonitoringPolicy,
    overrides: Mapping[str, Any],
    *,
    version: str,
    set_by: str,
    reason: str,
) -> MonitoringPolicy:
    """The policy with ``overrides`` applied, named ``version``; raises InvalidOverride listing
    every problem. ``overrides``: {"rules": {rule_id: {"threshold": int, "grade": str}},
    "pre_dose": {field: int}, "discharge": {field: int}, "device": {field: int}} (each part
    optional)."""
    problems: list[Problem] = []
    unknown = set(overrides) - {"rules", "pre_dose", "discharge", "device"}
    for key in sorted(unknown):
        problems.append(Problem(key, repr(None), "one of rules, pre_dose, discharge, device"))
    rules = dict(overrides.get("rules") or {})
    known_ids = {r.rule_id for r in policy.threshold_rules} | {
        r.rule_id
        for r in _as_graded(
            policy.sedation_rules, policy.symptom_rules, policy.hypertensive_emergency_rules
        )
    }
    for rule_id in sorted(set(rules) - known_ids):
        problems.append(Problem(f"rules.{rule_id}", repr(rule_id), "a rule id of the policy"))

    thresholds = []
    for rule in policy.threshold_rules:
        change = rules.get(rule.rule_id)
        if not change:
            thresholds.append(rule)
            continue
        where = f"rules.{rule.rule_id}"
        threshold = rule.threshold
        if "threshold" in change:
            threshold = _whole(change["threshold"], f"{where}.threshold", THRESHOLD_RANGE, problems)
        grade = (
            _grade(change["grade"], f"{where}.grade", problems) if "grade" in change else rule.grade
        )
        thresholds.append(
            replace(
                rule, threshold=threshold, grade=grade, source=_local(rule.source, set_by, reason)
            )
        )

    sedation = _regraded(policy.sedation_rules, rules, problems, set_by, reason)
    symptoms = _regraded(policy.symptom_rules, rules, problems, set_by, reason)
    emergencies = _regraded(policy.hypertensive_emergency_rules, rules, problems, set_by, reason)

    local = (problems, set_by, reason)
    pre_dose = _limits(policy.pre_dose, overrides, "pre_dose", PRE_DOSE_FIELDS, *local)
    discharge = _limits(policy.discharge, overrides, "discharge", DISCHARGE_FIELDS, *local)
    device = _limits(policy.device, overrides, "device", DEVICE_FIELDS, *local)
    InvalidOverride.refuse_if_any(problems)
    return replace(
        policy,
        version=version,
        threshold_rules=tuple(thresholds),
        sedation_rules=sedation,
        symptom_rules=symptoms,
        hypertensive_emergency_rules=emergencies,
        pre_dose=pre_dose,
        discharge=discharge,
        device=device,
    )


class _Graded(Protocol):
    @property
    def rule_id(self) -> str: ...
    @property
    def grade(self) -> AlertGrade: ...
    @property
    def source(self) -> Source: ...


def _as_graded(*groups: tuple[_Graded, ...]) -> tuple[_Graded, ...]:
    return tuple(rule for group in groups for rule in group)


def _regraded[R: _Graded](
    items: tuple[R, ...],
    rules: Mapping[str, Any],
    problems: list[Problem],
    set_by: str,
    reason: str,
) -> tuple[R, ...]:
    """Sedation, symptom and emergency rules take a new grade only (their trigger is not a number)."""
    out: list[R] = []
    for rule in items:
        change = rules.get(rule.rule_id)
        if not change:
            out.append(rule)
            continue
        where = f"rules.{rule.rule_id}"
        if set(change) - {"grade"}:
            problems.append(Problem(where, repr(sorted(change)), "only a grade for this rule"))
        grade = _grade(change.get("grade"), f"{where}.grade", problems)
        # Every rule type here is a frozen dataclass with these two fields.
        out.append(replace(rule, grade=grade, source=_local(rule.source, set_by, reason)))  # type: ignore[type-var]
    return tuple(out)


def _limits[P: (PreDoseBloodPressurePolicy, DischargePolicy, DeviceReadingPolicy)](
    current: P,
    overrides: Mapping[str, Any],
    prefix: str,
    fields: Mapping[str, tuple[int, int]],
    problems: list[Problem],
    set_by: str,
    reason: str,
) -> P:
    """``current`` with the whole numbers ``overrides[prefix]`` changes, each sourced locally."""
    updates: dict[str, Sourced[int]] = {}
    for name, value in (overrides.get(prefix) or {}).items():
        where = f"{prefix}.{name}"
        if name not in fields:
            problems.append(Problem(where, repr(value), f"one of {', '.join(fields)}"))
            continue
        number = _whole(value, where, fields[name], problems)
        default: Sourced[int] = getattr(current, name)
        updates[name] = Sourced(number, _local(default.source, set_by, reason))
    # Only whole-number fields are named in ``fields``, so every update is a Sourced[int].
    return replace(current, **updates)  # type: ignore[arg-type]


def describe_changes(default: MonitoringPolicy, tuned: MonitoringPolicy) -> tuple[Change, ...]:
    """Every value in ``tuned`` that differs from ``default``: what the policy page lists."""
    changes: list[Change] = []
    before = {r.rule_id: r for r in default.threshold_rules}
    for rule in tuned.threshold_rules:
        old = before.get(rule.rule_id)
        if old is not None and (old.threshold, old.grade) != (rule.threshold, rule.grade):
            changes.append(
                Change(
                    rule.rule_id,
                    f"{old.threshold} → {old.grade.value}",
                    f"{rule.threshold} → {rule.grade.value}",
                )
            )
    graded = {
        r.rule_id: r.grade
        for r in _as_graded(
            default.sedation_rules, default.symptom_rules, default.hypertensive_emergency_rules
        )
    }
    for other in _as_graded(
        tuned.sedation_rules, tuned.symptom_rules, tuned.hypertensive_emergency_rules
    ):
        if other.rule_id in graded and graded[other.rule_id] != other.grade:
            changes.append(Change(other.rule_id, graded[other.rule_id].value, other.grade.value))
    for prefix, fields, old_limits, new_limits in (
        ("pre_dose", PRE_DOSE_FIELDS, default.pre_dose, tuned.pre_dose),
        ("discharge", DISCHARGE_FIELDS, default.discharge, tuned.discharge),
        ("device", DEVICE_FIELDS, default.device, tuned.device),
    ):
        for name in fields:
            old_value = getattr(old_limits, name).value
            new_value = getattr(new_limits, name).value
            if old_value != new_value:
                changes.append(Change(f"{prefix}.{name}", str(old_value), str(new_value)))
    return tuple(changes)
