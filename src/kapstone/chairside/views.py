"""The chair-side console: one tablet page per dosing session, and the posts it makes.

Views only translate: forms to services, InputError to form errors. A refused post renders the
console again with the bound form, so nothing typed is lost; a good post redirects back to it.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record as audit
from kapstone.chairside import facts, selectors, services
from kapstone.chairside import forms as f
from kapstone.chairside.models import AlertAction, ChairsideRecord, SessionAlert
from kapstone.chairside.unlock import LockedOut, proven_by
from kapstone.clinical import plausibility as limits
from kapstone.clinical.access import Permission, may
from kapstone.clinical.discharge import DischargeChecklist
from kapstone.clinical.routes import Route
from kapstone.dosing import selectors as dosing_selectors
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.errors import InputError
from kapstone.kernel.read_once import reading_once
from kapstone.patients.models import Patient
from kapstone.preparation import selectors as preparation_selectors
from kapstone.web.actions import act_on_form, show_errors_as_messages
from kapstone.web.authz import requires
from kapstone.web.forms import show_service_errors
from kapstone.web.found import or_404
from kapstone.web.http import AuthenticatedHttpRequest
from kapstone.web.middleware import (
    CONSOLE_KEEPALIVE,
    LAST_ACTION,
    RENEWED,
    allows_locked,
    idle_seconds,
)

CHART = Permission.CHART_DOSING_SESSION
# The event the readings list sends when it changed; the "Checks due" panel listens for it.
READINGS_CHANGED = "readings-changed"
PHASES = {
    "before_dose": "before the dose",
    "infusing": "infusion running",
    "after_dose": "after the dose",
}

EVIDENCE = {
    "label": "product label",
    "guideline": "guideline",
    "published_practice": "published practice",
    "instrument_manual": "instrument manual",
    "clinic_policy": "clinic policy",
}
VERIFICATION = {
    "verified": "checked against the source",
    "secondary": "checked against a secondary source",
    "unverified": "not yet checked against a source",
}


def _in_progress(session: DosingSession, record: ChairsideRecord | None) -> bool:
    return (
        record is not None
        and not record.is_signed
        and session.status not in (SessionStatus.CANCELLED, SessionStatus.COMPLETED)
    )


def _keep_console_alive(request: HttpRequest, session: DosingSession) -> None:
    """Lets this console's polls keep the sign-in alive (locked) until the booked end + margin."""
    until = session.ends_at.timestamp() + settings.CONSOLE_KEEPALIVE_MARGIN_MINUTES * 60
    now = time.time()
    kept = {k: v for k, v in request.session.get(CONSOLE_KEEPALIVE, {}).items() if v > now}
    if until > now:
        kept[str(session.pk)] = until
    request.session[CONSOLE_KEEPALIVE] = kept


def _duration_words(seconds: int) -> str:
    if seconds % 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = seconds // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _alert_view(alert: SessionAlert) -> dict[str, Any]:
    """An alert in clinic words: the grade as the recommendation, the rules behind a disclosure."""
    return {
        "alert": alert,
        "rules": [
            {
                "message": r.get("message", ""),
                "basis": EVIDENCE.get(r.get("source", {}).get("evidence", ""), "clinic policy"),
                "checked": VERIFICATION.get(r.get("source", {}).get("verification", ""), ""),
                "note": r.get("source", {}).get("note", ""),
            }
            for r in alert.rules
        ],
    }


def _session(patient: Patient, session_id: int) -> DosingSession:
    return or_404(
        dosing_selectors.session_of(patient, session_id),
        "No such dosing session for this patient.",
    )


def _record(patient: Patient, session_id: int) -> ChairsideRecord:
    return or_404(
        selectors.record_for_session(session_id, patient.pk),
        "No chair-side record is open for this session.",
    )


def _console_url(record: ChairsideRecord, anchor: str = "") -> str:
    url = reverse(
        "chairside:console",
        kwargs={"patient_id": record.session.patient_id, "session_id": record.session_id},
    )
    return f"{url}#{anchor}" if anchor else url


