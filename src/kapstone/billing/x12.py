"""The X12 837P (professional claim, 005010X222A1) for one claim, built through linuxforhealth-x12.

It writes the core's claim (:class:`kapstone.clinical.billing.claim.Claim`, checked by the core's
``claim_problems`` before it is made) as the professional claim's loops: the submitter and receiver
(1000A/B), the billing provider (2010AA), the subscriber who is the patient (2000B, 2010BA), the
payer (2010BB), the claim (2300) with its diagnoses, the rendering clinician (2310B) and its lines
(2400).

Every segment is a linuxforhealth model, validated by it as it is built (lengths, code lists, the
claim total against its lines, the transaction's segment count); ``.x12()`` writes them. Nothing here
joins element strings by hand.

Two facts about the library, on purpose here:

* It models the 005010X222A2 errata, whose ST segment also accepts ``005010X222A1``. HIPAA's adopted
  version, what payers and clearing houses expect and what the independent validator in the tests
  (pyx12) has a map for, is 005010X222A1, so ST03 and GS08 say that.
* linuxforhealth-x12 0.57 is written against pydantic 1; Kapstone's lock has pydantic 2, which still
  ships the version-1 API as ``pydantic.v1``. Its modules are therefore imported with ``pydantic``
  pointing at ``pydantic.v1`` (``_library``), and every module this file uses is imported there, once.
"""

from __future__ import annotations

import datetime as dt
import importlib
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import ModuleType
from typing import Any

from kapstone.clinical.billing.charges import POINTER_LETTERS
from kapstone.clinical.billing.claim import Address, Claim, Relationship, ServiceLine

VERSION = "005010X222A1"
_MODULES = (
    "linuxforhealth.x12.models",
    "linuxforhealth.x12.v5010.segments",
    "linuxforhealth.x12.v5010.x12_837_005010X222A2.transaction_set",
)
_lock = threading.Lock()
_loaded: dict[str, ModuleType] = {}


def _library() -> dict[str, ModuleType]:
    """linuxforhealth-x12's modules, imported once with ``pydantic`` meaning ``pydantic.v1``."""
    with _lock:
        if _loaded:
            return _loaded
        import pydantic
        import pydantic.v1

        sys.modules["pydantic"] = pydantic.v1
        try:
            for name in _MODULES:
                _loaded[name] = importlib.import_module(name)
        finally:
            sys.modules["pydantic"] = pydantic
        return _loaded


def preload() -> None:
    """Imports the library now (a web worker calls this at start-up, before it serves threads), so
    the moment ``pydantic`` points at ``pydantic.v1`` never overlaps a request."""
    _library()


@dataclass(frozen=True)
class Submission:
    """Who sends the file and who receives it (loops 1000A and 1000B)."""

    submitter_name: str
    submitter_id: str  # the submitter's ETIN at the receiver
    contact_name: str
    contact_phone: str
    receiver_name: str
    receiver_id: str


@dataclass(frozen=True)
class Envelope:
    sender_id: str
    receiver_id: str
    control_number: int  # the interchange's (ISA13/IEA02), also the group's and transaction's
    created_at: dt.datetime
    production: bool = False  # ISA15: T (test) until the clinic sends for real


