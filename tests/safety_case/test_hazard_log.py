"""The real hazard log: it loads, covers the hazards issue 22 asks for, and holds against the source."""

from __future__ import annotations

from pathlib import Path

import pytest

from kapstone.safety_case import cli, log
from kapstone.safety_case.log import ControlType

ROOT = Path(__file__).resolve().parents[2]

# The hazards the log must hold at least, by id, each with words its title must contain.
REQUIRED = {
    "HAZ-001": "wrong dose",
    "HAZ-002": "vital-sign alert",
    "HAZ-003": "wrong session or the wrong patient",
    "HAZ-004": "contraindication",
    "HAZ-005": "suicide-risk answer",
    "HAZ-006": "on hold",
    "HAZ-007": "wrong patient",
    "HAZ-008": "device reading",
    "HAZ-009": "controlled-substance discrepancy",
    "HAZ-010": "signed record",
    "HAZ-011": "lost in a crash or a restore",
    "HAZ-012": "de-identified",
    "HAZ-013": "time-zone",
    "HAZ-014": "sign-out",
    "HAZ-015": "notification leaks health details",
}


@pytest.fixture(scope="module")
def hazard_log() -> log.HazardLog:
    return log.load(ROOT / cli.LOG)


def test_the_log_covers_every_hazard_the_issue_names(hazard_log):
    titles = {h.id: h.title for h in hazard_log.hazards}
    for hazard_id, words in REQUIRED.items():
        assert words in titles.get(hazard_id, ""), (hazard_id, titles.get(hazard_id))


def test_every_hazard_has_a_test_control_naming_code_and_tests(hazard_log):
    for hazard in hazard_log.hazards:
        tests = [c for c in hazard.controls if c.type is ControlType.TEST]
        assert tests, hazard.id
        assert all(c.code and c.tests for c in tests), hazard.id


def test_the_log_holds_against_the_test_files_and_the_source():
    """Every named test is defined, every code path exists, every reference key is in the
    clinical reference, every rating is the matrix's: the check before any run finds nothing.
    (That the tests pass is the check's job after the SQLite leg of `make test`.)"""
    assert [str(f) for f in cli.findings(ROOT, None)] == []


def test_the_acceptance_line_and_a_justified_residual_risk_above_it(hazard_log):
    above = [h for h in hazard_log.hazards if h.residual.risk > hazard_log.acceptance_line]
    assert above and all(h.justification for h in above)
