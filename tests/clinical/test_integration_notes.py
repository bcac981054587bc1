"""Structured integration notes: each modality's fields and ranges, the window and sign warnings."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kapstone.clinical.access import Modality
from kapstone.clinical.integration_notes import (
    DEFAULT_WINDOW,
    EMDR_SCALES_SOURCE,
    MODALITY_FIELDS,
    SELF_ENERGY_SOURCE,
    WINDOW_SOURCE,
    IfsPart,
    Kind,
    PartRole,
    StructuredNote,
    WarningCode,
    dosing_session_before,
    measures,
    note_warnings,
    parse_structured,
    window_from_template,
)
from kapstone.clinical.programs import INTENSIVE_RETREAT
from tests.reference import REFERENCE

EMDR = {
    "target_memory": "The car accident, the moment of the impact",
    "negative_cognition": "I am not safe",
    "positive_cognition": "I survived; I am safe now",
    "sud_before": "8",
    "sud_after": "3",
    "voc_before": "2",
    "voc_after": "5",
    "bls_sets": "24",
}
DOSE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def fields_of(problems) -> set[str]:
    return {p.field for p in problems}


def valid_raw(modality: Modality) -> dict[str, str]:
    """Form text that every modality accepts."""
    out = {}
    for spec in MODALITY_FIELDS[modality]:
        if spec.kind is Kind.NUMBER:
            out[spec.name] = str(spec.low)
        elif spec.kind is Kind.PARTS:
            out[spec.name] = "Inner critic: manager\nThe hurt child: exile"
        else:
            out[spec.name] = f"{spec.label} text"
    return out


def test_emdr_from_the_form_text():
    note, problems = parse_structured({"emdr": EMDR, "homework": "Safe-place exercise daily\n\n"})
    assert problems == ()
    assert note is not None
    emdr = note.get(Modality.EMDR)
    assert (emdr.sud_before, emdr.sud_after, emdr.voc_before, emdr.voc_after) == (8, 3, 2, 5)
    assert emdr.bls_sets == 24
    assert note.homework == ("Safe-place exercise daily",)
    assert note.modalities == (Modality.EMDR,)


@pytest.mark.parametrize("modality", list(Modality))
def test_every_modality_accepts_its_fields_and_round_trips(modality):
    note, problems = parse_structured({modality.value: valid_raw(modality)})
    assert problems == ()
    assert note is not None and note.modalities == (modality,)
    again, problems = parse_structured(note.to_json())
    assert problems == () and again == note


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sud_before", "11"),
        ("sud_after", "-1"),
        ("voc_before", "0"),
        ("voc_after", "8"),
        ("bls_sets", "201"),
        ("sud_before", "seven"),
        ("sud_before", "7.5"),
    ],
)
def test_emdr_scale_out_of_range_is_named(field, value):
    note, problems = parse_structured({"emdr": EMDR | {field: value}})
    assert note is None
    assert fields_of(problems) == {f"emdr.{field}"}
    assert "accepts a whole number" in problems[0].message


def test_required_fields_are_named_and_nothing_else():
    raw = EMDR | {"target_memory": "  ", "voc_after": ""}
    note, problems = parse_structured({"emdr": raw})
    assert note is None
    assert fields_of(problems) == {"emdr.target_memory", "emdr.voc_after"}
    assert problems[0].message == "Target memory is required for EMDR"


def test_no_modality_is_refused():
    note, problems = parse_structured({"homework": "Walk daily"})
    assert note is None and fields_of(problems) == {"modalities"}


def test_unknown_modality_and_field_are_refused():
    _, problems = parse_structured({"hypnosis": {}, "emdr": EMDR | {"mood": "3"}})
    assert fields_of(problems) == {"hypnosis", "emdr.mood", "modalities"} - {"modalities"}


def test_ifs_parts_need_a_known_role():
    raw = {"parts": "Inner critic: manager\nThe binge: firefighter", "self_energy": "4"}
    note, problems = parse_structured({"ifs": raw})
    assert problems == ()
    assert note is not None
    assert note.get(Modality.IFS).parts == (
        IfsPart("Inner critic", PartRole.MANAGER),
        IfsPart("The binge", PartRole.FIREFIGHTER),
    )
    _, problems = parse_structured({"ifs": raw | {"parts": "Inner critic: boss"}})
    assert fields_of(problems) == {"ifs.parts"}
    assert "'boss' is not a role" in problems[0].message
    _, problems = parse_structured({"ifs": raw | {"parts": "Inner critic"}})
    assert "has no role" in problems[0].message


def test_behavioural_activation_counts_and_overlap():
    raw = {"done": "Walk\nCall Sam", "not_done": "Gym", "planned": "Walk\nCook dinner\nGym"}
    note, problems = parse_structured({"behavioural_activation": raw})
    assert problems == ()
    assert note is not None
    m = measures(note)
    assert (m.activities_done, m.activities_reviewed, m.activities_planned) == (2, 3, 3)
    _, problems = parse_structured({"behavioural_activation": raw | {"not_done": "Walk"}})
    assert fields_of(problems) == {"behavioural_activation.not_done"}


def test_measures_are_none_where_a_modality_was_not_used():
    note, _ = parse_structured(
        {"emdr": EMDR, "ifs": {"parts": "Critic: manager", "self_energy": "6"}}
    )
    assert note is not None
    m = measures(note)
    assert (m.sud_change, m.voc_change, m.self_energy, m.parts_met) == (-5, 3, 6, 1)
    assert m.activities_done is None and m.exposure_sud_peak is None


# --- properties ---------------------------------------------------------------------------------

scores = st.integers(min_value=-20, max_value=30)


@given(sud_before=scores, sud_after=scores, voc_before=scores, voc_after=scores)
def test_emdr_accepts_exactly_the_protocol_ranges(sud_before, sud_after, voc_before, voc_after):
    raw = EMDR | {
        "sud_before": sud_before,
        "sud_after": sud_after,
        "voc_before": voc_before,
        "voc_after": voc_after,
    }
    note, problems = parse_structured({"emdr": raw})
    expected_bad = {
        f"emdr.{name}"
        for name, value, low, high in (
            ("sud_before", sud_before, 0, 10),
            ("sud_after", sud_after, 0, 10),
            ("voc_before", voc_before, 1, 7),
            ("voc_after", voc_after, 1, 7),
        )
        if not low <= value <= high
    }
    assert fields_of(problems) == expected_bad
    assert (note is None) == bool(expected_bad)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
modality_keys = st.sampled_from([m.value for m in Modality] + ["homework", "other"])


@given(
    st.dictionaries(
        modality_keys,
        st.dictionaries(
            st.sampled_from(sorted({s.name for f in MODALITY_FIELDS.values() for s in f})),
            json_values,
            max_size=6,
        )
        | json_values,
        max_size=4,
    )
)
# Hypothesis draws these only now and then (from string constants in other test modules): digits
# int() refuses ("²", "①") and a doubled minus once raised ValueError instead of naming the field.
@example({"emdr": {"sud_before": "²"}})
@example({"exposure": {"minutes": "①"}})
@example({"ifs": {"self_energy": "--1"}})
@example({"emdr": {"bls_sets": "9" * 5000}})
def test_any_document_gives_a_note_or_problems_never_an_exception(document):
    note, problems = parse_structured(document)
    assert (note is None) == bool(problems)
    if note is not None:
        again, more = parse_structured(note.to_json())
        assert more == () and again == note


@given(st.sampled_from(list(Modality)), st.data())
def test_stored_notes_round_trip(modality, data):
    raw = {}
    for spec in MODALITY_FIELDS[modality]:
        if spec.kind is Kind.NUMBER:
            raw[spec.name] = data.draw(st.integers(spec.low, spec.high))
        elif spec.kind is Kind.PARTS:
            roles = st.sampled_from(list(PartRole))
            names = st.text("abcdefgh ", min_size=1, max_size=12).filter(str.strip)
            parts = data.draw(st.lists(st.tuples(names, roles), min_size=1, max_size=4))
            raw[spec.name] = [{"name": n.strip(), "role": r.value} for n, r in parts]
        else:
            raw[spec.name] = f"{spec.name} text"  # distinct: done and not done never overlap
    note, problems = parse_structured({modality.value: raw})
    assert problems == ()
    assert isinstance(note, StructuredNote)
    assert parse_structured(note.to_json()) == (note, ())


# --- the window and signing warnings ------------------------------------------------------------


def warn(**overrides):
    kwargs = {
        "dose_at": DOSE,
        "held_at": DOSE + timedelta(hours=4),
        "minutes": 75,
        "window": DEFAULT_WINDOW,
        "used": [Modality.EMDR],
        "planned": frozenset({Modality.EMDR}),
        "credentialed": frozenset({Modality.EMDR}),
    } | overrides
    return {w.code for w in note_warnings(**kwargs)}


def test_a_note_as_planned_has_no_warnings():
    assert warn() == set()


def test_window_edges():
    assert warn(held_at=DOSE + timedelta(hours=24)) == set()
    assert warn(held_at=DOSE + timedelta(hours=24, minutes=1)) == {WarningCode.OUTSIDE_WINDOW}
    assert warn(held_at=DOSE - timedelta(minutes=1)) == {WarningCode.BEFORE_DOSE}
    assert warn(dose_at=None) == {WarningCode.NO_DOSE}


def test_the_programs_window_is_used():
    window = window_from_template(INTENSIVE_RETREAT.integration)
    assert (window.within_hours, window.minutes_min, window.minutes_max) == (24, 60, 90)
    wide = window_from_template(
        type(INTENSIVE_RETREAT.integration)(True, 60, 90, 72, INTENSIVE_RETREAT.integration.source)
    )
    assert warn(window=wide, held_at=DOSE + timedelta(hours=48)) == set()


def test_length_plan_and_credential_warnings():
    assert warn(minutes=59) == {WarningCode.LENGTH}
    assert warn(minutes=60) == warn(minutes=90) == set()
    assert warn(minutes=91) == {WarningCode.LENGTH}
    assert warn(used=[Modality.EMDR, Modality.IFS]) == {
        WarningCode.NOT_IN_PLAN,
        WarningCode.NOT_CREDENTIALED,
    }
    assert warn(planned=None, used=[Modality.IFS], credentialed=frozenset({Modality.IFS})) == set()


@given(st.integers(min_value=0, max_value=24 * 60), st.integers(min_value=1, max_value=24 * 60))
def test_later_never_removes_the_window_warning(minutes_after, more):
    early = warn(held_at=DOSE + timedelta(minutes=minutes_after))
    late = warn(held_at=DOSE + timedelta(minutes=minutes_after + more))
    assert WarningCode.OUTSIDE_WINDOW not in early - late


def test_the_dose_before():
    doses = [(1, DOSE), (2, DOSE + timedelta(days=2)), (3, DOSE + timedelta(days=4))]
    assert dosing_session_before(DOSE + timedelta(days=2, hours=3), doses) == doses[1]
    assert dosing_session_before(DOSE - timedelta(hours=1), doses) is None
    assert dosing_session_before(DOSE + timedelta(days=9), doses) == doses[2]


def test_sources_are_in_the_reference_and_are_clinic_policy():
    text = REFERENCE.read_text(encoding="utf-8")
    sections = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", text, flags=re.MULTILINE))
    for source in (EMDR_SCALES_SOURCE, SELF_ENERGY_SOURCE, WINDOW_SOURCE):
        assert source.key[1:] in sections
        assert source.is_clinic_policy
    for specs in MODALITY_FIELDS.values():
        for spec in specs:
            if spec.kind is Kind.NUMBER and spec.name in {"sud_before", "voc_after", "self_energy"}:
                assert spec.source is not None
