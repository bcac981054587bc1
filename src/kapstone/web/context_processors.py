from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from kapstone.accounts.models import StaffUser
from kapstone.clinical.access import PATIENT_SCOPED, Permission, may
from kapstone.safety.selectors import open_alert_count


def kapstone(request: HttpRequest) -> dict[str, Any]:
    """The demo banner and which clinic-wide permissions the navigation may offer."""
    user = getattr(request, "user", None)
    staff = user if isinstance(user, StaffUser) else None  # None: signed out, or a patient's tablet
    allowed: set[str] = set()
    if staff is not None:
        allowed = {
            p.value for p in Permission if p not in PATIENT_SCOPED and may(staff.staff_role, p)
        }
    context: dict[str, Any] = {
        "DEMO_MODE": settings.DEMO_MODE,
        "SITE_NAME": settings.SITE_NAME,
        "allowed": allowed,
    }
    if staff is not None and Permission.SEE_ALERT_BOARD.value in allowed:
        # Open suicide-risk alerts show on every page, so none waits unseen behind another screen.
        context["open_alert_count"] = open_alert_count(staff)
    return context
