"""A plan's dose schedule from the core's calculator, and its refusals as form errors.

The prescriber gives the dose as mg/kg or mg per session; several values ascend session by session
and then hold the last (the core's ascending schedule for mg/kg; fixed doses such as esketamine's
56 then 84 mg are checked dose by dose by the same calculator). Nothing is rounded or clamped here:
what the calculator refuses comes back with its own words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from kapstone.clinical.dosing import (
    DEFAULT_DOSING_POLICY,
    DoseCalculation,
    DoseRefused,
    DoseRequest,
    DosingPolicy,
    ascending_schedule,
    calculate_dose,
)
from kapstone.clinical.problems import Problem
from kapstone.clinical.programs import ProgramTemplate
from kapstone.clinical.routes import Route
from kapstone.errors import problem_errors

MG_PER_KG = "mg_per_kg"
MG = "mg"
BASIS_CHOICES = ((MG_PER_KG, "mg/kg of body weight"), (MG, "mg (a fixed dose)"))


@dataclass(frozen=True, slots=True)
class DoseInputs:
    route: Route
    basis: str
    steps: tuple[Decimal, ...]
    concentration_mg_per_ml: Decimal | None = None
    minutes: Decimal | None = None


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def describe(basis: str, steps: Sequence[Decimal], minutes: Decimal | None = None) -> str:
    unit = "mg/kg" if basis == MG_PER_KG else "mg"
    text = " → ".join(f"{_fmt(s)} {unit}" for s in steps)
    if len(steps) > 1:
        text += " (then each later session at the last)"
    if minutes is not None:
        text += f" over {_fmt(minutes)} minutes"
    return text


def _request(inputs: DoseInputs, weight_kg: Decimal | None, step: Decimal | None) -> DoseRequest:
    return DoseRequest(
        route=inputs.route,
        weight_kg=weight_kg,
        mg_per_kg=step if inputs.basis == MG_PER_KG else None,
        mg=step if inputs.basis == MG else None,
        concentration_mg_per_ml=inputs.concentration_mg_per_ml,
        minutes=inputs.minutes,
    )


def dose_schedule(
    inputs: DoseInputs,
    *,
    weight_kg: Decimal | None,
    sessions: int,
    policy: DosingPolicy = DEFAULT_DOSING_POLICY,
) -> tuple[DoseCalculation, ...]:
    """One calculation per dosing session, or :class:`DoseRefused` with every problem."""
    if len(inputs.steps) <= 1:
        step = inputs.steps[0] if inputs.steps else None
        calculation = calculate_dose(_request(inputs, weight_kg, step), policy)
        return (calculation,) * sessions
    if inputs.basis == MG_PER_KG:
        return ascending_schedule(_request(inputs, weight_kg, None), sessions, inputs.steps, policy)
    problems: list[Problem] = []
    if any(b <= a for a, b in pairwise(inputs.steps)):
        problems.append(
            Problem(
                "mg",
                "doses do not ascend: " + " → ".join(_fmt(s) for s in inputs.steps),
                "strictly increasing doses, e.g. 56 → 84 mg for esketamine",
            )
        )
        raise DoseRefused(problems)
    calculations = []
    for index in range(sessions):
        step = inputs.steps[min(index, len(inputs.steps) - 1)]
        try:
            calculations.append(calculate_dose(_request(inputs, weight_kg, step), policy))
        except DoseRefused as refused:
            problems.extend(
                Problem(f"session {index + 1}: {p.field}", p.message, p.accepts)
                for p in refused.problems
            )
    if problems:
        raise DoseRefused(problems)
    return tuple(calculations)


# The plan form's field for each of the calculator's fields.
_FORM_FIELD = {
    "mg_per_kg": "dose",
    "mg": "dose",
    "dose_mg": "dose",
    "steps_mg_per_kg": "dose",
    "sessions": "dose",
    "route": "route",
    "concentration_mg_per_ml": "concentration_mg_per_ml",
    "volume_ml": "concentration_mg_per_ml",
    "minutes": "minutes",
    "weight_kg": "",
}


def refusal_errors(refused: DoseRefused) -> dict[str, list[str]]:
    """The calculator's refusal keyed by the plan form's fields, in the calculator's words."""
    return problem_errors(refused.problems, fields=_FORM_FIELD, default="dose", say=_say)


def _say(problem: Problem) -> str:
    prefix, _, name = problem.field.rpartition(": ")  # "session 2: mg"
    label = "weight" if name == "weight_kg" else name.replace("_", " ")
    where = f"{prefix.capitalize()}: " if prefix else ""
    return f"{where}{label}: {problem.message} (accepted: {problem.accepts})"


def differs_from_standard(template: ProgramTemplate, inputs: DoseInputs) -> str | None:
    """The program's standard dose in words when the plan's dose is another one, else None."""
    standard = template.standard_dose
    if standard is None or standard.route is not inputs.route:
        return None
    same = (
        inputs.basis == MG_PER_KG
        and inputs.steps == (standard.mg_per_kg,)
        and (standard.minutes is None or inputs.minutes == standard.minutes)
    )
    if same:
        return None
    return (
        f"{describe(MG_PER_KG, [standard.mg_per_kg], standard.minutes)} ({standard.source.cite()})"
    )


def same_dose(a: DoseInputs, b: DoseInputs) -> bool:
    """Whether two plans prescribe the same dose (the concentration only changes the volume)."""
    return (a.route, a.basis, a.steps, a.minutes) == (b.route, b.basis, b.steps, b.minutes)
