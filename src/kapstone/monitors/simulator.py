"""A bedside monitor that replays a dosing session over MLLP, for the demo, tests and benchmark.

Each message is an ORU^R01 as IHE PCD-01 shapes it: MSH, PID (optional), OBR, then OBX rows for
the device hierarchy (MDS, VMD, channel, without values) and one per numeric with its OBX-14
time. Two styles of sender: ``mdc`` (a monitor sending IEEE 11073 MDC codes and units directly)
and ``local`` (a central-station gateway with its own codes and UCUM units, mapped per device).

A message every 5 simulated minutes, each a full set. The session, in simulated minutes: a
baseline, the dose at minute 15, blood pressure rising to a
peak about 40 minutes after it (the label's "peak approximately 40 minutes"), an SpO2 dip near
minute 55, then recovery. ``speed`` compresses it (60 = a simulated minute a second); each
message is stamped with the wall clock at sending, so the listener sees live readings.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils import timezone

START = b"\x0b"
END = b"\x1c\r"

# The local codes of the "local" style, as a gateway might number them (the administrator maps
# these in the device's code map).
LOCAL_CODES = {
    "170": "systolic",
    "171": "diastolic",
    "172": "mean_arterial",
    "101": "heart_rate",
    "160": "spo2",
    "151": "respiratory_rate",
}


@dataclass(frozen=True, slots=True)
class Vitals:
    minute: float
    systolic: int | None
    diastolic: int | None
    heart_rate: int
    spo2: int
    respiratory_rate: int


def vitals_at(minute: float, *, nibp_every: float = 5.0, step: float = 1.0) -> Vitals:
    """The scenario's vital signs at ``minute`` (blood pressure only on a cuff cycle)."""
    after_dose = minute - 15
    rise = 0.0
    if after_dose > 0:
        # Up over 40 minutes, back down by minute 120 after the dose.
        rise = (
            math.sin(min(after_dose, 40) / 40 * math.pi / 2)
            if after_dose <= 40
            else max(0.0, 1 - (after_dose - 40) / 80)
        )
    dip = math.exp(-(((minute - 55) / 4) ** 2))
    cuff = minute % nibp_every < step - 1e-9
    return Vitals(
        minute=minute,
        systolic=round(126 + 48 * rise) if cuff else None,
        diastolic=round(80 + 24 * rise) if cuff else None,
        heart_rate=round(72 + 14 * rise + 3 * math.sin(minute / 3)),
        spo2=round(98 - 9 * dip),
        respiratory_rate=round(14 - 2 * dip),
    )


def scenario(minutes: float = 150, step: float = 5.0) -> Iterator[Vitals]:
    """A full set (with a cuff cycle) every ``step`` simulated minutes: the chair side charts whole
    readings only."""
    for k in itertools.count():
        minute = k * step
        if minute > minutes:
            return
        yield vitals_at(minute, nibp_every=step, step=step)


def _stamp(at: dt.datetime) -> str:
    return at.strftime("%Y%m%d%H%M%S") + at.strftime("%z")


