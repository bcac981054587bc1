"""Forms for signing and co-signing an eligibility review."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms

from kapstone.intake.models import DECISION_CHOICES


def reason_field_name(rule_id: str) -> str:
    return "reason_" + rule_id.lower().replace("-", "_")


class SignForm(forms.Form):
    final_decision = forms.ChoiceField(
        label="The decision you accept",
        choices=DECISION_CHOICES,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when you accept a decision other than the screen's.",
    )

    def __init__(self, *args: Any, findings: Sequence[Mapping[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.findings = [f for f in findings if f["kind"] != "informational"]
        for finding in self.findings:
            self.fields[reason_field_name(finding["rule_id"])] = forms.CharField(
                label=f"Reason for proceeding despite {finding['rule_id']} ({finding['kind']})",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=finding["message"],
            )

    def reason_fields(self) -> list[forms.BoundField]:
        return [self[reason_field_name(f["rule_id"])] for f in self.findings]

    def reasons(self) -> dict[str, str]:
        return {
            f["rule_id"]: self.cleaned_data.get(reason_field_name(f["rule_id"]), "")
            for f in self.findings
        }

    def field_for(self, key: str) -> str | None:
        """The form field an InputError key belongs to (services key reasons as 'reason:<id>')."""
        if key.startswith("reason:"):
            name = reason_field_name(key.removeprefix("reason:"))
            return name if name in self.fields else None
        return key if key in self.fields else None


class CosignForm(forms.Form):
    approve = forms.TypedChoiceField(
        label="Your decision on the override",
        choices=[
            ("yes", "Co-sign: the override may stand"),
            ("no", "Refuse: the override may not stand"),
        ],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Your reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
