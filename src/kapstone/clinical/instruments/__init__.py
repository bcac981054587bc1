"""The validated-instrument library: definitions as data, scored by pure functions.

``INSTRUMENTS`` is keyed by the names the ``kapstone score`` command accepts. ``score`` validates
the answers (every problem at once, as :class:`AnswerErrors`) and returns a :class:`ScoreResult`
holding the total, severity word, subscales, flags, every item answer and the policy version used.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from kapstone.clinical.instruments.audit import AUDIT, AUDIT_C
from kapstone.clinical.instruments.cadss import CADSS, CADSS6
from kapstone.clinical.instruments.cssrs import CSSRS_SCREEN, cssrs_risk
from kapstone.clinical.instruments.dast import DAST10
from kapstone.clinical.instruments.definition import (
    Answer,
    AnswerErrors,
    AnswerKind,
    AnswerOption,
    AnswerProblem,
    AskedWhen,
    Flag,
    FlagRule,
    InstrumentDefinition,
    Item,
    Licence,
    LoincCodes,
    RecallPeriod,
    ScoreResult,
    ScoringRule,
    SeverityBand,
    UnknownInstrument,
    WhenNotAsked,
    WordingErrors,
)
from kapstone.clinical.instruments.madrs import MADRS
from kapstone.clinical.instruments.mdq import MDQ
from kapstone.clinical.instruments.pcl5 import PCL5
from kapstone.clinical.instruments.pdss import PDSS_SR
from kapstone.clinical.instruments.phq import GAD7, PHQ9, PHQ15
from kapstone.clinical.instruments.policy import (
    CssrsRisk,
    PolicyErrors,
    PolicyProblem,
    ScoringPolicy,
    policy_source,
)
from kapstone.clinical.instruments.qids import QIDS_SR16
from kapstone.clinical.instruments.scoring import score_definition
from kapstone.clinical.instruments.wording import apply_wording_document, with_licensed_wording

INSTRUMENTS: Mapping[str, InstrumentDefinition] = MappingProxyType(
    {
        definition.name: definition
        for definition in (
            PHQ9,
            GAD7,
            PHQ15,
            PCL5,
            CSSRS_SCREEN,
            MDQ,
            QIDS_SR16,
            AUDIT,
            AUDIT_C,
            DAST10,
            PDSS_SR,
            CADSS,
            CADSS6,
            MADRS,
        )
    }
)


def score(
    instrument: str,
    answers: Mapping[str, Answer],
    *,
    policy: ScoringPolicy = ScoringPolicy(),  # noqa: B008  # frozen, so one shared default is safe
) -> ScoreResult:
    """Score one completed instrument; raises UnknownInstrument or AnswerErrors."""
    definition = INSTRUMENTS.get(instrument)
    if definition is None:
        raise UnknownInstrument(instrument, tuple(INSTRUMENTS))
    return score_definition(definition, answers, policy)


__all__ = [
    "INSTRUMENTS",
    "Answer",
    "AnswerErrors",
    "AnswerKind",
    "AnswerOption",
    "AnswerProblem",
    "AskedWhen",
    "CssrsRisk",
    "Flag",
    "FlagRule",
    "InstrumentDefinition",
    "Item",
    "Licence",
    "LoincCodes",
    "PolicyErrors",
    "PolicyProblem",
    "RecallPeriod",
    "ScoreResult",
    "ScoringPolicy",
    "ScoringRule",
    "SeverityBand",
    "UnknownInstrument",
    "WhenNotAsked",
    "WordingErrors",
    "apply_wording_document",
    "cssrs_risk",
    "policy_source",
    "score",
    "with_licensed_wording",
]