def _dose_form(
    record: ChairsideRecord, me: StaffUser, data: Any = None, *, prefill: bool = True
) -> f.DoseForm:
    """The dose form, pre-filled from the plan only for the first dose: once one is charted, a
    pre-filled form is one tap away from charting the same dose twice."""
    planned = facts.planned_dose(record) if prefill else None
    initial: dict[str, Any] = {}
    if planned is not None:
        initial["dose_mg"] = planned.dose_mg
        initial["rate_ml_per_hour"] = planned.rate_ml_per_hour
        initial["devices"] = sum(count for _, _, count in planned.units) or None
    plan = record.session.plan
    if prefill and plan is not None and plan.concentration_mg_per_ml:
        initial["concentration_mg_per_ml"] = plan.concentration_mg_per_ml
    return f.DoseForm(
        data,
        initial=initial,
        draws=services.open_draws(record),
        witnesses=selectors.witnesses(record, besides=me),
        esketamine=record.route_value is Route.INTRANASAL_ESKETAMINE,
    )


def _render(
    request: AuthenticatedHttpRequest,
    patient: Patient,
    session: DosingSession,
    record: ChairsideRecord | None,
    bound: dict[str, Form] | None = None,
) -> HttpResponse:
    me = request.user
    role = me.staff_role
    context: dict[str, Any] = {
        "patient": patient,
        "session": session,
        "record": record,
        "tab": "dosing",
        "may_sign": may(role, Permission.SIGN_DOSING_SESSION, on_care_team=True),
        "may_decide": may(role, Permission.DECIDE_TO_PROCEED, on_care_team=True),
        "dose_change_percent": f"{limits.DOSE_CHANGE_FRACTION.value:.0%}",
    }
    if record is not None:
        now = timezone.now()
        state = selectors.console(record, now)
        answers = state.answers
        opened = selectors.open_alerts(record)
        bound = bound or {}
        context |= {
            # The patient's own answers from the companion's preparation checklist (read only).
            "patient_said": preparation_selectors.patient_said(session.pk),
            "c": state,
            "now": now,
            "checklist_form": bound.get("checklist")
            or f.ChecklistForm(
                initial={
                    k: answers[k].value
                    for k in (
                        "identity_confirmed",
                        "fasting_confirmed",
                        "escort_confirmed",
                    )
                    if k in answers
                }
            ),
            "vitals_form": bound.get("vitals") or f.VitalsForm(),
            "dose_form": bound.get("dose") or _dose_form(record, me, prefill=not state.doses),
            "stop_form": bound.get("stop") or f.StopDoseForm(),
            "dissociation_form": bound.get("dissociation") or f.DissociationForm(),
            "event_form": bound.get("event") or f.AdverseEventForm(),
            "ack_form": bound.get("ack"),
            "strike_form": bound.get("strike"),
            "discharge_form": bound.get("discharge") or f.DischargeForm(),
            "addendum_form": bound.get("addendum") or f.AddendumForm(),
            "sign_errors": bound.get("sign"),
            "open_draws": services.open_draws(record),
            "running": [d for d in state.doses if d.stopped_at is None and d.route == Route.IV],
            "schedule": (plan := selectors.schedule(record, now)),
            "phase_label": PHASES[plan.phase.value],
            "ack_actions": AlertAction.choices,
            "open_alerts": [_alert_view(a) for a in opened],
            "alerting_readings": {a.reading_id: a.grade for a in opened if a.reading_id},
            **_readings_context(record, now, in_progress=_in_progress(session, record)),
            "verify_errors": bound.get("verify"),
            "alerts_version": selectors.alerts_version(record),
            "in_progress": _in_progress(session, record),
            "idle_seconds": idle_seconds(),
            "idle_words": _duration_words(idle_seconds()),
            "readiness": services.discharge_readiness(
                record,
                # What still blocks besides what the nurse confirms at discharge.
                DischargeChecklist(True, True, True, True, True),
                now,
            )
            if state.doses and record.discharged_at is None
            else None,
        }
    return render(request, "chairside/console.html", context)


@requires(CHART, patient_kwarg="patient_id")
@require_GET
def console(request: AuthenticatedHttpRequest, patient: Patient, session_id: int) -> HttpResponse:
    session = _session(patient, session_id)
    record = selectors.record_for_session(session.pk, patient.pk)
    if _in_progress(session, record):
        _keep_console_alive(request, session)
    with reading_once():  # the page writes nothing: each fact it shows several times, read once
        return _render(request, patient, session, record)


@requires(CHART, patient_kwarg="patient_id")
@require_POST
def open_record(
    request: AuthenticatedHttpRequest, patient: Patient, session_id: int
) -> HttpResponse:
    session = _session(patient, session_id)
    try:
        record = services.open_record(by=request.user, session=session)
    except InputError as exc:
        show_errors_as_messages(request, exc)
        return redirect("chairside:console", patient_id=patient.pk, session_id=session.pk)
    return redirect(_console_url(record, "checklist"))


