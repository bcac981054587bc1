"""Calendar feeds (ICS, RFC 5545) for a staff member and for a patient.

What each feed carries is deliberately little, because subscribed calendars are synced to phones
and third-party calendar services outside the clinic's control:

- staff feed: the kind of session, route, site and room, and the patient's initials only. No name,
  MRN or date of birth: initials tell two patients apart on a day, and the description links to the
  chart, which opens only after signing in.
- patient feed: their own sessions with the site's name, address and phone, and the therapist's
  name for integration; no dose, route or clinical detail.

Cancelled sessions stay in the feed as STATUS:CANCELLED, so subscribed calendars drop them.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse
from icalendar import Calendar, Event

from kapstone.accounts.models import StaffUser
from kapstone.clinical.routes import Route
from kapstone.dosing.models import DosingSession
from kapstone.integration.models import IntegrationSession
from kapstone.patients.models import Patient
from kapstone.timetable.selectors import initials, sessions_for_patient, sessions_for_staff

# How far back a feed reaches: enough for last week's sessions to stay visible.
LOOKBACK = dt.timedelta(days=30)


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", f"-//{settings.SITE_NAME}//Kapstone calendar//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add("method", "PUBLISH")
    return cal


def _ical(cal: Calendar) -> bytes:
    # icalendar leaves to_ical unannotated; it returns the calendar's bytes.
    body: bytes = cal.to_ical()
    return body


def _event(
    uid: str,
    summary: str,
    starts: dt.datetime,
    ends: dt.datetime,
    location: str,
    description: str,
    cancelled: bool,
    stamp: dt.datetime,
) -> Event:
    event = Event()
    event.add("uid", f"{uid}@kapstone")
    event.add("dtstamp", stamp)
    event.add("dtstart", starts)
    event.add("dtend", ends)
    event.add("summary", summary)
    event.add("location", location)
    if description:
        event.add("description", description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def _route(session: DosingSession) -> str:
    return f" ({Route(session.route).label})" if session.route else ""


def _place(session: DosingSession | IntegrationSession) -> str:
    room = f", {session.room.name}" if session.room_id is not None and session.room else ""
    return f"{session.site.name}{room}"


def staff_feed(user: StaffUser, now: dt.datetime) -> bytes:
    cal = _calendar(f"{settings.SITE_NAME}: {user.display_name}")
    dosing, integration = sessions_for_staff(user, now - LOOKBACK)
    base = settings.KAPSTONE_BASE_URL
    for d in dosing:
        role = "monitoring" if d.nurse_id == user.pk else "prescriber on site"
        chart = base + reverse("dosing:chart_tab", kwargs={"patient_id": d.patient_id})
        cal.add_component(
            _event(
                f"dosing-{d.pk}",
                f"Dosing{_route(d)} · {initials(d.patient)} · {role}",
                d.starts_at,
                d.ends_at,
                _place(d),
                f"Chart (sign-in needed): {chart}",
                d.is_cancelled,
                d.booked_at,
            )
        )
    for i in integration:
        chart = base + reverse("patients:chart", kwargs={"patient_id": i.patient_id})
        cal.add_component(
            _event(
                f"integration-{i.pk}",
                f"Integration · {initials(i.patient)}",
                i.starts_at,
                i.ends_at,
                _place(i),
                f"Chart (sign-in needed): {chart}",
                i.status == "cancelled",
                i.booked_at,
            )
        )
    return _ical(cal)


def patient_feed(patient: Patient, now: dt.datetime) -> bytes:
    cal = _calendar(f"{settings.SITE_NAME}: my sessions")
    dosing, integration = sessions_for_patient(patient, now - LOOKBACK)

    def where(session: DosingSession | IntegrationSession) -> str:
        site = session.site
        return ", ".join(part for part in (site.name, site.address) if part)

    def contact(session: DosingSession | IntegrationSession) -> str:
        phone = session.site.phone
        return f"Questions or changes: call {session.site.name} on {phone}." if phone else ""

    for d in dosing:
        cal.add_component(
            _event(
                f"dosing-{d.pk}",
                f"Dosing session at {d.site.name}",
                d.starts_at,
                d.ends_at,
                where(d),
                contact(d),
                d.is_cancelled,
                d.booked_at,
            )
        )
    for i in integration:
        with_whom = f" with {i.therapist.get_full_name()}" if i.therapist else ""
        cal.add_component(
            _event(
                f"integration-{i.pk}",
                f"Integration session{with_whom}",
                i.starts_at,
                i.ends_at,
                where(i),
                contact(i),
                i.status == "cancelled",
                i.booked_at,
            )
        )
    return _ical(cal)
