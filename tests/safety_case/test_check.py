"""The check on synthetic logs and results: what makes it fail, what it accepts."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kapstone.safety_case import log, reference
from kapstone.safety_case.check import check
from kapstone.safety_case.results import Outcome, Results

REFERENCE = reference.parse(
    "## 0. Key sources\n\n| Key | Citation |\n|---|---|\n| SPRAVATO-US | the label |\n\n"
    "## 3. Dosing by route\n"
)
GRID = [[1, 1, 2, 2, 3], [1, 2, 2, 3, 4], [2, 2, 3, 3, 4], [2, 3, 3, 4, 5], [3, 4, 4, 5, 5]]
LEVEL = {k: {"name": f"level {k}", "meaning": "..."} for k in range(1, 6)}
TEST_A = "tests/clinical/test_dosing.py::test_ceiling"
TEST_B = "tests/shell/test_plans_dose.py::test_refused"
CODE = "kapstone.clinical.dosing.calculate_dose"


def synthetic() -> dict[str, Any]:
    """A fresh log each time: the tests change it."""
    return copy.deepcopy(_synthetic())


def _synthetic() -> dict[str, Any]:
    return {
        "format": 1,
        "case": {
            "title": "A case",
            "scope": "Scope.",
            "intended_use": "Decision support.",
            "safety_class": {"iec_62304": "C", "argument": "Doses."},
            "open_issues": [],
        },
        "matrix": {
            "severity": LEVEL,
            "likelihood": LEVEL,
            "classes": {k: f"class {k}" for k in range(1, 6)},
            "grid": GRID,
        },
        "acceptance_line": 2,
        "hazards": [
            {
                "id": "HAZ-001",
                "title": "A wrong dose",
                "situation": "Dosing.",
                "causes": ["A typo."],
                "effect": "Harm.",
                "initial": {"severity": 4, "likelihood": 3, "risk": 3},
                "controls": [
                    {
                        "type": "design",
                        "description": "Ceilings.",
                        "code": [CODE],
                        "tests": [TEST_A],
                    },
                    {"type": "test", "description": "Plans.", "code": [CODE], "tests": [TEST_B]},
                    {"type": "training", "description": "Nurses check."},
                ],
                "residual": {"severity": 4, "likelihood": 1, "risk": 2},
                "status": "closed",
                "references": ["§3", "SPRAVATO-US"],
            }
        ],
    }


def run_check(
    data: dict[str, Any], outcomes: dict[str, Outcome], code: set[str] | None = None
) -> list[str]:
    found = check(
        log.parse(data),
        outcome_of=Results(outcomes).outcome_of,
        code_exists=lambda path: path in (code if code is not None else {CODE}),
        reference=REFERENCE,
    )
    return [str(f) for f in found]


PASSING = {TEST_A: Outcome.PASSED, TEST_B: Outcome.PASSED}


def test_a_log_whose_tests_passed_holds():
    assert run_check(synthetic(), PASSING) == []


def test_a_renamed_or_deleted_test_fails_the_check():
    renamed = {TEST_A: Outcome.PASSED, TEST_B + "_renamed": Outcome.PASSED}
    found = run_check(synthetic(), renamed)
    assert f"HAZ-001: control 2 (test) names {TEST_B}, which did not run" in found[0]
    assert found[1] == "HAZ-001: has no test control whose tests all passed"
    deleted = {TEST_A: Outcome.PASSED}
    assert run_check(synthetic(), deleted) == found


def test_a_failing_or_skipped_control_fails_the_check():
    failing = run_check(synthetic(), {**PASSING, TEST_A: Outcome.FAILED})
    assert failing == [f"HAZ-001: control 1 (design) names {TEST_A}, which failed"]
    skipped = run_check(synthetic(), {**PASSING, TEST_B: Outcome.SKIPPED})
    assert "which was skipped, so it proved nothing" in skipped[0]


def test_a_hazard_without_a_test_control_fails():
    data = synthetic()
    data["hazards"][0]["controls"][1]["type"] = "design"
    assert run_check(data, PASSING) == ["HAZ-001: has no test control"]


def test_a_code_path_that_does_not_exist_fails():
    found = run_check(synthetic(), PASSING, code=set())
    assert found == [
        f"HAZ-001: control 1 (design) names {CODE}, which does not exist",
        f"HAZ-001: control 2 (test) names {CODE}, which does not exist",
    ]


def test_a_residual_risk_above_the_line_needs_a_justification():
    data = synthetic()
    data["hazards"][0]["residual"] = {"severity": 5, "likelihood": 1, "risk": 3}
    assert run_check(data, PASSING) == [
        "HAZ-001: residual risk class 3 is above the acceptance line (2) and no justification is recorded"
    ]
    data["hazards"][0]["justification"] = "The clinician decides; the software cannot lower it."
    assert run_check(data, PASSING) == []
    data["acceptance_line"] = 3
    del data["hazards"][0]["justification"]
    assert run_check(data, PASSING) == []


def test_a_rating_must_be_the_matrix_class_and_references_must_exist():
    data = synthetic()
    data["hazards"][0]["initial"]["risk"] = 2
    data["hazards"][0]["references"] = ["§3", "§3.9", "NOT-A-KEY"]
    assert run_check(data, PASSING) == [
        "HAZ-001: initial risk class is 2, but the matrix gives 3 for severity 4 and likelihood 3",
        "HAZ-001: rests on '§3.9', which docs/clinical-reference.md does not have",
        "HAZ-001: rests on 'NOT-A-KEY', which docs/clinical-reference.md does not have",
    ]


def test_a_parametrised_test_is_named_by_its_base_id_when_every_parameter_passed():
    outcomes = {
        f"{TEST_A}[iv]": Outcome.PASSED,
        f"{TEST_A}[im]": Outcome.PASSED,
        TEST_B: Outcome.PASSED,
    }
    assert run_check(synthetic(), outcomes) == []
    results = Results({**outcomes, f"{TEST_A}[sc]": Outcome.FAILED})
    assert results.outcome_of(TEST_A) is Outcome.FAILED
    assert results.outcome_of(f"{TEST_A}[iv]") is Outcome.PASSED
    assert Results({f"{TEST_A}[x]": Outcome.SKIPPED}).outcome_of(TEST_A) is Outcome.SKIPPED
    # A test of the same name's prefix is another test, not a parameter of it.
    assert Results({f"{TEST_A}_other": Outcome.PASSED}).outcome_of(TEST_A) is Outcome.MISSING
    # A class stands for its tests.
    klass = "tests/x.py::TestDoses"
    assert Results({f"{klass}::test_a": Outcome.PASSED}).outcome_of(klass) is Outcome.PASSED


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["hazards"][0].update(id="HAZ-1"), "is not of the form HAZ-001"),
        (lambda d: d["hazards"][0]["controls"][0].update(type="hope"), "'type' must be one of"),
        (
            lambda d: d["hazards"][0]["controls"][0].update(tests=["test_x"]),
            "is not a pytest node id",
        ),
        (
            lambda d: d["hazards"][0]["controls"][0].update(code=["calculate_dose"]),
            "is not a dotted path",
        ),
        (lambda d: d["hazards"][0]["controls"][0].pop("tests"), "'tests' must be a list of texts"),
        (lambda d: d["hazards"][0]["controls"][2].update(tests=[TEST_A]), "names no code or tests"),
        (lambda d: d["hazards"][0]["initial"].update(severity=6), "from 1 to 5"),
        (
            lambda d: d["hazards"].append(copy.deepcopy(d["hazards"][0])),
            "used by more than one hazard",
        ),
        (lambda d: d["matrix"]["grid"][0].__setitem__(1, 5), "class falls"),
        (lambda d: d["hazards"][0].update(status="done"), "'status' must be one of"),
    ],
)
def test_a_malformed_log_is_refused_naming_the_problem(change, problem):
    data = synthetic()
    change(data)
    with pytest.raises(log.LogInvalid) as refused:
        log.parse(data)
    assert any(problem in p for p in refused.value.problems), refused.value.problems