@requires(CHART, patient_kwarg="patient_id")
@require_GET
def alerts_fragment(
    request: AuthenticatedHttpRequest, patient: Patient, session_id: int
) -> HttpResponse:
    """Polled every few seconds by every screen showing the session; 204 when nothing changed."""
    record = selectors.record_for_session(session_id, patient.pk)
    if record is None:
        return HttpResponse(status=204)
    kept = request.session.get(CONSOLE_KEEPALIVE, {}).get(str(record.session_id), 0)
    if _in_progress(record.session, record) and kept > time.time():
        # Read by IdleTimeoutMiddleware: renew the stored session, not the user's last action.
        request.keep_session_alive = True  # type: ignore[attr-defined]
    version = selectors.alerts_version(record)
    if request.GET.get("seen") == version:
        return HttpResponse(status=204)
    return render(
        request,
        "chairside/_alerts.html",
        {
            "record": record,
            "patient": patient,
            "session": record.session,
            "open_alerts": [_alert_view(a) for a in selectors.open_alerts(record)],
            "alerts_version": version,
            "ack_actions": AlertAction.choices,
        },
    )


def _readings_context(
    record: ChairsideRecord, now: dt.datetime, *, in_progress: bool
) -> dict[str, Any]:
    panel = selectors.readings_panel(record, now)
    return {
        "vitals": panel.vitals,
        "unverified": panel.unverified,
        "confirmed": panel.confirmed,
        "unconfirmed": panel.unconfirmed,
        "feed": panel.feed,
        "readings_version": panel.version,
        "poll_readings": in_progress,
    }


@requires(CHART, patient_kwarg="patient_id")
@require_GET
def readings_fragment(
    request: AuthenticatedHttpRequest, patient: Patient, session_id: int
) -> HttpResponse:
    """The vital-signs list, polled every second by every screen showing the session, so a monitor
    reading shows without a reload; 204 while nothing changed (a strike reason being typed stays)."""
    record = selectors.record_for_session(session_id, patient.pk)
    if record is None:
        return HttpResponse(status=204)
    now = timezone.now()
    context = _readings_context(record, now, in_progress=_in_progress(record.session, record))
    if request.GET.get("seen") == context["readings_version"]:
        return HttpResponse(status=204)
    opened = selectors.open_alerts(record)
    response = render(
        request,
        "chairside/_vitals.html",
        context
        | {
            "record": record,
            "patient": patient,
            "session": record.session,
            "alerting_readings": {a.reading_id: a.grade for a in opened if a.reading_id},
        },
    )
    # A new reading (a monitor's, most often) may satisfy a check the panel shows as due: the
    # "Checks due" panel listens for this and refreshes at once instead of at its next 15 s poll.
    return trigger_client_event(response, READINGS_CHANGED)


@requires(CHART, patient_kwarg="patient_id")
@require_POST
def verify(request: AuthenticatedHttpRequest, patient: Patient, session_id: int) -> HttpResponse:
    """One tap: the monitor readings the nurse was shown are verified."""
    record = _record(patient, session_id)
    ids = [int(i) for i in request.POST.get("readings", "").split(",") if i.strip().isdigit()]
    try:
        rows = services.verify_device_readings(by=request.user, record=record, reading_ids=ids)
    except InputError as exc:
        errors = [m for messages_ in exc.errors.values() for m in messages_]
        return _render(request, patient, record.session, record, {"verify": errors})  # type: ignore[dict-item]
    messages.success(
        request, f"{len(rows)} monitor reading{'s' if len(rows) != 1 else ''} verified."
    )
    return redirect(_console_url(record, "vitals"))


@requires(CHART, patient_kwarg="patient_id")
@require_GET
def schedule_fragment(
    request: AuthenticatedHttpRequest, patient: Patient, session_id: int
) -> HttpResponse:
    record = _record(patient, session_id)
    now = timezone.now()
    return render(
        request,
        "chairside/_schedule.html",
        {
            "record": record,
            "patient": patient,
            "session": record.session,
            "schedule": (plan := selectors.schedule(record, now)),
            "phase_label": PHASES[plan.phase.value],
            "now": now,
        },
    )


