"""Records every test's outcome by node id, for the safety case's check (``make test`` loads it).

``pytest -p kapstone.safety_case.pytest_plugin --safety-case-results=FILE`` writes FILE when the
session ends. Under pytest-xdist the controller receives every worker's reports through
``pytest_runtest_logreport``, so only the controller records and writes; a worker does nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from pathlib import Path

import pytest

from kapstone.safety_case.results import Outcome, Results


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--safety-case-results",
        metavar="FILE",
        default=None,
        help="write each test's outcome by node id to FILE (the safety case checks its controls)",
    )


def pytest_configure(config: pytest.Config) -> None:
    target = config.getoption("safety_case_results")
    if target and not hasattr(config, "workerinput"):
        config.pluginmanager.register(
            Recorder(Path(target), config.rootpath), "safety-case-recorder"
        )


class Recorder:
    def __init__(self, target: Path, root: Path) -> None:
        self.target, self.root = target, root
        self.outcomes: dict[str, Outcome] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        seen = self.outcomes.get(report.nodeid)
        if report.failed:
            self.outcomes[report.nodeid] = Outcome.FAILED  # in set-up, the test or tear-down
        elif report.skipped and seen is not Outcome.FAILED:
            self.outcomes[report.nodeid] = Outcome.SKIPPED  # so does an expected failure
        elif report.when == "call" and report.passed and seen is None:
            self.outcomes[report.nodeid] = Outcome.PASSED

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        status = _git(self.root, "status", "--porcelain", "--untracked-files=no")
        results = Results(
            outcomes=self.outcomes,
            commit=_git(self.root, "rev-parse", "HEAD"),
            dirty=bool(status),
            finished_at=dt.datetime.fromtimestamp(time.time(), dt.UTC).isoformat(
                timespec="seconds"
            ),
            exit_status=int(exitstatus),
        )
        self.target.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: the docs build, which may run meanwhile, reads it whole or not.
        aside = self.target.with_name(f".{self.target.name}.{os.getpid()}")
        aside.write_text(results.to_json(), encoding="utf-8")
        aside.replace(self.target)


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(  # noqa: S603 (a fixed git command)
            ["git", *args],  # noqa: S607 (git from PATH, as the Makefile's tools)
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()
