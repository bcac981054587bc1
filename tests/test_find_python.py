"""scripts/find-python picks the interpreter `make install` builds the virtual environment with: the
optimised build of scripts/build-python once it has finished, never one left half-built."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.reference import ROOT

SCRIPTS = ROOT / "scripts"


def find_python(env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(SCRIPTS / "find-python")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), **env},
    )
    return done.stdout.strip()


def optimised_build(home: Path) -> Path:
    """A stand-in for scripts/build-python's result: this interpreter, linked where it installs."""
    where = subprocess.run(
        [str(SCRIPTS / "build-python"), "--where"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={"PATH": os.environ["PATH"], "KAPSTONE_PYTHON_HOME": str(home)},
    ).stdout.strip()
    python = Path(where)
    assert python.parent == home / "bin"
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    return python


def test_the_finished_optimised_build_comes_first(tmp_path):
    home = tmp_path / "python"
    python = optimised_build(home)
    (home / ".complete").touch()
    assert find_python({"KAPSTONE_PYTHON_HOME": str(home)}) == str(python)


def test_a_build_that_did_not_finish_is_passed_over(tmp_path):
    home = tmp_path / "python"
    python = optimised_build(home)
    found = find_python({"KAPSTONE_PYTHON_HOME": str(home)})
    assert found != str(python)
    assert found  # another Python >= 3.12 on this machine, the one the suite runs on


def test_kapstone_python_still_wins(tmp_path):
    home = tmp_path / "python"
    optimised_build(home)
    (home / ".complete").touch()
    chosen = {"KAPSTONE_PYTHON_HOME": str(home), "KAPSTONE_PYTHON": sys.executable}
    assert find_python(chosen) == sys.executable
