"""Monitor readings beyond the chart: they fill the Spravato monitoring form's blood pressure and
pulse-oximetry answers like typed ones, and the research export's per-session vitals summary
carries them; a reading held as a possible artifact reaches neither."""

from __future__ import annotations

import datetime as dt

from kapstone.chairside.models import ChairsideRecord, VitalReading, VitalStrike
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.interop.deidentify import SourceVital
from kapstone.rems import services as rems
from kapstone.research.selectors import source_dosing
from tests.shell.rems_support import NEW_YORK, at, signed_esketamine_session

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=NEW_YORK)


def _from_monitor(record, minutes, sys_, dia, spo2, message_id, verdict="accepted"):  # type: ignore[no-untyped-def]
    # Written as a bulk loader would (as rems_support does): the record unsigned, then its rows.
    return VitalReading.objects.create(
        record=record,
        taken_at=at(minutes),
        systolic=sys_,
        diastolic=dia,
        heart_rate=78,
        spo2=spo2,
        respiratory_rate=14,
        recorded_at=at(minutes),
        source="device",
        device_label="MON-1",
        device_message_id=message_id,
        device_verdict=verdict,
        device_policy_version="default-2026-11",
    )


def _charted_from_the_monitor(clinic):  # type: ignore[no-untyped-def]
    """The support session, with its typed 41-minute and completion readings struck and the
    monitor's in their place, and a held artifact after the last."""
    nurse = clinic.staff["nurse"]
    built = signed_esketamine_session(
        clinic.on_team, nurse=nurse, prescriber=clinic.staff["prescriber"], sign=False
    )
    record = built.record
    for typed in VitalReading.objects.filter(record=record, taken_at__in=[at(41), at(120)]):
        VitalStrike.objects.create(
            reading=typed, reason="Typed from the monitor twice", by=nurse, at=at(121)
        )
    _from_monitor(record, 42, 150, 92, 95, "m-42")
    _from_monitor(record, 121, 124, 78, 97, "m-121")
    _from_monitor(record, 122, 196, 118, 81, "m-122", verdict="held")
    ChairsideRecord.objects.filter(pk=record.pk).update(
        discharged_at=at(128), signed_at=at(135), signed_by=nurse
    )
    DosingSession.objects.filter(pk=built.session.pk).update(status=SessionStatus.COMPLETED)
    return built


def test_monitor_readings_fill_the_rems_form_like_typed_ones(clinic):
    built = _charted_from_the_monitor(clinic)
    form = rems.prepare_form(session=built.session, by=clinic.staff["nurse"], now=NOW)
    value = {f.key: f.value for f in form.pmf.fields}
    assert value["bp_before"] == "128/82"  # typed
    assert value["bp_40_minutes"] == "150/92"  # the monitor's, at 42 minutes
    assert value["bp_at_completion"] == "124/78"  # the monitor's, not the held 196/118 after it
    assert value["pulse_oximetry"] == "Yes"
    assert "lowest 95 %" in form.pmf.get("pulse_oximetry").basis  # not the held 81 %


def test_the_research_export_carries_monitor_readings_but_not_held_ones(clinic):
    built = _charted_from_the_monitor(clinic)
    (dosing,) = [s for s in source_dosing([clinic.on_team.pk]) if s.session_key == built.session.pk]
    times = {v.taken_at for v in dosing.vitals}
    assert {at(42), at(121)} <= times and at(122) not in times
    assert at(41) not in times  # struck, as before
    assert all(isinstance(v, SourceVital) for v in dosing.vitals)
