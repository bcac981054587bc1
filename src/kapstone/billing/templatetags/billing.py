"""``{{ cents|dollars }}``: integer cents as the clinic reads money."""

from __future__ import annotations

from django import template

from kapstone.billing.documents import dollars as _dollars

register = template.Library()


@register.filter
def dollars(cents: int | None) -> str:
    return "—" if cents is None else _dollars(int(cents))
