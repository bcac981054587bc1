"""PDSS-SR: Panic Disorder Severity Scale, self-report, 7 items 0-4 (higher worse)."""

from __future__ import annotations

from collections.abc import Mapping

from kapstone.clinical.instruments._build import (
    UNVERIFIED,
    VERIFIED,
    items,
    numbered_scale,
    src,
    total,
)
from kapstone.clinical.instruments.definition import (
    AnswerKind,
    Answers,
    InstrumentDefinition,
    Licence,
    LoincCodes,
    Outcome,
    RecallPeriod,
    ScoringRule,
)
from kapstone.clinical.instruments.policy import ScoringPolicy

PDSS_LABELS = {
    "1": "Panic frequency",
    "2": "Distress during attacks",
    "3": "Anticipatory anxiety",
    "4": "Places or situations avoided",
    "5": "Activities avoided",
    "6": "Interference with responsibilities",
    "7": "Interference with social life",
}
_PDSS = src("§4.11", VERIFIED, "CamCOPS pdss.py")


def score_pdss(
    definition: InstrumentDefinition,
    points: Mapping[str, int],
    answers: Answers,
    policy: ScoringPolicy,
) -> Outcome:
    # Severity bands (e.g. Furukawa 2009) are unverified, so no severity word.
    return Outcome(total(points, definition.item_ids), None, {}, ())


PDSS_SR = InstrumentDefinition(
    name="pdss_sr",
    title="Panic Disorder Severity Scale, Self-Report (PDSS-SR)",
    version="1.0",
    items=items(PDSS_LABELS, AnswerKind.SCALE, numbered_scale(0, 4), _PDSS),
    recall=RecallPeriod(
        7,
        "the past week",
        src("§4.11", UNVERIFIED, "The reference gives no recall period; past week from memory"),
    ),
    scoring=ScoringRule(
        "Sum of items 1-7 (0-28); composite = total / 7 (0-4). No item is reverse-scored.",
        _PDSS,
        (0, 28),
    ),
    bands=(),
    flag_rules=(),
    loinc=LoincCodes(source=src("§4.11", UNVERIFIED)),
    licence=Licence(
        "PDSS / PDSS-SR: licence UNVERIFIED (clinical-reference §4.11, §10 item 6). Item wording "
        "is not shipped; load it with a licensed-wording file.",
        False,
        src("§4.11", UNVERIFIED),
    ),
    source=_PDSS,
    scorer=score_pdss,
)
