"""A sample research export for tests that need one (the role x URL walker)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def sample_export():
    from kapstone.accounts.models import StaffUser
    from kapstone.research.models import ResearchExport

    found = ResearchExport.objects.first()
    if found is not None:
        return found
    director = StaffUser.objects.filter(role="medical_director").order_by("pk").first()
    today = timezone.localdate()
    return ResearchExport.objects.create(
        requested_by=director,
        requested_at=timezone.now(),
        period_start=today - dt.timedelta(days=365),
        period_end=today,
    )
