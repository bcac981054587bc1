"""The CP-SAT model of a retreat schedule, solved lexicographically in stages.

Lexicographic order by staged solves: each stage optimises one objective, then its best value is
fixed as a constraint (``>=`` for a maximum, ``<=`` for a minimum) and the solution is handed to the
next stage as a hint. The stages are

1. admitted: whole courses booked (maximise);
2. kept bookings: only when re-solving against a previous schedule, sessions left where they were
   (maximise) -- a sick therapist or a moved patient disturbs as little as possible;
3. therapist continuity: distinct integration therapists per patient, plus one for each patient
   not seen by their preferred therapist (minimise);
4. compact courses and fair load: days from each patient's first to last dose, plus the busiest
   therapist's number of integration sessions (minimise).

A stage that stops at the time limit without proof fixes its best found value, not its bound, so
later stages stay feasible; its gap is reported.

Times are minutes from the horizon start. Dosing sessions of a patient are ordered (dose k+1 starts
after dose k), which breaks symmetry and makes "at most c a week" a constraint between dose k and
dose k+c.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from ortools.sat.python import cp_model

from kapstone.scheduling.greedy import greedy_schedule
from kapstone.scheduling.instance import Instance, RetreatRequest, validate
from kapstone.scheduling.options import SiteOption, site_options
from kapstone.scheduling.schedule import (
    DosingBooking,
    IntegrationBooking,
    Schedule,
    SolveResult,
    SolveStatus,
    StageResult,
)
from kapstone.scheduling.timegrid import DAY, WEEK, Grid

_MIN_STAGE_SECONDS = 0.2


@dataclass(slots=True)
class _Dose:
    start: cp_model.IntVar
    day: cp_model.IntVar
    rooms: dict[str, cp_model.IntVar] = field(default_factory=dict)
    nurses: dict[str, cp_model.IntVar] = field(default_factory=dict)
    integration: cp_model.IntVar | None = None
    therapists: dict[str, cp_model.IntVar] = field(default_factory=dict)


@dataclass(slots=True)
class _Patient:
    request: RetreatRequest
    admit: cp_model.IntVar
    sites: dict[str, cp_model.IntVar] = field(default_factory=dict)
    doses: list[_Dose] = field(default_factory=list)
    uses: dict[str, cp_model.IntVar] = field(default_factory=dict)


class _Builder:
    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.grid = Grid(instance)
        self.model = cp_model.CpModel()
        self.patients: list[_Patient] = []
        self.room_intervals: dict[str, list[cp_model.IntervalVar]] = {}
        self.nurse_intervals: dict[str, list[cp_model.IntervalVar]] = {}
        self.therapist_intervals: dict[str, list[cp_model.IntervalVar]] = {}
        self.therapist_load: dict[str, list[cp_model.IntVar]] = {}
        for request in instance.requests:
            self._patient(request)
        self._resources()

    def _patient(self, request: RetreatRequest) -> None:
        m = self.model
        inst = self.instance
        pid = request.patient_id
        admit = m.new_bool_var(f"admit[{pid}]")
        patient = _Patient(request, admit)
        self.patients.append(patient)
        options = site_options(self.grid, request)
        if not options or max(len({t // DAY for t in o.dose_starts}) for o in options) < (
            request.doses
        ):
            m.add(admit == 0)
            return
        length = inst.session_minutes(request)
        ilength = inst.integration_minutes(request)
        delay = inst.policy.integration_min_delay_minutes
        window = inst.policy.integration_window_hours * 60
        for o in options:
            patient.sites[o.site_id] = m.new_bool_var(f"site[{pid},{o.site_id}]")
        m.add(sum(patient.sites.values()) == admit)
        dose_domain = sorted({t for o in options for t in o.dose_starts})
        integration_domain = sorted(
            {t for o in options for v in o.therapist_starts.values() for t in v}
        )
        own: list[cp_model.IntervalVar] = []
        for k in range(request.doses):
            start = m.new_int_var_from_domain(
                cp_model.Domain.from_values(dose_domain), f"start[{pid},{k}]"
            )
            day = m.new_int_var(0, inst.days - 1, f"day[{pid},{k}]")
            m.add_division_equality(day, start, DAY)
            m.add(start == dose_domain[0]).only_enforce_if(admit.negated())
            dose = _Dose(start, day)
            istart = m.new_int_var_from_domain(
                cp_model.Domain.from_values(integration_domain), f"integration[{pid},{k}]"
            )
            m.add(istart == integration_domain[0]).only_enforce_if(admit.negated())
            dose.integration = istart
            m.add(istart >= start + length + delay).only_enforce_if(admit)
            m.add(istart <= start + length + window).only_enforce_if(admit)
            for o in options:
                at_site = patient.sites[o.site_id]
                if len(options) > 1:
                    m.add_linear_expression_in_domain(
                        start, cp_model.Domain.from_values(o.dose_starts)
                    ).only_enforce_if(at_site)
                self._choose_rooms(dose, o, at_site, length, f"{pid},{k}")
                self._choose_nurses(dose, o, at_site, length, f"{pid},{k}")
                self._choose_therapists(patient, dose, o, at_site, ilength, f"{pid},{k}")
            own.append(
                m.new_optional_fixed_size_interval_var(start, length, admit, f"p[{pid},{k}]")
            )
            own.append(
                m.new_optional_fixed_size_interval_var(istart, ilength, admit, f"pi[{pid},{k}]")
            )
            patient.doses.append(dose)
        m.add_no_overlap(own)
        gap = inst.min_gap_minutes(request)
        for a, b in pairwise(patient.doses):
            m.add(b.start >= a.start + max(gap, 1)).only_enforce_if(admit)
            m.add(b.day >= a.day + 1).only_enforce_if(admit)
        cap = request.doses_per_week
        if cap < request.doses:
            weeks = []
            for k, d in enumerate(patient.doses):
                w = m.new_int_var(0, inst.days // 7, f"week[{pid},{k}]")
                m.add_division_equality(w, d.start, WEEK)
                weeks.append(w)
            for k in range(request.doses - cap):
                m.add(weeks[k + cap] >= weeks[k] + 1).only_enforce_if(admit)

    def _choose_rooms(
        self, dose: _Dose, o: SiteOption, at_site: cp_model.IntVar, length: int, tag: str
    ) -> None:
        m = self.model
        chosen = []
        for room in o.rooms:
            x = m.new_bool_var(f"room[{tag},{room.id}]")
            dose.rooms[room.id] = x
            chosen.append(x)
            self.room_intervals.setdefault(room.id, []).append(
                m.new_optional_fixed_size_interval_var(
                    dose.start, length + room.turnover_minutes, x, f"ri[{tag},{room.id}]"
                )
            )
        m.add(sum(chosen) == at_site)

    def _choose_nurses(
        self, dose: _Dose, o: SiteOption, at_site: cp_model.IntVar, length: int, tag: str
    ) -> None:
        m = self.model
        chosen = []
        for nurse_id, starts in o.nurse_starts.items():
            z = m.new_bool_var(f"nurse[{tag},{nurse_id}]")
            dose.nurses[nurse_id] = z
            chosen.append(z)
            if starts != o.dose_starts:
                m.add_linear_expression_in_domain(
                    dose.start, cp_model.Domain.from_values(starts)
                ).only_enforce_if(z)
            self.nurse_intervals.setdefault(nurse_id, []).append(
                m.new_optional_fixed_size_interval_var(
                    dose.start, length, z, f"ni[{tag},{nurse_id}]"
                )
            )
        m.add(sum(chosen) == at_site)

    def _choose_therapists(
        self,
        patient: _Patient,
        dose: _Dose,
        o: SiteOption,
        at_site: cp_model.IntVar,
        length: int,
        tag: str,
    ) -> None:
        m = self.model
        assert dose.integration is not None
        chosen = []
        for therapist_id, starts in o.therapist_starts.items():
            w = m.new_bool_var(f"therapist[{tag},{therapist_id}]")
            dose.therapists[therapist_id] = w
            chosen.append(w)
            m.add_linear_expression_in_domain(
                dose.integration, cp_model.Domain.from_values(starts)
            ).only_enforce_if(w)
            self.therapist_intervals.setdefault(therapist_id, []).append(
                m.new_optional_fixed_size_interval_var(
                    dose.integration, length, w, f"ti[{tag},{therapist_id}]"
                )
            )
            self.therapist_load.setdefault(therapist_id, []).append(w)
            if therapist_id not in patient.uses:
                patient.uses[therapist_id] = m.new_bool_var(
                    f"uses[{patient.request.patient_id},{therapist_id}]"
                )
            m.add_implication(w, patient.uses[therapist_id])
        m.add(sum(chosen) == at_site)

    def _resources(self) -> None:
        m = self.model
        for room in self.instance.rooms:
            intervals = self.room_intervals.get(room.id, [])
            if not intervals:
                continue
            # Sessions booked outside this solve hold the room as fixed intervals.
            for n, (a, b) in enumerate(self.grid.windows(room.taken)):
                intervals.append(m.new_fixed_size_interval_var(a, b - a, f"taken[{room.id},{n}]"))
            m.add_no_overlap(intervals)
        capacity = self.instance.policy.patients_per_nurse
        for intervals in self.nurse_intervals.values():
            m.add_cumulative(intervals, [1] * len(intervals), capacity)
        for intervals in self.therapist_intervals.values():
            m.add_no_overlap(intervals)

    # Objectives ---------------------------------------------------------------------------
    def admitted(self) -> cp_model.LinearExprT:
        return sum(p.admit for p in self.patients)

    def continuity(self) -> cp_model.LinearExprT:
        terms: list[cp_model.LinearExprT] = []
        for p in self.patients:
            terms.extend(p.uses.values())
            preferred = p.request.preferred_therapist_id
            if preferred is not None and preferred in p.uses:
                terms.append(p.admit - p.uses[preferred])
        return sum(terms)

    def compactness(self) -> cp_model.LinearExprT:
        m = self.model
        terms: list[cp_model.LinearExprT] = []
        for p in self.patients:
            if len(p.doses) > 1:
                span = m.new_int_var(0, self.instance.days, f"span[{p.request.patient_id}]")
                m.add(span >= p.doses[-1].day - p.doses[0].day).only_enforce_if(p.admit)
                terms.append(span)
        busiest = m.new_int_var(0, sum(len(v) for v in self.therapist_load.values()), "busiest")
        for load in self.therapist_load.values():
            m.add(busiest >= sum(load))
        terms.append(busiest)
        return sum(terms)

    def kept(self, previous: Schedule) -> cp_model.LinearExprT:
        """Previous sessions booked again at the same time with the same room, nurse, therapist."""
        m = self.model
        by_id = {p.request.patient_id: p for p in self.patients}
        keeps: list[cp_model.IntVar] = []
        for b in previous.dosing:
            p = by_id.get(b.patient_id)
            if p is None or b.session_index >= len(p.doses):
                continue
            dose = p.doses[b.session_index]
            if b.room_id not in dose.rooms or b.nurse_id not in dose.nurses:
                continue
            keep = m.new_bool_var(f"keep[{b.patient_id},{b.session_index}]")
            m.add(dose.start == self.grid.minutes(b.start)).only_enforce_if(keep)
            m.add_implication(keep, dose.rooms[b.room_id])
            m.add_implication(keep, dose.nurses[b.nurse_id])
            keeps.append(keep)
        for i in previous.integration:
            p = by_id.get(i.patient_id)
            if p is None or i.session_index >= len(p.doses):
                continue
            dose = p.doses[i.session_index]
            if i.therapist_id not in dose.therapists or dose.integration is None:
                continue
            keep = m.new_bool_var(f"keepi[{i.patient_id},{i.session_index}]")
            m.add(dose.integration == self.grid.minutes(i.start)).only_enforce_if(keep)
            m.add_implication(keep, dose.therapists[i.therapist_id])
            keeps.append(keep)
        return sum(keeps)

    # Hints and read-back ------------------------------------------------------------------
    def hint(self, schedule: Schedule) -> None:
        """Suggest a known schedule (greedy's, or the previous one) as the starting solution."""
        m = self.model
        m.clear_hints()  # type: ignore[no-untyped-call]  # untyped in ortools' stubs
        dosing = {(b.patient_id, b.session_index): b for b in schedule.dosing}
        integration = {(b.patient_id, b.session_index): b for b in schedule.integration}
        for p in self.patients:
            pid = p.request.patient_id
            admitted = pid in schedule.admitted and all(
                (pid, k) in dosing and (pid, k) in integration for k in range(len(p.doses))
            )
            if not p.doses:
                continue
            m.add_hint(p.admit, int(admitted))
            if not admitted:
                continue
            site = dosing[(pid, 0)].site_id
            for s, var in p.sites.items():
                m.add_hint(var, int(s == site))
            for k, dose in enumerate(p.doses):
                b, i = dosing[(pid, k)], integration[(pid, k)]
                m.add_hint(dose.start, self.grid.minutes(b.start))
                for r, var in dose.rooms.items():
                    m.add_hint(var, int(r == b.room_id))
                for n, var in dose.nurses.items():
                    m.add_hint(var, int(n == b.nurse_id))
                if dose.integration is not None:
                    m.add_hint(dose.integration, self.grid.minutes(i.start))
                for t, var in dose.therapists.items():
                    m.add_hint(var, int(t == i.therapist_id))

    def read(self, solver: cp_model.CpSolver) -> Schedule:
        inst = self.instance
        dosing: list[DosingBooking] = []
        integration: list[IntegrationBooking] = []
        admitted: set[str] = set()
        for p in self.patients:
            pid = p.request.patient_id
            if not p.doses or not solver.boolean_value(p.admit):
                continue
            admitted.add(pid)
            site = next(s for s, v in p.sites.items() if solver.boolean_value(v))
            length = inst.session_minutes(p.request)
            ilength = inst.integration_minutes(p.request)
            for k, dose in enumerate(p.doses):
                start = solver.value(dose.start)
                room = next(r for r, v in dose.rooms.items() if solver.boolean_value(v))
                nurse = next(n for n, v in dose.nurses.items() if solver.boolean_value(v))
                dosing.append(
                    DosingBooking(
                        pid,
                        k,
                        site,
                        room,
                        nurse,
                        self.grid.moment(start),
                        self.grid.moment(start + length),
                    )
                )
                assert dose.integration is not None
                istart = solver.value(dose.integration)
                therapist = next(t for t, v in dose.therapists.items() if solver.boolean_value(v))
                integration.append(
                    IntegrationBooking(
                        pid,
                        k,
                        therapist,
                        inst.member(therapist).office,
                        self.grid.moment(istart),
                        self.grid.moment(istart + ilength),
                    )
                )
        everyone = frozenset(q.patient_id for q in inst.requests)
        return Schedule(tuple(dosing), tuple(integration), frozenset(admitted), everyone - admitted)


def _hint_from_response(model: cp_model.CpModel, solver: cp_model.CpSolver) -> None:
    model.clear_hints()  # type: ignore[no-untyped-call]
    values = solver.response_proto.solution
    for index, value in enumerate(values):
        model.add_hint(model.get_int_var_from_proto_index(index), value)


def solve(
    instance: Instance,
    *,
    time_limit_s: float = 30.0,
    workers: int = 2,
    previous: Schedule | None = None,
    minimal_change: bool = True,
    warm_start: bool = True,
    seed: int = 0,
) -> SolveResult:
    """Book as many whole retreat courses as possible, then the secondary objectives.

    ``previous``: an earlier schedule, used as the starting solution; with ``minimal_change`` its
    sessions are kept in place where possible (stage "kept bookings"). ``warm_start`` seeds the
    solver with the greedy first-fit schedule when no previous one is given.
    """
    validate(instance)
    b = _Builder(instance)
    if previous is not None:
        b.hint(previous)
    elif warm_start:
        b.hint(greedy_schedule(instance))

    stages: list[tuple[str, str, cp_model.LinearExprT]] = [("admitted", "max", b.admitted())]
    if previous is not None and minimal_change:
        stages.append(("kept bookings", "max", b.kept(previous)))
    stages.append(("therapist continuity", "min", b.continuity()))
    stages.append(("compact courses and fair load", "min", b.compactness()))

    results: list[StageResult] = []
    schedule: Schedule | None = None
    remaining = float(time_limit_s)
    for i, (name, sense, expr) in enumerate(stages):
        later = len(stages) - i - 1
        share = remaining * (0.6 if i == 0 and later else 1.0 / (later + 1))
        limit = max(_MIN_STAGE_SECONDS, share)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = limit
        solver.parameters.num_workers = workers
        solver.parameters.random_seed = seed
        # Presolve probing took ~12 s per stage on the large instance for no gain in the bound.
        solver.parameters.cp_model_probing_level = 0
        if sense == "max":
            b.model.maximize(expr)
        else:
            b.model.minimize(expr)
        code = solver.solve(b.model)
        remaining = max(0.0, remaining - solver.wall_time)
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            if code == cp_model.INFEASIBLE or code == cp_model.MODEL_INVALID:
                raise RuntimeError(f"scheduling model rejected at stage {name!r}: {code}")
            break
        status = SolveStatus.OPTIMAL if code == cp_model.OPTIMAL else SolveStatus.FEASIBLE
        value = round(solver.objective_value)
        results.append(
            StageResult(name, sense, value, solver.best_objective_bound, status, solver.wall_time)
        )
        schedule = b.read(solver)
        if sense == "max":
            b.model.add(expr >= value)
        else:
            b.model.add(expr <= value)
        _hint_from_response(b.model, solver)

    if schedule is None:
        everyone = frozenset(q.patient_id for q in instance.requests)
        empty = Schedule((), (), frozenset(), everyone)
        return SolveResult(
            empty,
            (),
            SolveStatus.UNKNOWN,
            0,
            float(len(everyone)),
            1.0,
            0.0,
            instance.policy.version,
        )
    first = results[0]
    return SolveResult(
        schedule=schedule,
        stages=tuple(results),
        status=first.status,
        objective=first.objective,
        bound=first.bound,
        gap=first.gap,
        solve_seconds=sum(r.seconds for r in results),
        policy_version=instance.policy.version,
    )
