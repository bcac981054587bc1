"""MADRS: Montgomery-Asberg Depression Rating Scale, 10 clinician-rated items, 0-6 each."""

from __future__ import annotations

from kapstone.clinical.instruments._build import (
    SECONDARY,
    UNVERIFIED,
    VERIFIED,
    bands,
    items,
    numbered_scale,
    src,
    unverified_licence,
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
from kapstone.clinical.instruments.policy import MADRS_ALERT_SOURCE

MADRS_LABELS = {
    "1": "Apparent sadness",
    "2": "Reported sadness",
    "3": "Inner tension",
    "4": "Reduced sleep",
    "5": "Reduced appetite",
    "6": "Concentration difficulties",
    "7": "Lassitude",
    "8": "Inability to feel",
    "9": "Pessimistic thoughts",
    "10": "Suicidal thoughts",
}
SUICIDAL_THOUGHTS = "10"


def score_madrs(scoring: Scoring) -> Outcome:
    at = scoring.policy.madrs_suicidal_thoughts_alert_at
    alert = at is not None and scoring.points[SUICIDAL_THOUGHTS] >= at
    return scoring.banded(scoring.total(), flags=flagged(Flag.SUICIDE_RISK, alert))


MADRS = InstrumentDefinition(
    name="madrs",
    title="Montgomery-Asberg Depression Rating Scale (MADRS), clinician-rated",
    version="1.0",
    items=items(
        MADRS_LABELS,
        AnswerKind.SCALE,
        # Anchors are defined at 0, 2, 4 and 6; raters may score between them.
        numbered_scale(0, 6),
        src("§4.7", VERIFIED, "Calculator sources; anchor wording not shipped"),
    ),
    recall=RecallPeriod(
        None,
        "rated by the clinician at the interview (the reference gives no recall period), so it "
        "can be repeated at short intervals such as 24 hours after dosing",
        src("§4.7", UNVERIFIED, "No recall period in the reference"),
    ),
    scoring=ScoringRule(
        "Sum of items 1-10 (0-60).", src("§4.7", VERIFIED, "Calculator sources"), (0, 60)
    ),
    bands=bands(
        src("§4.7", SECONDARY, "Implementation citing Snaith et al. 1986; paper not read"),
        (0, 6, "normal"),
        (7, 19, "mild"),
        (20, 34, "moderate"),
        (35, 60, "severe"),
    ),
    flag_rules=(
        FlagRule(
            Flag.SUICIDE_RISK,
            "Item 10 (suicidal thoughts) at or above the clinic's rating "
            "(ScoringPolicy.madrs_suicidal_thoughts_alert_at; default 2, None turns it off).",
            MADRS_ALERT_SOURCE,
        ),
    ),
    loinc=unverified_loinc("§4.7"),
    licence=unverified_licence("MADRS", "§4.7", wording="Anchor"),
    source=src("§4.7", VERIFIED),
    scorer=score_madrs,
)
