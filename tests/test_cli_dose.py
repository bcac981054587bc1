"""``kapstone dose``: JSON on stdout, refusals as a JSON list of problems on stderr with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kapstone.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["dose", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_iv_standard_infusion(capsys):
    code, out, err = run(
        capsys,
        "--route", "iv",
        "--weight-kg", "70",
        "--mg-per-kg", "0.5",
        "--concentration-mg-per-ml", "10",
        "--minutes", "40",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert result["dose_mg"] == 35
    assert result["volume_ml"] == 3.5
    assert result["rate_ml_per_hour"] == 5.25
    assert result["rate_mg_per_min"] == 0.875
    assert result["policy_version"] == "default-2026-11"
    assert {c["name"] for c in result["ceilings"]} >= {"absolute dose", "weight-based dose"}


def test_esketamine_56_mg_is_two_devices(capsys):
    code, out, _ = run(capsys, "--route", "intranasal_esketamine", "--mg", "56")
    assert code == 0
    result = json.loads(out)
    assert result["dose_mg"] == 56
    assert result["units"] == [{"unit": "device", "strength_mg": 28, "count": 2}]


def test_refusal_exits_2_with_every_problem_on_stderr(capsys):
    code, out, err = run(
        capsys,
        "--route", "iv",
        "--weight-kg", "20",
        "--mg-per-kg", "2",
        "--concentration-mg-per-ml", "10",
        "--minutes", "40",
    )  # fmt: skip
    assert code == 2
    assert out == ""
    problems = json.loads(err)
    assert {p["field"] for p in problems} == {"weight_kg", "mg_per_kg"}
    assert all(set(p) == {"field", "problem", "accepts"} for p in problems)


def test_esketamine_by_weight_is_refused(capsys):
    code, _, err = run(
        capsys, "--route", "intranasal_esketamine", "--weight-kg", "70", "--mg-per-kg", "0.5"
    )
    assert code == 2
    assert "by device" in json.loads(err)[0]["problem"]


def test_unknown_route_and_bad_numbers_are_json_problems(capsys):
    code, _, err = run(capsys, "--route", "rectal", "--mg", "10")
    assert code == 2
    assert json.loads(err)[0]["field"] == "route"
    code, _, err = run(capsys, "--route", "oral", "--weight-kg", "seventy", "--mg", "100")
    assert code == 2
    assert json.loads(err) == [
        {
            "field": "weight_kg",
            "problem": "'seventy' is not a number",
            "accepts": "a decimal number",
        }
    ]


def test_missing_route_is_a_json_problem_not_argparse_usage(capsys):
    code, _, err = run(capsys, "--mg", "56")
    assert code == 2
    assert json.loads(err)[0]["field"] == "arguments"


def test_ascending_schedule(capsys):
    code, out, err = run(
        capsys,
        "--route", "sc",
        "--weight-kg", "80",
        "--concentration-mg-per-ml", "50",
        "--ascending",
        "--sessions", "4",
    )  # fmt: skip
    assert code == 0, err
    schedule = json.loads(out)["schedule"]
    assert [s["session"] for s in schedule] == [1, 2, 3, 4]
    assert [s["dose_mg"] for s in schedule] == [20, 40, 80, 80]


def test_installed_console_script():
    script = Path(sys.executable).parent / "kapstone"
    done = subprocess.run(
        [str(script), "dose", "--route", "intranasal_esketamine", "--mg", "84"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["units"][0]["count"] == 3
    refused = subprocess.run(
        [str(script), "dose", "--route", "intranasal_esketamine", "--mg", "70"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert json.loads(refused.stderr)[0]["field"] == "mg"
