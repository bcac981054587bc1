"""Reads for notifications and reminders: what is due, and what a reminder is about."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from kapstone.assessments.models import QuestionnaireSet
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.notify.models import Notification, Status


def due_ids(*, now: dt.datetime) -> list[int]:
    """Notifications waiting to be sent (queued or failed) whose time has come, oldest first."""
    return list(
        Notification.objects.filter(status__in=[Status.QUEUED, Status.FAILED])
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )


def booked_sessions_between(*, start: dt.datetime, end: dt.datetime) -> QuerySet[DosingSession]:
    """Booked dosing sessions starting in [start, end) of patients with an active companion."""
    return (
        DosingSession.objects.filter(
            status=SessionStatus.BOOKED,
            starts_at__gte=start,
            starts_at__lt=end,
            patient__companion_account__is_active=True,
        )
        .select_related("site", "patient__companion_account", "patient__home_site")
        .order_by("starts_at", "pk")
    )


def open_questionnaire_sets(*, now: dt.datetime) -> list[QuestionnaireSet]:
    """Questionnaire requests the patient has still to answer (not a kiosk's, not a clinician's
    rating at interview) for patients with an active companion."""
    sets = QuestionnaireSet.objects.filter(
        submitted_at__isnull=True,
        expires_at__gt=now,
        sent_at__lte=now,
        kiosk=False,
        patient__companion_account__is_active=True,
    ).select_related("patient__companion_account", "patient__home_site")
    return [s for s in sets.order_by("sent_at", "pk") if not s.is_rating]
