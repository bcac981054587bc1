"""The chair-side record through its services: the checklist gates the dose, the prescriber decides
on a raised pre-dose BP, a reading raises its alert in the same transaction, discharge lists what
blocks, signing locks the record, and every write is audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.chairside import services
from kapstone.chairside.models import (
    ChecklistAnswer,
    SessionAlert,
    VitalReading,
)
from kapstone.chairside.selectors import dose_and_dissociation, schedule
from kapstone.clinical.discharge import DischargeChecklist
from kapstone.dosing.models import SessionStatus
from kapstone.errors import InputError
from tests.shell.chairside_support import (
    at,
    draw_for,
    esketamine_overrides,
    past_session,
    ready_to_dose,
    reconcile,
    signed_plan_for,
    vitals,
)

ALL_CONFIRMED = DischargeChecklist(True, True, True, True, True)


def test_the_checklist_blocks_the_dose_until_it_passes_and_the_prescriber_decides(clinic):
    plan = signed_plan_for(clinic)
    session = past_session(clinic, plan=plan)
    nurse, prescriber = clinic.staff["nurse"], clinic.staff["prescriber"]
    record = services.open_record(by=nurse, session=session)
    assert services.open_record(by=prescriber, session=session) == record  # opening twice: same
    with pytest.raises(InputError) as refused:
        services.give_dose(by=nurse, record=record, dose_mg=Decimal(35), started_at=at(session, 15))
    blocked = " ".join(refused.value.errors[""])
    assert "Identity confirmed" in blocked and "Baseline vital signs" in blocked
    assert "Escort" in blocked and "Consent" not in blocked  # the signed plan carries consent

    services.answer_checklist(
        by=nurse,
        record=record,
        identity_confirmed=True,
        fasting_confirmed=False,  # a warning by default, not a block
        escort_confirmed=True,
        pregnancy_status="not_pregnant",
        weight_kg=Decimal("70.0"),
    )
    assert ChecklistAnswer.objects.get(record=record, item="fasting").outcome == "warn"
    reading, alert = vitals(record, nurse, at(session, 5), sys=152, dia=94)
    assert reading.is_baseline and alert is None
    with pytest.raises(InputError) as refused:
        services.give_dose(by=nurse, record=record, dose_mg=Decimal(35), started_at=at(session, 15))
    assert "prescriber's documented decision" in " ".join(refused.value.errors[""])

    with pytest.raises(InputError, match="Only a prescriber"):
        services.decide_to_proceed(by=nurse, record=record, rationale="Looks fine")
    with pytest.raises(InputError) as refused:
        services.decide_to_proceed(by=prescriber, record=record, rationale="  ")
    assert list(refused.value.errors) == ["rationale"]
    services.decide_to_proceed(
        by=prescriber, record=record, rationale="White-coat pattern; 148/92 at home; proceed."
    )
    decided = AuditEntry.objects.get(action="chairside.proceed_decided")
    assert decided.actor == prescriber and "White-coat" in decided.after["rationale"]

    # Nothing drawn from the safe yet: the dose is refused, saying to draw first.
    with pytest.raises(InputError) as refused:
        services.give_dose(by=nurse, record=record, dose_mg=Decimal(35), started_at=at(session, 15))
    assert refused.value.errors == {
        "ledger_entry": [
            "There is no open ledger draw for this session: draw the dose from the safe first "
            "(Ledger, Draw for a dose), then chart it."
        ]
    }
    draw_for(record)
    # Within 10% of the plan: the nurse's reason is what is missing.
    with pytest.raises(InputError) as refused:
        services.give_dose(by=nurse, record=record, dose_mg=Decimal(33), started_at=at(session, 15))
    assert refused.value.errors == {
        "change_reason": ["The plan's dose for this session is 35 mg: say why it is changed."]
    }
    dose = services.give_dose(
        by=nurse,
        record=record,
        dose_mg=Decimal(35),
        started_at=at(session, 15),
        witnessed_by=prescriber,
        rate_ml_per_hour=Decimal("5.25"),
    )
    assert dose.planned_dose_mg == Decimal(35) and not dose.changed
    assert dose_and_dissociation([session.pk])[session.pk].dose_mg == Decimal(35)


def test_a_rejected_reading_says_why_field_by_field_and_writes_nothing(clinic):
    record = ready_to_dose(clinic)
    before = VitalReading.objects.count()
    with pytest.raises(InputError) as refused:
        services.record_vitals(
            by=clinic.staff["nurse"],
            record=record,
            taken_at=at(record.session, 20),
            systolic="12o",
            diastolic=80,
            heart_rate=None,
            spo2=101,
            respiratory_rate=14,
        )
    assert refused.value.errors == {
        "systolic": ["Systolic must be a whole number, got '12o'."],
        "heart_rate": ["Heart rate is required."],
        "spo2": ["SpO2 must be 50–100 %, got 101."],
    }
    with pytest.raises(InputError) as refused:
        vitals(record, clinic.staff["nurse"], timezone.now() + dt.timedelta(hours=1))
    assert refused.value.errors == {"taken_at": ["That time is in the future."]}
    assert VitalReading.objects.count() == before


def test_a_reading_raises_its_alert_with_it_and_it_stays_until_acknowledged(clinic):
    record = ready_to_dose(clinic)
    nurse = clinic.staff["nurse"]
    session = record.session
    services.give_dose(by=nurse, record=record, dose_mg=Decimal(35), started_at=at(session, 15))
    calm, none = vitals(record, nurse, at(session, 25), sys=128, dia=80)
    assert none is None and not calm.is_baseline
    reading, alert = vitals(record, nurse, at(session, 35), sys=162, dia=84)
    # Baseline 120: a 42 mmHg rise during the infusion asks to pause or slow it (label's measure).
    assert alert is not None and alert.reading == reading
    assert alert.grade == "pause_or_slow_infusion"
    assert {r["rule_id"] for r in alert.rules} == {"sbp.rise.pause", "sbp.high.recheck"}
    assert alert.rules[0]["source"]["key"] == "SPRAVATO-US"
    with pytest.raises(InputError) as refused:
        services.acknowledge_alert(by=nurse, alert=alert, action="no_action")
    assert list(refused.value.errors) == ["note"]
    assert alert.is_open
    ack = services.acknowledge_alert(by=nurse, alert=alert, action="infusion_slowed", note="to 3")
    with pytest.raises(InputError, match="already acknowledged"):
        services.acknowledge_alert(by=clinic.staff["prescriber"], alert=alert, action="rechecked")
    entry = AuditEntry.objects.get(action="chairside.alert_acknowledged")
    assert entry.actor == nurse and entry.after["action"] == "infusion_slowed"
    assert ack.alert.pk == alert.pk


def test_symptoms_from_adverse_events_are_graded(clinic):
    record = ready_to_dose(clinic)
    nurse = clinic.staff["nurse"]
    session = record.session
    services.give_dose(
        by=nurse,
        record=record,
        dose_mg=Decimal(35),
        started_at=at(session, 15),
        stopped_at=at(session, 55),
    )
    _, nausea_alert = services.record_adverse_event(
        by=nurse,
        record=record,
        kind="nausea",
        severity="mild",
        action="Ondansetron offered",
        onset_at=at(session, 40),
    )
    assert nausea_alert is None  # nausea alone is charted, not graded
    _, vomiting = services.record_adverse_event(
        by=nurse,
        record=record,
        kind="vomiting",
        severity="moderate",
        action="Turned on side, suction ready",
        onset_at=at(session, 45),
        sedation="drowsy",
    )
    assert vomiting is not None and vomiting.grade == "stop_and_call_prescriber"
    assert [r["rule_id"] for r in vomiting.rules] == ["symptom.vomiting_while_sedated"]
    vitals(record, nurse, at(session, 60), sys=192, dia=100)
    _, chest = services.record_adverse_event(
        by=nurse,
        record=record,
        kind="chest_pain",
        severity="severe",
        action="Prescriber called, ECG",
        onset_at=at(session, 62),
    )
    assert chest.grade == "emergency"
    assert {r["rule_id"] for r in chest.rules} == {
        "bp.hypertensive_emergency",
        "symptom.chest_pain",
    }
    with pytest.raises(InputError) as refused:
        services.record_adverse_event(
            by=nurse, record=record, kind="other", severity="mild", action="", onset_at=None
        )
    assert set(refused.value.errors) == {"description", "action", "onset_at"}


def test_discharge_lists_blockers_then_signing_locks_and_corrections_are_addenda(clinic, as_role):
    record = ready_to_dose(clinic)
    nurse = clinic.staff["nurse"]
    session = record.session
    services.give_dose(
        by=nurse,
        record=record,
        dose_mg=Decimal(35),
        started_at=at(session, 10),
        stopped_at=at(session, 50),
    )
    services.rate_dissociation(
        by=nurse, record=record, scale="cadss_6", score=9, taken_at=at(session, 50)
    )
    wrong, _ = vitals(record, nurse, at(session, 60), hr=41)  # a finger probe slipping
    alert = SessionAlert.objects.get(reading=wrong)
    with pytest.raises(InputError) as refused:
        services.discharge(by=nurse, record=record, checklist=ALL_CONFIRMED)
    message = refused.value.errors["override_reason"][0]
    assert "Minimum observation of 60 min" in message and "alert(s) not yet acknowledged" in message
    services.strike_vital(by=nurse, reading=wrong, reason="Probe slipped; HR 74 on palpation")
    services.acknowledge_alert(by=nurse, alert=alert, action="rechecked", note="Probe reseated")
    services.discharge(
        by=nurse,
        record=record,
        checklist=ALL_CONFIRMED,
        override_reason="Observation ends in minutes; partner present, patient insists",
    )
    record.refresh_from_db()
    assert record.discharged_at is not None
    assert record.discharge.criteria["blockers"][0]["criterion"] == "minimum_observation"
    # Once the patient has gone home, the console asks for no more checks.
    fragment = (
        as_role("nurse")
        .get(reverse("chairside:schedule", args=[session.patient_id, session.pk]))
        .content.decode()
    )
    assert "no further checks are due" in fragment and "Overdue" not in fragment

    # The draw's remainder is still open: the signature is refused, saying what is missing.
    with pytest.raises(InputError) as open_draw:
        services.sign_record(by=nurse, record=record)
    assert open_draw.value.errors[""] == [
        f"Draw #{services.session_draws(record)[0].seq}: 0.3 mL (15 mg) drawn is not yet given, "
        "wasted or returned: record waste or return with a witness."
    ]
    reconcile(record)
    services.sign_record(by=nurse, record=record)
    record.refresh_from_db()
    session.refresh_from_db()
    assert record.is_signed and session.status == SessionStatus.COMPLETED
    with pytest.raises(InputError, match="signed and locked"):
        vitals(record, nurse, at(session, 70))
    with pytest.raises(InputError, match="signed and locked"):
        services.rate_dissociation(
            by=nurse, record=record, scale="cadss_6", score=1, taken_at=at(session, 70)
        )
    baseline = VitalReading.objects.get(record=record, is_baseline=True)
    services.strike_vital(by=nurse, reading=baseline, reason="Charted against the wrong patient")
    addendum = services.add_addendum(
        by=nurse, record=record, reason="Late entry", text="Patient vomited once in the car park."
    )
    assert addendum.record == record
    facts = dose_and_dissociation([session.pk])[session.pk]
    assert (facts.dissociation_scale, facts.dissociation_score) == ("cadss_6", 9)
    actions = set(
        AuditEntry.objects.filter(patient=clinic.on_team).values_list("action", flat=True)
    )
    assert {
        "chairside.record_opened",
        "chairside.checklist_answered",
        "chairside.dose_given",
        "chairside.vitals_struck",
        "chairside.discharged",
        "chairside.signed",
        "chairside.addendum",
    } <= actions


def test_the_schedule_follows_the_protocol(clinic):
    record = ready_to_dose(clinic)
    nurse = clinic.staff["nurse"]
    session = record.session
    services.give_dose(by=nurse, record=record, dose_mg=Decimal(35), started_at=at(session, 15))
    vitals(record, nurse, at(session, 25))
    plan = schedule(record, at(session, 40))
    routine = next(c for c in plan.outstanding if c.check_id == "vitals.routine")
    # IV: every 10 minutes during the infusion, from the last reading at 25 min.
    assert routine.due_at == at(session, 35) and routine.overdue


def test_esketamine_counts_devices(clinic):
    record = ready_to_dose(clinic, **esketamine_overrides())
    nurse = clinic.staff["nurse"]
    with pytest.raises(InputError) as refused:
        services.give_dose(
            by=nurse, record=record, dose_mg=None, devices=None, started_at=at(record.session, 15)
        )
    assert "devices" in refused.value.errors
    dose = services.give_dose(
        by=nurse, record=record, dose_mg=None, devices=2, started_at=at(record.session, 15)
    )
    assert dose.dose_mg == Decimal(56) and dose.route == "intranasal_esketamine"


def test_the_alert_fragment_answers_204_until_something_changes(clinic, as_role):
    from django.urls import reverse

    from kapstone.chairside.selectors import alerts_version

    record = ready_to_dose(clinic)
    session = record.session
    client = as_role("nurse")
    url = reverse(
        "chairside:alerts", kwargs={"patient_id": clinic.on_team.pk, "session_id": session.pk}
    )
    seen = alerts_version(record)
    assert client.get(url, {"seen": seen}).status_code == 204
    vitals(record, clinic.staff["prescriber"], at(session, 7), spo2=84)
    response = client.get(url, {"seen": seen})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Emergency: call for emergency help" in page and "SpO2 84 % is below 85 %" in page
    assert "spo2.low.emergency" not in page  # clinic words, not the rule's code
    assert 'hx-trigger="every 1s"' in page
    assert client.get(url, {"seen": alerts_version(record)}).status_code == 204
