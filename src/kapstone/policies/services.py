"""Setting a new version of the monitoring policy: validated by the core, audited, append-only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.clinical.monitoring_overrides import (
    InvalidOverride,
    apply_overrides,
    describe_changes,
)
from kapstone.clinical.monitoring_policy import DEFAULT_MONITORING_POLICY
from kapstone.clinical.plausibility import text_problem
from kapstone.errors import InputError
from kapstone.policies.models import MonitoringPolicyVersion


def set_monitoring_policy(
    *,
    by: StaffUser,
    overrides: dict[str, Any],
    reason: str,
    now: dt.datetime | None = None,
) -> MonitoringPolicyVersion:
    """The whole set of overrides in force from now (not a delta on the previous version)."""
    now = now or timezone.now()
    if not reason.strip():
        raise InputError.single("reason", "Say why the policy changes; the chart cites it.")
    if (problem := text_problem(reason, "The reason")) is not None:
        raise InputError.single("reason", problem)
    # Numbered, not timestamped: the version name is what every chair-side decision records.
    version = f"clinic-v{MonitoringPolicyVersion.objects.count() + 1}"
    try:
        tuned = apply_overrides(
            DEFAULT_MONITORING_POLICY,
            overrides,
            version=version,
            set_by=by.display_name,
            reason=reason.strip(),
        )
    except InvalidOverride as exc:
        raise InputError.from_problems(
            exc.problems, say=lambda p: f"Give {p.accepts} (not {p.message})."
        ) from exc
    changes = describe_changes(DEFAULT_MONITORING_POLICY, tuned)
    try:
        with transaction.atomic():
            row = MonitoringPolicyVersion.objects.create(
                version=version, overrides=overrides, reason=reason.strip(), set_by=by, set_at=now
            )
            record(
                actor=by,
                action="policy.monitoring_set",
                obj=row,
                summary=f"Monitoring policy {version}: {len(changes)} value(s) differ from the "
                "defaults",
                after={
                    "version": version,
                    "changes": [[c.where, c.default, c.value] for c in changes],
                },
            )
    except IntegrityError as exc:
        # Two directors saving at once: the version number was taken; nothing was written.
        raise InputError.single(
            "", f"Version {version} was set by someone else a moment ago: reload and check it."
        ) from exc
    return row
