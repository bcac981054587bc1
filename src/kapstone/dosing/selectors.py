"""Reads for dosing sessions."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.patients.models import Patient


def sessions_for_patient(patient: Patient) -> QuerySet[DosingSession]:
    return DosingSession.objects.filter(patient=patient).select_related("site", "booked_by")


def dosing_times(patient: Patient) -> list[dt.datetime]:
    """Start times of every session not cancelled: what schedules and charts count as doses."""
    return list(
        DosingSession.objects.filter(patient=patient)
        .exclude(status=SessionStatus.CANCELLED)
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
    )
