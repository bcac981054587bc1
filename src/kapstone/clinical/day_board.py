"""Where each of today's sessions stands: the day board's phases, from facts with their times.

A dosing session moves booked → arrived → pre-dose checklist → dosing → observation → ready for
discharge → discharged; an integration session waiting → in session → note signed. A phase is the
furthest one whose fact has happened by ``now`` (a fact stamped later than ``now`` has not happened
yet), so a phase never moves back as facts accrue or time passes, and the time in phase is counted
from the fact that began it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kapstone.clinical.monitoring_cadence import DoseTiming, dose_end
from kapstone.clinical.monitoring_policy import MonitoringProtocol, TimeReference


class DosingPhase(StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    CHECKLIST = "checklist"
    DOSING = "dosing"
    OBSERVATION = "observation"
    READY_FOR_DISCHARGE = "ready_for_discharge"
    DISCHARGED = "discharged"

    @property
    def label(self) -> str:
        return _DOSING_LABELS[self]

    @property
    def rank(self) -> int:
        return list(DosingPhase).index(self)


_DOSING_LABELS = {
    DosingPhase.BOOKED: "Booked",
    DosingPhase.ARRIVED: "Checked in",
    DosingPhase.CHECKLIST: "Pre-dose checklist",
    DosingPhase.DOSING: "Dosing",
    DosingPhase.OBSERVATION: "Observation",
    DosingPhase.READY_FOR_DISCHARGE: "Ready for discharge",
    DosingPhase.DISCHARGED: "Discharged",
}


class IntegrationPhase(StrEnum):
    WAITING = "waiting"
    IN_SESSION = "in_session"
    NOTE_SIGNED = "note_signed"

    @property
    def label(self) -> str:
        return _INTEGRATION_LABELS[self]

    @property
    def rank(self) -> int:
        return list(IntegrationPhase).index(self)


_INTEGRATION_LABELS = {
    IntegrationPhase.WAITING: "Waiting",
    IntegrationPhase.IN_SESSION: "In session",
    IntegrationPhase.NOTE_SIGNED: "Note signed",
}


@dataclass(frozen=True, slots=True)
class DosingFacts:
    """What has been recorded about one dosing session; None where it has not happened."""

    arrived_at: datetime | None = None  # checked in at the front desk
    record_opened_at: datetime | None = None  # the nurse opened the chair-side record
    dose_started_at: datetime | None = None
    dose_ended_at: datetime | None = None  # None while an infusion runs
    observation_ends_at: datetime | None = None  # the minimum observation is over
    discharged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IntegrationFacts:
    starts_at: datetime
    note_signed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Phase[P: (DosingPhase, IntegrationPhase)]:
    phase: P
    since: datetime | None  # None: booked, nothing has happened yet

    def minutes_in_phase(self, now: datetime) -> int | None:
        if self.since is None:
            return None
        return max(0, int((now - self.since).total_seconds() // 60))


def dosing_phase(facts: DosingFacts, *, now: datetime) -> Phase[DosingPhase]:
    """The furthest phase whose fact has happened by ``now``."""
    steps = (
        (DosingPhase.DISCHARGED, facts.discharged_at),
        (DosingPhase.READY_FOR_DISCHARGE, facts.observation_ends_at),
        (DosingPhase.OBSERVATION, facts.dose_ended_at),
        (DosingPhase.DOSING, facts.dose_started_at),
        (DosingPhase.CHECKLIST, facts.record_opened_at),
        (DosingPhase.ARRIVED, facts.arrived_at),
    )
    for phase, at in steps:
        if at is not None and at <= now:
            return Phase(phase, at)
    return Phase(DosingPhase.BOOKED, None)


def integration_phase(facts: IntegrationFacts, *, now: datetime) -> Phase[IntegrationPhase]:
    if facts.note_signed_at is not None and facts.note_signed_at <= now:
        return Phase(IntegrationPhase.NOTE_SIGNED, facts.note_signed_at)
    if facts.starts_at <= now:
        return Phase(IntegrationPhase.IN_SESSION, facts.starts_at)
    return Phase(IntegrationPhase.WAITING, None)


def observation_ends_at(dose: DoseTiming, protocol: MonitoringProtocol) -> datetime | None:
    """When the protocol's minimum observation is over, read the way ``assess_discharge`` reads
    it (from the dose's start or end as the protocol says); None until the dose says."""
    anchor = (
        dose.started_at
        if protocol.observation_from.value is TimeReference.DOSE_START
        else dose_end(dose, protocol)
    )
    return anchor + protocol.minimum_observation.value if anchor is not None else None
