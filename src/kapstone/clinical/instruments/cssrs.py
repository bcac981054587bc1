"""C-SSRS Screener (Screen Version, 6 questions plus the past-3-months follow-up to question 6).

No total: the result is a risk tier. High risk is fixed by the Columbia triage guidance; the lower
tiers are clinic policy because the reference could not verify them.
"""

from __future__ import annotations

from collections.abc import Mapping

from kapstone.clinical.instruments._build import (
    UNVERIFIED,
    VERIFIED,
    items,
    src,
    yes_no,
)
from kapstone.clinical.instruments.definition import (
    AnswerKind,
    Answers,
    AskedWhen,
    Flag,
    FlagRule,
    InstrumentDefinition,
    Licence,
    LoincCodes,
    Outcome,
    RecallPeriod,
    ScoringRule,
    WhenNotAsked,
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


def _thoughts_of_killing_self(answers: Answers) -> bool:
    return answers.get("2") is True


def _behaviour_ever(answers: Answers) -> bool:
    return answers.get("6") is True


_AFTER_Q2 = AskedWhen(
    description="item 2 is yes (if no, the screener goes to item 6)",
    depends_on=("2",),
    applies=_thoughts_of_killing_self,
    otherwise=WhenNotAsked.ABSENT_OR_LOWEST,
    source=_FLOW,
)
_AFTER_Q6 = AskedWhen(
    description="item 6 is yes",
    depends_on=("6",),
    applies=_behaviour_ever,
    otherwise=WhenNotAsked.ABSENT_OR_LOWEST,
    source=_FLOW,
)


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


def score_cssrs(
    definition: InstrumentDefinition,
    points: Mapping[str, int],
    answers: Answers,
    policy: ScoringPolicy,
) -> Outcome:
    risk = cssrs_risk(points, policy)
    flags = (Flag.SUICIDE_RISK,) if risk is not CssrsRisk.NONE else ()
    return Outcome(None, str(risk), {}, flags)


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
    loinc=LoincCodes(
        source=src("§4.4", UNVERIFIED, "No code verified; 89204-2 is PHQ-9 teens, not C-SSRS")
    ),
    licence=Licence(
        "C-SSRS: Columbia Lighthouse Project. Free for clinical and non-profit use; terms for "
        "electronic and commercial use are UNVERIFIED (clinical-reference §4.4) - contact the "
        "Columbia Lighthouse Project before distributing an electronic version. Official wording "
        "must be copied from the Columbia form; load it with a licensed-wording file.",
        False,
        src("§4.4", UNVERIFIED),
    ),
    source=src("§4.4", VERIFIED),
    scorer=score_cssrs,
)
