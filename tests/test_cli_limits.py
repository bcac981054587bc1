"""The pure commands answer every bad input with exit 2 and their JSON problems, never a traceback
(issue 14, point 7): deep nesting, huge integers, non-finite numbers, Unicode digits, wrong types,
and ``dose --sessions 1000000`` is refused at once instead of running away."""

from __future__ import annotations

import json
import time

import pytest

from kapstone.cli import main
from kapstone.clinical.plausibility import MAX_SCHEDULE_SESSIONS

DEEP = "[" * 100_000 + "]" * 100_000
BAD_JSON = [
    (DEEP, "nested more than 32 levels deep"),
    ('{"1": ' + "9" * 5000 + "}", "a number of 5,000 digits is not plausible"),
    ('{"1": NaN}', "NaN is not a number JSON allows"),
    ('{"1": -Infinity}', "-Infinity is not a number JSON allows"),
    ('{"1": 1e999}', "1e999 is not a finite number"),
    ('{"1": ', "not valid JSON"),
]


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def problems(err: str) -> list[dict[str, object]]:
    parsed = json.loads(err)
    assert isinstance(parsed, list) and parsed
    return parsed


@pytest.mark.parametrize(("text", "says"), BAD_JSON)
def test_score_refuses_unusable_json(capsys, text, says):
    code, out, err = run(capsys, "score", "phq9", "--answers", text)
    assert (code, out) == (2, "")
    assert says in problems(err)[0]["problem"]  # type: ignore[operator]


@pytest.mark.parametrize("answers", [{"1": [2]}, {"1": "two"}, {"1": {"a": 1}}, {"1": True}])
def test_score_refuses_wrong_types(capsys, answers):
    code, out, err = run(capsys, "score", "phq9", "--answers", json.dumps(answers))
    assert (code, out) == (2, "")
    assert any(p["item"] == "1" for p in problems(err))


@pytest.mark.parametrize(("text", "says"), BAD_JSON)
def test_eligibility_refuses_unusable_json(capsys, tmp_path, text, says):
    facts = tmp_path / "facts.json"
    facts.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "eligibility", "--facts", str(facts))
    assert (code, out) == (2, "")
    assert says in problems(err)[0]["message"]  # type: ignore[operator]


def test_eligibility_refuses_wrong_types_and_binary_files(capsys, tmp_path):
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"recorded_on": 5, "age_years": "forty"}), encoding="utf-8")
    code, _, err = run(capsys, "eligibility", "--facts", str(facts))
    paths = {p["path"] for p in problems(err)}
    assert code == 2 and {"recorded_on", "age_years"} <= paths
    facts.write_bytes(b"\xff\xfe\x00garbage")
    code, _, err = run(capsys, "eligibility", "--facts", str(facts))
    assert code == 2 and problems(err)[0]["message"] == "not UTF-8 text"


def test_eligibility_refuses_dates_before_1900(capsys, tmp_path):
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"recorded_on": "1800-01-01"}), encoding="utf-8")
    code, _, err = run(capsys, "eligibility", "--facts", str(facts))
    assert code == 2
    assert any(
        p["path"] == "recorded_on" and p["accepted"] == "a date from 1900 on" for p in problems(err)
    )


@pytest.mark.parametrize("sessions", ["1000000", "0", "-3", "²", "٣", "9" * 5000, "2.5"])
def test_dose_sessions_are_capped_and_read_strictly(capsys, sessions):
    started = time.monotonic()
    code, out, err = run(
        capsys, "dose", "--route", "sc", "--weight-kg", "70", "--ascending", "--sessions", sessions
    )
    assert time.monotonic() - started < 5
    assert (code, out) == (2, "")
    refused = problems(err)
    assert refused[0]["field"] == "sessions"
    assert f"a whole number from 1 to {MAX_SCHEDULE_SESSIONS}" in refused[0]["accepts"]  # type: ignore[operator]


def test_the_longest_plausible_course_is_computed(capsys):
    code, out, err = run(
        capsys,
        "dose", "--route", "sc", "--weight-kg", "70", "--ascending",
        "--concentration-mg-per-ml", "50", "--sessions", str(MAX_SCHEDULE_SESSIONS),
    )  # fmt: skip
    assert code == 0, err
    assert len(json.loads(out)["schedule"]) == MAX_SCHEDULE_SESSIONS


@pytest.mark.parametrize(
    "value", ["7²", "٧٠", "７０", "1e999999999", "9" * 5000, "NaN", "Infinity", "0x46"]
)
def test_dose_numbers_take_ascii_digits_only(capsys, value):
    code, out, err = run(
        capsys, "dose", "--route", "iv", "--weight-kg", value, "--mg-per-kg", "0.5"
    )
    assert (code, out) == (2, "")
    refused = problems(err)
    assert refused[0]["field"] == "weight_kg" and "is not a number" in refused[0]["problem"]  # type: ignore[operator]
    assert len(err) < 2000  # a 5,000-digit argument is not echoed back whole


def test_dose_steps_are_capped(capsys):
    steps = ",".join(["0.5"] * (MAX_SCHEDULE_SESSIONS + 1))
    code, _, err = run(
        capsys, "dose", "--route", "sc", "--weight-kg", "70", "--ascending", "--steps", steps
    )
    assert code == 2 and problems(err)[0]["field"] == "steps"
