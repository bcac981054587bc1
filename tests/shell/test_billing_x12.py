"""The 837P writer (kapstone.billing.x12) checked by an independent validator, pyx12, against the
005010X222A1 map: a complete claim is accepted; a required element left out is refused, by the
library as the claim is built or by the validator reading the file."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from kapstone.billing.x12 import Envelope, Submission, write_837p
from kapstone.clinical.billing.charges import PlaceOfService
from kapstone.clinical.billing.claim import (
    Address,
    Claim,
    ClaimPayer,
    Person,
    Provider,
    Relationship,
    ServiceLine,
    Sex,
    Subscriber,
    claim_problems,
)
from tests.shell.billing_x12_support import pyx12_verdict

ADA = Person(
    last_name="Lovelace",
    first_name="Ada",
    birth_date=dt.date(1985, 12, 10),
    sex=Sex.FEMALE,
    address=Address("12 Elm Street", "Albany", "NY", "12208-1234"),
)
DAY = dt.date(2026, 11, 20)
OFFICE = PlaceOfService.OFFICE
CLAIM = Claim(
    claim_id="KAP000012",
    billing_provider=Provider(
        name="Riverside Ketamine Clinic",
        npi="1234567893",
        address=Address("1 River Road", "Albany", "NY", "12207"),
        tax_id="123456789",
    ),
    rendering_provider=Provider(
        name="Reyes", first_name="Daniel", npi="1245319599", is_person=True
    ),
    patient=ADA,
    subscriber=Subscriber(person=ADA, member_id="W123456789", group_number="GRP1"),
    payer=ClaimPayer(name="Acme Health", payer_id="60054"),
    diagnoses=("F33.2", "F41.1"),
    lines=(
        ServiceLine(DAY, OFFICE, "96365", 1, 40000, ("A", "B")),
        ServiceLine(DAY, OFFICE, "96366", 2, 15000, ("A",)),
        ServiceLine(DAY, OFFICE, "90837", 1, 25000, ("A", "B"), modifiers=("25",)),
    ),
)
SUBMISSION = Submission(
    submitter_name="Riverside Ketamine Clinic",
    submitter_id="RKC001",
    contact_name="Billing office",
    contact_phone="(555) 010-2000",
    receiver_name="Acme Health",
    receiver_id="ACME01",
)
ENVELOPE = Envelope("RKC001", "ACME01", 12, dt.datetime(2026, 11, 21, 10, 30))


def write(claim: Claim = CLAIM) -> str:
    return write_837p(claim, submission=SUBMISSION, envelope=ENVELOPE)


def test_the_sample_claim_passes_the_cores_checks():
    assert claim_problems(CLAIM) == ()


def test_a_complete_claim_is_accepted_by_the_independent_validator():
    text = write()
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
    text = write()
    kept = "\n".join(line for line in text.splitlines() if not line.startswith(segment))
    assert kept != text.rstrip("\n")
    accepted, _ = pyx12_verdict(kept + "\n")
    assert not accepted, f"pyx12 accepted a claim without {segment}"


def test_a_required_element_left_empty_is_refused_as_the_claim_is_built():
    no_member_id = dataclasses.replace(
        CLAIM, subscriber=dataclasses.replace(CLAIM.subscriber, member_id="")
    )
    with pytest.raises(ValueError, match="Identification code usage requires"):
        write(no_member_id)
    with pytest.raises(ValueError, match="loop_2400"):
        write(dataclasses.replace(CLAIM, lines=()))
    dependant = dataclasses.replace(
        CLAIM, subscriber=dataclasses.replace(CLAIM.subscriber, relationship=Relationship.CHILD)
    )
    with pytest.raises(ValueError, match="patient is the subscriber"):
        write(dependant)


def test_the_validator_itself_refuses_a_broken_element():
    text = write().replace("DMG*D8*19851210*F~", "DMG*D8*19851310*F~")
    accepted, _ = pyx12_verdict(text)
    assert not accepted
