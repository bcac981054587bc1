"""HL7 v2 in and out: a received block read with python-hl7 into plain values, and the ACK.

Nothing here touches the database or decides what a value means (that is
:mod:`kapstone.clinical.device_feed`): this module only turns bytes into
:class:`~kapstone.clinical.device_feed.Observation` tuples and a :class:`Header`, and writes
acknowledgements (HL7 v2.6 section 2.14.1 MSA, 2.15.5 ERR; original-mode acknowledgement).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

import hl7

from kapstone.clinical.device_feed import Observation

# MLLP framing (HL7 v2 Transport Specification: MLLP, release 2): <VT> message <FS><CR>.
START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\r"

ACCEPTED = "AA"
ERROR = "AE"
REJECTED = "AR"

_control_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Header:
    """The MSH fields the listener acts on, as sent."""

    sending_application: str  # MSH-3, the whole field (namespace^universal id^type)
    sending_facility: str  # MSH-4
    receiving_application: str  # MSH-5
    receiving_facility: str  # MSH-6
    message_time: str  # MSH-7
    message_type: str  # MSH-9.1
    trigger_event: str  # MSH-9.2
    control_id: str  # MSH-10
    processing_id: str  # MSH-11
    version: str  # MSH-12
    field_separator: str = "|"
    encoding_characters: str = "^~\\&"


@dataclass(frozen=True, slots=True)
class Parsed:
    header: Header
    observation_time: str  # OBR-7, else MSH-7
    observations: tuple[Observation, ...]


class Unreadable(ValueError):
    """Not an HL7 v2 message this listener can read; ``header`` when at least MSH was readable."""

    def __init__(self, reason: str, header: Header | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.header = header


def _text(segment: Any, field: int, component: int = 1) -> str:
    try:
        return str(segment.extract_field(field_num=field, component_num=component)).strip()
    except (IndexError, KeyError, AttributeError, TypeError, ValueError):
        return ""


def _whole(segment: Any, field: int) -> str:
    try:
        return str(segment(field)).strip() if field < len(segment) else ""
    except (IndexError, KeyError, AttributeError, TypeError, ValueError):
        return ""


def header_of(msh: Any) -> Header:
    return Header(
        sending_application=_whole(msh, 3),
        sending_facility=_whole(msh, 4),
        receiving_application=_whole(msh, 5),
        receiving_facility=_whole(msh, 6),
        message_time=_text(msh, 7),
        message_type=_text(msh, 9, 1),
        trigger_event=_text(msh, 9, 2),
        control_id=_text(msh, 10),
        processing_id=_text(msh, 11),
        version=_text(msh, 12),
        field_separator=str(msh(1)) if len(msh) > 1 else "|",
        encoding_characters=str(msh(2)) if len(msh) > 2 else "^~\\&",
    )


def _observation(obx: Any) -> Observation:
    return Observation(
        code=_text(obx, 3, 1),
        text=_text(obx, 3, 2),
        coding_system=_text(obx, 3, 3),
        value=_text(obx, 5),
        unit=_text(obx, 6, 1),
        unit_text=_text(obx, 6, 2),
        unit_system=_text(obx, 6, 3),
        status=_text(obx, 11),
        observed_at=_text(obx, 14),
    )


def parse(block: bytes) -> Parsed:
    """One MLLP block's content as plain values; :class:`Unreadable` says why not."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        text = block.decode("latin-1")
    # Segments end with CR; some senders add LF too.
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip()
    if not text.startswith("MSH") or len(text) < 8:
        raise Unreadable("not an HL7 v2 message: it does not start with an MSH segment")
    try:
        message = hl7.parse(text)
        msh = message.segment("MSH")
        header = header_of(msh)
    except Exception as exc:  # python-hl7 raises what it meets; none of it may stop the listener
        raise Unreadable(f"the MSH segment cannot be read ({type(exc).__name__})") from exc
    try:
        obr_time = _text(message.segment("OBR"), 7)
    except KeyError:
        obr_time = ""
    try:
        segments = list(message.segments("OBX"))
    except KeyError:
        segments = []
    try:
        observations = tuple(_observation(obx) for obx in segments)
    except Exception as exc:
        raise Unreadable(f"an OBX segment cannot be read ({type(exc).__name__})", header) from exc
    return Parsed(header, obr_time or header.message_time, observations)


def _escape(text: str, header: Header | None) -> str:
    """HL7 escape sequences for the delimiters a free text may contain (HL7 v2 section 2.7)."""
    separator = header.field_separator if header else "|"
    encoding = header.encoding_characters if header else "^~\\&"
    escape = encoding[2] if len(encoding) > 2 else "\\"
    component = encoding[0] if encoding else "^"
    repetition = encoding[1] if len(encoding) > 1 else "~"
    subcomponent = encoding[3] if len(encoding) > 3 else "&"
    out = []
    for char in text.replace("\r", " ").replace("\n", " "):
        if char == escape:
            out.append(f"{escape}E{escape}")
        elif char == separator:
            out.append(f"{escape}F{escape}")
        elif char == component:
            out.append(f"{escape}S{escape}")
        elif char == repetition:
            out.append(f"{escape}R{escape}")
        elif char == subcomponent:
            out.append(f"{escape}T{escape}")
        else:
            out.append(char)
    return "".join(out)


# HL7 table 0357 (message error condition codes) and 0516 (severity).
ERROR_CODES = {ACCEPTED: "0", ERROR: "207", REJECTED: "207"}
UNKNOWN_KEY = "204"  # unknown key identifier: a sender nobody registered
UNSUPPORTED_TYPE = "200"  # unsupported message type


def ack(
    header: Header | None,
    code: str,
    *,
    now: dt.datetime,
    reason: str = "",
    warnings: tuple[str, ...] = (),
    error_code: str = "",
) -> bytes:
    """An original-mode ACK: MSH, MSA (MSA-3 the reason for AE/AR), an ERR for the error and one
    per warning (severity W) on an accepted message. ``header`` None: the block had no readable
    MSH, so the ACK names no message (MSA-2 empty)."""
    separator = header.field_separator if header else "|"
    encoding = header.encoding_characters if header else "^~\\&"
    component = encoding[0] if encoding else "^"
    stamp = now.strftime("%Y%m%d%H%M%S") + now.strftime("%z")
    trigger = header.trigger_event if header else ""
    fields = [
        "MSH",
        encoding,
        "KAPSTONE",
        "",
        header.sending_application if header else "",
        header.sending_facility if header else "",
        stamp,
        "",
        f"ACK{component}{trigger}{component}ACK" if trigger else "ACK",
        f"KAP{now:%Y%m%d%H%M%S}{next(_control_ids)}",
        header.processing_id if header and header.processing_id else "P",
        header.version if header and header.version else "2.6",
    ]
    segments = [separator.join(fields)]
    msa = ["MSA", code, header.control_id if header else ""]
    if code != ACCEPTED and reason:
        msa.append(_escape(reason[:80], header))
    segments.append(separator.join(msa))
    if code != ACCEPTED and reason:
        condition = error_code or ERROR_CODES[code]
        segments.append(
            separator.join(["ERR", "", "", condition, "E", "", "", "", _escape(reason, header)])
        )
    for warning in warnings[:20]:
        segments.append(
            separator.join(["ERR", "", "", "0", "W", "", "", "", _escape(warning, header)])
        )
    return ("\r".join(segments) + "\r").encode("utf-8")


def frame(message: bytes) -> bytes:
    return START_BLOCK + message + END_BLOCK
