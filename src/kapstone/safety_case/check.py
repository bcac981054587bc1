"""The safety case's check: what ``make test`` fails on once the SQLite leg has run.

Pure: it is handed the log, how to tell whether a code path exists, the clinical reference, and
each named test's outcome (from the run's results, or, before a run, whether the test is defined).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kapstone.safety_case.log import ControlType, Hazard, HazardLog, Rating
from kapstone.safety_case.reference import Reference
from kapstone.safety_case.results import Outcome

_SAID = {
    Outcome.MISSING: "did not run (renamed, deleted or no longer collected?)",
    Outcome.FAILED: "failed",
    Outcome.SKIPPED: "was skipped, so it proved nothing",
}


@dataclass(frozen=True, slots=True)
class Finding:
    hazard: str
    message: str

    def __str__(self) -> str:
        return f"{self.hazard}: {self.message}"


def check(
    log: HazardLog,
    *,
    outcome_of: Callable[[str], Outcome],
    code_exists: Callable[[str], bool],
    reference: Reference,
) -> list[Finding]:
    """Every reason the case does not hold, hazard by hazard; none means it holds.

    ``outcome_of`` gives a test id's outcome in this run; to check the log before any run, pass one
    that answers PASSED for a test that is defined and MISSING for one that is not."""
    findings: list[Finding] = []
    for hazard in log.hazards:
        findings.extend(_hazard(log, hazard, outcome_of, code_exists, reference))
    return findings


def _hazard(
    log: HazardLog,
    hazard: Hazard,
    outcome_of: Callable[[str], Outcome],
    code_exists: Callable[[str], bool],
    reference: Reference,
) -> list[Finding]:
    found: list[str] = []
    for name, rating in (("initial", hazard.initial), ("residual", hazard.residual)):
        found.extend(_rating(log, name, rating))
    if hazard.residual.risk > log.acceptance_line and not hazard.justification:
        found.append(
            f"residual risk class {hazard.residual.risk} is above the acceptance line "
            f"({log.acceptance_line}) and no justification is recorded"
        )
    proven_by_test = False
    for number, control in enumerate(hazard.controls, start=1):
        for path in control.code:
            if not code_exists(path):
                found.append(
                    f"control {number} ({control.type}) names {path}, which does not exist"
                )
        failed = []
        for test in control.tests:
            outcome = outcome_of(test)
            if outcome is not Outcome.PASSED:
                failed.append(test)
                found.append(
                    f"control {number} ({control.type}) names {test}, which {_SAID[outcome]}"
                )
        if control.type is ControlType.TEST and control.tests and not failed:
            proven_by_test = True
    if not any(c.type is ControlType.TEST for c in hazard.controls):
        found.append("has no test control")
    elif not proven_by_test:
        found.append("has no test control whose tests all passed")
    for key in hazard.references:
        if not reference.has(key):
            found.append(f"rests on {key!r}, which docs/clinical-reference.md does not have")
    return [Finding(hazard.id, message) for message in found]


def _rating(log: HazardLog, name: str, rating: Rating) -> list[str]:
    expected = log.matrix.risk(rating.severity, rating.likelihood)
    if rating.risk == expected:
        return []
    return [
        f"{name} risk class is {rating.risk}, but the matrix gives {expected} for severity "
        f"{rating.severity} and likelihood {rating.likelihood}"
    ]
