"""The research export's de-identification core: Safe Harbor as data, day offsets, age bands,
pseudonyms and k-anonymity, with hypothesis properties (no identifier survives; order is kept; k is
the brute-force k)."""

from __future__ import annotations

import datetime as dt
import random
import re
import string
from collections.abc import Sequence
from dataclasses import fields
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.interop.deidentify import (
    PATIENT_FIELDS,
    SAFE_HARBOR,
    TABLES,
    DeidentificationPolicy,
    FirstContactSource,
    Handling,
    IdentifierClass,
    SourceDose,
    SourceDosingSession,
    SourceIntegrationSession,
    SourcePatient,
    SourceScore,
    age_band,
    age_on,
    build_dataset,
    day_offset,
    first_contact,
    k_anonymity,
    pseudonyms,
    site_codes,
)

ZONE = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def patient(key: int, **changes: object) -> SourcePatient:
    base: dict[str, object] = {
        "key": key,
        "mrn": f"MRN-{key:05d}",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "preferred_name": "",
        "date_of_birth": dt.date(1985, 12, 10),
        "sex_at_birth": "female",
        "gender_identity": "",
        "pronouns": "",
        "phone": "",
        "email": "",
        "address": "",
        "emergency_contact_name": "",
        "emergency_contact_relationship": "",
        "emergency_contact_phone": "",
        "referral_source": "self",
        "referrer_name": "",
        "site_key": 1,
        "registered_at": dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC),
        "first_questionnaire_at": None,
        "program": "standard_induction",
        "route": "iv",
    }
    base.update(changes)
    return SourcePatient(**base)  # type: ignore[arg-type]


def build(patients: Sequence[SourcePatient], **kwargs: object):
    return build_dataset(
        patients=patients,
        scores=kwargs.pop("scores", ()),  # type: ignore[arg-type]
        dosing=kwargs.pop("dosing", ()),  # type: ignore[arg-type]
        integration=kwargs.pop("integration", ()),  # type: ignore[arg-type]
        zone=ZONE,
        rng=random.Random(kwargs.pop("seed", 7)),
        now=NOW,
        **kwargs,  # type: ignore[arg-type]
    )


# --- Safe Harbor as data ---------------------------------------------------------------------


def test_every_safe_harbor_class_has_exactly_one_rule():
    assert [rule.identifier for rule in SAFE_HARBOR] == list(IdentifierClass)
    assert len(SAFE_HARBOR) == 18


@pytest.mark.parametrize("rule", SAFE_HARBOR, ids=lambda r: f"{r.identifier.value}")
def test_a_rule_says_not_held_exactly_when_kapstone_holds_nothing_of_it(rule):
    assert (rule.handling is Handling.NOT_HELD) == (rule.held == ())
    assert rule.how and rule.identifier.label


def test_every_field_of_the_patient_record_has_a_rule():
    assert set(PATIENT_FIELDS) == {f.name for f in fields(SourcePatient)}
    identifying = {n for n, r in PATIENT_FIELDS.items() if r.identifier is not None}
    # What is dropped or transformed is never a column of any table, by name.
    columns = {c.name for table in TABLES for c in table.columns}
    assert identifying & columns == set()


# --- first contact, offsets, ages ------------------------------------------------------------


def test_first_contact_is_the_earlier_of_registration_and_first_questionnaire():
    registered = dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC)
    earlier = registered - dt.timedelta(days=3)
    assert first_contact(registered, None).source is FirstContactSource.REGISTRATION
    assert first_contact(registered, earlier).at == earlier
    assert first_contact(registered, earlier).source is FirstContactSource.QUESTIONNAIRE
    later = registered + dt.timedelta(days=1)
    assert first_contact(registered, later).source is FirstContactSource.REGISTRATION


def test_day_offsets_count_calendar_days_in_the_clinic_zone():
    anchor = dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC)  # 10:00 in New York
    assert day_offset(anchor, anchor, ZONE) == 0
    # 03:00 UTC on the 3rd is still the 2nd in New York.
    assert day_offset(anchor, dt.datetime(2026, 3, 3, 3, tzinfo=dt.UTC), ZONE) == 0
    assert day_offset(anchor, dt.datetime(2026, 3, 3, 6, tzinfo=dt.UTC), ZONE) == 1
    assert day_offset(anchor, dt.datetime(2026, 2, 28, 18, tzinfo=dt.UTC), ZONE) == -2


