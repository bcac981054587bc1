"""Readings from the bedside monitor on the chair-side tablet: the simulator replays a session over
MLLP to the listener, and the readings show on the open console without a reload, marked as from the
monitor; the alert the blood pressure's rise raises is on the tablet within 3 seconds of being
stored; the nurse acknowledges it and verifies the monitor readings in one tap; typed entry still
works beside the feed."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from playwright.sync_api import expect

from kapstone.accounts.models import Room, Site
from kapstone.chairside import services
from kapstone.chairside.models import SessionAlert, VitalReading, VitalVerification
from kapstone.clinical.access import Role
from kapstone.ledger.services import draw_for_session
from kapstone.monitors.listener import Listener
from kapstone.monitors.services import register_device
from kapstone.monitors.simulator import replay
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible
from tests.functional.test_chairside_session import reading
from tests.functional.test_intake_to_plan import sign_in
from tests.functional.test_suicide_risk_alert import staff_member
from tests.shell.chairside_support import past_session, signed_plan_for
from tests.shell.ledger_support import receive_vials

pytestmark = pytest.mark.functional
SHOWN_WITHIN_MS = 3_000


def at(session, minutes: int) -> dt.datetime:  # type: ignore[no-untyped-def]
    return session.starts_at + dt.timedelta(minutes=minutes)


def test_a_monitor_reading_and_its_alert_reach_the_open_console(live_server, page):
    site = Site.objects.create(name="Riverside Clinic")
    nurse, nurse_secret = staff_member("nokafor", Role.NURSE, site, "Ngozi", "Okafor")
    prescriber, _ = staff_member("drreyes", Role.PRESCRIBER, site, "Daniel", "Reyes")
    therapist, _ = staff_member("emarkovic", Role.THERAPIST, site, "Elena", "Markovic")
    patient = make_patient(
        by=prescriber,
        mrn="KAP-7302",
        site=site,
        given_name="Noor",
        family_name="Haddad",
        prescriber=prescriber,
        therapist=therapist,
        nurse=nurse,
    )
    clinic = SimpleNamespace(
        on_team=patient, staff={"prescriber": prescriber, "therapist": therapist}
    )
    session = past_session(clinic, began_minutes_ago=60, plan=signed_plan_for(clinic))
    room = Room.objects.create(site=site, name="Chair 2", routes=["iv"])
    type(session).objects.filter(pk=session.pk).update(room=room)
    session.refresh_from_db()
    # Opened as the session began, an hour ago. HL7 times are to the second: a record opened now
    # could be opened later in the same second as the monitor's first reading (stamped 03:00:44 for
    # 03:00:44.7), which would then wait for a session instead of reaching this one.
    record = services.open_record(by=nurse, session=session, now=at(session, 0))
    services.answer_checklist(
        by=nurse,
        record=record,
        identity_confirmed=True,
        fasting_confirmed=True,
        escort_confirmed=True,
        pregnancy_status="not_pregnant",
        weight_kg=Decimal("70.0"),
    )
    services.record_vitals(
        by=nurse,
        record=record,
        taken_at=at(session, 5),
        systolic=122,
        diastolic=78,
        heart_rate=72,
        spo2=98,
        respiratory_rate=14,
        sedation="alert",
    )
    stocked = receive_vials(by=nurse, witness=prescriber, site=site)
    draw_for_session(
        by=nurse, session=session, location=stocked.location, lot=stocked.lot, quantity=35_000
    )
    services.give_dose(
        by=nurse,
        record=record,
        dose_mg=Decimal(35),
        started_at=at(session, 10),
        witnessed_by=prescriber,
    )

    # The chair's monitor, registered by the administrator, and the listener it sends to.
    admin, _ = staff_member("cduval", Role.ADMINISTRATOR, site, "Chris", "Duval")
    register_device(
        by=admin,
        label="MON-2",
        sending_application="MON_2",
        sending_facility="",
        room=room,
        local_codes={},
    )
    listener = Listener("127.0.0.1", 0, workers=1 if connection.vendor == "sqlite" else 2)
    port = listener.start_in_thread()

    base = live_server.url
    sign_in(page, base, "nokafor", nurse_secret)
    page.goto(f"{base}/patients/{patient.pk}/dosing/{session.pk}/console/")
    feed = page.locator("[data-feed]")
    expect(feed).to_contain_text("no monitor at this chair")
    expect(page.locator("#schedule")).to_contain_text("Overdue: Vital signs")
    page.evaluate("window.__notReloaded = true")

    # The simulator replays the session over MLLP, a message a second: baseline, then the blood
    # pressure rising after the dose. The first alert it raises is on the tablet within 3 s.
    replaying = threading.Thread(
        target=replay,
        kwargs={"host": "127.0.0.1", "port": port, "application": "MON_2", "speed": 300,
                "minutes": 45, "prefix": "MON2"},
    )  # fmt: skip
    try:
        replaying.start()
        first = page.locator('tr[data-source="device"]').first
        expect(first).to_be_visible(timeout=SHOWN_WITHIN_MS + 2_000)
        expect(first).to_contain_text("monitor")
        expect(first).to_contain_text("unverified")
        expect(feed).to_contain_text("live (MON-2)", timeout=SHOWN_WITHIN_MS)
        # The infusion's 10-minute check was overdue; the monitor's readings count as taken, and the
        # "Checks due" panel says so as soon as they arrive, not at its next 15 s refresh.
        checks = page.locator("#schedule")
        expect(checks).not_to_contain_text("Overdue: Vital signs", timeout=SHOWN_WITHIN_MS)
        raised = _first_device_alert(record, within_s=60)
        shown = page.get_by_role("alert").filter(has_text="Monitor MON-2 reading of").first
        expect(shown).to_be_visible(timeout=SHOWN_WITHIN_MS)
        expect(page.locator(f'tr[data-reading="{raised.reading_id}"]')).to_contain_text("monitor")
        assert page.evaluate("window.__notReloaded") is True
        assert_accessible(page)
    finally:
        replaying.join(timeout=60)
        listener.stop()
    assert not replaying.is_alive()

    # The nurse acknowledges the alert, then verifies the monitor readings in one tap. While she
    # chooses the action, another alert arrives (a reading charted on the other tablet): the list
    # is swapped to show it, and her choice stays.
    action = shown.get_by_label("Action taken")
    action.select_option(label="Slowed the infusion")
    manual, _ = services.record_vitals(
        by=nurse,
        record=record,
        taken_at=at(session, 46),
        systolic=192,
        diastolic=112,
        heart_rate=96,
        spo2=97,
        respiratory_rate=16,
        sedation="alert",
    )
    expect(page.locator(f'[data-alert-reading="{manual.pk}"]')).to_be_visible(
        timeout=SHOWN_WITHIN_MS
    )
    expect(action).to_have_value("infusion_slowed")
    shown.get_by_role("button", name="Acknowledge").click()
    page.get_by_text("Alert acknowledged.").wait_for()
    from_monitor = set(
        VitalReading.objects.filter(record=record, source="device").values_list("pk", flat=True)
    )
    assert len(from_monitor) == 10  # minutes 0, 5, ... 45 of the scenario
    verify = page.get_by_role("button", name=f"Verify {len(from_monitor)} monitor readings")
    verify.click()
    page.get_by_text(f"{len(from_monitor)} monitor readings verified.").wait_for()
    assert set(VitalVerification.objects.values_list("reading_id", flat=True)) == from_monitor
    expect(page.locator(f'tr[data-reading="{raised.reading_id}"]')).to_contain_text(
        "verified by Ngozi"
    )

    # Typed entry still works beside the feed, and says who typed it.
    reading(page, session, 40, 140, 84)
    typed = VitalReading.objects.get(
        source="typed", taken_at=at(session, 40).replace(second=0, microsecond=0)
    )
    expect(page.locator(f'tr[data-reading="{typed.pk}"]')).to_contain_text("Ngozi Okafor")


def _first_device_alert(record, within_s: float) -> SessionAlert:  # type: ignore[no-untyped-def]
    """The first alert the feed's readings raised, once the listener has stored it."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        found = (
            SessionAlert.objects.filter(record=record, reading__source="device")
            .order_by("pk")
            .first()
        )
        if found is not None:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no alert from the monitor's readings within {within_s} s")
