"""Reads for the staff side of the companion (the chart's Companion tab)."""

from __future__ import annotations

from kapstone.companion.models import PatientAccount
from kapstone.notify.models import Kind, Notification
from kapstone.patients.models import Patient


def account_of(patient: Patient) -> PatientAccount | None:
    return PatientAccount.objects.filter(patient=patient).first()


def last_invitation(account: PatientAccount) -> Notification | None:
    return (
        Notification.objects.filter(account=account, kind=Kind.INVITATION)
        .order_by("-created_at", "-pk")
        .first()
    )


def has_second_factor(account: PatientAccount) -> bool:
    return (
        account.companion_totp_devices.filter(confirmed=True).exists()
        or account.companion_passkeys.filter(confirmed=True).exists()
    )
