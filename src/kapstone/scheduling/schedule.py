"""What the scheduler books: dosing and integration sessions, and how good the answer is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class DosingBooking:
    """Dosing session ``session_index`` (0-based) of a patient's course: room, nurse and time."""

    patient_id: str
    session_index: int
    site_id: str
    room_id: str
    nurse_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class IntegrationBooking:
    """The integration session that follows dosing session ``session_index``."""

    patient_id: str
    session_index: int
    therapist_id: str
    room: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Schedule:
    dosing: tuple[DosingBooking, ...]
    integration: tuple[IntegrationBooking, ...]
    admitted: frozenset[str]
    unadmitted: frozenset[str]


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    # The solver found nothing in time; the schedule books nobody.
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class StageResult:
    """One stage of the lexicographic solve; ``bound`` is the solver's best proven bound."""

    name: str
    sense: str  # "max" or "min"
    objective: int
    bound: float
    status: SolveStatus
    seconds: float

    @property
    def gap(self) -> float:
        """Relative distance between the objective and the bound (0 = proven optimal)."""
        if self.status is SolveStatus.OPTIMAL:
            return 0.0
        return abs(self.bound - self.objective) / max(1.0, abs(self.bound))


@dataclass(frozen=True, slots=True)
class SolveResult:
    """The schedule and its quality. ``objective``/``bound``/``gap`` are those of the first stage
    (patients admitted), which dominates every later stage."""

    schedule: Schedule
    stages: tuple[StageResult, ...]
    status: SolveStatus
    objective: int
    bound: float
    gap: float
    solve_seconds: float
    policy_version: str
