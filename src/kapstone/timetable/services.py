"""Writes for scheduling: the clinic calendar, solve runs (queued for the task worker), accepting a
proposed schedule (every session booked in one transaction, or none), and calendar-feed links."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import Room, Site, StaffUser
from kapstone.accounts.services import add_room as add_room
from kapstone.accounts.services import set_room_active as set_room_active
from kapstone.assessments.tokens import new_token, token_hash
from kapstone.audit.trail import record
from kapstone.clinical.access import Role
from kapstone.clinical.routes import Route as ClinicalRoute
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.dosing.services import LONGEST as DOSING_LONGEST
from kapstone.dosing.services import SHORTEST as DOSING_SHORTEST
from kapstone.dosing.services import book_dosing_session, cancel_dosing_session, hold_message
from kapstone.errors import InputError
from kapstone.integration.models import IntegrationSession
from kapstone.integration.services import book_integration_session, cancel_integration_session
from kapstone.patients.models import Patient
from kapstone.plans.selectors import SignedPlan, signed_plan
from kapstone.scheduling.checker import check
from kapstone.scheduling.explain import explain_unadmitted
from kapstone.scheduling.instance import Instance, StaffMember
from kapstone.scheduling.schedule import Schedule
from kapstone.timetable import selectors
from kapstone.timetable.instance import Built, build_instance
from kapstone.timetable.models import (
    Absence,
    Closure,
    FeedToken,
    OpeningHours,
    RunKind,
    RunStatus,
    SolveRun,
    StaffHours,
    Weekday,
)

logger = logging.getLogger(__name__)

MAX_WEEKS = 6
SOLVER_WORKERS = 2
_PARTS = {
    "calendar": "opening hours or closures",
    "rooms": "rooms or the sessions booked in them",
    "staff": "staff hours, absences or their other sessions",
    "requests": "the patients' plans, absences or other sessions",
    "previous": "the booked sessions being re-planned",
}


# --- solve runs -----------------------------------------------------------------------------------


def start_run(
    *,
    by: StaffUser,
    kind: str = RunKind.BOOK,
    starts_on: dt.date,
    weeks: int,
    patient_ids: Iterable[int] = (),
    reason: str = "",
    now: dt.datetime | None = None,
) -> SolveRun:
    """Records a run and queues its solve for the task worker (after the commit)."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if starts_on <= timezone.localdate(now):
        errors["starts_on"] = [
            "Schedule from tomorrow onwards; today's sessions are booked by hand."
        ]
    if not 1 <= weeks <= MAX_WEEKS:
        errors["weeks"] = [f"Choose 1 to {MAX_WEEKS} weeks."]
    ids = sorted(set(patient_ids))
    if kind == RunKind.BOOK:
        offered = {p.patient.pk: p for p in selectors.pending_plans(ids)}
        if not ids:
            errors["patients"] = ["Choose at least one pending plan."]
        for pk in ids:
            pending = offered.get(pk)
            if pending is None:
                errors.setdefault("patients", []).append(
                    f"Patient {pk} has no signed plan waiting to be booked."
                )
            elif not pending.selectable:
                label = selectors.patient_label(pending.patient, by)
                why = pending.held or pending.unschedulable
                errors.setdefault("patients", []).append(f"{label}: {why}.")
    else:
        if not reason.strip():
            errors["reason"] = ["Say what changed (for example: the therapist is off sick)."]
        if not errors:
            ids = selectors.replan_scope(starts_on, 7 * weeks, now)
            if not ids:
                errors["starts_on"] = ["No scheduled sessions lie ahead in these weeks."]
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        run = SolveRun.objects.create(
            kind=kind,
            starts_on=starts_on,
            weeks=weeks,
            patient_ids=ids,
            reason=reason.strip()[:300],
            time_limit_s=float(settings.SCHEDULE_TIME_LIMIT_SECONDS),
            created_by=by,
            created_at=now,
        )
        record(
            actor=by,
            action="timetable.solve_requested",
            obj=run,
            summary=f"{RunKind(kind).label}: {len(ids)} patients from {starts_on:%d %b %Y} "
            f"for {weeks} week{'s' if weeks != 1 else ''}",
            after={"kind": kind, "starts_on": starts_on, "weeks": weeks, "patients": ids},
        )
        from kapstone.timetable.tasks import solve_schedule

        transaction.on_commit(lambda: solve_schedule.enqueue(run.pk))
    return run


