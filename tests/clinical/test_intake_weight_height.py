"""The intake facts take the weight and height every other form takes (issue 16).

They accepted 20-400 kg and 90-250 cm; the registry, the chair side and the dose calculator accept
30-300 kg (§3) and the registry 100-250 cm. One definition now: kapstone.clinical.plausibility.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kapstone.clinical.eligibility import IntakeFactsError, facts_from_json

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "eligibility-facts.json"


def _with_vitals(**changes: float) -> dict[str, Any]:
    facts: dict[str, Any] = copy.deepcopy(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    facts["baseline_vitals"].update(changes)
    return facts


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("weight_kg", 25, "a number from 30 to 300"),
        ("weight_kg", 29.9, "a number from 30 to 300"),
        ("weight_kg", 350, "a number from 30 to 300"),
        ("height_cm", 95, "a number from 100 to 250"),
        ("height_cm", 251, "a number from 100 to 250"),
    ],
)
def test_a_weight_or_height_outside_the_one_definition_is_refused(
    field: str, value: float, accepted: str
) -> None:
    with pytest.raises(IntakeFactsError) as refused:
        facts_from_json(_with_vitals(**{field: value}))
    [problem] = refused.value.problems
    assert (problem.path, problem.accepted) == (f"baseline_vitals.{field}", accepted)


@pytest.mark.parametrize(("weight", "height"), [(30, 100), (300, 250), (68.5, 167)])
def test_the_bounds_themselves_are_accepted(weight: float, height: float) -> None:
    vitals = facts_from_json(_with_vitals(weight_kg=weight, height_cm=height)).baseline_vitals
    assert vitals is not None
    assert (vitals.weight_kg, vitals.height_cm) == (weight, height)
