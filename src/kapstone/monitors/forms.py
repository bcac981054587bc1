"""The administrator's forms: a device and its local code map, in words."""

from __future__ import annotations

from typing import Any

from django import forms

from kapstone.accounts.models import Room
from kapstone.clinical.device_feed import Quantity

# What the administrator may write for a vital sign: its name in words, or a short form.
_NAMES: dict[str, Quantity] = {q.label.lower(): q for q in Quantity} | {
    q.value.replace("_", " "): q for q in Quantity
}
_NAMES |= {"sbp": Quantity.SYSTOLIC, "dbp": Quantity.DIASTOLIC, "map": Quantity.MEAN_ARTERIAL}
_NAMES |= {"hr": Quantity.HEART_RATE, "pr": Quantity.PULSE_RATE, "rr": Quantity.RESPIRATORY_RATE}
_NAMES |= {"pulse rate": Quantity.PULSE_RATE, "mean arterial": Quantity.MEAN_ARTERIAL}

CODE_MAP_HELP = (
    "Only for a device or gateway that sends its own codes (MDC codes are always read). One per "
    "line: the code as in OBX-3, an equals sign, the vital sign: e.g. 170 = systolic, "
    "101 = heart rate, 160 = SpO2, 151 = respiratory rate."
)


def code_map_text(codes: dict[str, str]) -> str:
    """A stored code map as the form shows it: in words."""
    return "\n".join(f"{code} = {Quantity(name).label}" for code, name in sorted(codes.items()))


class CodeMapField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 5})

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value) or ""
        codes: dict[str, str] = {}
        for n, line in enumerate(str(text).splitlines(), start=1):
            if not line.strip():
                continue
            code, sep, name = line.partition("=")
            quantity = _NAMES.get(" ".join(name.split()).lower())
            if not sep or not code.strip() or quantity is None:
                raise forms.ValidationError(
                    f"Line {n}: write the code, '=', then the vital sign "
                    "(systolic, diastolic, mean arterial, heart rate, pulse rate, SpO2, "
                    "respiratory rate)."
                )
            codes[code.strip()] = quantity.value
        return codes


class DeviceForm(forms.Form):
    label = forms.CharField(max_length=80, label="Name", help_text="As the nurses know it")
    sending_application = forms.CharField(
        max_length=180,
        label="Sending application (MSH-3)",
        help_text="As the device sends it; the first part (before ^) is enough",
    )
    sending_facility = forms.CharField(
        max_length=180,
        required=False,
        label="Sending facility (MSH-4)",
        help_text="Leave empty to accept any",
    )
    room = forms.ModelChoiceField(queryset=Room.objects.none(), label="Room or chair it serves")
    local_codes = CodeMapField(required=False, label="Local codes", help_text=CODE_MAP_HELP)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        room = self.fields["room"]
        assert isinstance(room, forms.ModelChoiceField)
        room.queryset = Room.objects.filter(is_active=True).select_related("site")


class ChangeDeviceForm(DeviceForm):
    is_active = forms.BooleanField(required=False, label="Take its messages")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("sending_application", "sending_facility"):
            self.fields[name].disabled = True
            self.fields[name].required = False