def _save(run: SolveRun, **values: Any) -> None:
    for name, value in values.items():
        setattr(run, name, value)
    run.save(update_fields=list(values))


def _covers(member: StaffMember, start: dt.datetime, end: dt.datetime) -> bool:
    inside = any(w.start <= start and end <= w.end for w in member.availability)
    return inside and not any(w.start < end and start < w.end for w in member.breaks)


def _prescriber(
    instance: Instance, site_id: str, start: dt.datetime, end: dt.datetime, preferred: int | None
) -> str | None:
    """A prescriber on duty at the site for the whole session (the patient's own first); the core
    guarantees one exists whenever it books a session."""
    on_duty = [
        m
        for m in instance.staff
        if m.role is Role.PRESCRIBER and m.site_id == site_id and _covers(m, start, end)
    ]
    on_duty.sort(key=lambda m: m.id != selectors.member_id(preferred or 0, int(site_id[1:])))
    return on_duty[0].id if on_duty else None


def _pk(member: str) -> int:
    return int(member[1:].split("@")[0])


def _proposal(built: Built, schedule: Schedule) -> list[dict[str, Any]]:
    integration = {(i.patient_id, i.session_index): i for i in schedule.integration}
    out = []
    for b in sorted(schedule.dosing, key=lambda b: (b.patient_id, b.session_index)):
        patient = built.patients[b.patient_id]
        signed = built.plans[b.patient_id]
        site = built.sites[b.site_id]
        talk = integration[(b.patient_id, b.session_index)]
        prescriber = _prescriber(built.instance, b.site_id, b.start, b.end, patient.prescriber_id)
        out.append(
            {
                "patient": patient.pk,
                "k": b.session_index,
                "plan": signed.plan.pk,
                "route": signed.route.value,
                "site": site.pk,
                "room": built.rooms[b.room_id].pk,
                "nurse": _pk(b.nurse_id),
                "prescriber": _pk(prescriber) if prescriber else None,
                "starts": selectors.aware(b.start, site).isoformat(),
                "ends": selectors.aware(b.end, site).isoformat(),
                "therapist": _pk(talk.therapist_id),
                "modality": built.instance.request(b.patient_id).modality.value,
                "i_starts": selectors.aware(talk.start, site).isoformat(),
                "i_ends": selectors.aware(talk.end, site).isoformat(),
            }
        )
    return out


def _changes(built: Built, proposal: list[dict[str, Any]]) -> dict[str, Any]:
    """What a re-plan moves: per booked session, whether its dose or its integration changes."""
    new = {(f"p{e['patient']}", e["k"]): e for e in proposal}
    moved, kept, dropped = [], 0, set()
    for key, d in sorted(built.booked_dosing.items()):
        i = built.booked_integration.get(key)
        e = new.get(key)
        if e is None:
            dropped.add(d.patient_id)
            continue
        dose_moves = (
            dt.datetime.fromisoformat(e["starts"]) != d.starts_at
            or e["room"] != d.room_id
            or e["nurse"] != d.nurse_id
        )
        talk_moves = (
            dose_moves
            or i is None
            or dt.datetime.fromisoformat(e["i_starts"]) != i.starts_at
            or e["therapist"] != i.therapist_id
        )
        if not talk_moves:
            kept += 1
            continue
        moved.append(
            {
                "patient": d.patient_id,
                "k": key[1],
                "old_dosing": d.pk,
                "old_integration": i.pk if i is not None else None,
                "dosing": dose_moves,
                "integration": talk_moves,
            }
        )
    return {"moved": moved, "kept": kept, "dropped": sorted(dropped)}


