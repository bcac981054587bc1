"""What each resource offers one patient: the slot-aligned starts at which they could be booked.

Shared by the solver, the greedy baseline and the explanations (never by the checker).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass

from kapstone.clinical.access import Role
from kapstone.scheduling.instance import RetreatRequest, Room
from kapstone.scheduling.timegrid import Grid, intersect, starts_within


@dataclass(frozen=True, slots=True)
class SiteOption:
    """What a patient could use at one site; empty options are dropped before modelling."""

    site_id: str
    rooms: tuple[Room, ...]
    dose_starts: tuple[int, ...]
    nurse_starts: Mapping[str, tuple[int, ...]]
    therapist_starts: Mapping[str, tuple[int, ...]]


def site_options(grid: Grid, request: RetreatRequest) -> tuple[SiteOption, ...]:
    """Per site, the slot-aligned starts at which each resource could take this patient."""
    instance = grid.instance
    slot = instance.slot_minutes
    length = instance.session_minutes(request)
    integration_length = instance.integration_minutes(request)
    delay = instance.policy.integration_min_delay_minutes
    window = instance.policy.integration_window_hours * 60
    options = []
    for site_id in instance.request_sites(request):
        rooms = tuple(
            r for r in instance.rooms if r.site_id == site_id and request.route in r.routes
        )
        spans = grid.dosing_spans(request, site_id)
        nurse_starts = {
            n.id: starts_within(intersect(spans, grid.duty[n.id]), length, slot)
            for n in grid.staff(site_id, Role.NURSE)
        }
        therapist_starts = {
            t.id: starts_within(grid.integration_spans(request, t), integration_length, slot)
            for t in grid.staff(site_id, Role.THERAPIST)
            if request.modality in t.modalities
        }
        nurse_starts = {k: v for k, v in nurse_starts.items() if v}
        therapist_starts = {k: v for k, v in therapist_starts.items() if v}
        any_integration = sorted({t for v in therapist_starts.values() for t in v})
        staffed = {t for v in nurse_starts.values() for t in v}

        end = length + delay
        dose_starts = tuple(
            t
            for t in starts_within(spans, length, slot)
            if t in staffed and _followed(any_integration, t + end, t + length + window)
        )
        if rooms and dose_starts and therapist_starts:
            options.append(SiteOption(site_id, rooms, dose_starts, nurse_starts, therapist_starts))
    return tuple(options)


def _followed(integration_starts: list[int], earliest: int, latest: int) -> bool:
    """Some therapist could start an integration session inside this dose's window."""
    i = bisect_left(integration_starts, earliest)
    return i < len(integration_starts) and integration_starts[i] <= latest