def oru(
    vitals: Vitals,
    *,
    application: str,
    facility: str,
    control_id: str,
    at: dt.datetime,
    style: str = "mdc",
    with_pid: bool = True,
) -> bytes:
    """One ORU^R01 (PCD-01 shaped) for ``vitals`` observed at ``at`` (aware)."""
    stamp = _stamp(at)
    segments = [
        f"MSH|^~\\&|{application}|{facility}|KAPSTONE|KAPSTONE|{stamp}||ORU^R01^ORU_R01|"
        f"{control_id}|P|2.6|||NE|AL||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO",
    ]
    if with_pid:
        segments.append("PID|||||^^^^^")
    segments.append(
        f"OBR|1|{control_id}^{application}|{control_id}^{application}|"
        f"182777000^monitoring of patient^SCT|||{stamp}"
    )
    rows: list[tuple[str, str, str, int | None]] = []
    if style == "mdc":
        mmhg, bpm = "266016^MDC_DIM_MMHG^MDC", "264864^MDC_DIM_BEAT_PER_MIN^MDC"
        rows = [
            ("150021^MDC_PRESS_BLD_NONINV_SYS^MDC", mmhg, "1.1.1.1", vitals.systolic),
            ("150022^MDC_PRESS_BLD_NONINV_DIA^MDC", mmhg, "1.1.1.2", vitals.diastolic),
            ("147842^MDC_ECG_HEART_RATE^MDC", bpm, "1.1.2.1", vitals.heart_rate),
            ("150456^MDC_PULS_OXIM_SAT_O2^MDC", "262688^MDC_DIM_PERCENT^MDC", "1.1.3.1", vitals.spo2),
            ("151562^MDC_RESP_RATE^MDC", "264928^MDC_DIM_RESP_PER_MIN^MDC", "1.1.4.1",
             vitals.respiratory_rate),
        ]  # fmt: skip
        segments.append("OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1|||||||X")
        segments.append("OBX|2||70659^MDC_DEV_ANALY_SAT_O2_VMD^MDC|1.1|||||||X")
    else:
        rows = [
            ("170^NIBP Sys^99GW", "mm[Hg]^mmHg^UCUM", "", vitals.systolic),
            ("171^NIBP Dia^99GW", "mm[Hg]^mmHg^UCUM", "", vitals.diastolic),
            ("101^HR^99GW", "/min^bpm^UCUM", "", vitals.heart_rate),
            ("160^SpO2^99GW", "%^%^UCUM", "", vitals.spo2),
            ("151^RR^99GW", "{breath}/min^rpm^UCUM", "", vitals.respiratory_rate),
        ]
    n = len(segments) - (2 if with_pid else 1)
    for code, unit, sub_id, value in rows:
        if value is None:
            continue
        n += 1
        segments.append(f"OBX|{n}|NM|{code}|{sub_id}|{value}|{unit}|||||R|||{stamp}")
    return ("\r".join(segments) + "\r").encode("utf-8")


def send(sock: socket.socket, message: bytes, timeout: float = 10.0) -> bytes:
    """One framed message; waits for the ACK frame and returns its content."""
    sock.sendall(START + message + END)
    sock.settimeout(timeout)
    data = b""
    while END not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the listener closed the connection before acknowledging")
        data += chunk
    start = data.find(START)
    return data[start + 1 : data.index(END)]


def ack_code(ack: bytes) -> str:
    for segment in ack.decode("utf-8", "replace").split("\r"):
        if segment.startswith("MSA"):
            fields = segment.split("|")
            return fields[1] if len(fields) > 1 else ""
    return ""


def _connect(host: str, port: int, wait: float = 30.0) -> socket.socket:
    """Connects, retrying while the listener starts (``make run`` starts both at once)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return socket.create_connection((host, port), timeout=10)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@dataclass(frozen=True, slots=True)
class Run:
    sent: int
    codes: dict[str, int]


def replay(
    *,
    host: str,
    port: int,
    application: str,
    facility: str = "",
    style: str = "mdc",
    speed: float = 60.0,
    minutes: float = 150,
    loop: bool = False,
    prefix: str | None = None,
    say: object = None,
) -> Run:
    """Replays the scenario (a message per 5 simulated minutes), waiting for each ACK; reconnects
    when the listener goes away."""
    prefix = prefix or f"{application[:10]}-{int(time.time())}"
    codes: dict[str, int] = {}
    sent = 0
    sock: socket.socket | None = None
    try:
        while True:
            for vitals in scenario(minutes):
                if sock is None:
                    sock = _connect(host, port)
                message = oru(
                    vitals,
                    application=application,
                    facility=facility,
                    control_id=f"{prefix}-{sent}",
                    at=timezone.now(),
                    style=style,
                )
                try:
                    code = ack_code(send(sock, message))
                except (OSError, ConnectionError):
                    sock.close()
                    sock = None
                    time.sleep(2)
                    continue
                sent += 1
                codes[code] = codes.get(code, 0) + 1
                if callable(say):
                    say(f"minute {vitals.minute:5.0f}: {code}")
                if speed > 0:
                    time.sleep(5 * 60 / speed)
            if not loop:
                break
    finally:
        if sock is not None:
            sock.close()
    return Run(sent, codes)
