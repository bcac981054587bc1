"""Reading a block with python-hl7 into plain values, and writing the ACK (no database)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from kapstone.monitors import hl7v2
from kapstone.monitors.simulator import oru, vitals_at
from tests.monitors.support import gateway_style

NOW = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)


def test_a_simulated_pcd01_message_reads_into_its_header_and_observations():
    parsed = hl7v2.parse(
        oru(vitals_at(55, nibp_every=5, step=5), application="MON1^0012^EUI-64", facility="ICU",
            control_id="C-9", at=NOW)
    )  # fmt: skip
    h = parsed.header
    assert (h.sending_application, h.sending_facility, h.control_id) == (
        "MON1^0012^EUI-64",
        "ICU",
        "C-9",
    )
    assert (h.message_type, h.trigger_event, h.version) == ("ORU", "R01", "2.6")
    codes = [o.code for o in parsed.observations]
    assert codes[:2] == ["69965", "70659"] and "150456" in codes
    spo2 = next(o for o in parsed.observations if o.code == "150456")
    assert (spo2.value, spo2.unit, spo2.coding_system, spo2.observed_at) == (
        "89", "262688", "MDC", "20261206100000+0000"
    )  # fmt: skip


def test_segments_ended_by_newlines_are_read_too():
    parsed = hl7v2.parse(gateway_style("GW", "G-1", NOW).replace(b"\r", b"\r\n"))
    assert len(parsed.observations) == 5


def test_an_ack_carries_the_reason_escaped_and_warnings_as_err_segments():
    header = hl7v2.parse(gateway_style("GW", "G-1", NOW)).header
    ack = hl7v2.ack(header, "AE", now=NOW, reason="bad | value ^ here").decode().split("\r")
    assert ack[0].startswith("MSH|^~\\&|KAPSTONE||GW|WARD3|20261206100000+0000||ACK^R01^ACK|")
    assert ack[1] == "MSA|AE|G-1|bad \\F\\ value \\S\\ here"
    assert ack[2].startswith("ERR|||207|E|")
    accepted = hl7v2.ack(header, "AA", now=NOW, warnings=("unit left out",)).decode().split("\r")
    assert accepted[1] == "MSA|AA|G-1" and accepted[2] == "ERR|||0|W||||unit left out"
    nameless = hl7v2.ack(None, "AR", now=NOW, reason="not HL7").decode().split("\r")
    assert nameless[1] == "MSA|AR||not HL7"


@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: ("MSH|" + t).encode()))
def test_any_block_is_read_or_refused_as_unreadable_never_another_exception(block):
    try:
        parsed = hl7v2.parse(block)
    except hl7v2.Unreadable as exc:
        reason = exc.reason
        assert reason
    else:
        assert isinstance(parsed.observations, tuple)
