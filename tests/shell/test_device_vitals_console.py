"""Monitor readings at the chair: the nurse verifies them in one tap (signing waits for it), strikes
an artifact, the held ones do not count, the protocol's cadence counts them as checks taken, and
the console's polled list shows them marked as from the monitor, with the feed's state."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.accounts.models import Room
from kapstone.audit.models import AuditEntry
from kapstone.chairside import facts, services
from kapstone.chairside.models import MonitorFeedHeartbeat, VitalVerification
from kapstone.chairside.selectors import readings_panel, schedule
from kapstone.clinical.discharge import DischargeChecklist
from kapstone.errors import InputError
from tests.shell.chairside_support import at, ready_to_dose, reconcile
from tests.shell.test_device_vitals import monitor

ALL_CONFIRMED = DischargeChecklist(True, True, True, True, True)


def test_one_tap_verifies_the_readings_shown_and_signing_waits_for_it(clinic):
    record = ready_to_dose(clinic)
    nurse = clinic.staff["nurse"]
    session = record.session
    services.give_dose(
        by=nurse,
        record=record,
        dose_mg=Decimal(35),
        started_at=at(session, 10),
        stopped_at=at(session, 50),
    )
    first, _ = monitor(record, at(session, 20), "a")
    second, _ = monitor(record, at(session, 30), "b")
    wrong, alert = monitor(record, at(session, 40), "c", hr=135)
    assert alert is not None
    # An artifact is struck through like a typed reading; a struck one needs no verifying.
    services.strike_vital(by=nurse, reading=wrong, reason="Patient moving; HR 76 on palpation")
    services.acknowledge_alert(by=nurse, alert=alert, action="rechecked", note="Probe reseated")
    assert [r.pk for r in services.unverified_device_readings(record)] == [first.pk, second.pk]
    services.discharge(
        by=nurse,
        record=record,
        checklist=ALL_CONFIRMED,
        override_reason="Observation ends in minutes; partner present",
    )
    reconcile(record)
    with pytest.raises(InputError) as refused:
        services.sign_record(by=nurse, record=record)
    assert refused.value.errors[""] == [
        "2 monitor reading(s) still need verifying: check them and tap Verify (strike through "
        "any that are wrong)."
    ]
    # Only what the nurse was shown is verified: here the first reading alone.
    rows = services.verify_device_readings(by=nurse, record=record, reading_ids=[first.pk])
    assert [v.reading_id for v in rows] == [first.pk]
    rows = services.verify_device_readings(
        by=nurse, record=record, reading_ids=[first.pk, second.pk]
    )
    assert [v.reading_id for v in rows] == [second.pk]
    with pytest.raises(InputError, match="waiting for verification"):
        services.verify_device_readings(by=nurse, record=record, reading_ids=[first.pk, wrong.pk])
    entry = AuditEntry.objects.filter(action="chairside.device_vitals_verified").latest("seq")
    assert entry.actor == nurse and entry.after["readings"] == [second.pk]
    services.sign_record(by=nurse, record=record)
    assert VitalVerification.objects.filter(reading__record=record).count() == 2


def test_a_held_jump_does_not_count_until_the_next_reading_confirms_it(clinic):
    record = ready_to_dose(clinic)
    nurse = clinic.staff["nurse"]
    session = record.session
    services.give_dose(by=nurse, record=record, dose_mg=Decimal(35), started_at=at(session, 15))
    monitor(record, at(session, 20), "1", hr=72, spo2=98)
    held, none = monitor(record, at(session, 21), "2", hr=72, spo2=82)  # a loose probe, or not
    assert held.device_verdict == "held" and none is None
    assert "Awaiting confirmation" in held.device_note and "spo2 98 to 82" in held.device_note
    assert held not in facts.live_vitals(record)
    back, none = monitor(record, at(session, 22), "3", hr=72, spo2=97)
    assert back.device_verdict == "accepted" and none is None
    again, _ = monitor(record, at(session, 23), "4", hr=72, spo2=83)
    confirmed, alert = monitor(record, at(session, 24), "5", hr=74, spo2=84)
    assert again.device_verdict == "held" and confirmed.device_verdict == "confirmed"
    assert alert is not None and alert.grade == "emergency"  # SpO2 below 85: graded once confirmed
    panel = readings_panel(record, timezone.now())
    assert panel.unconfirmed == {held.pk} and panel.confirmed == {again.pk}


def test_the_cadence_counts_monitor_readings_as_checks_taken(clinic):
    record = ready_to_dose(clinic)
    nurse = clinic.staff["nurse"]
    session = record.session
    services.give_dose(by=nurse, record=record, dose_mg=Decimal(35), started_at=at(session, 15))
    monitor(record, at(session, 25), "x")
    plan = schedule(record, at(session, 40))
    routine = next(c for c in plan.outstanding if c.check_id == "vitals.routine")
    # IV: every 10 minutes during the infusion, counted from the monitor's reading at 25 min.
    assert routine.due_at == at(session, 35)


def test_the_polled_list_shows_monitor_readings_and_the_feed(clinic, as_role):
    record = ready_to_dose(clinic)
    session = record.session
    room = Room.objects.create(site=session.site, name="Chair 7", routes=["iv"])
    type(session).objects.filter(pk=session.pk).update(room=room)
    record.session.refresh_from_db()
    client = as_role("nurse")
    url = reverse("chairside:readings", args=[session.patient_id, session.pk])
    first = client.get(url)
    page = first.content.decode()
    assert "no monitor at this chair" in page and "Verify" not in page
    seen = readings_panel(record, timezone.now()).version
    assert client.get(url, {"seen": seen}).status_code == 204
    services.note_feed_heartbeat(room=room, device_label="MON-7", at=timezone.now())
    reading, _ = monitor(record, at(session, 20), "z")
    page = client.get(url, {"seen": seen}).content.decode()
    assert "Monitor feed:</strong>\n    live (MON-7)" in page
    assert f'data-reading="{reading.pk}" data-source="device"' in page
    assert "Verify 1 monitor reading" in page and "unverified" in page
    verify = reverse("chairside:verify", args=[session.patient_id, session.pk])
    assert client.post(verify, {"readings": str(reading.pk)}).status_code == 302
    page = client.get(reverse("chairside:console", args=[session.patient_id, session.pk]))
    assert "verified by" in page.content.decode()
    # The monitor falls quiet: the console says since when, and typing stays offered.
    quiet = timezone.now() - dt.timedelta(minutes=3)
    MonitorFeedHeartbeat.objects.filter(room=room).update(last_message_at=quiet)
    page = client.get(url).content.decode()
    assert f"silent since {timezone.localtime(quiet):%H:%M} (MON-7)" in page
    assert "take and type readings by hand" in page