def run_solve(*, run_id: int, now: dt.datetime | None = None) -> SolveRun:
    """The task's work: build the request from the database, solve, check, explain, store."""
    run = SolveRun.objects.get(pk=run_id)
    if run.status != RunStatus.QUEUED:
        return run
    _save(
        run,
        status=RunStatus.RUNNING,
        started_at=timezone.now(),
        progress="Reading the calendar, rooms, staff and plans",
    )
    try:
        built = build_instance(
            kind=run.kind,
            starts_on=run.starts_on,
            weeks=run.weeks,
            patient_ids=run.patient_ids,
            now=now or timezone.now(),
        )
        instance = built.instance
        _save(
            run,
            digests=built.digests,
            patient_ids=built.patient_ids,
            progress=f"Solving for {len(instance.requests)} patients: whole courses first, then "
            "one therapist each, then compact courses (up to "
            f"{run.time_limit_s:g} seconds)",
        )
        # The solver loads here, in the task worker, not at import: OR-Tools (and the pandas it
        # imports) cost every `kapstone` command and web worker ~0.6 s of CPU at start otherwise,
        # since the system checks import every view and the views import this module.
        from kapstone.scheduling.model import solve

        result = solve(
            instance,
            time_limit_s=run.time_limit_s,
            workers=SOLVER_WORKERS,
            previous=built.previous,
            minimal_change=True,
        )
        proposal = _proposal(built, result.schedule)
        why = explain_unadmitted(instance, result.schedule)
        _save(
            run,
            status=RunStatus.DONE,
            finished_at=timezone.now(),
            progress="Done: " + ", ".join(s.name for s in result.stages),
            solver_status=result.status.value,
            objective=result.objective,
            bound=result.bound,
            gap=result.gap,
            solve_seconds=result.solve_seconds,
            policy_version=result.policy_version,
            stages=[
                {
                    "name": s.name,
                    "sense": s.sense,
                    "objective": s.objective,
                    "bound": s.bound,
                    "gap": s.gap,
                    "status": s.status.value,
                    "seconds": s.seconds,
                }
                for s in result.stages
            ],
            proposal=proposal,
            unadmitted={
                str(built.patients[pid].pk): [e.message for e in explanations]
                for pid, explanations in why.items()
            },
            violations=[v.message for v in check(instance, result.schedule)],
            changes=_changes(built, proposal) if run.kind == RunKind.REPLAN else {},
        )
    except Exception as exc:  # the run records the failure for the coordinator
        # The type only: messages may name patients, and logs carry no patient data.
        logger.warning("scheduling run %s failed: %s", run.pk, type(exc).__name__)
        _save(run, status=RunStatus.FAILED, finished_at=timezone.now(), error=str(exc)[:2000])
    return run


def _label(patient: Patient, by: StaffUser) -> str:
    return selectors.patient_label(patient, by)


def accept_run(
    *, by: StaffUser, run: SolveRun, reason: str = "", now: dt.datetime | None = None
) -> SolveRun:
    """Books the proposal (or applies a re-plan's changes) in one transaction with its audit row.

    Refused when the clinic changed since the solve; if any single booking is refused (a dosing
    hold placed meanwhile, a session now in the past), nothing is booked.
    """
    now = now or timezone.now()
    if run.status != RunStatus.DONE:
        raise InputError.single("", "This schedule is not ready to accept.")
    if run.accepted_at is not None:
        raise InputError.single("", "This schedule was already accepted.")
    reason = (reason or run.reason).strip()
    if run.kind == RunKind.REPLAN and not reason:
        raise InputError.single("reason", "Say why these sessions move.")
    if run.violations:
        raise InputError.single("", "The checker found broken rules in this schedule: solve again.")
    if not run.proposal and not run.changes.get("dropped"):
        raise InputError.single("", "This schedule books nobody.")
    with transaction.atomic():
        # Two accepts at once queue on the sites' rows, so each compares with the other's result.
        list(Site.objects.select_for_update().filter(is_active=True).order_by("pk"))
        locked = SolveRun.objects.select_for_update().get(pk=run.pk)
        if locked.accepted_at is not None:
            raise InputError.single("", "This schedule was already accepted.")
        built = build_instance(
            kind=run.kind,
            starts_on=run.starts_on,
            weeks=run.weeks,
            patient_ids=run.patient_ids,
            now=now,
        )
        changed = [
            _PARTS[k] for k, v in built.digests.items() if run.digests.get(k) != v and k in _PARTS
        ]
        if changed:
            raise InputError.single(
                "",
                "Nothing was booked: since this schedule was proposed, "
                + "; ".join(changed)
                + " changed. Solve again.",
            )
        patients = {p.pk: p for p in Patient.objects.filter(pk__in=run.patient_ids)}
        booked: dict[str, list[int]] = {"dosing": [], "integration": [], "cancelled": []}
        current: Patient | None = None
        try:
            if run.kind == RunKind.BOOK:
                for e in run.proposal:
                    current = patients[e["patient"]]
                    _book(by, current, e, booked, now)
            else:
                _apply_changes(by, run, patients, reason, booked, now)
        except InputError as exc:
            who = f"{_label(current, by)}: " if current is not None else ""
            message = " ".join(m for ms in exc.errors.values() for m in ms)
            raise InputError.single("", f"Nothing was booked. {who}{message}") from exc
        locked.accepted_by = by
        locked.accepted_at = now
        locked.save(update_fields=["accepted_by", "accepted_at"])
        record(
            actor=by,
            action="timetable.schedule_accepted",
            obj=locked,
            summary=f"{RunKind(run.kind).label} from {run.starts_on:%d %b %Y}: "
            f"{len(booked['dosing'])} dosing and {len(booked['integration'])} integration "
            f"sessions booked, {len(booked['cancelled'])} cancelled"
            + (f" ({reason})" if reason else ""),
            after={"run": run.pk, "reason": reason, **booked},
        )
    run.refresh_from_db()
    return run


