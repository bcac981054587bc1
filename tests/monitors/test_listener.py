"""The MLLP listener over real TCP, against the live test database, with a raw-socket client.

Transactional (the listener writes from its own threads), so the scenarios are grouped: each test
starts one listener on a free port and runs several cases through it.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from kapstone.accounts.models import Site
from kapstone.chairside.models import SessionAlert, VitalReading
from kapstone.chairside.services import give_dose
from kapstone.clinical.access import Role
from kapstone.dosing.models import DosingSession
from kapstone.monitors import services
from kapstone.monitors.listener import Listener
from kapstone.monitors.models import InboundMessage, Placement, UnknownSender
from kapstone.monitors.selectors import waiting_readings
from kapstone.monitors.simulator import replay
from tests.conftest import make_staff
from tests.monitors.support import GATEWAY_CODES, Client, gateway_style, ge_style, room
from tests.shell.chairside_support import ready_to_dose

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin():  # type: ignore[no-untyped-def]
    site = Site.objects.create(name="Riverside")
    return make_staff("admin", Role.ADMINISTRATOR, [site]), site


@pytest.fixture
def listener():  # type: ignore[no-untyped-def]
    # SQLite takes one writer at a time: one database thread there, a few on PostgreSQL.
    workers = 1 if connection.vendor == "sqlite" else 4
    running = Listener("127.0.0.1", 0, workers=workers)
    port = running.start_in_thread()
    yield port
    running.stop()


def _register(admin, site, label, app, codes=None, chair="IV chair 1"):  # type: ignore[no-untyped-def]
    return services.register_device(
        by=admin,
        label=label,
        sending_application=app,
        sending_facility="",
        room=room(site, chair),
        local_codes=codes or {},
    )


def test_a_reading_for_a_chair_with_no_open_session_waits_and_is_never_guessed(clinic, listener):
    user, site = clinic.staff["administrator"], clinic.sites[0]
    idle = _register(user, site, "Chair 1 monitor", "MON1", chair="IV chair 1")
    busy = _register(user, site, "Chair 2 monitor", "MON2", chair="IV chair 2")
    # The only session in progress in the building is in chair 2.
    record = ready_to_dose(clinic)
    DosingSession.objects.filter(pk=record.session_id).update(room=busy.room)
    give_dose(
        by=clinic.staff["nurse"],
        record=record,
        dose_mg=Decimal(35),
        started_at=record.session.starts_at + dt.timedelta(minutes=15),
    )
    client = Client(listener)
    time.sleep(1.1)  # HL7 times are to the second: the reading comes after the record opened
    now = timezone.now()

    ack = client.send(ge_style("MON1", "MSG-1", now))
    assert ack["MSA"][1:3] == ["AA", "MSG-1"]
    waiting = InboundMessage.objects.get(device=idle, control_id="MSG-1")
    assert waiting.placement == Placement.WAITING
    assert waiting.record_id is None  # not put on chair 2's patient, the only one in the building
    assert (waiting.systolic, waiting.diastolic, waiting.heart_rate, waiting.spo2) == (
        142,
        91,
        78,
        97,
    )
    assert waiting.observed_at == now.replace(microsecond=0)
    assert [m.control_id for m in waiting_readings()] == ["MSG-1"]
    assert not VitalReading.objects.filter(device_message_id="MSG-1").exists()

    # Chair 2's monitor: into the session in progress there, graded, its alert stored.
    placed = client.send(ge_style("MON2", "MSG-2", now, sys=182, dia=112))
    assert placed["MSA"][1:3] == ["AA", "MSG-2"]
    stored = InboundMessage.objects.get(device=busy, control_id="MSG-2")
    assert stored.placement == Placement.SESSION and stored.record_id == record.pk
    reading = VitalReading.objects.get(record=record, device_message_id="MSG-2")
    assert (reading.systolic, reading.diastolic, reading.device_label) == (
        182,
        112,
        "Chair 2 monitor",
    )
    assert stored.alert_id is not None
    assert SessionAlert.objects.get(pk=stored.alert_id).reading == reading
    # Resent: acknowledged again, charted once.
    assert client.send(ge_style("MON2", "MSG-2", now, sys=182, dia=112))["MSA"][1] == "AA"
    assert VitalReading.objects.filter(device_message_id="MSG-2").count() == 1
    # A message missing the cuff pressure: the session refuses a partial reading, said in AE.
    lines = ge_style("MON2", "MSG-3", now).split(b"\r")
    partial = b"\r".join(line for line in lines if b"150021^" not in line)
    refused = client.send(partial)
    assert refused["MSA"][1] == "AE" and "systolic" in refused["MSA"][3]
    client.close()


def test_each_vendor_style_is_acknowledged_a_resend_is_stored_once_and_strangers_are_listed(
    admin, listener
):
    user, site = admin
    _register(user, site, "GE-style monitor", "GE_B450")
    _register(user, site, "Central station", "CENTRAL_GW", GATEWAY_CODES, chair="IV chair 2")
    now = timezone.now() - dt.timedelta(seconds=5)
    client = Client(listener)

    first = client.send(ge_style("GE_B450", "A-1", now))
    assert first["MSA"][1] == "AA"
    assert first["MSH"][8].startswith("ACK")
    gateway = client.send(gateway_style("CENTRAL_GW^0012^EUI-64", "G-1", now))
    assert gateway["MSA"][1:3] == ["AA", "G-1"]
    g = InboundMessage.objects.get(control_id="G-1")
    assert (g.systolic, g.diastolic, g.heart_rate, g.spo2, g.respiratory_rate) == (
        120,
        80,
        64,
        99,
        12,
    )

    # The same control id again (the monitor missed our ACK): AA, and still one row.
    again = client.send(ge_style("GE_B450", "A-1", now))
    assert again["MSA"][1:3] == ["AA", "A-1"]
    assert InboundMessage.objects.filter(control_id="A-1").count() == 1

    # A sender nobody registered: rejected, with the reason, and listed for the administrator.
    for n in range(2):
        stranger = client.send(ge_style("PHILIPS_MX", f"P-{n}", now))
        assert stranger["MSA"][1:3] == ["AR", f"P-{n}"]
        assert "unknown sender" in stranger["MSA"][3]
        assert stranger["ERR"][3].startswith("204")
    listed = UnknownSender.objects.get(sending_application="PHILIPS_MX")
    assert (listed.messages, listed.last_control_id) == (2, "P-1")
    assert not InboundMessage.objects.filter(control_id__startswith="P-").exists()

    # A message with no vital sign it can read: AE, the reason in MSA-3 and ERR.
    bad = ge_style("GE_B450", "A-2", now).replace(b"266016^MDC_DIM_MMHG^MDC", b"999^FURLONG^MDC")
    bad = bad.replace(b"|78|", b"|x|").replace(b"|97|", b"|8388607|").replace(b"|14|", b"||")
    error = client.send(bad)
    assert error["MSA"][1] == "AE"
    assert "unit" in error["MSA"][3]
    assert any(s.startswith("ERR|") and "|E|" in s for s in error["_raw"])

    # Not an ORU^R01: rejected, named.
    adt = client.send(b"MSH|^~\\&|GE_B450||KAPSTONE||20261206||ADT^A01|Z-1|P|2.6\r")
    assert adt["MSA"][1:3] == ["AR", "Z-1"]
    client.close()

    # The simulator (both styles) speaks to it too, waiting for each ACK.
    for app, style in (("GE_B450", "mdc"), ("CENTRAL_GW", "local")):
        run = replay(
            host="127.0.0.1", port=listener, application=app, style=style, speed=0, minutes=30
        )
        assert run.sent == 7 and run.codes == {"AA": 7}


def test_garbage_and_a_frame_cut_off_never_stop_the_listener(admin, listener):
    user, site = admin
    _register(user, site, "Chair 1 monitor", "MON1")
    now = timezone.now() - dt.timedelta(seconds=5)

    noisy = Client(listener)
    noisy.send_raw(b"\x00\xffGET / HTTP/1.1\r\n\r\n")  # noise: no frame at all yet
    # A block with no MSH: answered AR, naming no message.
    junk = noisy.send(b"this is not HL7 at all \xc3\x28")
    assert junk["MSA"][1:3] == ["AR", ""]
    # Noise before a good frame does not cost the frame.
    ok = noisy.send(ge_style("MON1", "N-1", now))
    assert ok["MSA"][1:3] == ["AA", "N-1"]
    # A broken MSH (no separators at all): AR, still answered.
    broken = noisy.send(b"MSH")
    assert broken["MSA"][1] == "AR"

    # Half a message, then the connection drops: nothing stored, nothing breaks.
    cut = Client(listener)
    cut.send_raw(b"\x0b" + ge_style("MON1", "CUT-1", now)[:90])
    cut.close()

    # A half frame followed by a whole one on the same connection: the whole one is read.
    restart = Client(listener)
    restart.send_raw(b"\x0b" + ge_style("MON1", "HALF-1", now)[:70])
    resumed = restart.send(ge_style("MON1", "N-2", now))
    assert resumed["MSA"][1:3] == ["AA", "N-2"]

    # Others are still served.
    after = noisy.send(ge_style("MON1", "N-3", now))
    assert after["MSA"][1:3] == ["AA", "N-3"]
    assert not InboundMessage.objects.filter(control_id__in=["CUT-1", "HALF-1"]).exists()
    assert InboundMessage.objects.filter(control_id__startswith="N-").count() == 3
    noisy.close()
    restart.close()


def test_twenty_monitors_sending_at_once_are_all_acknowledged_and_stored(admin, listener):
    user, site = admin
    for n in range(20):
        _register(user, site, f"Monitor {n}", f"MON{n}", chair=f"Chair {n}")
    now = timezone.now() - dt.timedelta(seconds=5)
    codes: dict[str, list[str]] = {}
    go = threading.Barrier(20)

    def monitor(n: int) -> None:
        client = Client(listener)
        go.wait()
        codes[f"MON{n}"] = [
            client.send(ge_style(f"MON{n}", f"M{n}-{k}", now, hr=60 + k))["MSA"][1]
            for k in range(5)
        ]
        client.close()

    threads = [threading.Thread(target=monitor, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert codes == {f"MON{n}": ["AA"] * 5 for n in range(20)}
    assert InboundMessage.objects.count() == 100
