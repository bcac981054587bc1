"""Opening the chair-side record of a dosing session."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.chairside.models import ChairsideRecord
from kapstone.chairside.policy import checklist_policy, monitoring_policy
from kapstone.chairside.services._common import _audit_chart
from kapstone.clinical.routes import Route
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.errors import InputError
from kapstone.plans.selectors import signed_plan


def open_record(
    *, by: StaffUser, session: DosingSession, now: dt.datetime | None = None
) -> ChairsideRecord:
    """The session's chair-side record, opened now if it is not yet (opening twice is harmless)."""
    now = now or timezone.now()
    existing = ChairsideRecord.objects.filter(session=session).first()
    if existing is not None:
        return existing
    if session.status == SessionStatus.CANCELLED:
        raise InputError.single("", "This session was cancelled; it cannot be charted.")
    route = session.route or (session.plan.route if session.plan is not None else "")
    if not route:
        plan = signed_plan(session.patient)
        route = plan.route.value if plan is not None else ""
    if not route:
        raise InputError.single(
            "", "The session has no route and the patient has no signed plan: book it with one."
        )
    policy = monitoring_policy()
    protocol = policy.protocol_for(Route(route))
    try:
        with transaction.atomic():
            record = ChairsideRecord.objects.create(
                session=session,
                opened_at=now,
                opened_by=by,
                route=route,
                protocol_id=protocol.protocol_id,
                policy_version=policy.version,
                checklist_policy_version=checklist_policy().version,
            )
            _audit_chart(
                by=by,
                record=record,
                action="chairside.record_opened",
                obj=record,
                summary=f"Chair-side record opened ({Route(route).label}, {protocol.protocol_id})",
                after={"route": route, "protocol": protocol.protocol_id},
            )
    except IntegrityError:
        # A colleague opened it a moment earlier: use theirs.
        return ChairsideRecord.objects.get(session=session)
    return record
