"""Readings from the bedside monitor on the chair-side tablet: the listener's call (made here
directly, in the test's thread) shows on the open console within 3 seconds without a reload,
marked as from the monitor, with the alert it raised; the nurse acknowledges the alert and verifies
the monitor readings in one tap; typed entry still works beside the feed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kapstone.accounts.models import Room, Site
from kapstone.chairside import services
from kapstone.chairside.models import VitalReading, VitalVerification
from kapstone.clinical.access import Role
from kapstone.ledger.services import draw_for_session
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
    record = services.open_record(by=nurse, session=session)
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

    base = live_server.url
    sign_in(page, base, "nokafor", nurse_secret)
    page.goto(f"{base}/patients/{patient.pk}/dosing/{session.pk}/console/")
    feed = page.locator("[data-feed]")
    expect(feed).to_contain_text("no monitor at this chair")
    page.evaluate("window.__notReloaded = true")

    # The listener's calls: the monitor at this chair speaks, then sends a calm reading.
    services.note_feed_heartbeat(room=room, device_label="MON-2", at=timezone.now())
    calm, _ = services.record_device_reading(
        record=record,
        device_label="MON-2",
        message_id="msg-1",
        observed_at=at(session, 20),
        systolic=130,
        diastolic=80,
        heart_rate=76,
        spo2=97,
        respiratory_rate=15,
    )
    row = page.locator(f'tr[data-reading="{calm.pk}"]')
    expect(row).to_be_visible(timeout=SHOWN_WITHIN_MS)
    expect(row).to_have_attribute("data-source", "device")
    expect(row).to_contain_text("monitor")
    expect(row).to_contain_text("unverified")
    expect(feed).to_contain_text("live (MON-2)", timeout=SHOWN_WITHIN_MS)

    # A reading that raises an alert: the reading and the alert both arrive by polling.
    high, alert = services.record_device_reading(
        record=record,
        device_label="MON-2",
        message_id="msg-2",
        observed_at=at(session, 30),
        systolic=168,
        diastolic=86,
        heart_rate=80,
        spo2=97,
        respiratory_rate=15,
    )
    assert alert is not None
    shown = page.get_by_role("alert").filter(has_text="Pause or slow the infusion")
    expect(shown).to_contain_text("Monitor MON-2 reading of", timeout=SHOWN_WITHIN_MS)
    expect(shown).to_be_visible(timeout=SHOWN_WITHIN_MS)
    expect(page.locator(f'tr[data-reading="{high.pk}"]')).to_be_visible(timeout=SHOWN_WITHIN_MS)
    expect(page.locator(f'tr[data-reading="{high.pk}"]')).to_have_class(
        "alerting from-monitor unverified"
    )
    assert page.evaluate("window.__notReloaded") is True
    assert_accessible(page)

    # The nurse acknowledges the alert, then verifies both monitor readings in one tap.
    shown.get_by_label("Action taken").select_option(label="Slowed the infusion")
    shown.get_by_role("button", name="Acknowledge").click()
    page.get_by_text("Alert acknowledged.").wait_for()
    page.get_by_role("button", name="Verify 2 monitor readings").click()
    page.get_by_text("2 monitor readings verified.").wait_for()
    assert set(VitalVerification.objects.values_list("reading_id", flat=True)) == {
        calm.pk,
        high.pk,
    }
    expect(page.locator(f'tr[data-reading="{calm.pk}"]')).to_contain_text("verified by Ngozi")

    # Typed entry still works beside the feed, and says who typed it.
    reading(page, session, 40, 140, 84)
    typed = VitalReading.objects.get(
        source="typed", taken_at=at(session, 40).replace(second=0, microsecond=0)
    )
    expect(page.locator(f'tr[data-reading="{typed.pk}"]')).to_contain_text("Ngozi Okafor")
