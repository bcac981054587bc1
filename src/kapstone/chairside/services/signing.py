"""Signing and locking the record; the dosing session is then completed."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.billing.services import propose_charges_for_chairside_record
from kapstone.chairside.models import ChairsideRecord
from kapstone.chairside.services._common import _audit_chart, _locked, _raise
from kapstone.chairside.services.device_vitals import unverified_device_readings
from kapstone.chairside.services.doses import unreconciled
from kapstone.clinical.routes import Route
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.dosing.services import complete_session
from kapstone.errors import InputError

logger = logging.getLogger(__name__)


def sign_record(
    *, by: StaffUser, record: ChairsideRecord, now: dt.datetime | None = None
) -> ChairsideRecord:
    """Signs and locks the record; the dosing session is then completed."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(record)
        errors: dict[str, list[str]] = {}
        if locked.discharged_at is None:
            errors[""] = ["Discharge the patient before signing."]
        open_alerts = locked.alerts.filter(acknowledgement__isnull=True).count()
        if open_alerts:
            errors.setdefault("", []).append(
                f"{open_alerts} alert(s) still need acknowledging with the action taken."
            )
        # Refused, not warned: a signed record is locked, so a monitor reading nobody looked at
        # (a probe on the wrong patient, an artifact) would stay on the chart as charted fact,
        # and feed the REMS form and research export. Verifying is one tap; striking takes a reason.
        unverified = unverified_device_readings(locked).count()
        if unverified:
            errors.setdefault("", []).append(
                f"{unverified} monitor reading(s) still need verifying: check them and tap "
                "Verify (strike through any that are wrong)."
            )
        if not locked.doses.exists():
            errors.setdefault("", []).append(
                "No dose is charted: if none was given, add the reason as an adverse event or "
                "cancel the session."
            )
        # The controlled-substance book closes with the record: drawn = given + wasted + returned.
        for missing in unreconciled(locked):
            errors.setdefault("", []).append(missing)
        _raise(errors)
        ChairsideRecord.objects.filter(pk=locked.pk, signed_at__isnull=True).update(
            signed_at=now, signed_by=by
        )
        session = locked.session
        # The dosing app owns its session: it completes it (with its own audit row) in this
        # transaction.
        complete_session(by=by, session=session)
        _audit_chart(
            by=by,
            record=locked,
            action="chairside.signed",
            obj=locked,
            summary="Chair-side record signed and locked; dosing session completed",
            before={"session_status": session.status},
            after={"signed_at": now, "session_status": SessionStatus.COMPLETED},
        )
        if locked.route == Route.INTRANASAL_ESKETAMINE:
            _prepare_rems_form(session=session, by=by, now=now)
        propose_charges_for_chairside_record(record=locked, by=by, now=now)  # never refuses
    record.refresh_from_db()
    return record


def _prepare_rems_form(*, session: DosingSession, by: StaffUser, now: dt.datetime) -> None:
    """The REMS Patient Monitoring Form is due within 7 days of an esketamine session: prepare it
    as the record is signed. A form the record cannot fill yet must not stop the signature: the
    REMS queue's "prepare missing forms" (and its task) picks the session up again."""
    from kapstone.rems.services import prepare_form

    try:
        with transaction.atomic():
            prepare_form(session=session, by=by, now=now)
    except InputError:
        logger.warning("REMS form not prepared at signing for session %s", session.pk)
