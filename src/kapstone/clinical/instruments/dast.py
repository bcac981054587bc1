"""DAST-10: Drug Abuse Screening Test, 10 yes/no items about the past 12 months.

Item 3 ("always able to stop?") is reverse-scored: the patient's NO scores 1. Callers send the
answer as given; AWELL's tests expect it already inverted, which must not be copied.
"""

from __future__ import annotations

import dataclasses

from kapstone.clinical.instruments._build import (
    SECONDARY,
    VERIFIED,
    bands,
    items,
    src,
    yes_no,
)
from kapstone.clinical.instruments.definition import (
    AnswerKind,
    InstrumentDefinition,
    Licence,
    LoincCodes,
    RecallPeriod,
    ScoringRule,
    sum_of_items,
)

DAST_LABELS = {
    "1": "Used drugs other than those required for medical reasons",
    "2": "Abuse more than one drug at a time",
    "3": "Always able to stop using drugs when you want to",
    "4": "Blackouts or flashbacks from drug use",
    "5": "Feel bad or guilty about drug use",
    "6": "Spouse or parents complain about your drug use",
    "7": "Neglected your family because of drug use",
    "8": "Illegal activities to obtain drugs",
    "9": "Withdrawal symptoms when stopping drugs",
    "10": "Medical problems from drug use",
}
REVERSED = "3"
_ITEMS = src("§4.9", VERIFIED, "AWELL README; rhavekost/clinical-toolkit")

DAST_LICENCE_NOTICE = (
    "Copyright 1982 by Harvey A. Skinner, PhD, and the Centre for Addiction and Mental Health, "
    "Toronto, Canada. You may reproduce this instrument for non-commercial use (clinical, "
    "research, training purposes) as long as you credit the author… Commercial use needs "
    "permission. Item wording is not shipped; load it with a licensed-wording file."
)


DAST10 = InstrumentDefinition(
    name="dast10",
    title="Drug Abuse Screening Test (DAST-10)",
    version="1.0",
    items=tuple(
        dataclasses.replace(item, options=yes_no(reverse=True), reverse_scored=True)
        if item.id == REVERSED
        else item
        for item in items(DAST_LABELS, AnswerKind.YES_NO, yes_no(), _ITEMS)
    ),
    recall=RecallPeriod(
        365,
        "the past 12 months (drugs other than alcohol and tobacco)",
        src("§4.9", VERIFIED),
    ),
    scoring=ScoringRule(
        "One point per YES, except item 3, where NO scores the point (0-10).",
        _ITEMS,
        (0, 10),
    ),
    bands=bands(
        src("§4.9", VERIFIED, "AWELL interpretation table"),
        (0, 0, "none"),
        (1, 2, "low"),
        (3, 5, "moderate"),
        (6, 8, "substantial"),
        (9, 10, "severe"),
    ),
    flag_rules=(),
    loinc=LoincCodes(
        source=src("§4.9", SECONDARY, "82666-9 / 82667-7 seen only secondarily, so not used"),
    ),
    licence=Licence(
        DAST_LICENCE_NOTICE,
        False,
        src("§4.9", VERIFIED, "CamCOPS docs quoting CAMH"),
    ),
    source=src("§4.9", VERIFIED),
    scorer=sum_of_items,
)
