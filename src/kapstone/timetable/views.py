"""Scheduling pages: choose pending plans and weeks, watch the solve, see and accept the result;
record absences and re-plan; keep the clinic calendar; calendar feeds for staff and patients."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from kapstone.accounts.models import StaffUser
from kapstone.assessments.tokens import token_hash
from kapstone.clinical.access import Permission, may
from kapstone.coverage import selectors as coverage
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.timetable import feeds, selectors, services
from kapstone.timetable.forms import (
    AbsenceForm,
    AcceptForm,
    ClosureForm,
    OpeningHoursForm,
    ReplanForm,
    RoomForm,
    SolveForm,
    StaffHoursForm,
    next_monday,
)
from kapstone.timetable.models import FeedToken, RunKind, RunStatus, SolveRun, Weekday
from kapstone.web.actions import act_on_form, show_errors_as_messages
from kapstone.web.authz import public, requires
from kapstone.web.fields import strict_pk
from kapstone.web.forms import show_service_errors
from kapstone.web.found import or_404
from kapstone.web.http import AuthenticatedHttpRequest


def _run_or_404(run_id: int) -> SolveRun:
    return or_404(selectors.run_of(run_id), "No such scheduling run.")


@requires(Permission.SCHEDULE_SESSIONS)
@require_http_methods(["GET", "POST"])
def schedule(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    pending = selectors.pending_plans()
    weeks_default = 2
    choices = [
        (
            p.patient.pk,
            f"{selectors.patient_label(p.patient, user)} · {p.signed.template.name} · "
            f"{p.signed.route.label} · {p.remaining} of {p.signed.sessions} sessions to book · "
            f"{p.patient.home_site}",
        )
        for p in pending
        if p.selectable
    ]
    form = SolveForm(
        request.POST or None,
        choices=choices,
        initial={
            "starts_on": next_monday(timezone.localdate()),
            "weeks": weeks_default,
            "patients": [c[0] for c in choices],
        },
    )
    acted = act_on_form(
        request,
        form,
        lambda data: services.start_run(
            by=user,
            starts_on=data["starts_on"],
            weeks=data["weeks"],
            patient_ids=[int(p) for p in data["patients"]],
        ),
        done=None,
        then=_run_url,
    )
    return acted or render(
        request,
        "timetable/schedule.html",
        {
            "form": form,
            "unavailable": [
                (selectors.patient_label(p.patient, user), p.held or p.unschedulable)
                for p in pending
                if not p.selectable
            ],
            "runs": selectors.recent_runs(),
            "may_manage_calendar": may(user.staff_role, Permission.MANAGE_CLINIC_CALENDAR),
        },
    )


def _run_url(run: SolveRun) -> str:
    return resolve_url("timetable:run", run_id=run.pk)


def _progress_context(run: SolveRun) -> dict[str, Any]:
    elapsed = percent = 0
    if run.started_at is not None and not run.finished:
        elapsed = int((timezone.now() - run.started_at).total_seconds())
        percent = min(99, int(100 * elapsed / max(1.0, run.time_limit_s)))
    return {"run": run, "elapsed": elapsed, "percent": percent}


@requires(Permission.SCHEDULE_SESSIONS)
def run_detail(request: AuthenticatedHttpRequest, run_id: int) -> HttpResponse:
    run = _run_or_404(run_id)
    view = request.GET.get("view", "room")
    if view not in {"room", "staff", "patient"}:
        view = "room"
    context = _progress_context(run) | {
        "view": view,
        "accept_form": AcceptForm(initial={"reason": run.reason}),
        "is_replan": run.kind == RunKind.REPLAN,
    }
    if run.status == RunStatus.DONE:
        context["result"] = selectors.run_view(run, request.user)
    return render(request, "timetable/run.html", context)


@requires(Permission.SCHEDULE_SESSIONS)
def run_progress(request: AuthenticatedHttpRequest, run_id: int) -> HttpResponse:
    """Polled by htmx while the solve runs; once it has finished, the page reloads itself."""
    run = _run_or_404(run_id)
    response = render(request, "timetable/_progress.html", _progress_context(run))
    if run.finished and request.headers.get("HX-Request"):
        response["HX-Redirect"] = reverse("timetable:run", kwargs={"run_id": run.pk})
    return response


@requires(Permission.SCHEDULE_SESSIONS)
@require_POST
def run_accept(request: AuthenticatedHttpRequest, run_id: int) -> HttpResponse:
    run = _run_or_404(run_id)
    form = AcceptForm(request.POST)
    form.is_valid()
    try:
        services.accept_run(by=request.user, run=run, reason=form.cleaned_data.get("reason", ""))
    except InputError as exc:
        show_errors_as_messages(request, exc)
    else:
        messages.success(
            request,
            "Schedule accepted: the sessions are booked and on the patients' charts."
            if run.kind == RunKind.BOOK
            else "Changes applied: the moved sessions were cancelled and rebooked.",
        )
    return redirect("timetable:run", run_id=run.pk)


@requires(Permission.SCHEDULE_SESSIONS)
@require_http_methods(["GET", "POST"])
def changes(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Record who cannot come on a day, then re-plan the booked weeks with as few moves as possible."""
    user = request.user
    absence = AbsenceForm(request.POST if request.POST.get("form") == "absence" else None)
    replan = ReplanForm(
        request.POST if request.POST.get("form") == "replan" else None,
        initial={"starts_on": timezone.localdate() + dt.timedelta(days=1), "weeks": 2},
    )
    # Only the form that was posted is bound; the other one is not valid, so it does not act.
    acted = act_on_form(
        request,
        absence,
        lambda data: services.record_absence(
            by=user,
            day=data["day"],
            reason=data["reason"],
            staff=data["staff"],
            patient=data["patient"],
        ),
        done="Absence recorded. Re-plan the weeks it touches below.",
        then="timetable:changes",
    ) or act_on_form(
        request,
        replan,
        lambda data: services.start_run(
            by=user,
            kind=RunKind.REPLAN,
            starts_on=data["starts_on"],
            weeks=data["weeks"],
            reason=data["reason"],
        ),
        done=None,
        then=_run_url,
    )
    return acted or render(
        request,
        "timetable/changes.html",
        {
            "absence_form": absence,
            "replan_form": replan,
            "absences": [
                (a, selectors.patient_label(a.patient, user) if a.patient else None)
                for a in selectors.absences_ahead()
            ],
        },
    )