instants = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2040, 1, 1), timezones=st.just(dt.UTC)
)


@given(anchor=instants, a=instants, b=instants)
def test_offsets_preserve_order(anchor, a, b):
    early, late = sorted((a, b))
    assert day_offset(anchor, early, ZONE) <= day_offset(anchor, late, ZONE)


@given(age=st.integers(0, 130), width=st.integers(1, 30))
def test_age_bands_hold_the_age_and_group_everyone_over_89(age, width):
    band = age_band(age, width)
    if age > 89:
        assert band == "90+"
    else:
        low, high = (int(x) for x in band.split("-"))
        assert low <= age <= high <= 89
        assert high - low < width


def test_age_bands_of_the_default_width():
    assert [age_band(a) for a in (18, 29, 30, 89, 90, 104)] == [
        "10-19",
        "20-29",
        "30-39",
        "80-89",
        "90+",
        "90+",
    ]
    assert age_on(dt.date(1936, 3, 3), dt.date(2026, 3, 2)) == 89
    assert age_on(dt.date(1936, 3, 2), dt.date(2026, 3, 2)) == 90


def test_pseudonyms_are_random_unique_and_not_derived_from_the_key():
    keys = range(1, 2001)
    first = pseudonyms(keys, random.Random(1))
    second = pseudonyms(keys, random.Random(2))
    assert len(set(first.values())) == 2000
    assert all(first[k] != second[k] for k in keys)
    # Drawn in key order from the generator alone: other keys, same draws.
    same_draws = pseudonyms([10_000, 20_000, 30_000], random.Random(1))
    assert list(same_draws.values()) == [first[1], first[2], first[3]]


def test_site_codes_are_shuffled():
    orders = {
        tuple(sorted(site_codes(range(6), random.Random(seed)).items())) for seed in range(20)
    }
    assert len(orders) > 1


# --- k-anonymity -----------------------------------------------------------------------------

QI = ("age_band", "sex_at_birth", "site")
qi_rows = st.lists(
    st.fixed_dictionaries(
        {
            "age_band": st.sampled_from(["20-29", "30-39", "90+"]),
            "sex_at_birth": st.sampled_from(["female", "male"]),
            "site": st.sampled_from(["site-1", "site-2"]),
        }
    ),
    max_size=40,
)


@given(rows=qi_rows, threshold=st.integers(1, 6))
def test_k_is_the_brute_force_k(rows, threshold):
    report = k_anonymity(rows, QI, threshold)
    # Brute force: for each row, how many rows share all its quasi-identifiers.
    sizes = [sum(all(o[q] == r[q] for q in QI) for o in rows) for r in rows]
    assert report.k == (min(sizes) if sizes else 0)
    assert report.rows == len(rows) == sum(c.size for c in report.classes)
    below = sorted(c.values for c in report.below_threshold)
    assert below == sorted(
        {tuple(r[q] for q in QI) for r, n in zip(rows, sizes, strict=True) if n < threshold}
    )


def test_k_report_by_hand():
    rows = (
        [{"age_band": "30-39", "sex_at_birth": "female", "site": "site-1"}] * 3
        + [{"age_band": "90+", "sex_at_birth": "male", "site": "site-1"}]
        + [{"age_band": "30-39", "sex_at_birth": "male", "site": "site-2"}] * 6
    )
    report = k_anonymity(rows, QI, 5)
    assert report.k == 1
    assert [(c.values, c.size) for c in report.classes] == [
        (("30-39", "male", "site-2"), 6),
        (("30-39", "female", "site-1"), 3),
        (("90+", "male", "site-1"), 1),
    ]
    assert [c.size for c in report.below_threshold] == [3, 1]


def test_suppression_removes_small_classes_from_every_table():
    small = [patient(i, sex_at_birth="male", date_of_birth=dt.date(1930, 1, 1)) for i in (1, 2)]
    large = [patient(i) for i in range(3, 9)]
    session = SourceDosingSession(
        patient_key=1,
        session_key=10,
        starts_at=NOW - dt.timedelta(days=2),
        ends_at=NOW - dt.timedelta(days=2) + dt.timedelta(hours=2),
        status="completed",
        route="iv",
        site_key=1,
        charted=True,
        doses=(SourceDose(NOW - dt.timedelta(days=2), None, 35.0, "iv", 35.0, None),),
    )
    kept = build(small + large, dosing=[session], suppress=True)
    assert kept.k_report.k == 2 and kept.k_report.suppressed == 2 and kept.k_report.k_after == 6
    assert len(kept.table("patients").rows) == 6
    assert kept.table("dosing_sessions").rows == () == kept.table("dose_administrations").rows
    unsuppressed = build(small + large, dosing=[session])
    assert unsuppressed.k_report.suppressed == 0 and unsuppressed.k_report.k_after is None
    assert len(unsuppressed.table("dosing_sessions").rows) == 1


