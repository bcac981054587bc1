from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from kapstone.clinical.access import PATIENT_SCOPED, Permission, may


def kapstone(request: HttpRequest) -> dict[str, Any]:
    """The demo banner and which clinic-wide permissions the navigation may offer."""
    user = getattr(request, "user", None)
    allowed: set[str] = set()
    if user is not None and user.is_authenticated:
        allowed = {
            p.value for p in Permission if p not in PATIENT_SCOPED and may(user.staff_role, p)
        }
    return {"DEMO_MODE": settings.DEMO_MODE, "SITE_NAME": settings.SITE_NAME, "allowed": allowed}
