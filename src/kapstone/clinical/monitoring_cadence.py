"""Which chair-side checks are due: pre-dose baseline, routine vitals, timed checks and rechecks.

Routine vitals run on a timer that restarts at each reading; its interval is set by the phase the
last reading was taken in (during the infusion or after the dose), so a reading taken just before an
infusion ends keeps the shorter interval. Timed checks (esketamine BP at 40 minutes, dissociation at
the expected peak) are fixed to the dose and count as done by any reading from a few minutes before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kapstone.clinical.checks import naive_times
from kapstone.clinical.monitoring_policy import (
    AnchoredCheck,
    CheckKind,
    InvalidMonitoringInput,
    MonitoringPolicy,
    MonitoringProtocol,
    TimeReference,
)
from kapstone.clinical.problems import Problem
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.routes import Route
from kapstone.clinical.vital_signs import DissociationRating, VitalSign

# The grade is named "recheck in 5 minutes"; the interval is part of its meaning, not a setting.
RECHECK_AFTER = timedelta(minutes=5)
_RECHECK_SOURCE = Source(
    "§2.2",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "Recheck requested by the alert engine (grade 'recheck in 5 minutes').",
)


@dataclass(frozen=True, slots=True)
class DoseTiming:
    """When the dose was given. ``ended_at``: end of infusion, or last device / injection."""

    route: Route
    started_at: datetime | None  # None: not dosed yet
    ended_at: datetime | None = None  # None while an infusion runs; a bolus may leave it empty
    protocol_id: str | None = None  # None: the policy's default protocol for the route


class MonitoringPhase(StrEnum):
    BEFORE_DOSE = "before_dose"
    INFUSING = "infusing"
    AFTER_DOSE = "after_dose"


class CheckReason(StrEnum):
    PRE_DOSE_BASELINE = "pre_dose_baseline"
    ROUTINE = "routine"
    TIMED = "timed"
    RECHECK = "recheck"


@dataclass(frozen=True, slots=True)
class CheckDue:
    check_id: str
    kind: CheckKind
    reason: CheckReason
    label: str
    due_at: datetime
    overdue: bool
    source: Source


@dataclass(frozen=True, slots=True)
class MonitoringSchedule:
    as_of: datetime
    phase: MonitoringPhase
    outstanding: tuple[CheckDue, ...]  # earliest first
    protocol_id: str
    policy_version: str

    @property
    def due_now(self) -> tuple[CheckDue, ...]:
        return tuple(c for c in self.outstanding if c.due_at <= self.as_of)

    @property
    def overdue(self) -> tuple[CheckDue, ...]:
        return tuple(c for c in self.outstanding if c.overdue)

    @property
    def next_due_at(self) -> datetime | None:
        """Earliest outstanding check; at or before ``as_of`` means something is due now."""
        return self.outstanding[0].due_at if self.outstanding else None


def dose_end(dose: DoseTiming, protocol: MonitoringProtocol) -> datetime | None:
    """End of dosing; a bolus or nasal dose with no recorded end ends when it starts."""
    if dose.ended_at is not None or protocol.is_infusion:
        return dose.ended_at
    return dose.started_at


def check_dose_timing(dose: DoseTiming, now: datetime) -> list[Problem]:
    problems = naive_times(
        (("now", now), ("started_at", dose.started_at), ("ended_at", dose.ended_at)),
        "{field} must carry a time zone",
    )
    if problems:
        return problems
    if dose.ended_at is not None and dose.started_at is None:
        problems.append(Problem("ended_at", "a dose cannot end before it starts"))
    if dose.started_at is not None and dose.started_at > now:
        problems.append(Problem("started_at", "dose start is later than now"))
    if dose.ended_at is not None:
        if dose.started_at is not None and dose.ended_at < dose.started_at:
            problems.append(Problem("ended_at", "dose end is earlier than dose start"))
        if dose.ended_at > now:
            problems.append(Problem("ended_at", "dose end is later than now"))
    return problems


def monitoring_schedule(
    *,
    dose: DoseTiming,
    vitals: Sequence[VitalSign],
    dissociation: Sequence[DissociationRating] = (),
    recheck_requested_at: Sequence[datetime] = (),
    now: datetime,
    policy: MonitoringPolicy,
) -> MonitoringSchedule:
    """Every check outstanding at ``now``, earliest first, with its due time and whether overdue."""
    protocol = policy.protocol_for(dose.route, dose.protocol_id)
    problems = check_dose_timing(dose, now)
    if not problems:
        problems += [
            Problem("vitals", "a reading is timed later than now")
            for v in vitals
            if v.taken_at > now
        ]
        problems += [
            Problem("dissociation", "a rating is timed later than now")
            for d in dissociation
            if d.rated_at > now
        ]
    InvalidMonitoringInput.refuse_if_any(problems)

    grace = policy.overdue_grace.value
    outstanding: list[CheckDue] = []

    def add(
        check_id: str,
        kind: CheckKind,
        reason: CheckReason,
        label: str,
        due_at: datetime,
        source: Source,
    ) -> None:
        overdue = now > due_at + grace
        outstanding.append(CheckDue(check_id, kind, reason, label, due_at, overdue, source))

    started = dose.started_at
    times = sorted(v.taken_at for v in vitals)
    if not any(started is None or t <= started for t in times):
        add(
            "vitals.pre_dose_baseline",
            CheckKind.VITALS,
            CheckReason.PRE_DOSE_BASELINE,
            "Pre-dose baseline vital signs",
            started if started is not None else now,
            policy.pre_dose_baseline_source,
        )
    if started is None:
        return _schedule(now, MonitoringPhase.BEFORE_DOSE, outstanding, protocol, policy)

    end = dose_end(dose, protocol)
    infusing = protocol.is_infusion and end is None
    phase = MonitoringPhase.INFUSING if infusing else MonitoringPhase.AFTER_DOSE

    after_start = [t for t in times if t > started]
    anchor = after_start[-1] if after_start else started
    during = protocol.during_infusion_interval
    if during is not None and (end is None or anchor < end):
        interval, source, label = during.value, during.source, "during the infusion"
    else:
        interval = protocol.after_dose_interval.value
        source = protocol.after_dose_interval.source
        label = "after the dose"
    minutes = int(interval.total_seconds() // 60)
    add(
        "vitals.routine",
        CheckKind.VITALS,
        CheckReason.ROUTINE,
        f"Vital signs (every {minutes} min {label})",
        anchor + interval,
        source,
    )

    early = policy.anchored_check_early_window.value
    rated = [d.rated_at for d in dissociation]
    for check in protocol.anchored_checks:
        due = _anchored_due(check, started, end)
        if due is None:
            continue  # tied to the end of an infusion still running
        done_times = after_start if check.kind is CheckKind.VITALS else rated
        if not any(t >= due - early for t in done_times):
            add(check.check_id, check.kind, CheckReason.TIMED, check.label, due, check.source)

    for i, requested in enumerate(sorted(recheck_requested_at)):
        if not any(t > requested for t in times):
            add(
                f"vitals.recheck.{i + 1}",
                CheckKind.VITALS,
                CheckReason.RECHECK,
                "Recheck vital signs (alert)",
                requested + RECHECK_AFTER,
                _RECHECK_SOURCE,
            )
    return _schedule(now, phase, outstanding, protocol, policy)


def _anchored_due(check: AnchoredCheck, started: datetime, end: datetime | None) -> datetime | None:
    if check.reference is TimeReference.DOSE_START:
        return started + check.offset
    return None if end is None else end + check.offset


def _schedule(
    now: datetime,
    phase: MonitoringPhase,
    outstanding: list[CheckDue],
    protocol: MonitoringProtocol,
    policy: MonitoringPolicy,
) -> MonitoringSchedule:
    return MonitoringSchedule(
        as_of=now,
        phase=phase,
        outstanding=tuple(sorted(outstanding, key=lambda c: (c.due_at, c.check_id))),
        protocol_id=protocol.protocol_id,
        policy_version=policy.version,
    )
