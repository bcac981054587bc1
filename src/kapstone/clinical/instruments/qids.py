"""QIDS-SR16: Quick Inventory of Depressive Symptomatology, self-report, 16 items over 7 days.

Scored over the nine DSM depression domains: sleep, appetite/weight and psychomotor each take the
highest of their items, so a patient is not counted twice for one symptom.
"""

from __future__ import annotations

from collections.abc import Mapping

from kapstone.clinical.instruments._build import (
    SECONDARY,
    VERIFIED,
    bands,
    id_range,
    ids,
    items,
    numbered_scale,
    src,
    unconfirmed_licence,
    unverified_loinc,
)
from kapstone.clinical.instruments.definition import (
    AnswerKind,
    Flag,
    FlagRule,
    InstrumentDefinition,
    Outcome,
    RecallPeriod,
    Scoring,
    ScoringRule,
    flagged,
)

QIDS_LABELS = {
    "1": "Falling asleep",
    "2": "Sleep during the night",
    "3": "Waking up too early",
    "4": "Sleeping too much",
    "5": "Feeling sad",
    "6": "Decreased appetite",
    "7": "Increased appetite",
    "8": "Decreased weight (within the last two weeks)",
    "9": "Increased weight (within the last two weeks)",
    "10": "Concentration / decision making",
    "11": "View of myself",
    "12": "Thoughts of death or suicide",
    "13": "General interest",
    "14": "Energy level",
    "15": "Feeling slowed down",
    "16": "Feeling restless",
}

# Domain -> items; a domain scores the highest of its items.
DOMAINS: Mapping[str, tuple[str, ...]] = {
    "sleep": id_range(1, 4),
    "sad_mood": ids(5),
    "appetite_weight": id_range(6, 9),
    "concentration": ids(10),
    "self_view": ids(11),
    "suicidal_ideation": ids(12),
    "interest": ids(13),
    "energy": ids(14),
    "psychomotor": id_range(15, 16),
}
SUICIDE_ITEM = "12"
SUICIDE_RISK_AT = 2

_SCORING = src("§4.6", VERIFIED, "Calculator source citing Rush 2003")


def score_qids(scoring: Scoring) -> Outcome:
    points = scoring.points
    domains = {name: max(points[i] for i in item_ids) for name, item_ids in DOMAINS.items()}
    alert = points[SUICIDE_ITEM] >= SUICIDE_RISK_AT
    return scoring.banded(sum(domains.values()), domains, flagged(Flag.SUICIDE_RISK, alert))


QIDS_SR16 = InstrumentDefinition(
    name="qids_sr16",
    title="Quick Inventory of Depressive Symptomatology, Self-Report (QIDS-SR16)",
    version="1.0",
    items=items(
        QIDS_LABELS,
        AnswerKind.SCALE,
        numbered_scale(0, 3),
        src("§4.6", VERIFIED, "Item topics and 0-3 range; anchor wording not shipped"),
    ),
    recall=RecallPeriod(7, "the past 7 days", src("§4.6", VERIFIED)),
    scoring=ScoringRule(
        "max(items 1-4) + item 5 + max(items 6-9) + items 10, 11, 12, 13, 14 + max(items 15-16) "
        "(0-27).",
        _SCORING,
        (0, 27),
    ),
    bands=bands(
        src("§4.6", VERIFIED, "Calculator source; matches ids-qids.org interpretation"),
        (0, 5, "none"),
        (6, 10, "mild"),
        (11, 15, "moderate"),
        (16, 20, "severe"),
        (21, 27, "very_severe"),
    ),
    flag_rules=(
        FlagRule(
            Flag.SUICIDE_RISK,
            "Item 12 (thoughts of death or suicide) rated 2 or more: suicide risk assessment.",
            src("§4.6", SECONDARY, "Calculator text; the alert is a design choice"),
        ),
    ),
    loinc=unverified_loinc("§4.6"),
    licence=unconfirmed_licence(
        "IDS/QIDS: reported freely available for clinical and research use via ids-qids.org - "
        "UNVERIFIED (clinical-reference §4.6). Item and anchor wording not shipped; load it with "
        "a licensed-wording file.",
        "§4.6",
    ),
    source=src("§4.6", VERIFIED),
    scorer=score_qids,
)