def _book(
    by: StaffUser,
    patient: Patient,
    e: dict[str, Any],
    booked: dict[str, list[int]],
    now: dt.datetime,
    dosing: DosingSession | None = None,
) -> None:
    from kapstone.plans.models import TreatmentPlan

    if dosing is None:
        starts = dt.datetime.fromisoformat(e["starts"])
        dosing = book_dosing_session(
            by=by,
            patient=patient,
            starts_at=starts,
            duration=dt.datetime.fromisoformat(e["ends"]) - starts,
            site=Site.objects.get(pk=e["site"]),
            plan=TreatmentPlan.objects.get(pk=e["plan"]),
            route=ClinicalRoute(e["route"]).value,
            room=Room.objects.get(pk=e["room"]),
            nurse=StaffUser.objects.get(pk=e["nurse"]),
            prescriber=StaffUser.objects.get(pk=e["prescriber"]) if e["prescriber"] else None,
            now=now,
        )
        booked["dosing"].append(dosing.pk)
    i_starts = dt.datetime.fromisoformat(e["i_starts"])
    talk = book_integration_session(
        by=by,
        patient=patient,
        starts_at=i_starts,
        duration=dt.datetime.fromisoformat(e["i_ends"]) - i_starts,
        therapist=StaffUser.objects.get(pk=e["therapist"]),
        modality=e["modality"],
        dosing_session=dosing,
        site=dosing.site,
        now=now,
    )
    booked["integration"].append(talk.pk)


def _apply_changes(
    by: StaffUser,
    run: SolveRun,
    patients: dict[int, Patient],
    reason: str,
    booked: dict[str, list[int]],
    now: dt.datetime,
) -> None:
    """Cancels and rebooks only what moves; a dose that moves takes its integration with it.

    Every moving session is cancelled before any is rebooked, so two sessions of a patient may
    swap times."""
    new = {(e["patient"], e["k"]): e for e in run.proposal}
    why = f"Rescheduled: {reason}"[:300]
    moved = run.changes.get("moved", [])
    for m in moved:
        if m["old_integration"] is not None:
            cancel_integration_session(
                by=by,
                session=IntegrationSession.objects.get(pk=m["old_integration"]),
                reason=why,
                now=now,
            )
            booked["cancelled"].append(m["old_integration"])
        if m["dosing"]:
            cancel_dosing_session(
                by=by, session=DosingSession.objects.get(pk=m["old_dosing"]), reason=why, now=now
            )
            booked["cancelled"].append(m["old_dosing"])
    for m in moved:
        kept = None if m["dosing"] else DosingSession.objects.get(pk=m["old_dosing"])
        _book(by, patients[m["patient"]], new[(m["patient"], m["k"])], booked, now, dosing=kept)
    for patient_pk in run.changes.get("dropped", []):
        dropped_why = f"No longer fits the schedule: {reason}"[:300]
        begin, end = selectors._horizon(run.starts_on, 7 * run.weeks)
        for talk in IntegrationSession.objects.filter(
            patient_id=patient_pk, status="booked", starts_at__gt=now, starts_at__lt=end
        ):
            cancel_integration_session(by=by, session=talk, reason=dropped_why, now=now)
            booked["cancelled"].append(talk.pk)
        for dose in DosingSession.objects.filter(
            patient_id=patient_pk,
            status="booked",
            plan__isnull=False,
            starts_at__gt=now,
            starts_at__gte=begin,
            starts_at__lt=end,
        ):
            cancel_dosing_session(by=by, session=dose, reason=dropped_why, now=now)
            booked["cancelled"].append(dose.pk)


