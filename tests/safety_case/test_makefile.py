"""`make test`'s SQLite leg records outcomes and checks the safety case on a full run only: a run
narrowed with PYTEST_ARGS leaves tests out on purpose, so it neither records nor checks."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def planned(*args: str, target: str = "pytest") -> str:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    # Not the variables of a make this test may itself run under (make test PYTEST_ARGS=...).
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "PYTEST_ARGS")
    }
    done = subprocess.run(
        [make, "--no-print-directory", "-n", target, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def test_a_full_run_records_outcomes_then_checks_the_case_when_the_sqlite_leg_ends():
    plan = planned()
    sqlite_leg = next(line for line in plan.splitlines() if "/pytest " in line)
    assert "-p kapstone.safety_case.pytest_plugin" in sqlite_leg
    assert "--safety-case-results=var/safety-case/test-results.json" in sqlite_leg
    check = plan.index("kapstone safety_case check --results var/safety-case/test-results.json")
    assert plan.index(sqlite_leg) < check
    # The check belongs to the SQLite leg's own recipe: `make test` runs the legs at once.
    recipe = planned(target="pytest-sqlite")
    assert "kapstone safety_case check" in recipe and "scripts/test-postgres" not in recipe


def test_a_targeted_run_neither_records_nor_checks():
    plan = planned("PYTEST_ARGS=tests/safety_case")
    assert "safety_case.pytest_plugin" not in plan
    assert "safety_case check" not in plan
