"""The clinic's safety policy as deployed: the core's defaults, with the escalation time set by the
medical director through KAPSTONE_ALERT_ESCALATION_MINUTES. The version names the setting, so each
alert records which rule it was raised under."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from kapstone.clinical.suicide_risk import DEFAULT_SAFETY_POLICY, SafetyPolicy


def current_policy() -> SafetyPolicy:
    minutes = settings.ALERT_ESCALATION_MINUTES
    default = int(DEFAULT_SAFETY_POLICY.escalate_after.total_seconds() // 60)
    if minutes == default:
        return DEFAULT_SAFETY_POLICY
    return SafetyPolicy(
        version=f"{DEFAULT_SAFETY_POLICY.version}+escalate-{minutes}min",
        escalate_after=dt.timedelta(minutes=minutes),
    )