def test_policy_refuses_unknown_quasi_identifiers():
    with pytest.raises(ValueError, match="unknown quasi-identifiers"):
        DeidentificationPolicy(quasi_identifiers=("age_band", "mrn"))


# --- no identifier survives ------------------------------------------------------------------

# Distinctive text: letters only, long enough that it cannot occur by chance in a code or number.
distinct = st.text(alphabet=string.ascii_letters, min_size=8, max_size=20).map(lambda s: "Zq" + s)
births = st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(2006, 1, 1))
registrations = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2026, 6, 1), timezones=st.just(dt.UTC)
)


@st.composite
def identified(draw) -> tuple[SourcePatient, SourceScore, SourceDosingSession]:
    key = draw(st.integers(1, 10_000))
    registered = draw(registrations)
    person = patient(
        key,
        mrn=draw(distinct),
        given_name=draw(distinct),
        family_name=draw(distinct),
        preferred_name=draw(distinct),
        date_of_birth=draw(births),
        gender_identity=draw(distinct),
        pronouns=draw(distinct),
        phone="+1 " + draw(st.from_regex(r"[2-9]\d{2}-555-\d{4}", fullmatch=True)),
        email=draw(distinct) + "@example.invalid",
        address=draw(distinct) + " Street",
        emergency_contact_name=draw(distinct),
        emergency_contact_relationship=draw(distinct),
        emergency_contact_phone="+1 "
        + draw(st.from_regex(r"[2-9]\d{2}-555-\d{4}", fullmatch=True)),
        referrer_name=draw(distinct),
        registered_at=registered,
        first_questionnaire_at=registered - dt.timedelta(days=draw(st.integers(0, 30))),
    )
    at = registered + dt.timedelta(days=draw(st.integers(1, 100)), hours=draw(st.integers(0, 23)))
    score = SourceScore(key, 99, at, "phq9", "1", 12, "moderate", False, "scoring-1", (("1", 2),))
    session = SourceDosingSession(
        patient_key=key,
        session_key=5,
        starts_at=at - dt.timedelta(days=1),
        ends_at=at - dt.timedelta(days=1) + dt.timedelta(hours=2),
        status="completed",
        route="iv",
        site_key=3,
    )
    return person, score, session


def _strings(person: SourcePatient) -> list[str]:
    texts = [
        getattr(person, name)
        for name, rule in PATIENT_FIELDS.items()
        if rule.identifier is not None and isinstance(getattr(person, name), str)
    ]
    born = person.date_of_birth
    dates = [born.isoformat(), born.strftime("%m/%d/%Y"), person.registered_at.date().isoformat()]
    return [t for t in texts if t] + dates


@settings(max_examples=60, deadline=None)
@given(identified())
def test_no_output_row_holds_any_input_identifier(case):
    person, score, session = case
    integration = SourceIntegrationSession(
        person.key,
        77,
        5,
        session.starts_at + dt.timedelta(hours=4),
        session.starts_at + dt.timedelta(hours=5),
        "completed",
        "emdr",
        (("distress_suds", 3.0),),
    )
    dataset = build([person], scores=[score], dosing=[session], integration=[integration])
    secrets = _strings(person)
    for table in dataset.tables:
        for row in table.rows:
            for cell in row:
                text = str(cell)
                assert not any(s in text for s in secrets), (table.name, text)
    (row,) = dataset.table("patients").dicts()
    assert re.fullmatch(r"p-[0-9a-f]{12}", str(row["patient_id"]))
    (score_row,) = dataset.table("questionnaire_scores").dicts()
    contact = min(person.registered_at, person.first_questionnaire_at)
    assert score_row["day"] == day_offset(contact, score.at, ZONE)
    assert score_row["hours_after_last_dose"] == round(
        (score.at - session.starts_at).total_seconds() / 3600, 1
    )
