"""Writes for the suicide-risk pathway: raise, acknowledge, escalate, hold and release dosing.

Each write runs in one transaction with its audit row. E-mails are sent only once the transaction
commits, and say no more than that an alert waits in Kapstone: no patient data leaves in mail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.clinical.access import Role
from kapstone.clinical.plausibility import MAX_NOTE_CHARS, text_problem
from kapstone.clinical.suicide_risk import (
    AlertAction,
    SafetyPolicy,
    assess_result,
    needs_escalation,
)
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.safety.models import (
    AlertAcknowledgement,
    AlertEscalation,
    AlertNotice,
    DosingHold,
    HoldReview,
    NoticeReason,
    SafetyAlert,
)
from kapstone.safety.policy import current_policy

if TYPE_CHECKING:  # assessments imports this module to raise alerts from submissions
    from kapstone.assessments.models import QuestionnaireResponse

REVIEWING_ROLES = frozenset({Role.PRESCRIBER, Role.MEDICAL_DIRECTOR})
ACKNOWLEDGING_ROLES = frozenset(
    {Role.PRESCRIBER, Role.MEDICAL_DIRECTOR, Role.THERAPIST, Role.NURSE}
)


def _medical_directors() -> list[StaffUser]:
    return list(StaffUser.objects.filter(role=Role.MEDICAL_DIRECTOR, is_active=True).order_by("pk"))


def _mail_after_commit(recipients: Iterable[StaffUser], subject: str, path: str) -> None:
    addresses = sorted({r.email for r in recipients if r.email})
    if not addresses:
        return
    body = (
        f"{subject}.\n\nOpen Kapstone to see it: {settings.KAPSTONE_BASE_URL}{path}\n\n"
        "This message holds no patient details by design."
    )

    def send() -> None:
        send_mail(subject, body, None, addresses)

    transaction.on_commit(send)


def _notify(
    alert: SafetyAlert, recipients: Sequence[StaffUser], reason: NoticeReason, now: dt.datetime
) -> list[AlertNotice]:
    notices = [
        AlertNotice.objects.create(alert=alert, recipient=r, reason=reason, sent_at=now)
        for r in recipients
    ]
    subject = (
        "A suicide-risk alert needs your attention"
        if reason == NoticeReason.RAISED
        else "A suicide-risk alert has waited without acknowledgement"
    )
    _mail_after_commit(recipients, subject, reverse("safety:board"))
    return notices


def _schedule_escalation(alert: SafetyAlert) -> None:
    """Queues the escalation check for the moment the alert falls due, once the alert is saved; the
    `escalate_alerts` command is the backstop when no task worker runs."""
    from kapstone.safety.tasks import escalate_alerts

    due = alert.raised_at + dt.timedelta(minutes=alert.escalate_after_minutes)
    transaction.on_commit(lambda: escalate_alerts.using(run_after=due).enqueue())


def raise_alert(
    *,
    patient: Patient,
    reason: str,
    hold_dosing: bool = False,
    response: QuestionnaireResponse | None = None,
    now: dt.datetime | None = None,
    policy: SafetyPolicy | None = None,
) -> SafetyAlert:
    """Raises the alert to the prescriber and therapist (or, with neither assigned, at once to the
    medical director), and places a dosing hold when asked. Call inside the writing transaction."""
    now = now or timezone.now()
    policy = policy or current_policy()
    with transaction.atomic():
        alert = SafetyAlert.objects.create(
            patient=patient,
            raised_at=now,
            reason=reason[:300],
            response=response,
            policy_version=policy.version,
            escalate_after_minutes=int(policy.escalate_after.total_seconds() // 60),
        )
        team = [u for u in (patient.prescriber, patient.therapist) if u is not None and u.is_active]
        _notify(alert, team or _medical_directors(), NoticeReason.RAISED, now)
        record(
            actor=None,
            action="safety.alert_raised",
            patient=patient,
            obj=alert,
            summary=f"Suicide-risk alert: {reason}",
            after={
                "notified": [u.pk for u in team] or "medical director (no prescriber or therapist)",
                "policy_version": policy.version,
                "escalate_after_minutes": alert.escalate_after_minutes,
            },
        )
        _schedule_escalation(alert)
        if hold_dosing:
            hold = DosingHold.objects.create(
                patient=patient,
                alert=alert,
                placed_at=now,
                reason=reason[:300],
                policy_version=policy.version,
            )
            record(
                actor=None,
                action="safety.dosing_held",
                patient=patient,
                obj=hold,
                summary="Dosing held until a prescriber documents a review",
                after={"alert": alert.pk, "policy_version": policy.version},
            )
    return alert


def raise_for_result(
    *,
    patient: Patient,
    instrument: str,
    title: str,
    severity: str | None,
    flags: Sequence[str],
    response: QuestionnaireResponse | None = None,
    now: dt.datetime | None = None,
) -> SafetyAlert | None:
    """The pathway for one scored result: an alert if it carries the suicide-risk flag."""
    policy = current_policy()
    decision = assess_result(
        instrument=instrument, title=title, severity=severity, flags=flags, policy=policy
    )
    if not decision.raise_alert:
        return None
    return raise_alert(
        patient=patient,
        reason=decision.reason,
        hold_dosing=decision.hold_dosing,
        response=response,
        now=now,
        policy=policy,
    )


def acknowledge_alert(
    *,
    by: StaffUser,
    alert: SafetyAlert,
    actions: Sequence[str],
    note: str,
    now: dt.datetime | None = None,
) -> AlertAcknowledgement:
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if by.staff_role not in ACKNOWLEDGING_ROLES:
        errors[""] = [f"A {by.staff_role.label.lower()} cannot acknowledge a suicide-risk alert."]
    chosen: list[AlertAction] = []
    for value in actions:
        try:
            chosen.append(AlertAction(value))
        except ValueError:
            errors.setdefault("actions", []).append(
                f"{value!r} is not an action; choose from {', '.join(a.value for a in AlertAction)}."
            )
    if not actions:
        errors["actions"] = ["Record at least one action taken."]
    if not note.strip():
        errors["note"] = ["Describe what was done and the plan; an acknowledgement needs a note."]
    elif (problem := text_problem(note, "The note")) is not None:
        errors["note"] = [problem]
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        locked = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
        if AlertAcknowledgement.objects.filter(alert=locked).exists():
            raise InputError.single("", "This alert has already been acknowledged.")
        ack = AlertAcknowledgement.objects.create(
            alert=locked,
            by=by,
            at=now,
            actions=[a.value for a in dict.fromkeys(chosen)],
            note=note.strip(),
        )
        record(
            actor=by,
            action="safety.alert_acknowledged",
            patient=locked.patient,
            obj=ack,
            summary=f"Alert {locked.pk} acknowledged: {'; '.join(ack.action_labels())}",
            after={"actions": ack.actions, "note": ack.note},
        )
    return ack


def escalate_overdue_alerts(*, now: dt.datetime | None = None) -> list[AlertEscalation]:
    """Tells the medical director of each open alert that has waited its policy's time. Safe to
    run as often as wanted: an alert is escalated once."""
    now = now or timezone.now()
    done: list[AlertEscalation] = []
    candidates = SafetyAlert.objects.filter(
        acknowledgement__isnull=True, escalation__isnull=True
    ).select_related("patient")
    for alert in candidates:
        policy = SafetyPolicy(
            version=alert.policy_version,
            escalate_after=dt.timedelta(minutes=alert.escalate_after_minutes),
        )
        if not needs_escalation(
            raised_at=alert.raised_at, acknowledged=False, escalated=False, now=now, policy=policy
        ):
            continue
        with transaction.atomic():
            locked = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
            if (
                AlertAcknowledgement.objects.filter(alert=locked).exists()
                or AlertEscalation.objects.filter(alert=locked).exists()
            ):
                continue
            escalation = AlertEscalation.objects.create(
                alert=locked, at=now, policy_version=locked.policy_version
            )
            directors = _medical_directors()
            _notify(locked, directors, NoticeReason.ESCALATED, now)
            record(
                actor=None,
                action="safety.alert_escalated",
                patient=locked.patient,
                obj=escalation,
                summary=f"Alert {locked.pk} unacknowledged after "
                f"{locked.escalate_after_minutes} min: escalated to the medical director",
                after={"notified": [d.pk for d in directors]},
            )
            done.append(escalation)
    return done


def review_hold(
    *, by: StaffUser, hold: DosingHold, assessment: str, now: dt.datetime | None = None
) -> HoldReview:
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if by.staff_role not in REVIEWING_ROLES:
        errors[""] = ["Only a prescriber or the medical director can release a dosing hold."]
    if not assessment.strip():
        errors["assessment"] = [
            "Document the review: the risk assessment and why dosing may go on."
        ]
    elif len(assessment) > MAX_NOTE_CHARS:
        errors["assessment"] = [f"Keep the review to {MAX_NOTE_CHARS:,} characters."]
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        locked = DosingHold.objects.select_for_update().get(pk=hold.pk)
        if HoldReview.objects.filter(hold=locked).exists():
            raise InputError.single("", "This hold has already been reviewed.")
        review = HoldReview.objects.create(
            hold=locked, by=by, at=now, assessment=assessment.strip()
        )
        record(
            actor=by,
            action="safety.hold_reviewed",
            patient=locked.patient,
            obj=review,
            summary="Prescriber review documented: dosing may be booked again",
            after={"assessment": review.assessment},
        )
    return review
