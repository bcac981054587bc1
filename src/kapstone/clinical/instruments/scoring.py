"""Validate answers against a definition, turn them into points, and score them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType

from kapstone.clinical.instruments.definition import (
    Answer,
    AnswerErrors,
    AnswerKind,
    AnswerProblem,
    InstrumentDefinition,
    Item,
    ScoreResult,
    Scoring,
    WhenNotAsked,
)
from kapstone.clinical.instruments.policy import ScoringPolicy


def _shown(value: object) -> str:
    # JSON spelling, because callers send JSON: true, null, "2".
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _type_problem(item: Item, value: object) -> AnswerProblem | None:
    if item.kind is AnswerKind.YES_NO:
        if type(value) is not bool:
            return AnswerProblem(item.id, f"{_shown(value)} is not a yes/no answer", item.accepts())
    elif type(value) is not int:  # rejects bool too: True must not pass for 1
        return AnswerProblem(item.id, f"{_shown(value)} is not an integer", item.accepts())
    elif item.option_for(value) is None:
        return AnswerProblem(item.id, f"{value} is out of range", item.accepts())
    return None


def validate(definition: InstrumentDefinition, answers: Mapping[str, object]) -> dict[str, int]:
    """Points for every scored item, or :class:`AnswerErrors` listing every offending item.

    Items the instrument's flow does not ask and that are absent count as their lowest answer
    (that is the instrument's own rule, e.g. AUDIT's limited-information completeness), never as an
    imputed value.
    """
    problems: list[AnswerProblem] = []
    known = definition.item_ids
    for key in answers:
        if not isinstance(key, str) or key not in known:
            problems.append(
                AnswerProblem(
                    str(key), "unknown item", "item keys " + ", ".join(_shown(k) for k in known)
                )
            )

    valid: dict[str, Answer] = {}
    unresolved: set[str] = set()  # items with a problem: flow rules that read them are not judged
    for item in definition.items:
        if item.id not in answers:
            continue
        value = answers[item.id]
        problem = _type_problem(item, value)
        if problem is None:
            valid[item.id] = value  # type: ignore[assignment]  # checked by _type_problem
        else:
            problems.append(problem)
            unresolved.add(item.id)

    points: dict[str, int] = {}
    for item in definition.items:
        rule = item.asked_when
        if rule is not None and unresolved.intersection(rule.depends_on):
            continue
        asked = rule is None or rule.applies(valid)
        present = item.id in answers
        if asked and not present:
            why = "" if rule is None else f" (required because {rule.description})"
            problems.append(AnswerProblem(item.id, "missing" + why, item.accepts()))
            unresolved.add(item.id)
            continue
        if item.id in unresolved:
            continue
        if item.id in valid:
            option = item.option_for(valid[item.id])
            assert option is not None
            if (
                not asked
                and rule is not None
                and rule.otherwise is WhenNotAsked.ABSENT_OR_LOWEST
                and option.points != item.lowest.points
            ):
                problems.append(
                    AnswerProblem(
                        item.id,
                        f"answered {_shown(valid[item.id])}, but the form does not ask this item "
                        f"here: it is asked only when {rule.description}",
                        f"no answer, or {_shown(item.lowest.value)}",
                    )
                )
                unresolved.add(item.id)
                continue
            if item.scored:
                points[item.id] = option.points
        elif item.scored:
            points[item.id] = item.lowest.points

    if problems:
        raise AnswerErrors(definition.name, tuple(problems))
    return points


def score_definition(
    definition: InstrumentDefinition,
    answers: Mapping[str, Answer],
    policy: ScoringPolicy,
) -> ScoreResult:
    points = validate(definition, answers)
    outcome = definition.scorer(Scoring(definition, MappingProxyType(points), answers, policy))
    echoed = {item.id: answers[item.id] for item in definition.items if item.id in answers}
    return ScoreResult(
        instrument=definition.name,
        version=definition.version,
        total=outcome.total,
        severity=outcome.severity,
        subscales=MappingProxyType(dict(outcome.subscales)),
        flags=outcome.flags,
        answers=MappingProxyType(echoed),
        policy_version=policy.version,
    )
