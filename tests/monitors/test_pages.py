"""The Monitors page and the device form, and the receive path without a socket (fast, in one
transaction each): unknown senders listed, waiting readings shown, code maps in words."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.monitors import services
from kapstone.monitors.models import InboundMessage, MonitorDevice, Placement, UnknownSender
from tests.monitors.support import GATEWAY_CODES, gateway_style, ge_style, room, sample_device


def test_the_administrator_registers_a_gateway_with_its_local_codes_in_words(clinic, as_role):
    client = as_role("administrator")
    chair = room(clinic.sites[0])
    response = client.post(
        reverse("monitors:page"),
        {
            "label": "Ward central station",
            "sending_application": "CENTRAL_GW",
            "sending_facility": "",
            "room": chair.pk,
            "local_codes": "170 = systolic\n171 = Diastolic blood pressure\n101 = heart rate\n"
            "160 = SpO2\n151 = RR",
        },
    )
    assert response.status_code == 302
    device = MonitorDevice.objects.get()
    assert device.local_codes == GATEWAY_CODES
    assert AuditEntry.objects.filter(action="monitors.device_registered").count() == 1
    page = client.get(reverse("monitors:device", kwargs={"device_id": device.pk})).content.decode()
    assert "170 = systolic blood pressure" in page
    # A line it cannot read is said, and nothing is saved.
    bad = client.post(
        reverse("monitors:page"),
        {"label": "Other", "sending_application": "X", "room": chair.pk, "local_codes": "170 bp"},
    )
    assert bad.status_code == 200 and "Line 1" in bad.content.decode()
    assert MonitorDevice.objects.count() == 1


def test_only_the_administrator_opens_the_monitors_page(clinic, as_role):
    assert as_role("nurse").get(reverse("monitors:page")).status_code == 403


def test_unknown_senders_and_waiting_readings_are_listed_for_the_administrator(clinic, as_role):
    device = sample_device()
    now = timezone.now() - dt.timedelta(seconds=5)
    stranger = services.receive(ge_style("STRANGER", "S-1", now), received_at=timezone.now())
    assert stranger.code == "AR"
    assert UnknownSender.objects.get().messages == 1
    waiting = services.receive(gateway_style("CENTRAL_GW", "W-1", now), received_at=timezone.now())
    assert (waiting.code, waiting.placement) == ("AA", Placement.WAITING)
    assert InboundMessage.objects.get(control_id="W-1").device == device
    page = as_role("administrator").get(reverse("monitors:page")).content.decode()
    assert "STRANGER" in page and "Register" in page
    assert "120/80 mmHg" in page


def test_a_resend_is_answered_from_the_first_and_stored_once(clinic):
    sample_device()
    now = timezone.now() - dt.timedelta(seconds=5)
    first = services.receive(gateway_style("CENTRAL_GW", "R-1", now), received_at=timezone.now())
    again = services.receive(gateway_style("CENTRAL_GW", "R-1", now), received_at=timezone.now())
    assert (first.code, first.duplicate, again.code, again.duplicate) == ("AA", False, "AA", True)
    assert InboundMessage.objects.filter(control_id="R-1").count() == 1
    ack = again.ack(timezone.now()).decode()
    assert "\rMSA|AA|R-1\r" in ack
