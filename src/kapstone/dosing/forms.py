from __future__ import annotations

import datetime as dt

from django import forms

from kapstone.accounts.models import Site
from kapstone.plans.models import TreatmentPlan
from kapstone.web.fields import StrictIntegerField


class PlanChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: TreatmentPlan) -> str:
        return (
            f"{obj.program.name}, {obj.route_value.label} "
            f"(version {obj.revision}, signed {obj.signature.signed_at:%d %b %Y})"
        )


class BookSessionForm(forms.Form):
    starts_at = forms.DateTimeField(
        label="Starts",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": "Enter the date and time, e.g. 2026-12-01 09:30."},
    )
    duration_minutes = StrictIntegerField(
        label="Length including observation (minutes)",
        initial=120,
        min_value=30,
        max_value=360,
    )
    site = forms.ModelChoiceField(label="Site", queryset=Site.objects.all(), required=False)
    # The chair side doses by the plan's route and dose: a session booked without one cannot be
    # opened there, so the signed plan in force is offered (and chosen) by default.
    plan = PlanChoiceField(
        label="Treatment plan and route",
        queryset=TreatmentPlan.objects.none(),
        required=False,
        empty_label="No signed plan yet",
    )

    def __init__(
        self, *args: object, signed: TreatmentPlan | None = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["plan"]
        assert isinstance(field, PlanChoiceField)
        if signed is not None:
            field.queryset = TreatmentPlan.objects.filter(pk=signed.pk).select_related(
                "program", "signature"
            )
            field.empty_label = None
            field.required = True
            self.initial.setdefault("plan", signed.pk)

    @property
    def duration(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.cleaned_data["duration_minutes"])


class CancelSessionForm(forms.Form):
    reason = forms.CharField(
        label="Why is the session cancelled?",
        max_length=300,
        error_messages={"required": "Say why the session is cancelled."},
    )