def _post(
    request: AuthenticatedHttpRequest,
    patient: Patient,
    session_id: int,
    key: str,
    form: Form,
    act: Any,
    anchor: str,
    done: str,
) -> HttpResponse:
    """Validate ``form``, run ``act(record, cleaned_data)``; on refusal render the console again."""
    record = _record(patient, session_id)
    acted = act_on_form(
        request,
        form,
        lambda data: act(record, data),
        done=lambda result: result if isinstance(result, str) else done,
        then=_console_url(record, anchor),
    )
    return acted or _render(request, patient, record.session, record, {key: form})


@requires(CHART, patient_kwarg="patient_id")
@require_POST
def checklist(request: AuthenticatedHttpRequest, patient: Patient, session_id: int) -> HttpResponse:
    def act(record: ChairsideRecord, d: dict[str, Any]) -> Any:
        return services.answer_checklist(
            by=request.user,
            record=record,
            identity_confirmed=d["identity_confirmed"],
            fasting_confirmed=d["fasting_confirmed"],
            escort_confirmed=d["escort_confirmed"],
            pregnancy_status=d["pregnancy_status"],
            weight_kg=d["weight_kg"],
            note=d["note"],
        )

    form = f.ChecklistForm(request.POST)
    return _post(
        request, patient, session_id, "checklist", form, act, "checklist", "Checklist saved."
    )


@requires(CHART, patient_kwarg="patient_id")
@require_POST
def vitals(request: AuthenticatedHttpRequest, patient: Patient, session_id: int) -> HttpResponse:
    form = f.VitalsForm(request.POST)

    def act(record: ChairsideRecord, d: dict[str, Any]) -> Any:
        _, alert = services.record_vitals(
            by=request.user,
            record=record,
            taken_at=d["taken_at"],
            systolic=form.number("systolic"),
            diastolic=form.number("diastolic"),
            heart_rate=form.number("heart_rate"),
            spo2=form.number("spo2"),
            respiratory_rate=form.number("respiratory_rate"),
            sedation=d["sedation"] or None,
        )
        return alert

    record = _record(patient, session_id)
    if form.is_valid():
        try:
            alert = act(record, form.cleaned_data)
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            if alert is None:
                messages.success(request, "Vitals saved.")
                return redirect(_console_url(record, "vitals"))
            # Not a green flash: the alert itself, in its grade's colour, is at the top.
            messages.warning(request, "Vitals saved. This reading raised an alert: see above.")
            return redirect(_console_url(record, "alerts"))
    return _render(request, patient, record.session, record, {"vitals": form})


