"""Whether to offer the outcome letter on the chart's Outcomes tab (the view still checks the
care team through ``requires``; this only hides a link the role could never use)."""

from __future__ import annotations

from typing import Any

from django import template

from kapstone.clinical.access import Permission, role_may

register = template.Library()


@register.simple_tag
def may_print_outcome_letter(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and role_may(user.staff_role, Permission.PRINT_OUTCOME_LETTER)
    )