# --- the clinic calendar --------------------------------------------------------------------------


def set_opening_hours(
    *,
    by: StaffUser,
    site: Site,
    weekday: int,
    opens: dt.time | None,
    closes: dt.time | None,
) -> OpeningHours | None:
    """Sets a site's hours on a weekday; no times means closed that weekday."""
    if weekday not in Weekday.values:
        raise InputError.single("weekday", "Choose a weekday.")
    if (opens is None) != (closes is None):
        raise InputError.single("closes", "Give both opening and closing times, or neither.")
    if opens is not None and closes is not None and closes <= opens:
        raise InputError.single("closes", "Closing time must be after opening time.")
    day = Weekday(weekday).label
    with transaction.atomic():
        before = OpeningHours.objects.filter(site=site, weekday=weekday).first()
        was = f"{before.opens:%H:%M}-{before.closes:%H:%M}" if before else "closed"
        if opens is None or closes is None:
            OpeningHours.objects.filter(site=site, weekday=weekday).delete()
            row = None
            now_text = "closed"
        else:
            row, _ = OpeningHours.objects.update_or_create(
                site=site, weekday=weekday, defaults={"opens": opens, "closes": closes}
            )
            now_text = f"{opens:%H:%M}-{closes:%H:%M}"
        record(
            actor=by,
            action="timetable.opening_hours_set",
            obj=site,
            summary=f"{site} on {day}s: {now_text} (was {was})",
            before={"hours": was},
            after={"hours": now_text},
        )
    return row


def add_closure(*, by: StaffUser, site: Site, day: dt.date, reason: str) -> Closure:
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = ["Say why the site is closed."]
    if Closure.objects.filter(site=site, day=day).exists():
        errors["day"] = [f"{site} is already closed on {day:%d %b %Y}."]
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        closure = Closure.objects.create(site=site, day=day, reason=reason.strip()[:200])
        record(
            actor=by,
            action="timetable.closure_added",
            obj=closure,
            summary=f"{site} closed on {day:%d %b %Y}: {closure.reason}",
        )
    return closure


def remove_closure(*, by: StaffUser, closure: Closure) -> None:
    with transaction.atomic():
        record(
            actor=by,
            action="timetable.closure_removed",
            obj=closure,
            summary=f"{closure.site} open again on {closure.day:%d %b %Y}",
            before={"reason": closure.reason},
        )
        closure.delete()


# Rooms are a site's, so the accounts app writes them (add_room, set_room_active, imported above
# for the timetable's pages).


def set_staff_hours(
    *,
    by: StaffUser,
    staff: StaffUser,
    weekday: int,
    site: Site | None,
    starts: dt.time | None = None,
    ends: dt.time | None = None,
    break_starts: dt.time | None = None,
    break_ends: dt.time | None = None,
) -> StaffHours | None:
    """Where and when a member works on a weekday; no site means not working that day."""
    errors: dict[str, list[str]] = {}
    if staff.staff_role not in selectors.SCHEDULED_ROLES:
        errors["staff"] = ["Only nurses, prescribers and therapists are scheduled."]
    if weekday not in Weekday.values:
        errors["weekday"] = ["Choose a weekday."]
    if site is not None:
        if starts is None or ends is None or ends <= starts:
            errors["ends"] = ["Give a start and an end after it."]
        if (break_starts is None) != (break_ends is None):
            errors["break_ends"] = ["Give both ends of the break, or neither."]
        elif break_starts is not None and break_ends is not None:
            if break_ends <= break_starts:
                errors["break_ends"] = ["The break must end after it starts."]
            elif starts and ends and not starts <= break_starts < break_ends <= ends:
                errors["break_starts"] = ["The break must lie inside the working hours."]
        if not staff.sites.filter(pk=site.pk).exists():
            errors["site"] = [f"{staff.display_name} does not work at {site}."]
    if errors:
        raise InputError(errors)
    day = Weekday(weekday).label
    with transaction.atomic():
        row: StaffHours | None = None
        if site is None:
            StaffHours.objects.filter(staff=staff, weekday=weekday).delete()
            text = "not working"
        else:
            assert starts is not None and ends is not None
            row, _ = StaffHours.objects.update_or_create(
                staff=staff,
                weekday=weekday,
                defaults={
                    "site": site,
                    "starts": starts,
                    "ends": ends,
                    "break_starts": break_starts,
                    "break_ends": break_ends,
                },
            )
            text = f"{site} {starts:%H:%M}-{ends:%H:%M}" + (
                f", break {break_starts:%H:%M}-{break_ends:%H:%M}"
                if break_starts and break_ends
                else ""
            )
        record(
            actor=by,
            action="timetable.staff_hours_set",
            obj=staff,
            summary=f"{staff.display_name} on {day}s: {text}",
            after={"weekday": weekday, "hours": text},
        )
    return row


