"""Why a retreat request could not be booked, in the clinic's words.

Checks necessary conditions one resource at a time, for the patient alone (as if the clinic were
empty). If all hold, the course fits on its own and was left out because the capacity at the
patient's times went to other courses (the solver admits as many whole courses as it can).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from kapstone.clinical.access import Role
from kapstone.scheduling.instance import Instance, RetreatRequest
from kapstone.scheduling.schedule import Schedule
from kapstone.scheduling.timegrid import DAY, WEEK, Grid, intersect, starts_within


class Reason(StrEnum):
    NOT_ENOUGH_WEEKS = "not_enough_weeks"
    NO_SUITABLE_ROOM = "no_suitable_room"
    NO_CREDENTIALED_THERAPIST = "no_credentialed_therapist"
    CLOSED_WHEN_AVAILABLE = "closed_when_available"
    NO_PRESCRIBER = "no_prescriber"
    NO_NURSE = "no_nurse"
    NO_INTEGRATION_IN_WINDOW = "no_integration_in_window"
    TOO_FEW_DAYS = "too_few_days"
    CAPACITY_TAKEN = "capacity_taken"


@dataclass(frozen=True, slots=True)
class Explanation:
    patient_id: str
    reason: Reason
    message: str
    site_id: str | None = None


def _weeks(n: int) -> str:
    return f"{n} week" + ("" if n == 1 else "s")


def _most_doses(starts: list[int], request: RetreatRequest, gap: int) -> int:
    """Most doses placeable at these starts: one a day, ``gap`` apart, the weekly cap.

    Taking the earliest feasible start each time is optimal: any schedule can be shifted onto it.
    """
    count, previous = 0, None
    per_week: dict[int, int] = {}
    for t in starts:
        if previous is not None and (t < previous + gap or t // DAY == previous // DAY):
            continue
        if per_week.get(t // WEEK, 0) >= request.doses_per_week:
            continue
        per_week[t // WEEK] = per_week.get(t // WEEK, 0) + 1
        count, previous = count + 1, t
    return count


def explain(instance: Instance, patient_id: str) -> tuple[Explanation, ...]:
    """Reasons this patient's whole course cannot be booked; CAPACITY_TAKEN if none is found."""
    grid = Grid(instance)
    q = instance.request(patient_id)
    out: list[Explanation] = []

    def say(reason: Reason, message: str, site_id: str | None = None) -> None:
        out.append(Explanation(patient_id, reason, message, site_id))

    route = q.route.short_label
    modality = q.modality.label
    length = instance.session_minutes(q)
    ilength = instance.integration_minutes(q)
    slot = instance.slot_minutes
    window_h = instance.policy.integration_window_hours
    delay = instance.policy.integration_min_delay_minutes
    gap = instance.min_gap_minutes(q)
    available = grid.patient_available(q)
    sites = instance.request_sites(q)

    open_anywhere = [s for site in sites for s in intersect(grid.open[site], available)]
    weeks_available = len(
        {a // WEEK for a, b in open_anywhere} | {(b - 1) // WEEK for a, b in open_anywhere}
    )
    weeks_needed = -(-q.doses // q.doses_per_week)
    if weeks_available < weeks_needed:
        say(
            Reason.NOT_ENOUGH_WEEKS,
            f"needs {q.doses} sessions at {q.doses_per_week} per week ({_weeks(weeks_needed)})"
            f" but is available only {_weeks(weeks_available)}",
        )
        return tuple(out)

    for site_id in sites:
        site = instance.site(site_id).name
        rooms = [r for r in instance.rooms if r.site_id == site_id and q.route in r.routes]
        therapists = [m for m in grid.staff(site_id, Role.THERAPIST) if q.modality in m.modalities]
        if not rooms:
            say(Reason.NO_SUITABLE_ROOM, f"no {route}-capable chair or room at {site}", site_id)
        if not therapists:
            say(
                Reason.NO_CREDENTIALED_THERAPIST,
                f"no therapist credentialed in {modality} works at {site}",
                site_id,
            )
        if not rooms or not therapists:
            continue
        open_free = intersect(grid.open[site_id], available)
        stages = [
            (
                Reason.CLOSED_WHEN_AVAILABLE,
                starts_within(open_free, length, slot),
                f"{site} is not open for a whole {length}-minute {route} session at any time"
                " the patient is available",
            ),
        ]
        covered = intersect(open_free, grid.cover[site_id])
        stages.append(
            (
                Reason.NO_PRESCRIBER,
                starts_within(covered, length, slot),
                f"no prescriber is on site at {site} for a whole {length}-minute session",
            )
        )
        nursed = sorted(
            {
                t
                for n in grid.staff(site_id, Role.NURSE)
                for t in starts_within(intersect(covered, grid.duty[n.id]), length, slot)
            }
        )
        stages.append(
            (Reason.NO_NURSE, tuple(nursed), f"no nurse is on duty at {site} for a whole session")
        )
        integration = sorted(
            {
                t
                for m in therapists
                for t in starts_within(grid.integration_spans(q, m), ilength, slot)
            }
        )
        followed = [
            t
            for t in nursed
            if bisect_right(integration, t + length + window_h * 60)
            > bisect_left(integration, t + length + delay)
        ]
        lost_days = sorted({t // DAY for t in nursed} - {t // DAY for t in followed})
        day_names = ", ".join(f"{grid.moment(d * DAY):%A %d %b}" for d in lost_days[:4])
        stages.append(
            (
                Reason.NO_INTEGRATION_IN_WINDOW,
                tuple(followed),
                f"no {modality} therapist is available within {window_h} hours of the dose"
                f" on {day_names} at {site}",
            )
        )
        blocked = False
        for reason, starts, message in stages:
            days = len({t // DAY for t in starts})
            if days < q.doses and (reason is not Reason.NO_INTEGRATION_IN_WINDOW or lost_days):
                say(reason, f"{message} (only {days} of the {q.doses} days needed)", site_id)
                blocked = True
                break
        if blocked:
            continue
        most = _most_doses(list(followed), q, gap)
        if most < q.doses:
            say(
                Reason.TOO_FEW_DAYS,
                f"only {most} of the {q.doses} sessions fit at {site}: one a day, at most"
                f" {q.doses_per_week} a week and {gap // 60} h apart on the days the patient,"
                " a prescriber, a nurse and a therapist are all available",
                site_id,
            )
    if not out:
        say(
            Reason.CAPACITY_TAKEN,
            "the course fits the clinic's calendar on its own, but the chairs, nurses and"
            " therapists at the times this patient can attend went to other whole courses",
        )
    return tuple(out)


def explain_unadmitted(
    instance: Instance, schedule: Schedule
) -> Mapping[str, tuple[Explanation, ...]]:
    """An explanation for every patient the schedule leaves out, in request order."""
    return {
        q.patient_id: explain(instance, q.patient_id)
        for q in instance.requests
        if q.patient_id in schedule.unadmitted
    }
