from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django import forms

from kapstone.accounts.models import Room, StaffUser
from kapstone.clinical.access import Role
from kapstone.clinical.routes import Route
from kapstone.plans.selectors import SignedPlan
from kapstone.web.fields import StrictIntegerField

LOCAL_TIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
TIME_MESSAGES = {
    "invalid": "Enter the date and time, e.g. 2026-12-01 09:30.",
    "required": "Enter the date and time.",
}


if TYPE_CHECKING:  # the stubs' field is generic; Django's own class takes no subscript
    _RoomField = forms.ModelChoiceField[Room]
else:
    _RoomField = forms.ModelChoiceField


class RoomChoice(_RoomField):
    def label_from_instance(self, obj: Room) -> str:
        routes = ", ".join(Route(r).label for r in obj.routes if r in set(Route))
        return f"{obj.name}, {obj.site.name}" + (f" ({routes})" if routes else "")


class BookSessionForm(forms.Form):
    """A dosing session booked by hand, with its integration session (see
    ``kapstone.timetable.services.book_by_hand`` for the guard rails)."""

    starts_at = forms.DateTimeField(label="Starts", widget=LOCAL_TIME, error_messages=TIME_MESSAGES)
    duration_minutes = StrictIntegerField(
        label="Length including observation (minutes)",
        initial=120,
        min_value=30,
        max_value=360,
    )
    room = RoomChoice(
        label="Room or chair",
        queryset=Room.objects.none(),
        error_messages={"required": "Choose the room or chair."},
    )
    book_integration = forms.BooleanField(
        label="Book its integration session too", required=False, initial=True
    )
    integration_starts_at = forms.DateTimeField(
        label="Integration session starts",
        widget=LOCAL_TIME,
        required=False,
        error_messages=TIME_MESSAGES,
    )
    integration_minutes = StrictIntegerField(
        label="Integration session length (minutes)",
        initial=90,
        min_value=30,
        max_value=180,
        required=False,
    )
    therapist = forms.ModelChoiceField(
        label="Therapist",
        queryset=StaffUser.objects.filter(is_active=True, role=Role.THERAPIST.value),
        required=False,
    )
    modality = forms.ChoiceField(label="Modality", choices=[("", "Choose")], required=False)

    def __init__(self, *args: Any, signed: SignedPlan | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rooms = Room.objects.filter(is_active=True, site__is_active=True).select_related("site")
        if signed is not None:
            # JSON "contains" is not a lookup SQLite has: the rooms are few, filter them here.
            rooms = rooms.filter(pk__in=[r.pk for r in rooms if signed.route.value in r.routes])
            modality = self.fields["modality"]
            assert isinstance(modality, forms.ChoiceField)
            modality.choices = [("", "Choose"), *((m.value, m.label) for m in signed.modalities)]
        room = self.fields["room"]
        assert isinstance(room, RoomChoice)
        room.queryset = rooms

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("book_integration"):
            if (
                data.get("integration_starts_at") is None
                and "integration_starts_at" not in self.errors
            ):
                self.add_error(
                    "integration_starts_at", "Enter when the integration session starts."
                )
            if data.get("integration_minutes") is None and "integration_minutes" not in self.errors:
                self.add_error("integration_minutes", "Enter the integration session's length.")
        return data

    @property
    def duration(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.cleaned_data["duration_minutes"])


class CancelSessionForm(forms.Form):
    reason = forms.CharField(
        label="Why is the session cancelled?",
        max_length=300,
        error_messages={"required": "Say why the session is cancelled."},
    )
