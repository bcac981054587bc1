"""A clinic's licensed item wording, laid over a definition that ships only short labels.

The shell reads the clinic's JSON file (format in docs/licensed-wording.md) and passes the parsed
object here; nothing in this module touches files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from kapstone.clinical.instruments.definition import (
    AnswerProblem,
    InstrumentDefinition,
    WordingErrors,
)

WORDING_FORMAT = "kapstone-licensed-wording/1"


def with_licensed_wording(
    definition: InstrumentDefinition,
    wording: Mapping[str, str],
    *,
    note: str = "",
) -> InstrumentDefinition:
    """The same instrument (same scoring, same version) with the clinic's item texts.

    ``wording`` must give a non-empty text for every item id and nothing else, so a file for another
    instrument or another version of the form is refused rather than half-applied.
    """
    problems: list[AnswerProblem] = []
    known = definition.item_ids
    accepts = "item keys " + ", ".join(known)
    for key in wording:
        if key not in known:
            problems.append(AnswerProblem(str(key), "not an item of this instrument", accepts))
    for item_id in known:
        if item_id not in wording:
            problems.append(AnswerProblem(item_id, "no wording given", "a non-empty string"))
        elif not isinstance(wording[item_id], str) or not wording[item_id].strip():
            problems.append(
                AnswerProblem(item_id, "wording is empty or not text", "a non-empty string")
            )
    if problems:
        raise WordingErrors(definition.name, tuple(problems))
    new_items = tuple(
        dataclasses.replace(item, text=wording[item.id].strip()) for item in definition.items
    )
    return dataclasses.replace(
        definition,
        items=new_items,
        wording_note=note or "clinic-licensed wording loaded",
    )


def apply_wording_document(
    definitions: Mapping[str, InstrumentDefinition], document: object
) -> InstrumentDefinition:
    """Check a parsed wording file and lay it over the instrument it names."""
    problems: list[AnswerProblem] = []
    if not isinstance(document, Mapping):
        raise WordingErrors("?", (AnswerProblem(None, "not a JSON object", WORDING_FORMAT),))
    if document.get("format") != WORDING_FORMAT:
        problems.append(
            AnswerProblem(None, f"format is {document.get('format')!r}", repr(WORDING_FORMAT))
        )
    name = document.get("instrument")
    if not isinstance(name, str) or name not in definitions:
        problems.append(
            AnswerProblem(
                None, f"unknown instrument {name!r}", "one of " + ", ".join(sorted(definitions))
            )
        )
    items = document.get("items")
    if not isinstance(items, Mapping):
        problems.append(AnswerProblem(None, "items is not an object", "an object: item id -> text"))
    licence = document.get("licence", "")
    if not isinstance(licence, str) or not licence.strip():
        problems.append(
            AnswerProblem(None, "licence is missing", "a statement of the clinic's licence")
        )
    if problems:
        raise WordingErrors(str(name), tuple(problems))
    assert isinstance(name, str)
    assert isinstance(items, Mapping)
    assert isinstance(licence, str)
    return with_licensed_wording(definitions[name], items, note=licence.strip())
