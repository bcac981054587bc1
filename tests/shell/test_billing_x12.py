"""The 837P writer (kapstone.billing.x12) checked by an independent validator, pyx12, against the
005010X222A1 map: a complete claim is accepted; a required element left out is refused, by the
library as the claim is built or by the validator reading the file."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from kapstone.billing.x12 import ClaimFile, Envelope, Party, ServiceLine, write_837p
from tests.shell.billing_x12_support import pyx12_verdict

CLAIM = ClaimFile(
    submitter=Party("Riverside Ketamine Clinic", "RKC001"),
    submitter_contact="Billing office",
    submitter_phone="(555) 010-2000",
    receiver=Party("Acme Health", "ACME01"),
    billing_provider=Party(
        "Riverside Ketamine Clinic",
        "1234567893",
        address_line="1 River Road",
        city="Albany",
        state="NY",
        postal_code="12207",
    ),
    billing_tax_id="123456789",
    subscriber=Party(
        "Lovelace",
        "W123456789",
        first_name="Ada",
        address_line="12 Elm Street",
        city="Albany",
        state="NY",
        postal_code="12208-1234",
    ),
    subscriber_birth_date=dt.date(1985, 12, 10),
    subscriber_sex="F",
    group_number="GRP1",
    payer=Party("Acme Health", "60054"),
    patient_control_number="KAP000012",
    place_of_service="11",
    diagnoses=("F33.2", "F41.1"),
    lines=(
        ServiceLine("96365", (), 40000, 1, (1, 2), dt.date(2026, 11, 20)),
        ServiceLine("96366", (), 15000, 2, (1,), dt.date(2026, 11, 20)),
        ServiceLine("90837", ("25",), 25000, 1, (1, 2), dt.date(2026, 11, 20)),
    ),
    rendering=Party("Reyes", "1245319599", first_name="Daniel"),
)
ENVELOPE = Envelope("RKC001", "ACME01", 12, dt.datetime(2026, 11, 21, 10, 30))


def test_a_complete_claim_is_accepted_by_the_independent_validator():
    text = write_837p(CLAIM, ENVELOPE)
    accepted, ack = pyx12_verdict(text)
    assert accepted, ack
    assert "ST*837*0012*005010X222A1~" in text
    assert "GS*HC*RKC001*ACME01*20261121*1030*12*X*005010X222A1~" in text
    assert "CLM*KAP000012*800.00***11:B:1*Y*A*Y*Y~" in text
    assert "HI*ABK:F332*ABF:F411~" in text
    assert "SV1*HC:96366*150.00*UN*2.00***1~" in text
    assert "SV1*HC:90837:25*250.00*UN*1.00***1:2~" in text
    assert "N4*ALBANY*NY*122081234~" in text
    assert "NM1*82*1*REYES*DANIEL****XX*1245319599~" in text


@pytest.mark.parametrize(
    "segment",
    ["N4*ALBANY*NY*12208", "DMG*D8*19851210*F~", "NM1*PR*2*ACME HEALTH*****PI*60054~", "HI*ABK"],
)
def test_a_file_missing_a_required_segment_is_refused(segment):
    text = write_837p(CLAIM, ENVELOPE)
    kept = "\n".join(line for line in text.splitlines() if not line.startswith(segment))
    assert kept != text.rstrip("\n")
    accepted, _ = pyx12_verdict(kept + "\n")
    assert not accepted, f"pyx12 accepted a claim without {segment}"


def test_a_required_element_left_empty_is_refused_as_the_claim_is_built():
    no_member_id = dataclasses.replace(
        CLAIM, subscriber=dataclasses.replace(CLAIM.subscriber, identifier="")
    )
    with pytest.raises(ValueError, match="Identification code usage requires"):
        write_837p(no_member_id, ENVELOPE)
    no_lines = dataclasses.replace(CLAIM, lines=())
    with pytest.raises(ValueError, match="loop_2400"):
        write_837p(no_lines, ENVELOPE)


def test_the_validator_itself_refuses_a_broken_element():
    text = write_837p(CLAIM, ENVELOPE).replace("DMG*D8*19851210*F~", "DMG*D8*19851310*F~")
    accepted, _ = pyx12_verdict(text)
    assert not accepted
