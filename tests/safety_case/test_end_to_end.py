"""A tiny pytest run in a subprocess, over two xdist workers, records its outcomes with the plugin;
the check then fails on the log whose control names the failing test, and holds on one that names
only tests that passed (a parametrised one by its base id)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from kapstone.safety_case import cli
from tests.safety_case.test_check import synthetic

TINY_TESTS = """
import pytest

def test_passes():
    pass

def test_fails():
    assert 1 + 1 == 3

@pytest.mark.parametrize("route", ["iv", "im"])
def test_every_route(route):
    pass

@pytest.mark.skip(reason="proves nothing")
def test_skipped():
    pass
"""


def project(root: Path, tests: list[str]) -> None:
    """A repository of its own: one test file, one module, the reference and a hazard log."""
    (root / "tests").mkdir()
    (root / "tests" / "test_tiny.py").write_text(TINY_TESTS)
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "src" / "kapstone" / "clinical").mkdir(parents=True)
    (root / "src" / "kapstone" / "clinical" / "dosing.py").write_text("def calculate_dose(): ...\n")
    (root / "docs" / "safety").mkdir(parents=True)
    (root / "docs" / "clinical-reference.md").write_text(
        "## 0. Keys\n\n| Key | Citation |\n|---|---|\n| SPRAVATO-US | the label |\n\n## 3. Dosing\n"
    )
    data = synthetic()
    data["hazards"][0]["controls"][0]["tests"] = [tests[0]]
    data["hazards"][0]["controls"][1]["tests"] = tests[1:]
    (root / "docs" / "safety" / "hazards.yaml").write_text(yaml.safe_dump(data))


def test_a_failing_control_fails_the_check_end_to_end(tmp_path, capsys):
    project(tmp_path, ["tests/test_tiny.py::test_passes", "tests/test_tiny.py::test_fails"])
    results = tmp_path / "var" / "results.json"
    # A pytest of its own: not this run's worker, options or plugins (none are autoloaded).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "xdist.plugin",
            "-n",
            "2",
            "-p",
            "kapstone.safety_case.pytest_plugin",
            f"--safety-case-results={results}",
            "-p",
            "no:cacheprovider",
            "-q",
            "tests/test_tiny.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # test_fails failed
    recorded = json.loads(results.read_text())
    assert recorded["outcomes"] == {
        "tests/test_tiny.py::test_every_route[im]": "passed",
        "tests/test_tiny.py::test_every_route[iv]": "passed",
        "tests/test_tiny.py::test_fails": "failed",
        "tests/test_tiny.py::test_passes": "passed",
        "tests/test_tiny.py::test_skipped": "skipped",
    }
    assert recorded["exit_status"] == 1

    check = ["--root", str(tmp_path), "check", "--results", str(results)]
    assert cli.run(check) == 1
    said = capsys.readouterr().err
    assert "HAZ-001: control 2 (test) names tests/test_tiny.py::test_fails, which failed" in said

    # The same run, a log naming only tests that passed (the parametrised one by its base id).
    project_log = tmp_path / "docs" / "safety" / "hazards.yaml"
    data = yaml.safe_load(project_log.read_text())
    data["hazards"][0]["controls"][1]["tests"] = ["tests/test_tiny.py::test_every_route"]
    project_log.write_text(yaml.safe_dump(data))
    assert cli.run(check) == 0
    # A skipped test proves nothing.
    data["hazards"][0]["controls"][1]["tests"] = ["tests/test_tiny.py::test_skipped"]
    project_log.write_text(yaml.safe_dump(data))
    assert cli.run(check) == 1
    assert "test_skipped, which was skipped" in capsys.readouterr().err
