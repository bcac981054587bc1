"""The policies in force at the chair side. One version of each exists today; every record, alert
and discharge stores the version it was made under."""

from __future__ import annotations

from kapstone.clinical.monitoring_policy import DEFAULT_MONITORING_POLICY, MonitoringPolicy
from kapstone.clinical.pre_dose_checklist import DEFAULT_CHECKLIST_POLICY, ChecklistPolicy


def monitoring_policy() -> MonitoringPolicy:
    return DEFAULT_MONITORING_POLICY


def checklist_policy() -> ChecklistPolicy:
    return DEFAULT_CHECKLIST_POLICY
