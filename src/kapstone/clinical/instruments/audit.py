"""AUDIT (10 items) and its first three items scored alone, AUDIT-C.

AUDIT's own skip rule: a patient who never drinks (item 1 = 0), or who answers 0 to both items 2
and 3, goes straight to items 9 and 10. Skipped items may be absent and then count 0.
"""

from __future__ import annotations

from kapstone.clinical.instruments._build import (
    SECONDARY,
    UNVERIFIED,
    VERIFIED,
    bands,
    id_range,
    ids,
    scale,
    skipped_unless,
    src,
    unconfirmed_licence,
)
from kapstone.clinical.instruments.definition import (
    AnswerKind,
    AnswerOption,
    Answers,
    Flag,
    FlagRule,
    InstrumentDefinition,
    Item,
    LoincCodes,
    Outcome,
    RecallPeriod,
    Scoring,
    ScoringRule,
    flagged,
)
from kapstone.clinical.instruments.policy import AUDIT_C_CUTOFF_SOURCE

_OPTIONS = src("§4.8", VERIFIED, "AWELL README")
_LABEL_PARAPHRASE = src(
    "§4.8",
    UNVERIFIED,
    "Short labels for items 4-10 paraphrase the WHO form from memory; items 1-3 per AWELL README",
)

FREQUENCY = scale(
    ["Never", "Monthly or less", "2-4 times a month", "2-3 times a week", "4 or more times a week"]
)
DRINKS = scale(["1 or 2", "3 or 4", "5 or 6", "7 to 9", "10 or more"])
HOW_OFTEN = scale(["Never", "Less than monthly", "Monthly", "Weekly", "Daily or almost daily"])
EVER = scale(["No", "Yes, but not in the last year", "Yes, during the last year"], values=[0, 2, 4])

AUDIT_LABELS = {
    "1": "How often a drink containing alcohol",
    "2": "Standard drinks on a typical drinking day",
    "3": "How often six or more standard drinks on one occasion",
    "4": "Not able to stop drinking once started",
    "5": "Failed to do what was expected because of drinking",
    "6": "Needed a first drink in the morning",
    "7": "Guilt or remorse after drinking",
    "8": "Unable to remember the night before",
    "9": "You or someone else injured because of your drinking",
    "10": "Someone concerned about your drinking or suggested cutting down",
}
AUDIT_C_ITEMS = id_range(1, 3)
DEPENDENCE_ITEMS = id_range(4, 6)
PROBLEM_ITEMS = id_range(7, 10)
POSITIVE_AUDIT_AT = 8
DEPENDENCE_SUBSCALE_AT = 4

_SKIP = src("§4.8", VERIFIED, "CamCOPS audit.py limited-information completeness")


def _drinks(answers: Answers) -> bool:
    return int(answers.get("1", 0)) > 0


def _drinks_and_quantity(answers: Answers) -> bool:
    return _drinks(answers) and int(answers.get("2", 0)) + int(answers.get("3", 0)) > 0


_AFTER_Q1 = skipped_unless(
    "item 1 is more than 0 (a patient who never drinks goes to items 9 and 10)",
    ids(1),
    _drinks,
    _SKIP,
)
_AFTER_Q3 = skipped_unless(
    "item 1 is more than 0 and items 2 and 3 are not both 0",
    AUDIT_C_ITEMS,
    _drinks_and_quantity,
    _SKIP,
)


def _audit_item(item_id: str, options: tuple[AnswerOption, ...]) -> Item:
    asked_when = None
    if item_id in ("2", "3"):
        asked_when = _AFTER_Q1
    elif item_id in DEPENDENCE_ITEMS or item_id in ("7", "8"):
        asked_when = _AFTER_Q3
    return Item(
        id=item_id,
        label=AUDIT_LABELS[item_id],
        kind=AnswerKind.SCALE,
        options=options,
        source=_LABEL_PARAPHRASE if int(item_id) > 3 else _OPTIONS,
        asked_when=asked_when,
    )


def _options(item_id: str) -> tuple[AnswerOption, ...]:
    number = int(item_id)
    if number == 1:
        return FREQUENCY
    if number == 2:
        return DRINKS
    if number <= 8:
        return HOW_OFTEN
    return EVER


AUDIT_LICENCE = unconfirmed_licence(
    "AUDIT: Copyright © World Health Organization. CamCOPS reproduces it 'under the permissions "
    "granted for NON-COMMERCIAL use only'; other sources describe it as public domain. The terms "
    "conflict and are UNVERIFIED (clinical-reference §4.8): obtain WHO terms. Item wording is not "
    "shipped; load it with a licensed-wording file. AUDIT-C is presumed to share the terms.",
    "§4.8",
)


