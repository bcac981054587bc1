"""The chart's section tabs, each shown only to those its page would let in.

Every chart page's view carries the permission its ``requires`` decorator checks, so the tab list
asks the same rule the page will apply (role and care team) instead of restating it here.
"""

from __future__ import annotations

import functools
from typing import Any

from django import template
from django.urls import resolve, reverse

from kapstone.clinical.access import PATIENT_SCOPED, Permission, may

register = template.Library()

# (tab key, label, URL name): the order the chart shows them in.
CHART_TABS = (
    ("overview", "Overview", "patients:chart"),
    ("questionnaires", "Questionnaires", "assessments:chart_tab"),
    ("dosing", "Dosing sessions", "dosing:chart_tab"),
    ("rems", "REMS forms", "rems:chart_tab"),
    ("alerts", "Alerts", "safety:chart_tab"),
    ("outcomes", "Outcomes", "outcomes:chart_tab"),
    ("measures", "Measures", "measures:chart_tab"),
    ("intake", "Intake", "intake:chart_tab"),
    ("plan", "Plan", "plans:chart_tab"),
    ("integration", "Integration", "integration:chart_tab"),
    ("messages", "Messages", "chart_messages:chart_tab"),
    ("calendar", "Calendar", "timetable:patient_calendar"),
    ("companion", "Companion", "companion_staff:chart_tab"),
)


@functools.cache
def _permission(name: str) -> Permission | None:
    """The permission the tab's view checks: its URL resolved once per process (the URLconf does
    not change while it runs), not on every chart page."""
    permission: Permission | None = getattr(
        resolve(reverse(name, args=[1])).func, "kapstone_permission", None
    )
    return permission


def _allowed(user: Any, patient: Any, name: str) -> bool:
    permission = _permission(name)
    if permission is None or not getattr(user, "is_authenticated", False):
        return False
    on_team = user.pk in patient.care_team_ids() if permission in PATIENT_SCOPED else None
    return may(user.staff_role, permission, on_care_team=on_team)


@register.inclusion_tag("web/_chart_tabs.html", takes_context=True)
def chart_tabs(context: template.Context, patient: Any, current: str) -> dict[str, Any]:
    user = context["request"].user
    tabs = []
    for key, label, name in CHART_TABS:
        if _allowed(user, patient, name):
            url = reverse(name, args=[patient.pk])
            tabs.append({"key": key, "label": label, "url": url, "current": key == current})
    return {"tabs": tabs}
