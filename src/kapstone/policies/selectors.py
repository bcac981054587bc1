"""The monitoring policy in force: the core's cited defaults with the newest director's overrides."""

from __future__ import annotations

from dataclasses import dataclass

from kapstone.clinical.monitoring_overrides import Change, apply_overrides, describe_changes
from kapstone.clinical.monitoring_policy import DEFAULT_MONITORING_POLICY, MonitoringPolicy
from kapstone.kernel.read_once import once_per_page
from kapstone.policies.models import MonitoringPolicyVersion


def latest_version() -> MonitoringPolicyVersion | None:
    return MonitoringPolicyVersion.objects.select_related("set_by").first()


def policy_from(row: MonitoringPolicyVersion | None) -> MonitoringPolicy:
    if row is None:
        return DEFAULT_MONITORING_POLICY
    return apply_overrides(
        DEFAULT_MONITORING_POLICY,
        row.overrides,
        version=row.version,
        set_by=row.set_by.display_name,
        reason=row.reason,
    )


@once_per_page
def current_monitoring_policy() -> MonitoringPolicy:
    """What the chair side evaluates readings, checklists and discharge against today."""
    return policy_from(latest_version())


@dataclass(frozen=True)
class PolicyHistoryRow:
    row: MonitoringPolicyVersion
    changes: tuple[Change, ...]


def policy_history() -> list[PolicyHistoryRow]:
    return [
        PolicyHistoryRow(row, describe_changes(DEFAULT_MONITORING_POLICY, policy_from(row)))
        for row in MonitoringPolicyVersion.objects.select_related("set_by")
    ]