def record_absence(
    *,
    by: StaffUser,
    day: dt.date,
    reason: str,
    staff: StaffUser | None = None,
    patient: Patient | None = None,
    now: dt.datetime | None = None,
) -> Absence:
    """A day a staff member cannot work or a patient cannot attend; a re-plan then moves what it
    touches."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if (staff is None) == (patient is None):
        errors[""] = ["Choose a staff member or a patient."]
    if not reason.strip():
        errors["reason"] = ["Say why (for example: off sick)."]
    if day < timezone.localdate(now):
        errors["day"] = ["Record absences from today onwards."]
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        absence = Absence.objects.create(
            staff=staff,
            patient=patient,
            day=day,
            reason=reason.strip()[:200],
            recorded_by=by,
            recorded_at=now,
        )
        who = staff.display_name if staff is not None else "the patient"
        record(
            actor=by,
            action="timetable.absence_recorded",
            patient=patient,
            obj=absence,
            summary=f"{who} unavailable on {day:%d %b %Y}: {absence.reason}",
        )
    return absence


# --- calendar feeds -------------------------------------------------------------------------------


def issue_feed(
    *,
    by: StaffUser,
    staff: StaffUser | None = None,
    patient: Patient | None = None,
    now: dt.datetime | None = None,
) -> tuple[FeedToken, str]:
    """A new secret feed address (the old one stops working); the token is returned once."""
    now = now or timezone.now()
    if (staff is None) == (patient is None):
        raise InputError.single("", "A calendar feed is for one staff member or one patient.")
    token = new_token()
    with transaction.atomic():
        old = selectors.active_feed(staff=staff, patient=patient)
        if old is not None:
            _revoke(by, old, now)
        feed = FeedToken.objects.create(
            staff=staff,
            patient=patient,
            token_hash=token_hash(token),
            created_by=by,
            created_at=now,
        )
        record(
            actor=by,
            action="timetable.feed_issued",
            patient=patient,
            obj=feed,
            summary="Calendar feed link made"
            + (f" for {staff.display_name}" if staff is not None else " for the patient")
            + (" (the previous link stops working)" if old is not None else ""),
        )
    return feed, token


def _revoke(by: StaffUser, feed: FeedToken, now: dt.datetime) -> None:
    feed.revoked_by = by
    feed.revoked_at = now
    feed.save(update_fields=["revoked_by", "revoked_at"])
    record(
        actor=by,
        action="timetable.feed_revoked",
        patient=feed.patient,
        obj=feed,
        summary="Calendar feed link revoked",
    )


def revoke_feed(*, by: StaffUser, feed: FeedToken, now: dt.datetime | None = None) -> None:
    if feed.revoked_at is not None:
        raise InputError.single("", "This calendar link was already revoked.")
    with transaction.atomic():
        _revoke(by, feed, now or timezone.now())


def note_feed_read(feed: FeedToken, now: dt.datetime | None = None) -> None:
    FeedToken.objects.filter(pk=feed.pk).update(last_read_at=now or timezone.now())


# --- a session booked by hand --------------------------------------------------------------------


@dataclass(frozen=True)
class IntegrationRequest:
    """The integration session to book with a dosing session booked by hand."""

    starts_at: dt.datetime
    duration: dt.timedelta
    therapist: StaffUser | None
    modality: str


def _hand_booking_problems(  # noqa: C901 (over the ceiling before it came in; to be split)
    *,
    patient: Patient,
    signed: SignedPlan | None,
    starts_at: dt.datetime,
    duration: dt.timedelta,
    room: Room | None,
    integration: IntegrationRequest | None,
    now: dt.datetime,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    held = hold_message(patient)
    if held:
        add("", held)
    if signed is None:
        add(
            "",
            f"{patient.display_name} has no signed treatment plan: the prescriber signs the plan "
            "(route, dose and number of sessions) before its sessions are booked.",
        )
    elif selectors.sessions_left(signed) <= 0:
        add(
            "",
            f"All {signed.sessions} dosing sessions of the signed plan are booked or held "
            "already; the prescriber amends the plan for more.",
        )
    ends_at = starts_at + duration
    if starts_at < now - dt.timedelta(minutes=5):
        add("starts_at", "This time has passed: choose a time from now on.")
    if not DOSING_SHORTEST <= duration <= DOSING_LONGEST:
        add(
            "duration_minutes",
            f"A dosing session lasts from {DOSING_SHORTEST.seconds // 60} minutes to "
            f"{DOSING_LONGEST.seconds // 3600} hours, observation included.",
        )
    clash = DosingSession.objects.filter(
        patient=patient,
        status=SessionStatus.BOOKED,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    ).first()
    if clash is not None:
        add(
            "starts_at",
            "The patient already has a dosing session at "
            f"{timezone.localtime(clash.starts_at):%a %-d %b %H:%M}.",
        )
    if room is None:
        add("room", "Choose the room or chair.")
    else:
        if signed is not None and signed.route.value not in room.routes:
            add(
                "room",
                f"{room.name} is not equipped for {signed.route.label}, the plan's route: "
                "choose a room that is.",
            )
        if (problem := selectors.opening_problem(room.site, starts_at, ends_at)) is not None:
            add("starts_at", problem)
        taken = selectors.room_taken(room, starts_at, ends_at)
        if taken is not None:
            add(
                "room",
                f"{room.name} is taken {timezone.localtime(taken.starts_at):%H:%M}–"
                f"{timezone.localtime(taken.ends_at):%H:%M} that day, with "
                f"{room.turnover_minutes} minutes to clean it after.",
            )
    if integration is not None:
        if integration.starts_at < ends_at:
            add(
                "integration_starts_at",
                "The integration session starts after the dosing session ends "
                f"({timezone.localtime(ends_at):%a %-d %b %H:%M}).",
            )
        if integration.therapist is None:
            add("therapist", "Choose the therapist for the integration session.")
        if signed is not None and integration.modality not in {m.value for m in signed.modalities}:
            confirmed = ", ".join(m.label for m in signed.modalities) or "none yet"
            add("modality", f"Choose one of the plan's confirmed modalities ({confirmed}).")
        if room is not None and (
            problem := selectors.opening_problem(
                room.site, integration.starts_at, integration.starts_at + integration.duration
            )
        ):
            add("integration_starts_at", problem)
    return errors


def book_by_hand(
    *,
    by: StaffUser,
    patient: Patient,
    starts_at: dt.datetime,
    duration: dt.timedelta,
    room: Room | None,
    integration: IntegrationRequest | None,
    now: dt.datetime | None = None,
) -> tuple[DosingSession, IntegrationSession | None]:
    """A dosing session booked from the chart, with the guard rails the scheduler keeps: the
    signed plan's route and number of sessions, a room equipped for the route and free (turnover
    included), the site's opening hours and closures; and its integration session. Every problem
    is reported at once; both sessions are booked in one transaction or neither is."""
    now = now or timezone.now()
    signed = signed_plan(patient)
    errors = _hand_booking_problems(
        patient=patient,
        signed=signed,
        starts_at=starts_at,
        duration=duration,
        room=room,
        integration=integration,
        now=now,
    )
    if errors:
        raise InputError(errors)
    assert signed is not None and room is not None  # checked above
    with transaction.atomic():
        dosing = book_dosing_session(
            by=by,
            patient=patient,
            starts_at=starts_at,
            duration=duration,
            site=room.site,
            plan=signed.plan,
            route=signed.route.value,
            room=room,
            nurse=patient.nurse,
            prescriber=patient.prescriber,
            now=now,
        )
        talk = None
        if integration is not None:
            talk = book_integration_session(
                by=by,
                patient=patient,
                starts_at=integration.starts_at,
                duration=integration.duration,
                therapist=integration.therapist,
                modality=integration.modality,
                dosing_session=dosing,
                site=room.site,
                now=now,
            )
    return dosing, talk
