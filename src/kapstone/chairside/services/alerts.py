"""Acknowledging a chair-side alert with the action taken."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.chairside.models import AlertAction, SessionAlert, SessionAlertAcknowledgement
from kapstone.chairside.services._common import _audit_chart, _raise, _text_problems
from kapstone.clinical.alerts import AlertGrade
from kapstone.errors import InputError


def acknowledge_alert(
    *,
    by: StaffUser,
    alert: SessionAlert,
    action: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> SessionAlertAcknowledgement:
    """Closes an alert with the action taken; 'treated' and 'no action' need a note."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if action not in AlertAction.values:
        errors["action"] = ["Choose the action taken."]
    elif action in (AlertAction.TREATED, AlertAction.NO_ACTION) and not note.strip():
        errors["note"] = ["Say what was done, or why no action was needed."]
    errors |= _text_problems(note=note)
    _raise(errors)
    with transaction.atomic():
        locked = SessionAlert.objects.select_for_update().get(pk=alert.pk)
        if SessionAlertAcknowledgement.objects.filter(alert=locked).exists():
            raise InputError.single("", "That alert was already acknowledged.")
        ack = SessionAlertAcknowledgement.objects.create(
            alert=locked, action=action, note=note.strip(), by=by, at=now
        )
        _audit_chart(
            by=by,
            record=locked.record,
            action="chairside.alert_acknowledged",
            obj=ack,
            summary=f"Alert {locked.pk} ({AlertGrade(locked.grade).label}) acknowledged: "
            f"{ack.get_action_display()}" + (f"; {ack.note}" if ack.note else ""),
            after={"alert": locked.pk, "action": action, "note": ack.note},
        )
    return ack
