"""``kapstone eligibility``: the decision as JSON on stdout; bad facts as JSON problems, exit 2."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kapstone.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "eligibility-facts.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["eligibility", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_example_file_prints_the_decision(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--facts", str(EXAMPLE))
    assert code == 0, err
    result = json.loads(out)
    assert result["decision"] == "eligible_with_precautions"
    assert [f["rule_id"] for f in result["findings"]] == [
        "M-BZD",
        "M-CNS",
        "M-LAMO",
        "I-HTN",
        "I-REPRO",
    ]
    assert result["assessed_on"] == "2026-11-02"
    assert result["policy_version"] == "default-2026-11"
    assert result["rule_set_version"].startswith("eligibility-rules-")
    derived = result["derived"]
    assert derived["treatment_resistant_depression"] is True
    assert [t["drug"] for t in derived["trials"] if t["counted"]] == ["sertraline", "venlafaxine"]
    bzd = result["findings"][0]
    assert bzd["kind"] == "relative"
    assert bzd["source"] == {
        "key": "ANDRASHKO2020",
        "verification": "verified",
        "evidence": "published_practice",
        "note": bzd["source"]["note"],
    }
    assert bzd["required_action"]


def test_stdin_and_screening_date(capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> None:
    facts = json.loads(EXAMPLE.read_text())
    facts["cssrs_risk"] = "high"
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(facts)))
    code, out, err = run(capsys, "--facts", "-", "--on", "2026-11-09")
    assert code == 0, err
    result = json.loads(out)
    assert result["decision"] == "urgent_safety_review"
    assert result["assessed_on"] == "2026-11-09"
    assert "C20" in [f["rule_id"] for f in result["findings"]]


def test_bad_facts_exit_2_with_every_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    facts = json.loads(EXAMPLE.read_text())
    facts["age_years"] = "forty-seven"
    facts["medications"][0].pop("diazepam_equivalent_mg_per_day")
    facts["cssrs_risk"] = "severe"
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(facts))
    code, out, err = run(capsys, "--facts", str(path))
    assert code == 2
    assert out == ""
    problems = json.loads(err)
    assert {p["path"] for p in problems} == {
        "age_years",
        "medications[0].diazepam_equivalent_mg_per_day",
        "cssrs_risk",
    }
    cssrs = next(p for p in problems if p["path"] == "cssrs_risk")
    assert cssrs["accepted"] == "one of: none, low, moderate, high"


@pytest.mark.parametrize(
    ("argv", "stdin", "path"),
    [
        (["--facts", "-"], "{not json", "$"),
        (["--facts", "-"], "[1, 2]", "$"),
        (["--facts", "/nonexistent/facts.json"], "", "--facts"),
        (["--facts", str(EXAMPLE), "--on", "02/11/2026"], "", "--on"),
        (["--facts", str(EXAMPLE), "--on", "2026-11-01"], "", "recorded_on"),
        ([], "", "argv"),
    ],
)
def test_unusable_input_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: Any, argv: list[str], stdin: str, path: str
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert path in {p["path"] for p in json.loads(err)}


def test_console_command_runs_without_django() -> None:
    script = (
        "import sys; from kapstone.cli import main; "
        f"code = main(['eligibility', '--facts', {str(EXAMPLE)!r}]); "
        "assert 'django' not in sys.modules, 'django imported'; sys.exit(code)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["decision"] == "eligible_with_precautions"


def test_documentation_lists_every_rule_and_embeds_the_example() -> None:
    from kapstone.clinical.eligibility import RULES

    doc = (ROOT / "docs" / "eligibility-facts.md").read_text()
    for rule in RULES:
        assert f"| {rule.id} |" in doc, rule.id
    embedded = doc.split("```json", 1)[1].split("```", 1)[0]
    assert json.loads(embedded) == json.loads(EXAMPLE.read_text())
