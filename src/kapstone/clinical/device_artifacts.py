"""Artifacts in readings from the bedside monitor: a jump is held until the next reading confirms it.

A nurse types a reading she has looked at; a monitor sends whatever its sensors gave, and a moving
arm, a loose finger probe or a cough makes brief false values. So before a monitor reading is graded
by the alert engine, it is compared with the monitor's reading before it. A change larger than the
director's policy allows (``MonitoringPolicy.device``), within the window of its kind (cuff
readings are minutes apart, continuous signals seconds), is physiologically implausible: the
reading is HELD, shown as awaiting confirmation and not graded. The next reading decides:

* back near the level before the jump: ACCEPTED (graded as usual); the held one stays unconfirmed;
* still beyond the limit, the same way, on measures that jumped before: CONFIRMED, and graded, so
  a real change alerts one reading late, never not at all;
* a different jump: HELD in turn.

A reading with nothing recent to compare with is ACCEPTED. All of it is clinic policy (§2.2):
no guideline gives artifact limits. Pure: time and history are passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kapstone.clinical.monitoring_policy import DeviceReadingPolicy, Measure, MonitoringPolicy
from kapstone.clinical.provenance import Source
from kapstone.clinical.vital_signs import VitalSign


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    HELD = "held"
    CONFIRMED = "confirmed"


class SignalKind(StrEnum):
    CUFF = "cuff"  # non-invasive blood pressure: one measurement per cuff cycle
    CONTINUOUS = "continuous"  # ECG / pleth / respiration: sampled continuously


KIND_OF: dict[Measure, SignalKind] = {
    Measure.SYSTOLIC: SignalKind.CUFF,
    Measure.DIASTOLIC: SignalKind.CUFF,
    Measure.HEART_RATE: SignalKind.CONTINUOUS,
    Measure.SPO2: SignalKind.CONTINUOUS,
    Measure.RESPIRATORY_RATE: SignalKind.CONTINUOUS,
}


@dataclass(frozen=True, slots=True)
class DeviceSample:
    """An earlier monitor reading of the same session, with the verdict it was given."""

    reading: VitalSign
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class Jump:
    measure: Measure
    kind: SignalKind
    before: int
    after: int
    limit: int
    source: Source

    @property
    def rising(self) -> bool:
        return self.after > self.before

    @property
    def message(self) -> str:
        unit = self.measure.unit
        return (
            f"{self.measure.value.replace('_', ' ')} {self.before} to {self.after} {unit} "
            f"(limit {self.limit} {unit} between {self.kind.value} readings)"
        )


@dataclass(frozen=True, slots=True)
class ArtifactDecision:
    verdict: Verdict
    jumps: tuple[Jump, ...]
    # The held reading this one confirms (its time), when the verdict is CONFIRMED.
    confirms: datetime | None
    policy_version: str

    @property
    def message(self) -> str:
        jumps = "; ".join(j.message for j in self.jumps)
        if self.verdict is Verdict.HELD:
            return f"Awaiting confirmation by the next monitor reading: {jumps}."
        if self.verdict is Verdict.CONFIRMED:
            return f"Confirms the held monitor reading: {jumps}."
        return ""


def _value(reading: VitalSign, measure: Measure) -> int:
    return {
        Measure.SYSTOLIC: reading.systolic_mmhg,
        Measure.DIASTOLIC: reading.diastolic_mmhg,
        Measure.HEART_RATE: reading.heart_rate_bpm,
        Measure.SPO2: reading.spo2_percent,
        Measure.RESPIRATORY_RATE: reading.respiratory_rate_per_min,
    }[measure]


def _limits(policy: DeviceReadingPolicy) -> dict[Measure, tuple[int, Source]]:
    return {
        Measure.SYSTOLIC: (policy.systolic_jump.value, policy.systolic_jump.source),
        Measure.DIASTOLIC: (policy.diastolic_jump.value, policy.diastolic_jump.source),
        Measure.HEART_RATE: (policy.heart_rate_jump.value, policy.heart_rate_jump.source),
        Measure.SPO2: (policy.spo2_jump.value, policy.spo2_jump.source),
        Measure.RESPIRATORY_RATE: (
            policy.respiratory_rate_jump.value,
            policy.respiratory_rate_jump.source,
        ),
    }


def _window(policy: DeviceReadingPolicy, kind: SignalKind) -> timedelta:
    return policy.cuff_window.value if kind is SignalKind.CUFF else policy.continuous_window.value


def jumps_between(
    before: VitalSign, after: VitalSign, policy: DeviceReadingPolicy
) -> tuple[Jump, ...]:
    """Every measure that changed by more than its limit, when the two readings are close enough
    in time for their kind to be compared."""
    gap = after.taken_at - before.taken_at
    found = []
    for measure, (limit, source) in _limits(policy).items():
        kind = KIND_OF[measure]
        if gap > _window(policy, kind):
            continue
        a, b = _value(before, measure), _value(after, measure)
        if abs(b - a) > limit:
            found.append(Jump(measure, kind, a, b, limit, source))
    return tuple(found)


def judge_device_reading(
    reading: VitalSign, earlier: Sequence[DeviceSample], policy: MonitoringPolicy
) -> ArtifactDecision:
    """The verdict on a monitor ``reading`` given the session's ``earlier`` monitor readings (any
    order; struck readings left out by the caller)."""
    prior = sorted(
        (s for s in earlier if s.reading.taken_at < reading.taken_at),
        key=lambda s: s.reading.taken_at,
    )
    if not prior:
        return ArtifactDecision(Verdict.ACCEPTED, (), None, policy.version)
    last = prior[-1]
    held = last if last.verdict is Verdict.HELD else None
    if held is None:
        reference: DeviceSample | None = last
    else:
        settled = [s for s in prior[:-1] if s.verdict is not Verdict.HELD]
        reference = settled[-1] if settled else None
    if reference is None:
        return ArtifactDecision(Verdict.ACCEPTED, (), None, policy.version)
    jumps = jumps_between(reference.reading, reading, policy.device)
    if not jumps:
        return ArtifactDecision(Verdict.ACCEPTED, (), None, policy.version)
    if held is not None:
        before = {
            (j.measure, j.rising)
            for j in jumps_between(reference.reading, held.reading, policy.device)
        }
        if all((j.measure, j.rising) in before for j in jumps):
            return ArtifactDecision(Verdict.CONFIRMED, jumps, held.reading.taken_at, policy.version)
    return ArtifactDecision(Verdict.HELD, jumps, None, policy.version)
