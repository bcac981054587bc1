"""The REMS Patient Monitoring Form filled from a session: a golden session, every field's
missing reason, the 40-minute window, the deadline, and properties over generated sessions."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.rems_pmf import (
    CURRENT_SCHEMA,
    FACT_NAMES,
    PMF_2021_11,
    PMF_NEWER,
    SCHEMAS,
    AdverseEffect,
    ConcomitantClass,
    DeviceDose,
    FilingStatus,
    FilledPmf,
    InvalidPmfFacts,
    PmfAdverseEvent,
    PmfDissociation,
    PmfFacts,
    PmfMedication,
    PmfPatient,
    PmfPerson,
    PmfReading,
    PmfSetting,
    deadline_state,
    filing_deadline,
    fill_pmf,
)
from kapstone.clinical.vital_signs import DissociationScale, SedationLevel

EST = timezone(timedelta(hours=-5))
START = datetime(2026, 11, 20, 9, 5, tzinfo=EST)  # a Friday


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def reading(minutes: float, sys_: int | None, dia: int | None, **kw) -> PmfReading:
    kw.setdefault("heart_rate_bpm", 76)
    kw.setdefault("spo2_percent", 98)
    kw.setdefault("respiratory_rate_per_min", 14)
    kw.setdefault("sedation", SedationLevel.ALERT)
    return PmfReading(at(minutes), sys_, dia, **kw)


SESSION = PmfFacts(
    patient=PmfPatient("Ada", "Lovelace", date(1985, 12, 10), "Female"),
    setting=PmfSetting("Riverside Clinic", "120 River Road, Portland, ME 04101", "(207) 555-0140"),
    session_date=START.date(),
    monitoring_provider=PmfPerson("Grace", "Lindqvist", "nurse@example.invalid"),
    doses=(
        DeviceDose(START, 28, 1, "ESK-24A"),
        DeviceDose(at(5), 28, 1, "ESK-24A"),
    ),
    readings=(
        reading(-15, 128, 82, is_baseline=True),
        reading(20, 142, 88, sedation=SedationLevel.DROWSY),
        reading(41, 150, 94, sedation=SedationLevel.DROWSY),
        reading(60, 138, 86),
        reading(120, 126, 80),
        reading(150, 160, 99),  # after discharge: never the completion value
    ),
    dissociation=(
        PmfDissociation(at(-10), DissociationScale.CADSS_6, 1),
        PmfDissociation(at(40), DissociationScale.CADSS_6, 9),
    ),
    adverse_events=(PmfAdverseEvent(at(30), "Nausea", AdverseEffect.OTHER, serious=False),),
    monitoring_ended_at=at(128),
    ready_to_leave_minutes=90,
    prior_esketamine_sessions=3,
    rems_enrolled=True,
    medications=(
        PmfMedication("sertraline", frozenset()),
        PmfMedication("clonazepam", frozenset({ConcomitantClass.BENZODIAZEPINE})),
    ),
    medications_as_of=date(2026, 10, 1),
    patient_age_years=40,
)


def values(filled: FilledPmf) -> dict[str, str | None]:
    return {f.key: f.value for f in filled.fields}


def test_a_complete_session_fills_every_field_golden():
    filled = fill_pmf(SESSION)
    assert filled.schema_version == "spravato-pmf-newer-walkthrough"
    assert values(filled) == {
        "patient_first_name": "Ada",
        "patient_middle_initial": None,
        "patient_last_name": "Lovelace",
        "patient_dob": "12/10/1985",
        "patient_sex": "Female",
        "first_treatment": "No",
        "rems_enrolled": "Yes",
        "conmed_benzodiazepines": "Yes",
        "conmed_sedative_hypnotics": "No",
        "conmed_psychostimulants": "No",
        "conmed_maois": "No",
        "conmed_opioids": "No",
        "hcp_first_name": "Grace",
        "hcp_last_name": "Lindqvist",
        "hcp_phone": "(207) 555-0140",
        "hcp_email": "nurse@example.invalid",
        "setting_name": "Riverside Clinic",
        "setting_address": "120 River Road, Portland, ME 04101",
        "treatment_date": "11/20/2026",
        "dose_administered": "56 mg (2 devices)",
        "lot_number": "ESK-24A",
        "treatment_duration_minutes": "128",
        "ready_to_leave_minutes": "90",
        "vitals_acceptable_before": "Yes",
        "vitals_acceptable_at_completion": "Yes",
        "bp_before": "128/82",
        "bp_40_minutes": "150/94",
        "bp_at_completion": "126/80",
        "sedation": "Yes",
        "dissociation": "Yes",
        "respiratory_depression": "No",
        "pulse_oximetry": "Yes",
        "serious_adverse_event": "No",
    }
    assert filled.complete
    assert filled.warnings == ()
    assert filled.get("conmed_benzodiazepines").basis == "clonazepam (intake of 10/01/2026)"
    assert filled.get("bp_40_minutes").basis == "taken 09:46 (41 min after the first device)"
    assert filled.get("treatment_duration_minutes").basis == (
        "first device 09:05 to discharge sign-off 11:13"
    )
    assert filled.get("dissociation").basis == "peak CADSS-6 9 at 09:45 (pre-dose 1)"
    assert filled.get("sedation").basis == "deepest: 1 Drowsy, rouses to normal voice"
    assert filled.get("patient_middle_initial").missing.startswith("no middle name")


def test_the_2021_form_asks_fewer_questions():
    filled = fill_pmf(SESSION, PMF_2021_11)
    keys = {f.key for f in filled.fields}
    assert "conmed_opioids" not in keys
    assert "respiratory_depression" not in keys
    assert "first_treatment" not in keys
    assert set(PMF_2021_11.keys) < set(PMF_NEWER.keys)
    assert filled.schema_version == "spravato-pmf-2021-11"


def test_every_schema_field_names_facts_that_exist_and_has_an_answer():
    for schema in SCHEMAS.values():
        assert len(set(schema.keys)) == len(schema.keys)
        for spec in schema.fields:
            assert set(spec.facts_from) <= FACT_NAMES, spec.key
            assert spec.how and spec.source.key.startswith(("§11", "SPRAVATO"))
    assert CURRENT_SCHEMA is PMF_NEWER


def test_the_snapshot_round_trips_through_json():
    filled = fill_pmf(replace(SESSION, monitoring_ended_at=None))
    assert FilledPmf.from_json(filled.to_json()) == filled


def test_an_unsigned_discharge_leaves_the_end_values_missing_with_their_reason():
    filled = fill_pmf(replace(SESSION, monitoring_ended_at=None))
    for key in (
        "treatment_duration_minutes",
        "bp_at_completion",
        "vitals_acceptable_at_completion",
    ):
        f = filled.get(key)
        assert f.value is None
        assert f.missing == "the discharge is not signed, so monitoring has no end"
    assert not filled.complete
    assert {f.key for f in filled.missing_required} == {
        "treatment_duration_minutes",
        "bp_at_completion",
        "vitals_acceptable_at_completion",
    }


def test_no_dose_leaves_every_session_value_missing():
    filled = fill_pmf(replace(SESSION, doses=()))
    for key in ("dose_administered", "lot_number", "bp_before", "bp_40_minutes", "sedation"):
        assert filled.get(key).missing == "no dose is recorded for the session", key
    assert filled.get("treatment_date").value == "11/20/2026"


def test_the_forty_minute_reading_must_fall_in_its_window():
    # 35 to 55 minutes: the monitoring policy's 5-minute early window, the PMF policy's 15 late.
    def forty(*minutes: float) -> str | None:
        later = [reading(m, 130 + i, 85) for i, m in enumerate(minutes)]
        rs = (reading(-5, 120, 80, is_baseline=True), *later)
        return fill_pmf(replace(SESSION, readings=rs)).get("bp_40_minutes").value

    assert forty(35) == "130/85"
    assert forty(34, 55) == "131/85"
    assert forty(30, 56) is None
    filled = fill_pmf(replace(SESSION, readings=(reading(-5, 120, 80), reading(90, 130, 85))))
    assert filled.get("bp_40_minutes").missing == (
        "no reading between 09:40 and 10:00 (about 40 minutes)"
    )
    assert "No blood pressure was charted around 40 minutes after the dose." in filled.warnings


def test_a_reading_without_blood_pressure_is_not_used_for_blood_pressure():
    rs = (*SESSION.readings, reading(39, None, None, spo2_percent=97))
    assert fill_pmf(replace(SESSION, readings=rs)).get("bp_40_minutes").value == "150/94"


def test_a_baseline_reading_is_preferred_for_the_pre_dose_value():
    rs = (reading(-20, 124, 78, is_baseline=True), reading(-2, 150, 96), *SESSION.readings[1:])
    assert fill_pmf(replace(SESSION, readings=rs)).get("bp_before").value == "124/78"


def test_pre_dose_bp_above_the_guide_answers_no_and_warns():
    rs = (reading(-15, 146, 88, is_baseline=True), *SESSION.readings[1:])
    filled = fill_pmf(replace(SESSION, readings=rs, proceed_decision_recorded=True))
    assert filled.get("vitals_acceptable_before").value == "No"
    assert filled.warnings == (
        "Pre-dose BP 146/88 was above the guide >140/90: the form answers No; the prescriber's "
        "decision to proceed is in the session record.",
    )
    at_limit = (reading(-15, 140, 90, is_baseline=True), *SESSION.readings[1:])
    assert fill_pmf(replace(SESSION, readings=at_limit)).get("vitals_acceptable_before").value == (
        "Yes"
    )


def test_completion_vitals_outside_the_discharge_limits_answer_no():
    rs = (*SESSION.readings[:4], reading(120, 126, 80, spo2_percent=92))
    filled = fill_pmf(replace(SESSION, readings=rs))
    f = filled.get("vitals_acceptable_at_completion")
    assert f.value == "No"
    assert f.basis == "reading at 11:05 against the discharge limits: SpO2 92 % outside"


def test_low_oxygen_without_a_judgement_is_left_to_the_clinician():
    rs = (*SESSION.readings[:3], reading(60, 138, 86, spo2_percent=91), *SESSION.readings[4:])
    filled = fill_pmf(replace(SESSION, readings=rs))
    f = filled.get("respiratory_depression")
    assert f.value is None
    assert "09:05" not in f.missing and "10:05 SpO2 91 %" in f.missing
    assert any("respiratory depression recorded" in w for w in filled.warnings)
    event = PmfAdverseEvent(at(60), "Shallow breathing", AdverseEffect.RESPIRATORY_DEPRESSION)
    judged = fill_pmf(replace(SESSION, readings=rs, adverse_events=(event,)))
    assert judged.get("respiratory_depression").value == "Yes"


def test_seriousness_is_never_guessed_from_severity():
    ungraded = PmfAdverseEvent(at(30), "Vomiting (severe)", AdverseEffect.OTHER)
    f = fill_pmf(replace(SESSION, adverse_events=(ungraded,))).get("serious_adverse_event")
    assert f.value is None and "Vomiting (severe)" in f.missing
    serious = replace(ungraded, serious=True)
    filled = fill_pmf(replace(SESSION, adverse_events=(serious,)))
    assert filled.get("serious_adverse_event").value == "Yes"
    assert "A serious adverse event was recorded: report it to the REMS as well." in filled.warnings
    assert fill_pmf(replace(SESSION, adverse_events=())).get("serious_adverse_event").value == "No"


def test_sedative_hypnotics_are_left_to_the_clinician_when_the_intake_cannot_tell():
    meds = (PmfMedication("zolpidem", frozenset({ConcomitantClass.OTHER_CNS_DEPRESSANT})),)
    filled = fill_pmf(replace(SESSION, medications=meds))
    assert filled.get("conmed_sedative_hypnotics").value is None
    assert "zolpidem" in filled.get("conmed_sedative_hypnotics").missing
    no_list = fill_pmf(replace(SESSION, medications=None))
    assert no_list.get("conmed_maois").missing == (
        "no medication list on an intake: the clinician answers"
    )


def test_a_short_observation_and_an_unusual_dose_are_flagged_not_hidden():
    doses = (DeviceDose(START, 28, 1, "ESK-24A"),)
    filled = fill_pmf(replace(SESSION, doses=doses, monitoring_ended_at=at(100)))
    assert filled.get("dose_administered").value == "Other: 28 mg (1 device)"
    assert filled.get("treatment_duration_minutes").value == "100"
    assert "Monitoring lasted 100 minutes, less than the 120-minute minimum." in filled.warnings
    assert "Dose 28 mg is neither 56 nor 84 mg: the form records it as 'other'." in filled.warnings


def test_the_clinicians_answers_are_never_computed():
    filled = fill_pmf(replace(SESSION, ready_to_leave_minutes=None, rems_enrolled=None))
    assert filled.get("ready_to_leave_minutes").value is None
    assert "clinician" in filled.get("ready_to_leave_minutes").missing
    assert filled.get("rems_enrolled").value is None
    assert fill_pmf(replace(SESSION, prior_esketamine_sessions=0)).get("first_treatment").value == (
        "Yes"
    )


def test_contradictory_facts_are_refused_naming_each_field():
    with pytest.raises(InvalidPmfFacts) as refused:
        fill_pmf(
            replace(
                SESSION,
                monitoring_ended_at=at(-1),
                ready_to_leave_minutes=-5,
                prior_esketamine_sessions=-1,
            )
        )
    fields = {p.field for p in refused.value.problems}
    assert fields == {"monitoring_ended_at", "ready_to_leave_minutes", "prior_esketamine_sessions"}
    naive = replace(SESSION, doses=(DeviceDose(START.replace(tzinfo=None), 56, 2, "X"),))
    with pytest.raises(InvalidPmfFacts, match="time zone"):
        fill_pmf(naive)
    with pytest.raises(InvalidPmfFacts, match="devices"):
        fill_pmf(replace(SESSION, doses=(DeviceDose(START, 56, 0, "X"),)))


# --- the deadline -------------------------------------------------------------------------------


def test_a_friday_session_is_due_the_next_friday():
    assert filing_deadline(date(2026, 11, 20)) == date(2026, 11, 27)
    assert date(2026, 11, 27).weekday() == 4


@pytest.mark.parametrize(
    ("today", "status", "days_left"),
    [
        (date(2026, 11, 20), FilingStatus.DUE, 7),
        (date(2026, 11, 24), FilingStatus.DUE, 3),
        (date(2026, 11, 25), FilingStatus.DUE_SOON, 2),
        (date(2026, 11, 26), FilingStatus.DUE_SOON, 1),
        (date(2026, 11, 27), FilingStatus.DUE_TODAY, 0),
        (date(2026, 11, 28), FilingStatus.OVERDUE, -1),
    ],
)
def test_deadline_status_by_day(today, status, days_left):
    state = deadline_state(due_on=date(2026, 11, 27), today=today)
    assert (state.status, state.days_left, state.filed_late) == (status, days_left, False)


def test_a_filed_form_is_filed_whatever_the_day_and_says_if_it_was_late():
    due = date(2026, 11, 27)
    on_time = deadline_state(due_on=due, today=date(2027, 1, 1), filed_on=date(2026, 11, 27))
    assert (on_time.status, on_time.filed_late) == (FilingStatus.FILED, False)
    late = deadline_state(due_on=due, today=date(2026, 11, 29), filed_on=date(2026, 11, 28))
    assert (late.status, late.filed_late) == (FilingStatus.FILED, True)


_ORDER = [FilingStatus.DUE, FilingStatus.DUE_SOON, FilingStatus.DUE_TODAY, FilingStatus.OVERDUE]


@given(
    session=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    a=st.integers(min_value=-30, max_value=60),
    b=st.integers(min_value=-30, max_value=60),
)
def test_status_only_moves_forward_as_days_pass(session, a, b):
    due = filing_deadline(session)
    assert (due - session).days == 7
    early, later = sorted((a, b))
    s1 = deadline_state(due_on=due, today=session + timedelta(days=early)).status
    s2 = deadline_state(due_on=due, today=session + timedelta(days=later)).status
    assert _ORDER.index(s1) <= _ORDER.index(s2)
    assert (s2 is FilingStatus.OVERDUE) == (later > 7)


# --- properties over generated sessions -------------------------------------------------------

_minutes = st.integers(min_value=-60, max_value=300)
_bp = st.tuples(st.integers(80, 220), st.integers(40, 79)).map(lambda t: (t[0], t[0] - t[1]))
_readings = st.lists(
    st.builds(
        lambda m, bp, spo2, sed: reading(m, bp[0], bp[1], spo2_percent=spo2, sedation=sed),
        _minutes,
        _bp,
        st.integers(80, 100),
        st.sampled_from(list(SedationLevel)),
    ),
    max_size=12,
)
_doses = st.lists(
    st.builds(
        lambda m, n: DeviceDose(at(m), 28 * n, n, "LOT-1"),
        st.integers(0, 10),
        st.integers(1, 3),
    ),
    max_size=3,
)


@st.composite
def sessions(draw: st.DrawFn) -> PmfFacts:
    doses = tuple(draw(_doses))
    first = min((d.given_at for d in doses), default=START)
    end = draw(st.none() | st.integers(0, 300).map(lambda m: first + timedelta(minutes=m)))
    return replace(
        SESSION,
        doses=doses,
        readings=tuple(draw(_readings)),
        monitoring_ended_at=end,
        ready_to_leave_minutes=draw(st.none() | st.integers(0, 300)),
        prior_esketamine_sessions=draw(st.none() | st.integers(0, 20)),
        adverse_events=(),
    )


@settings(max_examples=150, deadline=None)
@given(facts=sessions(), schema=st.sampled_from(list(SCHEMAS.values())))
def test_every_field_has_a_value_or_a_reason_and_only_the_schemas_fields(facts, schema):
    filled = fill_pmf(facts, schema)
    assert tuple(f.key for f in filled.fields) == schema.keys
    for f in filled.fields:
        assert (f.value is None) == bool(f.missing), f.key
        assert f.value is None or f.basis or f.key.startswith("patient_"), f.key
    assert filled.complete == all(f.value is not None for f in filled.fields if f.required)


@settings(max_examples=150, deadline=None)
@given(facts=sessions(), extra=_readings)
def test_readings_after_the_end_of_monitoring_never_change_the_form(facts, extra):
    if facts.monitoring_ended_at is None or not facts.doses:
        return
    end = facts.monitoring_ended_at
    later = tuple(
        replace(r, taken_at=end + (r.taken_at - START) % timedelta(hours=3) + timedelta(seconds=1))
        for r in extra
    )
    assert all(r.taken_at > end for r in later)
    # Readings after the end count only for the 40-minute BP when they fall in its window.
    base = fill_pmf(facts)
    more = fill_pmf(replace(facts, readings=facts.readings + later))
    for key in ("bp_before", "bp_at_completion", "vitals_acceptable_at_completion", "sedation"):
        assert base.get(key) == more.get(key), key


@settings(max_examples=150, deadline=None)
@given(facts=sessions())
def test_duration_is_the_minutes_from_the_first_device_to_the_end(facts):
    f = fill_pmf(facts).get("treatment_duration_minutes")
    if facts.doses and facts.monitoring_ended_at is not None:
        first = min(d.given_at for d in facts.doses)
        assert f.value == str(int((facts.monitoring_ended_at - first).total_seconds() // 60))
        assert int(f.value) >= 0
    else:
        assert f.value is None


@settings(max_examples=100, deadline=None)
@given(facts=sessions())
def test_the_40_minute_value_is_a_reading_taken_in_its_window(facts):
    f = fill_pmf(facts).get("bp_40_minutes")
    if f.value is None:
        return
    first = min(d.given_at for d in facts.doses)
    taken = [
        r
        for r in facts.readings
        if r.bp == f.value and timedelta(minutes=35) <= r.taken_at - first <= timedelta(minutes=55)
    ]
    assert taken


def test_facts_fields_are_all_documented_by_some_schema_field():
    used = {name for s in SCHEMAS.values() for f in s.fields for name in f.facts_from}
    unused = {f.name for f in dataclasses.fields(PmfFacts)} - used
    assert unused == set(), unused


def test_uncharted_devices_are_said_not_counted():
    doses = (DeviceDose(START, 56, None, "ESK-24A"),)
    assert fill_pmf(replace(SESSION, doses=doses)).get("dose_administered").value == (
        "56 mg (devices not charted)"
    )