def _money(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def _date(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def _upper(text: str) -> str:
    return " ".join(text.upper().split())


def _nm1(
    code: str,
    name: str,
    *,
    first_name: str = "",
    person: bool,
    qualifier: str = "",
    identifier: str = "",
) -> dict[str, Any]:
    segment: dict[str, Any] = {
        "segment_name": "NM1",
        "entity_identifier_code": code,
        "entity_type_qualifier": "1" if person else "2",
        "name_last_or_organization_name": _upper(name),
    }
    if person and first_name:
        segment["name_first"] = _upper(first_name)
    if qualifier:
        segment["identification_code_qualifier"] = qualifier
        segment["identification_code"] = identifier
    return segment


def _address(address: Address | None) -> dict[str, Any]:
    if address is None:
        return {}
    street: dict[str, Any] = {"segment_name": "N3", "address_information_1": _upper(address.line1)}
    if address.line2:
        street["address_information_2"] = _upper(address.line2)
    return {
        "n3_segment": street,
        "n4_segment": {
            "segment_name": "N4",
            "city_name": _upper(address.city),
            "state_province_code": address.state.upper(),
            "postal_code": address.postal_code.replace("-", ""),
        },
    }


def _pointer_numbers(letters: tuple[str, ...]) -> str:
    return ":".join(str(POINTER_LETTERS.index(letter) + 1) for letter in letters)


def _service_line(number: int, line: ServiceLine) -> dict[str, Any]:
    procedure = ":".join(("HC", line.code, *line.modifiers))
    return {
        "lx_segment": {"segment_name": "LX", "assigned_number": number},
        "sv1_segment": {
            "segment_name": "SV1",
            "product_service_id_qualifier": procedure,
            "line_item_charge_amount": _money(line.charge_cents),
            "unit_basis_measurement_code": "UN",
            "service_unit_count": Decimal(line.units),
            "composite_diagnosis_code_pointer": _pointer_numbers(line.diagnosis_pointers),
        },
        "dtp_segment": [
            {
                "segment_name": "DTP",
                "date_time_qualifier": "472",
                "date_time_period_format_qualifier": "D8",
                "date_time_period": _date(line.service_date),
            }
        ],
    }


def _diagnoses(codes: Sequence[str]) -> dict[str, Any]:
    segment: dict[str, Any] = {"segment_name": "HI"}
    for index, code in enumerate(codes[:12], start=1):
        segment[f"health_care_code_{index}"] = [
            "ABK" if index == 1 else "ABF",
            code.replace(".", ""),
        ]
    return segment


def _claim(claim: Claim) -> dict[str, Any]:
    place = claim.lines[0].place_of_service.value if claim.lines else "11"
    loop: dict[str, Any] = {
        "clm_segment": {
            "segment_name": "CLM",
            "patient_control_number": claim.claim_id,
            "total_claim_charge_amount": _money(claim.total_cents),
            "health_care_service_location_information": f"{place}:B:1",
            "provider_or_supplier_signature_indicator": "Y",
            "provider_accept_assignment_code": "A",
            "benefit_assignment_certification_indicator": "Y",
            "release_of_information_code": "Y",
        },
        "hi_segment": [_diagnoses(claim.diagnoses)],
        # The loop's optional repeating segments, empty: the library's checks iterate them.
        **{name: [] for name in ("dtp_segment", "pwk_segment", "ref_segment", "k3_segment")},
        **{name: [] for name in ("crc_segment", "loop_2320")},
        "loop_2400": [_service_line(n, line) for n, line in enumerate(claim.lines, start=1)],
    }
    rendering = claim.rendering_provider
    if rendering.npi != claim.billing_provider.npi:
        loop["loop_2310b"] = {
            "nm1_segment": _nm1(
                "82",
                rendering.name,
                first_name=rendering.first_name,
                person=rendering.is_person,
                qualifier="XX",
                identifier=rendering.npi,
            )
        }
    return loop


def _transaction(claim: Claim, submission: Submission, envelope: Envelope) -> dict[str, Any]:
    if claim.subscriber.relationship is not Relationship.SELF:
        raise ValueError("the 837P writer sends claims where the patient is the subscriber")
    control = f"{envelope.control_number:04d}"
    person = claim.subscriber.person
    subscriber = {
        "nm1_segment": _nm1(
            "IL",
            person.last_name,
            first_name=person.first_name,
            person=True,
            qualifier="MI",
            identifier=claim.subscriber.member_id,
        ),
        **_address(person.address),
        "dmg_segment": {
            "segment_name": "DMG",
            "date_time_period_format_qualifier": "D8",
            "date_time_period": _date(person.birth_date),
            "gender_code": person.sex.value,
        },
        "ref_segment": [],
    }
    sbr: dict[str, Any] = {
        "segment_name": "SBR",
        "payer_responsibility_code": "P",
        "individual_relationship_code": Relationship.SELF.value,
        "claim_filing_indicator_code": "CI",  # commercial insurance
    }
    if claim.subscriber.group_number:
        sbr["group_policy_number"] = claim.subscriber.group_number
    billing = claim.billing_provider
    return {
        "header": {
            "st_segment": {
                "segment_name": "ST",
                "transaction_set_identifier_code": "837",
                "transaction_set_control_number": control,
                "implementation_convention_reference": VERSION,
            },
            "bht_segment": {
                "segment_name": "BHT",
                "hierarchical_structure_code": "0019",
                "transaction_set_purpose_code": "00",
                "submitter_transactional_identifier": claim.claim_id,
                "transaction_set_creation_date": _date(envelope.created_at.date()),
                "transaction_set_creation_time": envelope.created_at.strftime("%H%M"),
                "transaction_type_code": "CH",
            },
        },
        "loop_1000a": {
            "nm1_segment": _nm1(
                "41",
                submission.submitter_name,
                person=False,
                qualifier="46",
                identifier=submission.submitter_id,
            ),
            "per_segment": [
                {
                    "segment_name": "PER",
                    "contact_function_code": "IC",
                    "name": _upper(submission.contact_name),
                    "communication_number_qualifier_1": "TE",
                    "communication_number_1": "".join(
                        c for c in submission.contact_phone if c.isdigit()
                    ),
                }
            ],
        },
        "loop_1000b": {
            "nm1_segment": _nm1(
                "40",
                submission.receiver_name,
                person=False,
                qualifier="46",
                identifier=submission.receiver_id,
            ),
        },
        "loop_2000a": [
            {
                "hl_segment": {
                    "segment_name": "HL",
                    "hierarchical_id_number": "1",
                    "hierarchical_level_code": "20",
                    "hierarchical_child_code": "1",
                },
                "loop_2010aa": {
                    "nm1_segment": _nm1(
                        "85", billing.name, person=False, qualifier="XX", identifier=billing.npi
                    ),
                    **_address(billing.address),
                    "ref_segment": [
                        {
                            "segment_name": "REF",
                            "reference_identification_qualifier": "EI",
                            "reference_identification": billing.tax_id,
                        }
                    ],
                },
                "loop_2000b": [
                    {
                        "hl_segment": {
                            "segment_name": "HL",
                            "hierarchical_id_number": "2",
                            "hierarchical_parent_id_number": "1",
                            "hierarchical_level_code": "22",
                            "hierarchical_child_code": "0",
                        },
                        "sbr_segment": sbr,
                        "loop_2010ba": subscriber,
                        "loop_2010bb": {
                            "nm1_segment": _nm1(
                                "PR",
                                claim.payer.name,
                                person=False,
                                qualifier="PI",
                                identifier=claim.payer.payer_id,
                            )
                        },
                        "loop_2300": [_claim(claim)],
                    }
                ],
            }
        ],
    }


def _count_segments(node: object) -> int:
    if isinstance(node, dict):
        own = 1 if "segment_name" in node else 0
        return own + sum(_count_segments(value) for value in node.values())
    if isinstance(node, list):
        return sum(_count_segments(item) for item in node)
    return 0


def _padded(text: str, width: int) -> str:
    return text[:width].ljust(width)


def write_837p(claim: Claim, *, submission: Submission, envelope: Envelope) -> str:
    """The interchange (ISA/GS/ST ... SE/GE/IEA) for one claim, one segment a line.

    Raises the library's validation error (a ``ValueError``) when a required element is missing
    or a value breaks the implementation guide's rules the library knows.
    """
    library = _library()
    transaction_model = library[_MODULES[2]].HealthCareClaimProfessional
    segments = library[_MODULES[1]]
    body = _transaction(claim, submission, envelope)
    control = body["header"]["st_segment"]["transaction_set_control_number"]
    body["footer"] = {
        "se_segment": {
            "segment_name": "SE",
            "transaction_segment_count": _count_segments(body) + 1,
            "transaction_set_control_number": control,
        }
    }
    transaction = transaction_model.parse_obj(body)
    number = f"{envelope.control_number:09d}"
    isa = segments.IsaSegment(
        authorization_information_qualifier="00",
        authorization_information=" " * 10,
        security_information_qualifier="00",
        security_information=" " * 10,
        interchange_sender_qualifier="ZZ",
        interchange_sender_id=_padded(envelope.sender_id, 15),
        interchange_receiver_qualifier="ZZ",
        interchange_receiver_id=_padded(envelope.receiver_id, 15),
        interchange_date=envelope.created_at.strftime("%y%m%d"),
        interchange_time=envelope.created_at.strftime("%H%M"),
        repetition_separator="^",
        interchange_control_version_number="00501",
        interchange_control_number=number,
        acknowledgment_requested="0",
        interchange_usage_indicator="P" if envelope.production else "T",
        component_element_separator=":",
    )
    gs = segments.GsSegment(
        functional_identifier_code="HC",
        application_sender_code=envelope.sender_id,
        application_receiver_code=envelope.receiver_id,
        functional_group_creation_date=_date(envelope.created_at.date()),
        functional_group_creation_time=envelope.created_at.strftime("%H%M"),
        group_control_number=str(envelope.control_number),
        responsible_agency_code="X",
        version_identifier_code=VERSION,
    )
    ge = segments.GeSegment(
        number_of_transaction_sets_included=1, group_control_number=str(envelope.control_number)
    )
    iea = segments.IeaSegment(
        number_of_included_functional_groups=1, interchange_control_number=number
    )
    parts = [isa.x12(), gs.x12(), transaction.x12(use_new_lines=True), ge.x12(), iea.x12()]
    return "\n".join(parts) + "\n"
