"""Test helpers: a registered device in a room, messages as monitors write them, a raw MLLP client.

The client is written here with plain sockets on purpose: the tests must not speak MLLP through
the listener's own code (python-hl7's stream classes) or the simulator's."""

from __future__ import annotations

import datetime as dt
import socket

from kapstone.accounts.models import Room

VT, FS_CR = b"\x0b", b"\x1c\r"


def room(site, name="IV chair 1"):  # type: ignore[no-untyped-def]
    return Room.objects.get_or_create(site=site, name=name, defaults={"routes": ["iv"]})[0]


def stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S+0000")


def ge_style(
    app: str, control_id: str, at: dt.datetime, sys=142, dia=91, hr=78, spo2=97, rr=14
) -> bytes:  # type: ignore[no-untyped-def]
    """A monitor sending IEEE 11073 MDC codes directly (as GE-style monitors and PCD-01 examples do)."""
    t = stamp(at)
    return (
        f"MSH|^~\\&|{app}|ICU|KAPSTONE|KAPSTONE|{t}||ORU^R01^ORU_R01|{control_id}|P|2.6\r"
        f"PID|||||\r"
        f"OBR|1|{control_id}|{control_id}|182777000^monitoring of patient^SCT|||{t}\r"
        f"OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1|||||||X\r"
        f"OBX|2|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.1.1|{sys}|266016^MDC_DIM_MMHG^MDC|||||R|||{t}\r"
        f"OBX|3|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.1.1.2|{dia}|266016^MDC_DIM_MMHG^MDC|||||R|||{t}\r"
        f"OBX|4|NM|147842^MDC_ECG_HEART_RATE^MDC|1.2.1.1|{hr}|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||{t}\r"
        f"OBX|5|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.1|{spo2}|262688^MDC_DIM_PERCENT^MDC|||||R|||{t}\r"
        f"OBX|6|NM|151562^MDC_RESP_RATE^MDC|1.4.1.1|{rr}|264928^MDC_DIM_RESP_PER_MIN^MDC|||||R|||{t}\r"
    ).encode()


GATEWAY_CODES = {
    "170": "systolic",
    "171": "diastolic",
    "101": "heart_rate",
    "160": "spo2",
    "151": "respiratory_rate",
}


def gateway_style(
    app: str, control_id: str, at: dt.datetime, sys_kpa="16.0", dia_kpa="10.7"
) -> bytes:
    """A central-station gateway with its own codes and UCUM units, the pressure in kPa."""
    t = stamp(at)
    return (
        f"MSH|^~\\&|{app}|WARD3|KAPSTONE||{t}||ORU^R01|{control_id}|P|2.3.1\r"
        f"OBR|1||{control_id}|^CENTRAL|||{t}\r"
        f"OBX|1|NM|170^NIBP Sys^99GW||{sys_kpa}|kPa^kPa^UCUM|||||F|||{t}\r"
        f"OBX|2|NM|171^NIBP Dia^99GW||{dia_kpa}|kPa^kPa^UCUM|||||F|||{t}\r"
        f"OBX|3|NM|101^HR^99GW||64|/min^bpm^UCUM|||||F|||{t}\r"
        f"OBX|4|NM|160^SpO2^99GW||99|%^%^UCUM|||||F|||{t}\r"
        f"OBX|5|NM|151^RR^99GW||12|{{breath}}/min^rpm^UCUM|||||F|||{t}\r"
    ).encode()


def sample_device():  # type: ignore[no-untyped-def]
    """One registered monitor with a local code map (for the page walkers)."""
    from kapstone.accounts.models import Site, StaffUser
    from kapstone.monitors import services
    from kapstone.monitors.models import MonitorDevice

    found = MonitorDevice.objects.first()
    if found is not None:
        return found
    admin = StaffUser.objects.filter(role="administrator").order_by("pk").first()
    return services.register_device(
        by=admin,
        label="Chair 1 monitor",
        sending_application="CENTRAL_GW",
        sending_facility="",
        room=room(Site.objects.order_by("pk").first()),
        local_codes=GATEWAY_CODES,
    )


class Client:
    """A raw MLLP client over TCP."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.buffer = b""

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, message: bytes) -> dict[str, list[str]]:
        self.sock.sendall(VT + message + FS_CR)
        return self.read_ack()

    def read_ack(self) -> dict[str, list[str]]:
        while FS_CR not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        frame, self.buffer = self.buffer.split(FS_CR, 1)
        assert frame.startswith(VT), frame
        segments = frame[1:].decode().strip("\r").split("\r")
        return {s[:3]: s.split("|") for s in segments} | {"_raw": segments}  # type: ignore[dict-item]

    def close(self) -> None:
        self.sock.close()
