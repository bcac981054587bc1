"""For pages of other apps that link to the console (the dosing tab): may this user chart sessions?

The dosing tab is already limited to the patient's care team (and roles that see every chart), so
the role's grant is the whole question there.
"""

from __future__ import annotations

from django import template

from kapstone.clinical.access import Permission, role_may

register = template.Library()


@register.filter
def may_chart_sessions(user: object) -> bool:
    role = getattr(user, "staff_role", None)
    return role is not None and role_may(role, Permission.CHART_DOSING_SESSION)
