"""Writes to the chair-side record, each in one transaction with its audit row.

The core decides (checklist outcomes, alert grades, the monitoring schedule, discharge readiness);
these functions gather the facts, refuse bad input with field-keyed messages before writing, and
record what the core said next to what the clinician did. Every clinical row is appended, never
changed, so two staff charting the same session at once each add their own rows.

One module per workflow at the chair; callers keep importing them from here
(``from kapstone.chairside import services; services.record_vitals(...)``).
"""

from kapstone.chairside.selectors import session_draws  # a read; kept here for its callers
from kapstone.chairside.services._common import parse_decimal
from kapstone.chairside.services.addenda import add_addendum
from kapstone.chairside.services.adverse_events import record_adverse_event
from kapstone.chairside.services.alerts import acknowledge_alert
from kapstone.chairside.services.checklist import answer_checklist
from kapstone.chairside.services.device_vitals import (
    note_feed_heartbeat,
    record_device_reading,
    unverified_device_readings,
    verify_device_readings,
)
from kapstone.chairside.services.discharging import discharge, discharge_readiness
from kapstone.chairside.services.dissociation import rate_dissociation
from kapstone.chairside.services.dose_change import decide_dose_change, dose_change_decision
from kapstone.chairside.services.doses import (
    give_dose,
    open_draws,
    stop_dose,
    unreconciled,
)
from kapstone.chairside.services.opening import open_record
from kapstone.chairside.services.proceed import decide_to_proceed
from kapstone.chairside.services.signing import sign_record
from kapstone.chairside.services.vitals import record_vitals, strike_vital

__all__ = [
    "acknowledge_alert",
    "add_addendum",
    "answer_checklist",
    "decide_dose_change",
    "decide_to_proceed",
    "discharge",
    "discharge_readiness",
    "dose_change_decision",
    "give_dose",
    "note_feed_heartbeat",
    "open_draws",
    "open_record",
    "parse_decimal",
    "rate_dissociation",
    "record_adverse_event",
    "record_device_reading",
    "record_vitals",
    "session_draws",
    "sign_record",
    "stop_dose",
    "strike_vital",
    "unreconciled",
    "unverified_device_readings",
    "verify_device_readings",
]
