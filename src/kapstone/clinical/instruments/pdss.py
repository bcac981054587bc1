"""PDSS-SR: Panic Disorder Severity Scale, self-report, 7 items 0-4 (higher worse)."""

from __future__ import annotations

from kapstone.clinical.instruments._build import (
    UNVERIFIED,
    VERIFIED,
    items,
    numbered_scale,
    src,
    unverified_licence,
    unverified_loinc,
)
from kapstone.clinical.instruments.definition import (
    AnswerKind,
    InstrumentDefinition,
    RecallPeriod,
    ScoringRule,
    sum_of_items,
)

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
    # Severity bands (e.g. Furukawa 2009) are unverified, so no severity word.
    bands=(),
    flag_rules=(),
    loinc=unverified_loinc("§4.11"),
    licence=unverified_licence("PDSS / PDSS-SR", "§4.11"),
    source=_PDSS,
    scorer=sum_of_items,
)
