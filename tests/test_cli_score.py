"""``kapstone score``: five-key JSON on stdout, or exit 2 with a JSON problem list on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kapstone.cli import main

KEYS = ["instrument", "total", "severity", "subscales", "flags"]
PHQ9 = {"1": 3, "2": 0, "3": 1, "4": 2, "5": 0, "6": 0, "7": 1, "8": 0, "9": 3, "10": 1}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["score", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_prints_one_json_object_with_the_five_keys(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "phq9", "--answers", json.dumps(PHQ9))
    assert status == 0
    assert err == ""
    assert out.count("\n") == 1
    result = json.loads(out)
    assert list(result) == KEYS
    assert result == {
        "instrument": "phq9",
        "total": 10,
        "severity": "moderate",
        "subscales": {},
        "flags": ["suicide_risk", "other_depressive_syndrome"],
    }


def test_subscales_and_null_total(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "pcl5", "--answers", json.dumps({str(i): 2 for i in range(1, 21)}))
    assert status == 0
    result = json.loads(out)
    clusters = {"cluster_b": 10, "cluster_c": 4, "cluster_d": 14, "cluster_e": 12}
    assert result["subscales"] == clusters
    assert result["flags"] == ["provisional_ptsd", "probable_ptsd"]
    answers = {"1": True, "2": True, "3": False, "4": True, "5": False, "6": True, "6b": False}
    status, out, _ = run(capsys, "cssrs_screen", "--answers", json.dumps(answers))
    assert status == 0
    assert json.loads(out) == {
        "instrument": "cssrs_screen",
        "total": None,
        "severity": "high",
        "subscales": {},
        "flags": ["suicide_risk"],
    }


def test_mdq_keys(capsys: pytest.CaptureFixture[str]) -> None:
    answers = {f"1{c}": True for c in "abcdefghijklm"} | {"2": True, "3": 3}
    status, out, _ = run(capsys, "mdq", "--answers", json.dumps(answers))
    assert status == 0
    assert json.loads(out)["flags"] == ["positive_screen"]


def test_bad_answers_exit_2_naming_every_item(capsys: pytest.CaptureFixture[str]) -> None:
    answers = {"1": 4, "2": True, "3": 1, "4": 1, "5": 1, "6": 1, "7": 1, "8": 1, "12": 0}
    status, out, err = run(capsys, "phq9", "--answers", json.dumps(answers))
    assert status == 2
    assert out == ""
    problems = json.loads(err)
    assert {p["item"] for p in problems} == {"1", "2", "9", "12"}
    assert all(set(p) == {"item", "problem", "accepts"} for p in problems)
    by_item = {p["item"]: p for p in problems}
    assert by_item["1"] == {
        "item": "1",
        "problem": "4 is out of range",
        "accepts": "an integer 0-3",
    }
    assert by_item["9"]["problem"] == "missing"


def test_unknown_instrument_exit_2_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "phq-9", "--answers", "{}")
    assert (status, out) == (2, "")
    [problem] = json.loads(err)
    assert problem["problem"] == "unknown instrument 'phq-9'"
    assert "cssrs_screen" in problem["accepts"]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [("{'1': 2}", "is not valid JSON"), ("[1, 2]", "not an object"), ("", "is not valid JSON")],
)
def test_unparsable_answers_exit_2(
    capsys: pytest.CaptureFixture[str], raw: str, fragment: str
) -> None:
    status, out, err = run(capsys, "gad7", "--answers", raw)
    assert (status, out) == (2, "")
    [problem] = json.loads(err)
    assert fragment in problem["problem"]


def test_missing_answers_option_exit_2_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "gad7")
    assert status == 2
    assert "--answers" in json.loads(err)[0]["problem"]


def test_answers_from_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "gad7.json"
    path.write_text(json.dumps({str(i): 2 for i in range(1, 8)}), encoding="utf-8")
    status, out, _ = run(capsys, "gad7", "--answers", f"@{path}")
    assert status == 0
    assert json.loads(out)["total"] == 14
    status, out, err = run(capsys, "gad7", "--answers", f"@{tmp_path / 'absent.json'}")
    assert (status, out) == (2, "")
    assert "cannot read" in json.loads(err)[0]["problem"]


def test_installed_console_script() -> None:
    script = Path(sys.executable).with_name("kapstone")
    assert script.exists(), "kapstone console script not installed beside the interpreter"
    done = subprocess.run(
        [str(script), "score", "phq9", "--answers", json.dumps(PHQ9)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert list(json.loads(done.stdout)) == KEYS
    refused = subprocess.run(
        [str(script), "score", "gad7", "--answers", '{"1": 9}'],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert len(json.loads(refused.stderr)) == 7
