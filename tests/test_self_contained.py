"""A clone placed anywhere passes: nothing in the repository reads or names a path outside it.

The clinical reference once lived beside the repository, so a fresh clone in another folder failed
the tests that check the core's citations. These tests copy exactly the tracked files into an empty
folder and run those checks there, and search every tracked file for a path that leaves the repository.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reference import REFERENCE, ROOT

# Names for a place outside the repository: the folder that used to sit beside it, and the variable
# that pointed at it. The expression a reviewer runs with `git grep -E`, written so that this file's
# own text does not match it.
OUTSIDE = re.compile(r'\.\./shared|/ *"shared"|KAPSTONE_SHARE[D]|shared/clinical[-]reference')

# A changelog may name the old place because it describes the move away from it.
DESCRIBES_THE_CHANGE = {"CHANGELOG.md"}


def tracked_files() -> list[str]:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed, so the tracked files cannot be listed")
    listed = subprocess.run(
        [git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False, timeout=60
    )
    if listed.returncode != 0:
        pytest.skip(f"{ROOT} is not a git checkout: {listed.stderr.decode(errors='replace')}")
    return [name for name in listed.stdout.decode("utf-8").split("\0") if name]


def reference_tests() -> dict[str, list[str]]:
    """Each test module that imports the reference, with its tests that read it (directly or through
    one of the module's own helpers)."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests" / "clinical").glob("test_*.py")):
        source = path.read_text(encoding="utf-8")
        if "from tests.reference import REFERENCE" not in source:
            continue
        functions = {
            node.name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            for node in ast.parse(source).body
            if isinstance(node, ast.FunctionDef)
        }
        reading = {"REFERENCE"}
        while more := {name for name, used in functions.items() if used & reading} - reading:
            reading |= more
        module = path.relative_to(ROOT).as_posix()
        found[module] = [
            f"{module}::{name}" for name in sorted(reading) if name.startswith("test_")
        ]
    return found


def test_the_reference_is_a_tracked_file_of_this_repository():
    assert REFERENCE.is_file()
    assert REFERENCE.resolve().is_relative_to(ROOT)
    assert REFERENCE.relative_to(ROOT).as_posix() in tracked_files()


def test_no_tracked_file_names_a_path_outside_the_repository():
    offenders = []
    for name in tracked_files():
        path = ROOT / name
        if name in DESCRIBES_THE_CHANGE or not path.is_file() or path.is_symlink():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        offenders += [
            f"{name}:{number}: {line.strip()}"
            for number, line in enumerate(text.splitlines(), start=1)
            if OUTSIDE.search(line)
        ]
    assert offenders == []


def test_the_pattern_finds_each_way_of_naming_the_old_place():
    old = "shared"  # spelt apart so that this file passes the search it tests
    for line in (
        f'REFERENCE = ROOT.parent / "{old}" / "clinical-reference.md"',
        f"see `../{old}/clinical-reference.md` §4",
        f'os.environ.get("KAPSTONE_{old.upper()}")',
        f"Not in {old}/clinical-reference.md: a privacy rule",
    ):
        assert OUTSIDE.search(line), line
    assert not OUTSIDE.search("docs/clinical-reference.md §4 (shared decision-making)")


def test_a_copy_of_the_tracked_files_in_an_empty_folder_passes_the_reference_checks(tmp_path):
    """Only the tracked files, in a folder with nothing beside it, and no KAPSTONE_* variable set.

    The copy runs the tests that read the reference, not the whole modules: their other tests
    (hypothesis properties among them) prove nothing about where files are, and would only slow
    this down.
    """
    clone = tmp_path / "kapstone"
    for name in tracked_files():
        source = ROOT / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree but not yet committed: a clone would lack it too
        target = clone / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kapstone"]

    environment = {k: v for k, v in os.environ.items() if not k.startswith("KAPSTONE_")}
    environment["PYTHONPATH"] = "src"  # as pytest's own `pythonpath = ["src"]` does
    environment["PYTHONDONTWRITEBYTECODE"] = "1"

    # The package and the reference both come from the copy, not from the checkout installed in
    # the virtual environment.
    located = subprocess.run(
        [
            sys.executable,
            "-c",
            "import kapstone, tests.reference as r; print(kapstone.__file__); print(r.REFERENCE)",
        ],
        cwd=clone,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert located.returncode == 0, located.stderr
    package, reference = (Path(line) for line in located.stdout.splitlines())
    assert package.is_relative_to(clone / "src" / "kapstone"), package
    assert reference == clone / "docs" / "clinical-reference.md"

    modules = reference_tests()
    assert "tests/clinical/test_provenance.py" in modules
    assert len(modules) >= 10
    assert all(modules.values()), modules  # every module that imports the reference reads it
    selected = [test for tests in modules.values() for test in tests]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", *selected],
        cwd=clone,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-6000:]
    summary = report.strip().splitlines()[-1]
    assert re.search(r"\b\d+ passed\b", summary), summary
    assert not re.search(r"\b(skipped|failed|error|errors|xfailed)\b", summary), summary
