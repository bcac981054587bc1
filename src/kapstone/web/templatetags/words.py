"""``{% load words %}``: the clinic's words and local time in templates (kapstone.web.labels)."""

from __future__ import annotations

from typing import Any

from django import template

from kapstone.web import labels as words

register = template.Library()


@register.filter
def label(code: Any) -> str:
    return words.label(code)


@register.filter
def labels(codes: Any) -> str:
    return words.labels(codes or ())


@register.filter
def clinic_time(moment: Any, site: Any = None) -> str:
    return words.clinic_time(moment, site)


@register.filter
def clinic_clock(moment: Any, site: Any = None) -> str:
    return words.clinic_clock(moment, site)


@register.filter
def changes(value: Any) -> list[tuple[str, str]]:
    return words.shown_changes(value)


@register.filter
def humane(text: Any) -> str:
    return words.humane_text(str(text or ""))
