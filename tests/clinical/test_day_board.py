"""The day board's phases: the furthest fact that has happened decides, so a phase only moves
forward as facts accrue or time passes, and time in phase counts from the fact that began it."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from kapstone.clinical.day_board import (
    DosingFacts,
    DosingPhase,
    IntegrationFacts,
    IntegrationPhase,
    dosing_phase,
    integration_phase,
    observation_ends_at,
)
from kapstone.clinical.monitoring_cadence import DoseTiming
from kapstone.clinical.monitoring_policy import DEFAULT_MONITORING_POLICY
from kapstone.clinical.routes import Route

T0 = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
M = dt.timedelta(minutes=1)
FIELDS = (
    "arrived_at",
    "record_opened_at",
    "dose_started_at",
    "dose_ended_at",
    "observation_ends_at",
    "discharged_at",
)


def test_a_session_walks_every_phase_in_order():
    facts = DosingFacts()
    seen = [dosing_phase(facts, now=T0).phase]
    for k, field in enumerate(FIELDS, start=1):
        facts = replace(facts, **{field: T0 + k * 10 * M})
        seen.append(dosing_phase(facts, now=T0 + 2 * 60 * M).phase)
    assert seen == list(DosingPhase)
    assert [p.label for p in seen] == [
        "Booked",
        "Checked in",
        "Pre-dose checklist",
        "Dosing",
        "Observation",
        "Ready for discharge",
        "Discharged",
    ]


def test_time_in_phase_counts_from_the_fact_that_began_it_and_future_facts_wait():
    facts = DosingFacts(arrived_at=T0, record_opened_at=T0 + 12 * M, dose_started_at=T0 + 60 * M)
    phase = dosing_phase(facts, now=T0 + 30 * M)
    assert phase.phase is DosingPhase.CHECKLIST and phase.minutes_in_phase(T0 + 30 * M) == 18
    assert dosing_phase(DosingFacts(), now=T0).minutes_in_phase(T0) is None


def test_integration_waits_then_runs_then_is_signed():
    facts = IntegrationFacts(starts_at=T0)
    assert integration_phase(facts, now=T0 - M).phase is IntegrationPhase.WAITING
    assert integration_phase(facts, now=T0 + M).phase is IntegrationPhase.IN_SESSION
    signed = replace(facts, note_signed_at=T0 + 70 * M)
    assert integration_phase(signed, now=T0 + 80 * M).phase is IntegrationPhase.NOTE_SIGNED


def test_observation_ends_by_the_protocol_from_the_dose():
    policy = DEFAULT_MONITORING_POLICY
    iv = policy.protocol_for(Route.IV)
    running = DoseTiming(route=Route.IV, started_at=T0, ended_at=None)
    assert observation_ends_at(running, iv) is None  # the infusion has not ended
    ended = DoseTiming(route=Route.IV, started_at=T0, ended_at=T0 + 40 * M)
    assert observation_ends_at(ended, iv) == T0 + 40 * M + iv.minimum_observation.value
    assert observation_ends_at(DoseTiming(route=Route.IV, started_at=None), iv) is None


times = st.integers(min_value=0, max_value=600).map(lambda m: T0 + m * M)


@given(
    order=st.permutations(FIELDS),
    stamps=st.lists(times, min_size=len(FIELDS), max_size=len(FIELDS)),
    nows=st.lists(times, min_size=2, max_size=8),
)
def test_phases_only_move_forward_as_facts_accrue_and_time_passes(order, stamps, nows):
    facts = DosingFacts()
    now_seq = sorted(nows)
    for now in now_seq:
        last = dosing_phase(facts, now=now).phase.rank
        for field, at in zip(order, stamps, strict=True):
            if getattr(facts, field) is not None:
                continue
            facts = replace(facts, **{field: at})
            rank = dosing_phase(facts, now=now).phase.rank
            assert rank >= last
            last = rank
    # With everything recorded, a later look never shows an earlier phase.
    ranks = [dosing_phase(facts, now=now).phase.rank for now in now_seq]
    assert ranks == sorted(ranks)


@given(start=times, signed=st.none() | times, nows=st.lists(times, min_size=2, max_size=8))
def test_integration_phases_only_move_forward_with_time(start, signed, nows):
    facts = IntegrationFacts(starts_at=start, note_signed_at=signed)
    ranks = [integration_phase(facts, now=now).phase.rank for now in sorted(nows)]
    assert ranks == sorted(ranks)
