"""Deterministic, seeded retreat-scheduling instances for tests and the benchmark.

small: 10 patients, 1 week, 1 site, ample capacity. medium: 40 patients, 2 weeks, 2 sites.
large: 120 patients, 4 weeks, 3 sites, deliberately tight: IV chairs and EMDR therapists are
scarce and retreat requests bunch in the same weeks, so not every course fits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from kapstone.clinical.access import Modality, Role
from kapstone.clinical.routes import Route
from kapstone.scheduling.instance import (
    Instance,
    OpeningHours,
    RetreatRequest,
    Room,
    Site,
    StaffMember,
    Window,
)
from kapstone.scheduling.policy import SchedulingPolicy


class InstanceSize(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


@dataclass(frozen=True, slots=True)
class _Spec:
    patients: int
    weeks: int
    sites: int
    # Per site: (routes, count) for rooms; counts of staff.
    iv_chairs: int
    general_rooms: int
    nurses: int
    therapists: int
    max_doses: int
    # Share of patients who want their retreat in the busiest weeks (makes the large one tight).
    crowding: float


_SPECS = {
    InstanceSize.SMALL: _Spec(10, 1, 1, 2, 2, 2, 4, 5, 0.0),
    InstanceSize.MEDIUM: _Spec(40, 2, 2, 2, 3, 3, 5, 6, 0.0),
    InstanceSize.LARGE: _Spec(120, 4, 3, 1, 2, 2, 3, 8, 0.4),
}

_GENERAL_ROUTES = frozenset(
    {Route.IM, Route.SC, Route.SUBLINGUAL_LOZENGE, Route.ORAL, Route.INTRANASAL_ESKETAMINE}
)
_ROUTE_WEIGHTS = (
    (Route.IV, 35),
    (Route.IM, 20),
    (Route.SUBLINGUAL_LOZENGE, 20),
    (Route.INTRANASAL_ESKETAMINE, 15),
    (Route.SC, 5),
    (Route.ORAL, 5),
)
_MODALITY_WEIGHTS = (
    (Modality.EMDR, 30),
    (Modality.IFS, 20),
    (Modality.CBT, 15),
    (Modality.SOMATIC, 10),
    (Modality.ART, 10),
    (Modality.EXPOSURE, 10),
    (Modality.BEHAVIOURAL_ACTIVATION, 5),
)


def _pick[T](rng: random.Random, weights: tuple[tuple[T, int], ...]) -> T:
    return rng.choices([w[0] for w in weights], [w[1] for w in weights])[0]


def generate(size: InstanceSize | str, *, start: date, seed: int = 0) -> Instance:
    """A reproducible instance: the same size, start and seed always give the same instance.

    ``start`` should be a Monday so weeks are clinic weeks.
    """
    spec = _SPECS[InstanceSize(size)]
    rng = random.Random(f"{size}-{seed}")
    days = 7 * spec.weeks
    weekdays = [start + timedelta(days=d) for d in range(days)]
    weekdays = [d for d in weekdays if d.weekday() < 5]

    def at(day: date, hh: int, mm: int = 0) -> datetime:
        return datetime.combine(day, time(hh, mm))

    sites, rooms, staff = [], [], []
    for s in range(spec.sites):
        site_id = f"site{s + 1}"
        closures = frozenset({rng.choice(weekdays)}) if spec.weeks >= 4 else frozenset()
        sites.append(
            Site(
                site_id,
                f"Site {s + 1}",
                tuple(OpeningHours(wd, time(8), time(18)) for wd in range(5)),
                closures,
            )
        )
        for c in range(spec.iv_chairs):
            rooms.append(Room(f"{site_id}-iv{c + 1}", site_id, frozenset({Route.IV}), 15))
        for c in range(spec.general_rooms):
            routes = _GENERAL_ROUTES | ({Route.IV} if c == 0 else set())
            rooms.append(Room(f"{site_id}-room{c + 1}", site_id, frozenset(routes), 15))
        # Two prescribers overlap at midday; on Wednesday afternoons nobody covers site 2 and up,
        # so no dose may run then there.
        for p, (a, b) in enumerate(((8, 13), (12, 18))):
            shifts = tuple(
                Window(at(d, a), at(d, b))
                for d in weekdays
                if not (s > 0 and p == 1 and d.weekday() == 2)
            )
            staff.append(
                StaffMember(
                    f"{site_id}-md{p + 1}",
                    f"Prescriber {s + 1}.{p + 1}",
                    Role.PRESCRIBER,
                    site_id,
                    shifts,
                )
            )
        for n in range(spec.nurses):
            a, b = ((8, 16), (10, 18))[n % 2]
            shifts = tuple(Window(at(d, a), at(d, b)) for d in weekdays)
            breaks = tuple(Window(at(d, 12 + n % 2), at(d, 12 + n % 2, 30)) for d in weekdays)
            staff.append(
                StaffMember(
                    f"{site_id}-rn{n + 1}",
                    f"Nurse {s + 1}.{n + 1}",
                    Role.NURSE,
                    site_id,
                    shifts,
                    breaks,
                )
            )
        modalities = list(Modality)
        for t in range(spec.therapists):
            creds = {modalities[(t + s) % len(modalities)], modalities[(t + s + 3) % 7]}
            if t == 0:
                creds.add(Modality.EMDR)
            off = rng.randrange(5) if t % 2 else None
            a, b = ((9, 17), (10, 18))[t % 2]
            shifts = tuple(Window(at(d, a), at(d, b)) for d in weekdays if d.weekday() != off)
            breaks = tuple(Window(at(d, 13), at(d, 13, 45)) for d in weekdays)
            staff.append(
                StaffMember(
                    f"{site_id}-th{t + 1}",
                    f"Therapist {s + 1}.{t + 1}",
                    Role.THERAPIST,
                    site_id,
                    shifts,
                    breaks,
                    frozenset(creds),
                    f"Office {s + 1}.{t + 1}",
                )
            )

    requests = []
    busy_week = rng.randrange(max(1, spec.weeks - 1))
    for i in range(spec.patients):
        home = f"site{i % spec.sites + 1}"
        therapists = [
            m for m in staff if m.role is Role.THERAPIST and m.site_id == home and m.modalities
        ]
        offered = sorted({mod for m in therapists for mod in m.modalities})
        modality = _pick(rng, tuple(w for w in _MODALITY_WEIGHTS if w[0] in offered))
        per_week = rng.choice((3, 4, 5))
        doses = rng.randint(3, spec.max_doses) if spec.weeks > 1 else rng.randint(3, per_week)
        weeks_needed = -(-doses // per_week)
        first_week = (
            busy_week
            if rng.random() < spec.crowding
            else rng.randrange(spec.weeks - weeks_needed + 1)
        )
        first_week = min(first_week, spec.weeks - weeks_needed)
        span_days = [
            d
            for d in weekdays
            if first_week <= (d - start).days // 7 < first_week + weeks_needed + 1
        ]
        morning_only = rng.random() < 0.2
        available = tuple(Window(at(d, 8), at(d, 14 if morning_only else 18)) for d in span_days)
        credentialed = [m.id for m in therapists if modality in m.modalities]
        preferred = rng.choice(credentialed) if credentialed and rng.random() < 0.3 else None
        requests.append(
            RetreatRequest(
                patient_id=f"p{i + 1:03d}",
                name=f"Patient {i + 1}",
                route=_pick(rng, _ROUTE_WEIGHTS),
                doses=doses,
                doses_per_week=per_week,
                modality=modality,
                integration_minutes=rng.choice((60, 90)),
                min_gap_hours=20,
                preferred_therapist_id=preferred,
                available=available,
                site_ids=frozenset({home}),
            )
        )
    return Instance(
        start=start,
        days=days,
        sites=tuple(sites),
        rooms=tuple(rooms),
        staff=tuple(staff),
        requests=tuple(requests),
        policy=SchedulingPolicy(),
    )
