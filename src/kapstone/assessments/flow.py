"""Which questions a patient sees, in what order, and what each answer means.

The instrument's own skip logic (``Item.asked_when``) decides: an item is shown when it has no rule,
when its rule applies to the answers so far, or when it is optional (``WhenNotAsked.ANY``); it is
required when it has no rule or its rule applies. Nothing here scores: that is the core's job.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from kapstone.clinical.instruments import (
    INSTRUMENTS,
    Answer,
    InstrumentDefinition,
    Item,
    WhenNotAsked,
)

# Rated by a clinician at interview, never sent to a patient: the MADRS, and the CADSS (and its
# six-item form), which is clinician-administered by name and asked chair-side after a dose (§4.10).
CLINICIAN_RATED = frozenset({"madrs", "cadss", "cadss6"})
SELF_REPORT = tuple(name for name in INSTRUMENTS if name not in CLINICIAN_RATED)


def definition(name: str) -> InstrumentDefinition:
    return INSTRUMENTS[name]


def short_name(name: str) -> str:
    """'Patient Health Questionnaire-9 (PHQ-9)' -> 'PHQ-9': the abbreviation staff use (the library
    keeps one title only). A name not in the library is shown as stored."""
    found = INSTRUMENTS.get(name)
    if found is None:
        return name
    abbreviation = re.search(r"\(([^(),]*)\)", found.title)
    return abbreviation.group(1) if abbreviation else found.title.split(" (")[0]


def is_required(item: Item, answers: Mapping[str, Answer]) -> bool:
    rule = item.asked_when
    return rule is None or rule.applies(answers)


def is_shown(item: Item, answers: Mapping[str, Answer]) -> bool:
    rule = item.asked_when
    return is_required(item, answers) or (rule is not None and rule.otherwise is WhenNotAsked.ANY)


def shown_items(instrument: InstrumentDefinition, answers: Mapping[str, Answer]) -> list[Item]:
    return [item for item in instrument.items if is_shown(item, answers)]


def skipped_answers(instrument: InstrumentDefinition, answers: Mapping[str, Answer]) -> list[str]:
    """Answers to items the flow no longer asks (the patient changed the answer that led to them)."""
    return [
        item.id for item in instrument.items if item.id in answers and not is_shown(item, answers)
    ]


def missing_items(instrument: InstrumentDefinition, answers: Mapping[str, Answer]) -> list[Item]:
    return [
        item for item in instrument.items if item.id not in answers and is_required(item, answers)
    ]


def resume_item(instrument: InstrumentDefinition, answers: Mapping[str, Answer]) -> Item | None:
    """The first question still needing an answer; None when only the review is left."""
    missing = missing_items(instrument, answers)
    return missing[0] if missing else None


def wording(instrument: InstrumentDefinition, item: Item) -> str:
    """The item's full text where its licence (or the clinic's licensed copy) allows, else its label."""
    allowed = instrument.licence.wording_redistributable or instrument.wording_note is not None
    return item.text if item.text and allowed else item.label


def encode(value: Answer) -> str:
    """An answer as a form value: JSON, so true/false and integers round-trip exactly."""
    return json.dumps(value)


def decode(raw: str) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def option_label(item: Item, value: Answer) -> str | None:
    option = item.option_for(value)
    return option.label if option is not None else None
