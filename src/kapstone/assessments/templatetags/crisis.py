"""The clinic's crisis resources, on every page a patient sees (settings ``KAPSTONE_CRISIS_*``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

register = template.Library()


def _tel(number: str) -> str:
    """A dialable address for a link: digits and a leading plus only."""
    return "".join(c for c in number if c.isdigit() or c == "+")


@register.inclusion_tag("assessments/_crisis.html")
def crisis_resources(*, urgent: bool = False) -> dict[str, Any]:
    """``urgent``: an answer raised a suicide-risk flag, so the resources come first, as an alert."""
    call = settings.CRISIS_LINE_CALL
    text = settings.CRISIS_LINE_TEXT
    return {
        "urgent": urgent,
        "line_name": settings.CRISIS_LINE_NAME,
        "call": call,
        "call_tel": _tel(call),
        "text": text,
        "text_sms": _tel(text),
        "emergency": settings.EMERGENCY_NUMBER,
        "emergency_tel": _tel(settings.EMERGENCY_NUMBER),
        "extra": settings.CRISIS_EXTRA,
    }