@requires(Permission.MANAGE_CLINIC_CALENDAR)
@require_http_methods(["GET", "POST"])
def calendar(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    which = request.POST.get("form", "")
    forms = {
        "hours": OpeningHoursForm(request.POST if which == "hours" else None),
        "closure": ClosureForm(request.POST if which == "closure" else None),
        "room": RoomForm(request.POST if which == "room" else None),
        "staff": StaffHoursForm(request.POST if which == "staff" else None),
    }
    if request.method == "POST":
        done = _calendar_post(request, user, which, forms)
        if done:
            messages.success(request, done)
            return redirect("timetable:calendar")
    return render(
        request,
        "timetable/calendar.html",
        {
            "forms": forms,
            "sites": selectors.sites_with_calendar(),
            "weekdays": Weekday.choices,
        },
    )


def _calendar_post(request: HttpRequest, user: StaffUser, which: str, forms: dict[str, Any]) -> str:
    form = forms.get(which)
    if which == "remove_closure":
        closure = or_404(
            selectors.closure_of(strict_pk(request.POST.get("closure"))), "No such closure."
        )
        services.remove_closure(by=user, closure=closure)
        return "Closure removed."
    if which == "room_active":
        room = or_404(selectors.room_of(strict_pk(request.POST.get("room"))), "No such room.")
        services.set_room_active(by=user, room=room, active=request.POST.get("active") == "1")
        return "Room updated."
    if form is None or not form.is_valid():
        return ""
    data = form.cleaned_data
    try:
        if which == "hours":
            services.set_opening_hours(
                by=user,
                site=data["site"],
                weekday=data["weekday"],
                opens=data["opens"],
                closes=data["closes"],
            )
            return "Opening hours saved."
        if which == "closure":
            services.add_closure(by=user, site=data["site"], day=data["day"], reason=data["reason"])
            return "Closure added."
        if which == "room":
            services.add_room(
                by=user,
                site=data["site"],
                name=data["name"],
                routes=data["routes"],
                turnover_minutes=data["turnover_minutes"],
            )
            return "Room added."
        services.set_staff_hours(
            by=user,
            staff=data["staff"],
            weekday=data["weekday"],
            site=data["site"],
            starts=data["starts"],
            ends=data["ends"],
            break_starts=data["break_starts"],
            break_ends=data["break_ends"],
        )
        return "Working hours saved."
    except InputError as exc:
        show_service_errors(exc, form)
        return ""


# --- calendars and their feeds --------------------------------------------------------------------


def _feed_url(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("timetable:feed", kwargs={"token": token}))


@requires(Permission.SEE_DASHBOARD)
@require_http_methods(["GET", "POST"])
def my_calendar(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A staff member's own sessions, and the secret link their calendar app subscribes to."""
    user = request.user
    new_url = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            feed = selectors.active_feed(staff=user)
            if feed is not None:
                services.revoke_feed(by=user, feed=feed)
                messages.success(request, "Calendar link revoked: it no longer works.")
            return redirect("timetable:my_calendar")
        _, token = services.issue_feed(by=user, staff=user)
        new_url = _feed_url(request, token)
    dosing, integration = selectors.sessions_for_staff(user, timezone.now())
    return render(
        request,
        "timetable/my_calendar.html",
        {
            "dosing": [d for d in dosing if d.status == "booked"],
            "integration": [i for i in integration if i.status == "booked"],
            "feed": selectors.active_feed(staff=user),
            "new_url": new_url,
            "may_issue": True,
        },
    )


@requires(Permission.OPEN_CHART, patient_kwarg="patient_id")
def patient_calendar(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    user = request.user
    dosing, integration = selectors.sessions_for_patient(patient, timezone.now())
    return render(
        request,
        "timetable/patient_calendar.html",
        _patient_context(patient, user, None)
        | {"dosing": dosing, "integration": integration}
        | {"coverage_warnings": coverage.schedule_warnings(patient)},
    )


def _patient_context(patient: Patient, user: StaffUser, new_url: str | None) -> dict[str, Any]:
    return {
        "patient": patient,
        "tab": "calendar",
        "feed": selectors.active_feed(patient=patient),
        "may_issue": may(user.staff_role, Permission.EDIT_PATIENT, on_care_team=True),
        "new_url": new_url,
    }


@requires(Permission.EDIT_PATIENT, patient_kwarg="patient_id")
@require_POST
def patient_feed(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    """Makes (or revokes) the patient's calendar link; the new address is shown this once."""
    user = request.user
    if request.POST.get("action") == "revoke":
        feed = selectors.active_feed(patient=patient)
        if feed is not None:
            services.revoke_feed(by=user, feed=feed)
            messages.success(request, "The patient's calendar link is revoked.")
        return redirect("timetable:patient_calendar", patient_id=patient.pk)
    _, token = services.issue_feed(by=user, patient=patient)
    dosing, integration = selectors.sessions_for_patient(patient, timezone.now())
    return render(
        request,
        "timetable/patient_calendar.html",
        _patient_context(patient, user, _feed_url(request, token))
        | {"dosing": dosing, "integration": integration},
    )


@public
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The ICS feed behind a secret link (anyone holding the link can read it; revoke to stop)."""
    found: FeedToken | None = selectors.feed_for(token_hash(token))
    if found is None:
        raise Http404
    now = timezone.now()
    if found.staff is not None:
        body = feeds.staff_feed(found.staff, now)
    else:
        assert found.patient is not None
        body = feeds.patient_feed(found.patient, now)
    services.note_feed_read(found, now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="kapstone.ics"'
    return response