def score_audit(scoring: Scoring) -> Outcome:
    audit_total = scoring.total()
    subscales = {
        "audit_c": scoring.total(AUDIT_C_ITEMS),
        "dependence": scoring.total(DEPENDENCE_ITEMS),
        "alcohol_related_problems": scoring.total(PROBLEM_ITEMS),
    }
    flags = (
        *flagged(Flag.POSITIVE_SCREEN, audit_total >= POSITIVE_AUDIT_AT),
        *flagged(
            Flag.ALCOHOL_DEPENDENCE_SYMPTOMS, subscales["dependence"] >= DEPENDENCE_SUBSCALE_AT
        ),
    )
    return scoring.banded(audit_total, subscales, flags)


_RECALL = RecallPeriod(
    365,
    "the past year",
    src("§4.8", UNVERIFIED, "Items 9-10 say 'during the last year'; items 1-8 window from memory"),
)

AUDIT = InstrumentDefinition(
    name="audit",
    title="Alcohol Use Disorders Identification Test (AUDIT)",
    version="1.0",
    items=tuple(_audit_item(item_id, _options(item_id)) for item_id in AUDIT_LABELS),
    recall=_RECALL,
    scoring=ScoringRule(
        "Sum of items 1-10 (0-40); items 9-10 score 0, 2 or 4. Subscales: AUDIT-C (1-3), "
        "dependence (4-6), alcohol-related problems (7-10).",
        src("§4.8", VERIFIED, "AWELL README; CamCOPS"),
        (0, 40),
    ),
    bands=bands(
        src("§4.8", VERIFIED, "AWELL; CamCOPS cut-off 8"),
        (0, 7, "low_risk"),
        (8, 15, "hazardous"),
        (16, 19, "harmful"),
        (20, 40, "possible_dependence"),
    ),
    flag_rules=(
        FlagRule(
            Flag.POSITIVE_SCREEN,
            "Total 8 or more (the standard AUDIT cut-off).",
            src("§4.8", VERIFIED, "CamCOPS cut-off >= 8"),
        ),
        FlagRule(
            Flag.ALCOHOL_DEPENDENCE_SYMPTOMS,
            "Dependence items 4-6 sum to 4 or more: suggests possible dependence.",
            src("§4.8", VERIFIED, "AWELL"),
        ),
    ),
    loinc=LoincCodes(
        subscales={"audit_c": "75626-2"},
        source=src(
            "§4.8",
            VERIFIED,
            "Only the AUDIT-C total code is verified; AUDIT panel and total (75624-7?) are not",
        ),
    ),
    licence=AUDIT_LICENCE,
    source=src("§4.8", VERIFIED),
    scorer=score_audit,
)


def score_audit_c(scoring: Scoring) -> Outcome:
    audit_c_total = scoring.total(AUDIT_C_ITEMS)
    positive = audit_c_total >= scoring.policy.audit_c_positive_cutoff
    return scoring.banded(audit_c_total, flags=flagged(Flag.POSITIVE_SCREEN, positive))


AUDIT_C = InstrumentDefinition(
    name="audit_c",
    title="AUDIT Alcohol Consumption Questions (AUDIT-C)",
    version="1.0",
    # Standalone, items 2 and 3 are always asked (CamCOPS: all three required).
    items=tuple(
        Item(
            id=item_id,
            label=AUDIT_LABELS[item_id],
            kind=AnswerKind.SCALE,
            options=_options(item_id),
            source=_OPTIONS,
        )
        for item_id in AUDIT_C_ITEMS
    ),
    recall=_RECALL,
    scoring=ScoringRule(
        "Sum of AUDIT items 1-3 (0-12).", src("§4.8", VERIFIED, "AWELL; CamCOPS"), (0, 12)
    ),
    bands=(),
    flag_rules=(
        FlagRule(
            Flag.POSITIVE_SCREEN,
            "Total at or above the clinic's cut-off (ScoringPolicy.audit_c_positive_cutoff; "
            "Bradley 2007: >= 4 men, >= 3 women).",
            AUDIT_C_CUTOFF_SOURCE,
        ),
    ),
    loinc=LoincCodes(
        panel="72109-2",
        total="75626-2",
        source=src("§4.8", VERIFIED, "HL7 fhir-us-mcc panel table; HL7 Lithuania lifestyle IG"),
    ),
    licence=AUDIT_LICENCE,
    source=src("§4.8", SECONDARY, "Cut-offs unverified; scoring verified"),
    scorer=score_audit_c,
)
