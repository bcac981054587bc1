"""C-SSRS Screener (Screen Version, 6 questions plus the past-3-months follow-up to question 6).

No total: the result is a risk tier. High risk is fixed by the Columbia triage guidance; the lower
tiers are clinic policy because the reference could not verify them.
"""

from __future__ import annotations

from collections.abc import Mapping

from kapstone.clinical.instruments._build import (
    VERIFIED,
    answered_yes,
    items,
    skipped_unless,
    src,
    unconfirmed_licence,
    unverified_loinc,
    yes_no,
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
from kapstone.clinical.instruments.policy import CssrsRisk, ScoringPolicy

CSSRS_LABELS = {
    "1": "Wish to be dead (past month)",
    "2": "Non-specific active suicidal thoughts (past month)",
    "3": "Active suicidal ideation with method, without intent (past month)",
    "4": "Active suicidal ideation with some intent to act, without specific plan (past month)",
    "5": "Active suicidal ideation with specific plan and intent (past month)",
    "6": "Suicidal behaviour, lifetime",
    "6b": "Suicidal behaviour within the past 3 months",
}

_FLOW = src("§4.4", VERIFIED, "Screener question flow; wording from the official Columbia form")

# Thoughts of killing oneself (2) lead to questions 3-5; suicidal behaviour ever (6) to 6b.
_AFTER_Q2 = skipped_unless(
    "item 2 is yes (if no, the screener goes to item 6)", ("2",), answered_yes("2"), _FLOW
)
_AFTER_Q6 = skipped_unless("item 6 is yes", ("6",), answered_yes("6"), _FLOW)


def cssrs_risk(points: Mapping[str, int], policy: ScoringPolicy) -> CssrsRisk:
    """The triage tier. Absent skipped questions count as 'no' (their lowest answer)."""
    yes = {item_id for item_id, p in points.items() if p > 0}
    tiers = [CssrsRisk.NONE]
    if yes & {"4", "5"} or {"6", "6b"} <= yes:
        tiers.append(CssrsRisk.HIGH)
    if "3" in yes:
        tiers.append(policy.cssrs_method_risk)
    if "6" in yes and "6b" not in yes:
        tiers.append(policy.cssrs_past_behaviour_risk)
    if yes & {"1", "2"}:
        tiers.append(policy.cssrs_wish_or_thoughts_risk)
    return max(tiers, key=lambda tier: tier.rank)


def score_cssrs(scoring: Scoring) -> Outcome:
    risk = cssrs_risk(scoring.points, scoring.policy)
    return Outcome(None, str(risk), {}, flagged(Flag.SUICIDE_RISK, risk is not CssrsRisk.NONE))


CSSRS_SCREEN = InstrumentDefinition(
    name="cssrs_screen",
    title="Columbia-Suicide Severity Rating Scale, Screen Version (C-SSRS screener)",
    version="1.0",
    items=items(
        CSSRS_LABELS,
        AnswerKind.YES_NO,
        yes_no(),
        src("§4.4", VERIFIED, "Content paraphrased from the reference's flow table"),
        asked_when={"3": _AFTER_Q2, "4": _AFTER_Q2, "5": _AFTER_Q2, "6b": _AFTER_Q6},
    ),
    recall=RecallPeriod(
        30,
        "the past month (questions 1-5); question 6 asks about lifetime behaviour, then whether "
        "it was within the past 3 months",
        src("§4.4", VERIFIED),
    ),
    scoring=ScoringRule(
        "No total. Risk tier: high for yes to 4 or 5, or behaviour in the past 3 months; "
        "otherwise the clinic's tiers for yes to 3, for behaviour more than 3 months ago, and for "
        "yes to 1 and/or 2 only; none when every answer is no.",
        src("CSSRS-TRIAGE", VERIFIED, "High tier only; lower tiers are ScoringPolicy fields"),
        None,
    ),
    bands=(),
    flag_rules=(
        FlagRule(
            Flag.SUICIDE_RISK,
            "Any risk tier above none.",
            src("§4.4", VERIFIED, "Issue 3 rule over the CSSRS-TRIAGE tiers"),
        ),
    ),
    loinc=unverified_loinc("§4.4", "No code verified; 89204-2 is PHQ-9 teens, not C-SSRS"),
    licence=unconfirmed_licence(
        "C-SSRS: Columbia Lighthouse Project. Free for clinical and non-profit use; terms for "
        "electronic and commercial use are UNVERIFIED (clinical-reference §4.4) - contact the "
        "Columbia Lighthouse Project before distributing an electronic version. Official wording "
        "must be copied from the Columbia form; load it with a licensed-wording file.",
        "§4.4",
    ),
    source=src("§4.4", VERIFIED),
    scorer=score_cssrs,
)
