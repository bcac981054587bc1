"""The intake document: merging a saved section into it and checking it with the core's parser.

A section's own problems refuse the save (nothing is written); problems elsewhere can only be the
sections not saved yet, and are kept on the version so the page can say what is missing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from kapstone.clinical.eligibility import (
    FactsProblem,
    IntakeFacts,
    IntakeFactsError,
    facts_from_json,
)
from kapstone.clinical.modality_matching import AnxietyPresentation, PresentationProfile
from kapstone.intake.sections import REQUIRED_SECTIONS, SECTIONS_BY_KEY, section_of_path

# The core profile's yes/no features, in its order: every field but the kind of anxiety.
PRESENTATION_FLAGS = tuple(
    f.name for f in fields(PresentationProfile) if f.name != "anxiety_mainly"
)
_PRESENTATION_KEYS = frozenset({"anxiety_mainly", *PRESENTATION_FLAGS})
_DATE_KEYS = frozenset({"started_on", "since", "last_use_on", "measured_on"})


def _day(iso: str) -> str:
    try:
        return f"{dt.date.fromisoformat(iso):%-d %b %Y}"
    except ValueError:
        return iso


def _was(problem: FactsProblem) -> str:
    got = problem.message.removeprefix("got ").strip("'")
    return "" if problem.message == "missing" else f" (this was {got})"


# The core names problems in the facts format's terms ("got 'x'; accepted: one of: ..."), which a
# clinician reading the intake form should not have to translate; each is said in the form's words.
_PLAIN: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], FactsProblem], str]], ...] = (
    (re.compile(r"a non-empty string"), lambda m, p: "Please fill this in."),
    (re.compile(r"an ISO date, YYYY-MM-DD"), lambda m, p: "Enter a full date (day, month, year)."),
    (re.compile(r"a date from (\d{4}) on"), lambda m, p: f"Enter a date from {m[1]} on."),
    (
        re.compile(r"a date (?:no later than|on or before) (\S+)"),
        lambda m, p: f"This date is in the future: enter a date on or before {_day(m[1])}.",
    ),
    (
        re.compile(r"an integer from (\S+) to (\S+)"),
        lambda m, p: f"Enter a whole number from {m[1]} to {m[2]}{_was(p)}.",
    ),
    (
        re.compile(r"a number from (\S+) to (\S+)"),
        lambda m, p: f"Enter a number from {m[1]} to {m[2]}{_was(p)}.",
    ),
    (re.compile(r"true or false"), lambda m, p: "Choose yes or no."),
    (re.compile(r"one of: "), lambda m, p: "Choose one of the answers offered."),
    (
        re.compile(r".*when reproductive_potential is false"),
        lambda m, p: (
            "Recorded as pregnant, but without reproductive potential: correct one of the two."
        ),
    ),
    (
        re.compile(r"the date of the event"),
        lambda m, p: "Enter when it happened: screening needs the date for this condition.",
    ),
    (
        re.compile(r"null unless condition is hepatic_impairment"),
        lambda m, p: "A Child-Pugh class is recorded only for hepatic impairment.",
    ),
    (
        re.compile(r"(a list|an object|a string)$"),
        lambda m, p: "This answer could not be read: enter it again.",
    ),
)


def problem_text(problem: FactsProblem) -> str:
    """The problem as the intake form says it to a clinician."""
    if problem.message == "missing" and problem.accepted in {"a non-empty string", "true or false"}:
        return "Please fill this in." if "string" in problem.accepted else "Choose yes or no."
    for pattern, say in _PLAIN:
        match = pattern.match(problem.accepted)
        if match:
            return say(match, problem)
    if problem.message == "missing":
        return f"Please enter {problem.accepted}."
    return f"{problem.message}; expected {problem.accepted}."


@dataclass(frozen=True, slots=True)
class Checked:
    facts: dict[str, Any]
    presentation: dict[str, Any]
    sections_done: list[str]
    complete: bool
    problems: list[dict[str, str]]  # what still stops screening, as the core reports it


def merged(
    *,
    facts: Mapping[str, Any],
    presentation: Mapping[str, Any],
    sections_done: list[str],
    section: str,
    value: Mapping[str, Any],
    recorded_on: dt.date,
    age_years: int,
) -> Checked:
    """The document with ``section`` replaced by ``value``, or IntakeFactsError for the section's
    own problems (paths as the facts format names them)."""
    owner = SECTIONS_BY_KEY[section]
    new_facts = {k: v for k, v in facts.items() if k not in owner.facts_keys}
    new_presentation = dict(presentation)
    own: list[FactsProblem] = []
    if section == "presentation":
        own = presentation_problems(value)
        new_presentation = dict(value)
    else:
        for key in value:
            if key not in owner.facts_keys:
                own.append(
                    FactsProblem(key, "not part of this section", ", ".join(owner.facts_keys))
                )
        new_facts.update(value)
        own.extend(_future_dates(value, recorded_on))
    new_facts["recorded_on"] = recorded_on.isoformat()
    new_facts["age_years"] = age_years
    remaining: list[FactsProblem] = []
    try:
        facts_from_json(new_facts)
    except IntakeFactsError as exc:
        for problem in exc.problems:
            found = section_of_path(problem.path)
            if found is not None and found.key == section:
                own.append(problem)
            else:
                remaining.append(problem)
    if own:
        raise IntakeFactsError(tuple(own))
    done = [s for s in SECTIONS_BY_KEY if s in set(sections_done) | {section}]
    missing = [s for s in REQUIRED_SECTIONS if s not in done]
    return Checked(
        facts=new_facts,
        presentation=new_presentation,
        sections_done=done,
        complete=not missing and not remaining,
        problems=[p.as_json() for p in remaining],
    )


def _future_dates(value: object, today: dt.date, path: str = "") -> list[FactsProblem]:
    """Refused now rather than at screening, where the whole intake would be refused for it."""
    found: list[FactsProblem] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if key in _DATE_KEYS and isinstance(item, str):
                try:
                    day = dt.date.fromisoformat(item)
                except ValueError:
                    continue  # the parser names it
                if day > today:
                    found.append(
                        FactsProblem(
                            inner,
                            f"{day.isoformat()} is in the future",
                            f"a date on or before {today.isoformat()}",
                        )
                    )
            else:
                found.extend(_future_dates(item, today, inner))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(_future_dates(item, today, f"{path}[{i}]"))
    return found


def presentation_problems(value: Mapping[str, Any]) -> list[FactsProblem]:
    problems = [
        FactsProblem(f"presentation.{key}", "unknown field", ", ".join(sorted(_PRESENTATION_KEYS)))
        for key in value
        if key not in _PRESENTATION_KEYS
    ]
    anxiety = value.get("anxiety_mainly")
    accepted = [a.value for a in AnxietyPresentation]
    if anxiety is not None and anxiety not in accepted:
        problems.append(
            FactsProblem(
                "presentation.anxiety_mainly",
                f"got {anxiety!r}",
                "none or one of: " + ", ".join(accepted),
            )
        )
    for key in PRESENTATION_FLAGS:
        if not isinstance(value.get(key, False), bool):
            problems.append(
                FactsProblem(f"presentation.{key}", f"got {value[key]!r}", "true or false")
            )
    return problems


def profile_from_json(value: Mapping[str, Any]) -> PresentationProfile:
    """The core's presentation profile; an unsaved section reads as nothing noted."""
    anxiety = value.get("anxiety_mainly")
    return PresentationProfile(
        anxiety_mainly=AnxietyPresentation(anxiety) if anxiety else None,
        **{key: bool(value.get(key, False)) for key in PRESENTATION_FLAGS},
    )


def screenable(facts: Mapping[str, Any]) -> IntakeFacts:
    return facts_from_json(facts)
