"""The policies in force at the chair side: the monitoring policy the medical director sets (the
core's cited defaults with the newest overrides, kapstone.policies) and the pre-dose checklist
policy (one version today). Every record, alert and discharge stores the version it was made under.
"""

from __future__ import annotations

from kapstone.clinical.monitoring_policy import MonitoringPolicy
from kapstone.clinical.pre_dose_checklist import DEFAULT_CHECKLIST_POLICY, ChecklistPolicy
from kapstone.policies.selectors import current_monitoring_policy


def monitoring_policy() -> MonitoringPolicy:
    return current_monitoring_policy()


def checklist_policy() -> ChecklistPolicy:
    return DEFAULT_CHECKLIST_POLICY
