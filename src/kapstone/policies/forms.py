"""The policy page's form: one field per tunable value, prefilled with what is in force."""

from __future__ import annotations

from typing import Any

from django import forms

from kapstone.clinical.monitoring_overrides import (
    DEVICE_FIELDS,
    DISCHARGE_FIELDS,
    PRE_DOSE_FIELDS,
    THRESHOLD_RANGE,
)
from kapstone.clinical.monitoring_policy import (
    AlertGrade,
    HypertensiveEmergencyRule,
    MonitoringPolicy,
    SedationRule,
    SymptomRule,
)
from kapstone.web.fields import ClinicalTextField, StrictIntegerField
from kapstone.web.labels import label, rule_label

GRADES = [(g.value, g.label) for g in AlertGrade if g is not AlertGrade.NONE]


GradedRule = SedationRule | SymptomRule | HypertensiveEmergencyRule


def _graded(policy: MonitoringPolicy) -> tuple[GradedRule, ...]:
    """The rules whose recommendation alone the director sets (no threshold), in page order."""
    return (
        *policy.sedation_rules,
        *policy.symptom_rules,
        *policy.hypertensive_emergency_rules,
    )


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


class MonitoringPolicyForm(forms.Form):
    reason = ClinicalTextField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the policy changes (shown with every value you change).",
    )

    def __init__(self, *args: Any, default: MonitoringPolicy, current: MonitoringPolicy, **kw: Any):
        super().__init__(*args, **kw)
        self.default = default
        low, high = THRESHOLD_RANGE
        self.rule_rows: list[tuple[str, str, str, str]] = []
        for rule, now in zip(default.threshold_rules, current.threshold_rules, strict=True):
            key = rule.rule_id
            self.fields[f"t:{key}"] = StrictIntegerField(
                min_value=low,
                max_value=high,
                initial=now.threshold,
                label=f"{rule_label(key)}: threshold",
            )
            self.fields[f"g:{key}"] = forms.ChoiceField(
                choices=GRADES, initial=now.grade.value, label=f"{rule_label(key)}: recommendation"
            )
            self.rule_rows.append(
                (
                    key,
                    f"{label(rule.measure.value)} {rule.direction.value}",
                    rule.source.cite(),
                    "t",
                )
            )
        # Sedation, symptom and hypertensive-emergency rules: a recommendation only.
        for graded, graded_now in zip(_graded(default), _graded(current), strict=True):
            self.fields[f"g:{graded.rule_id}"] = forms.ChoiceField(
                choices=GRADES,
                initial=graded_now.grade.value,
                label=f"{rule_label(graded.rule_id)}: recommendation",
            )
            self.rule_rows.append((graded.rule_id, "", graded.source.cite(), "g"))
        for prefix, fields, limits in (
            ("pre_dose", PRE_DOSE_FIELDS, current.pre_dose),
            ("discharge", DISCHARGE_FIELDS, current.discharge),
            ("device", DEVICE_FIELDS, current.device),
        ):
            for name, (lo, hi) in fields.items():
                self.fields[f"{prefix}:{name}"] = StrictIntegerField(
                    min_value=lo,
                    max_value=hi,
                    initial=getattr(limits, name).value,
                    label=_label(name),
                )

    def limit_fields(self, prefix: str) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(f"{prefix}:")]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "rule_id": key,
                "trigger": trigger,
                "source": source,
                "threshold": self[f"t:{key}"] if kind == "t" else None,
                "grade": self[f"g:{key}"],
            }
            for key, trigger, source, kind in self.rule_rows
        ]

    def overrides(self) -> dict[str, Any]:
        """Only what differs from the cited defaults, so untouched values follow future defaults."""
        data = self.cleaned_data
        rules: dict[str, dict[str, Any]] = {}
        for rule in self.default.threshold_rules:
            change: dict[str, Any] = {}
            if data[f"t:{rule.rule_id}"] != rule.threshold:
                change["threshold"] = data[f"t:{rule.rule_id}"]
            if data[f"g:{rule.rule_id}"] != rule.grade.value:
                change["grade"] = data[f"g:{rule.rule_id}"]
            if change:
                rules[rule.rule_id] = change
        for other in _graded(self.default):
            if data[f"g:{other.rule_id}"] != other.grade.value:
                rules[other.rule_id] = {"grade": data[f"g:{other.rule_id}"]}
        out: dict[str, Any] = {"rules": rules} if rules else {}
        for prefix, fields, limits in (
            ("pre_dose", PRE_DOSE_FIELDS, self.default.pre_dose),
            ("discharge", DISCHARGE_FIELDS, self.default.discharge),
            ("device", DEVICE_FIELDS, self.default.device),
        ):
            changed = {
                name: data[f"{prefix}:{name}"]
                for name in fields
                if data[f"{prefix}:{name}"] != getattr(limits, name).value
            }
            if changed:
                out[prefix] = changed
        return out
