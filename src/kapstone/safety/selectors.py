"""Reads for the suicide-risk pathway; the alert board shows only what the viewer may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kapstone.accounts.models import StaffUser
from kapstone.clinical.access import SEES_EVERY_CHART
from kapstone.patients.models import Patient
from kapstone.safety.models import DosingHold, SafetyAlert


def _visible(user: StaffUser) -> Q:
    if user.staff_role in SEES_EVERY_CHART:
        return Q()
    return (
        Q(patient__prescriber=user)
        | Q(patient__therapist=user)
        | Q(patient__nurse=user)
        | Q(notices__recipient=user)
    )


def _alerts() -> QuerySet[SafetyAlert]:
    return SafetyAlert.objects.select_related(
        "patient",
        "acknowledgement__by",
        "escalation",
        "hold__review__by",
        "response__questionnaire_set",
    )


def open_alerts(user: StaffUser) -> list[SafetyAlert]:
    """Open alerts for the board, oldest first: the one waiting longest is the most urgent."""
    return list(
        _alerts()
        .filter(_visible(user), acknowledgement__isnull=True)
        .distinct()
        .order_by("raised_at", "pk")
    )


def recently_acknowledged(user: StaffUser, limit: int = 20) -> list[SafetyAlert]:
    return list(
        _alerts()
        .filter(_visible(user), acknowledgement__isnull=False)
        .distinct()
        .order_by("-acknowledgement__at")[:limit]
    )


def open_alert_count(user: StaffUser) -> int:
    return (
        SafetyAlert.objects.filter(_visible(user), acknowledgement__isnull=True).distinct().count()
    )


def alerts_for_patient(patient: Patient) -> list[SafetyAlert]:
    return list(_alerts().filter(patient=patient).order_by("-raised_at", "-pk"))


def active_hold(patient: Patient) -> DosingHold | None:
    return (
        DosingHold.objects.select_related("alert")
        .filter(patient=patient, review__isnull=True)
        .order_by("placed_at")
        .first()
    )


def alert_of(patient: Patient, alert_id: int) -> SafetyAlert | None:
    """The patient's alert ``alert_id`` with its response, or None when the patient has none such."""
    return (
        SafetyAlert.objects.select_related("response").filter(pk=alert_id, patient=patient).first()
    )


def hold_of(patient: Patient, hold_id: int) -> DosingHold | None:
    return DosingHold.objects.select_related("alert").filter(pk=hold_id, patient=patient).first()