@requires(Permission.DECIDE_TO_PROCEED, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def proceed(request: AuthenticatedHttpRequest, patient: Patient, session_id: int) -> HttpResponse:
    """The prescriber's page: the pre-dose reading, the core's reasons, the documented decision."""
    session = _session(patient, session_id)
    record = selectors.record_for_session(session.pk, patient.pk)
    form = f.ProceedForm(request.POST or None)
    if record is not None and (
        acted := act_on_form(
            request,
            form,
            lambda data: services.decide_to_proceed(
                by=request.user, record=record, rationale=data["rationale"]
            ),
            done="Decision to proceed documented.",
            then=_console_url(record, "checklist"),
        )
    ):
        return acted
    baseline = facts.baseline_reading(record) if record is not None else None
    check, decision = (
        facts.blood_pressure_check(record, baseline) if record is not None else (None, None)
    )
    return render(
        request,
        "chairside/proceed.html",
        {
            "patient": patient,
            "session": session,
            "record": record,
            "baseline": baseline,
            "check": check,
            "decision": decision,
            "form": form,
            "tab": "dosing",
        },
    )


@requires(Permission.DECIDE_TO_PROCEED, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def dose_change(
    request: AuthenticatedHttpRequest, patient: Patient, session_id: int
) -> HttpResponse:
    """The prescriber's page: a dose more than the policy fraction from the plan's, decided."""
    session = _session(patient, session_id)
    record = selectors.record_for_session(session.pk, patient.pk)
    form = f.DoseChangeForm(request.POST or None)
    if record is not None and (
        acted := act_on_form(
            request,
            form,
            lambda data: services.decide_dose_change(
                by=request.user, record=record, dose_mg=data["dose_mg"], rationale=data["rationale"]
            ),
            done="Dose change decision documented.",
            then=_console_url(record, "mar"),
        )
    ):
        return acted
    return render(
        request,
        "chairside/dose_change.html",
        {
            "patient": patient,
            "session": session,
            "record": record,
            "planned": facts.planned_dose(record) if record is not None else None,
            "decisions": selectors.dose_change_decisions(record) if record is not None else [],
            "fraction_percent": f"{limits.DOSE_CHANGE_FRACTION.value:.0%}",
            "form": form,
            "tab": "dosing",
        },
    )


@requires(CHART, patient_kwarg="patient_id")
@require_POST
def dose(request: AuthenticatedHttpRequest, patient: Patient, session_id: int) -> HttpResponse:
    record = _record(patient, session_id)
    me = request.user
    form = _dose_form(record, me, request.POST)

    def act(record: ChairsideRecord, d: dict[str, Any]) -> Any:
        given = services.give_dose(
            by=me,
            record=record,
            dose_mg=d.get("dose_mg"),
            devices=d.get("devices"),
            change_reason=d.get("change_reason", ""),
            started_at=d.get("started_at"),
            stopped_at=d.get("stopped_at"),
            concentration_mg_per_ml=d.get("concentration_mg_per_ml"),
            rate_ml_per_hour=d.get("rate_ml_per_hour"),
            ledger_entry=form.chosen_draw(),
            witnessed_by=form.chosen_witness(),
        )
        return f"Dose of {given.dose_mg} mg charted."

    return _post(request, patient, session_id, "dose", form, act, "mar", "Dose charted.")


@requires(CHART, patient_kwarg="patient_id")
@require_POST
def stop_dose(request: AuthenticatedHttpRequest, patient: Patient, session_id: int) -> HttpResponse:
    def act(record: ChairsideRecord, d: dict[str, Any]) -> Any:
        given = or_404(selectors.dose_of(record, d["dose"]), "No such dose on this record.")
        return services.stop_dose(by=request.user, dose=given, stopped_at=d["stopped_at"])

    form = f.StopDoseForm(request.POST)
    return _post(request, patient, session_id, "stop", form, act, "mar", "Infusion stopped.")


@requires(CHART, patient_kwarg="patient_id")
@require_POST
def dissociation(
    request: AuthenticatedHttpRequest, patient: Patient, session_id: int
) -> HttpResponse:
    def act(record: ChairsideRecord, d: dict[str, Any]) -> Any:
        return services.rate_dissociation(
            by=request.user,
            record=record,
            scale=d["scale"],
            score=f.typed_whole(d["score"]),
            taken_at=d["taken_at"],
        )

    form = f.DissociationForm(request.POST)
    return _post(
        request, patient, session_id, "dissociation", form, act, "dissociation", "Rating saved."
    )


@requires(CHART, patient_kwarg="patient_id")
@require_POST
def adverse_event(
    request: AuthenticatedHttpRequest, patient: Patient, session_id: int
) -> HttpResponse:
    def act(record: ChairsideRecord, d: dict[str, Any]) -> Any:
        _, alert = services.record_adverse_event(
            by=request.user,
            record=record,
            kind=d["kind"],
            severity=d["severity"],
            action=d["action"],
            onset_at=d["onset_at"],
            sedation=d["sedation"],
            description=d["description"],
        )
        return (
            f"Adverse event charted. Alert: {alert.get_grade_display()}."
            if alert
            else "Adverse event charted."
        )

    form = f.AdverseEventForm(request.POST)
    return _post(request, patient, session_id, "event", form, act, "events", "Charted.")


@requires(CHART, patient_kwarg="patient_id")
@require_POST
def acknowledge(
    request: AuthenticatedHttpRequest, patient: Patient, session_id: int
) -> HttpResponse:
    def act(record: ChairsideRecord, d: dict[str, Any]) -> Any:
        alert = or_404(selectors.alert_of(record, d["alert"]), "No such alert on this record.")
        return services.acknowledge_alert(
            by=request.user,
            alert=alert,
            action=d["action"],
            note=d["note"],
        )

    form = f.AcknowledgeForm(request.POST)
    return _post(request, patient, session_id, "ack", form, act, "alerts", "Alert acknowledged.")


@requires(CHART, patient_kwarg="patient_id")
@require_POST
def strike(request: AuthenticatedHttpRequest, patient: Patient, session_id: int) -> HttpResponse:
    def act(record: ChairsideRecord, d: dict[str, Any]) -> Any:
        reading = or_404(
            selectors.reading_of(record, d["reading"]), "No such reading on this record."
        )
        return services.strike_vital(by=request.user, reading=reading, reason=d["reason"])

    form = f.StrikeForm(request.POST)
    return _post(
        request, patient, session_id, "strike", form, act, "vitals", "Reading struck through."
    )


@requires(Permission.SIGN_DOSING_SESSION, patient_kwarg="patient_id")
@require_POST
def discharge(request: AuthenticatedHttpRequest, patient: Patient, session_id: int) -> HttpResponse:
    def act(record: ChairsideRecord, d: dict[str, Any]) -> Any:
        return services.discharge(
            by=request.user,
            record=record,
            checklist=DischargeChecklist(
                alert_and_oriented=d["alert_and_oriented"],
                dissociation_resolved=d["dissociation_resolved"],
                tolerating_fluids=d["tolerating_fluids"],
                escort_present=d["escort_present"],
                instructions_given=d["instructions_given"],
                on_supplemental_oxygen=d["on_supplemental_oxygen"],
            ),
            override_reason=d["override_reason"],
        )

    form = f.DischargeForm(request.POST)
    return _post(
        request, patient, session_id, "discharge", form, act, "discharge", "Patient discharged."
    )


@requires(Permission.SIGN_DOSING_SESSION, patient_kwarg="patient_id")
@require_POST
def sign(request: AuthenticatedHttpRequest, patient: Patient, session_id: int) -> HttpResponse:
    record = _record(patient, session_id)
    try:
        services.sign_record(by=request.user, record=record)
    except InputError as exc:
        errors = Form({})  # bound and valid, so the refusals can be added to it
        errors.is_valid()
        show_service_errors(exc, errors)
        return _render(request, patient, record.session, record, {"sign": errors})
    messages.success(request, "Record signed and locked.")
    return redirect(_console_url(record, "sign"))


@requires(CHART, patient_kwarg="patient_id")
@require_POST
def addendum(request: AuthenticatedHttpRequest, patient: Patient, session_id: int) -> HttpResponse:
    def act(record: ChairsideRecord, d: dict[str, Any]) -> Any:
        return services.add_addendum(
            by=request.user,
            record=record,
            reason=d["reason"],
            text=d["text"],
        )

    form = f.AddendumForm(request.POST)
    return _post(request, patient, session_id, "addendum", form, act, "sign", "Addendum added.")


@requires(CHART, patient_kwarg="patient_id")
@require_POST
def still_here(
    request: AuthenticatedHttpRequest, patient: Patient, session_id: int
) -> HttpResponse:
    """Sent (at most once a minute) while someone types or taps on the console: an action, so
    IdleTimeoutMiddleware renews the session and the console does not lock under their hands."""
    return HttpResponse(status=204)


def _unlock_answer(
    request: HttpRequest, status: int, error: str, *, signed_out: bool = False
) -> HttpResponse:
    return JsonResponse({"ok": False, "error": error, "signed_out": signed_out}, status=status)


@allows_locked
@requires(CHART, patient_kwarg="patient_id")
@require_POST
def unlock(request: AuthenticatedHttpRequest, patient: Patient, session_id: int) -> HttpResponse:
    """The locked console's own user types their password or authenticator code to resume.

    A wrong password is a failed sign-in (django-axes counts it, and at the limit the user is
    signed out); a wrong code counts toward django-otp's throttle. Both outcomes are audited.
    """
    me = request.user
    secret = (request.POST.get("secret") or "").strip()
    if not secret:
        return _unlock_answer(request, 400, "Type your password or your authenticator's code.")
    try:
        method = proven_by(request, me, secret)
    except LockedOut:
        audit(
            actor=me,
            action="auth.console_unlock_refused",
            patient=patient,
            obj=me,
            summary="Too many wrong entries: signed out",
        )
        logout(request)
        return _unlock_answer(
            request,
            403,
            "Too many wrong entries: you are signed out. Sign in again when the lockout ends.",
            signed_out=True,
        )
    if method is None:
        audit(
            actor=me,
            action="auth.console_unlock_refused",
            patient=patient,
            obj=me,
            summary=f"Wrong secret on the console of dosing session {session_id}",
        )
        return _unlock_answer(
            request, 403, f"That is not {me.display_name}'s password or current authenticator code."
        )
    request.session[LAST_ACTION] = request.session[RENEWED] = time.time()
    audit(
        actor=me,
        action="auth.console_unlocked",
        patient=patient,
        obj=me,
        summary=f"Console of dosing session {session_id} unlocked by {method}",
    )
    return JsonResponse({"ok": True})
