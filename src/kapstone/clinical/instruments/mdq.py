"""MDQ: the Mood Disorder Questionnaire (Hirschfeld 2000), a lifetime screen for bipolar spectrum.

The total is the number of YES answers to question 1 (1a-1m); the positive screen also needs
question 2 (symptoms together) and question 3 (how much of a problem).
"""

from __future__ import annotations

from kapstone.clinical.instruments._build import (
    SECONDARY,
    VERIFIED,
    items,
    scale,
    skipped_unless,
    src,
    unverified_licence,
    unverified_loinc,
    yes_no,
)
from kapstone.clinical.instruments.definition import (
    AnswerKind,
    Answers,
    Flag,
    FlagRule,
    InstrumentDefinition,
    Item,
    Outcome,
    RecallPeriod,
    Scoring,
    ScoringRule,
    flagged,
)

Q1_LABELS = {
    "1a": "So good or so hyper that others thought you were not your normal self",
    "1b": "So irritable that you shouted at people or started fights",
    "1c": "Much more self-confident than usual",
    "1d": "Much less sleep than usual and did not really miss it",
    "1e": "Much more talkative or spoke faster than usual",
    "1f": "Thoughts raced through your head",
    "1g": "Question 1 item g",
    "1h": "Question 1 item h",
    "1i": "Question 1 item i",
    "1j": "Question 1 item j",
    "1k": "Question 1 item k",
    "1l": "Question 1 item l",
    "1m": "Question 1 item m",
}
Q1 = tuple(Q1_LABELS)
POSITIVE_Q1_YES = 7
POSITIVE_Q3_AT = 2  # moderate or serious problem

_SCREEN = src("§4.5", SECONDARY, "Several independent implementations agree; paper not read")


def _q1_yes(answers: Answers) -> int:
    return sum(1 for item_id in Q1 if answers.get(item_id) is True)


def _several_yes(answers: Answers) -> bool:
    return _q1_yes(answers) >= 2


def _any_yes(answers: Answers) -> bool:
    return _q1_yes(answers) >= 1


_Q2_WORDING = src("§4.5", VERIFIED, "Question 2 opens 'If you checked YES to more than one'")

Q2 = Item(
    id="2",
    label="Several of these happened during the same period of time",
    kind=AnswerKind.YES_NO,
    options=yes_no(),
    source=_Q2_WORDING,
    asked_when=skipped_unless("two or more of 1a-1m are yes", Q1, _several_yes, _Q2_WORDING),
)
Q3 = Item(
    id="3",
    label="How much of a problem any of these caused",
    kind=AnswerKind.SCALE,
    options=scale(["No problem", "Minor problem", "Moderate problem", "Serious problem"]),
    source=src("§4.5", VERIFIED),
    asked_when=skipped_unless(
        "at least one of 1a-1m is yes (it asks about 'any of these')",
        Q1,
        _any_yes,
        src("§4.5", VERIFIED, "Wording of question 3; the skip is our reading of it"),
    ),
)


def score_mdq(scoring: Scoring) -> Outcome:
    points, yes = scoring.points, scoring.total(Q1)
    positive = yes >= POSITIVE_Q1_YES and points["2"] == 1 and points["3"] >= POSITIVE_Q3_AT
    return scoring.banded(yes, flags=flagged(Flag.POSITIVE_SCREEN, positive))


MDQ = InstrumentDefinition(
    name="mdq",
    title="Mood Disorder Questionnaire (MDQ)",
    version="1.0",
    items=(
        *items(
            Q1_LABELS,
            AnswerKind.YES_NO,
            yes_no(),
            src("§4.5", VERIFIED, "Labels paraphrase items 1-6; wording of 7-13 unverified"),
        ),
        Q2,
        Q3,
    ),
    recall=RecallPeriod(None, "ever (lifetime)", src("§4.5", VERIFIED, "'Has there ever been'")),
    scoring=ScoringRule(
        "Total = number of YES answers to 1a-1m (0-13). Questions 4-5 (family history) are not "
        "scored and not taken.",
        _SCREEN,
        (0, 13),
    ),
    bands=(),
    flag_rules=(
        FlagRule(
            Flag.POSITIVE_SCREEN,
            ">= 7 YES in question 1 AND question 2 YES AND question 3 moderate or serious. Route "
            "to the bipolar-specific protocol.",
            _SCREEN,
        ),
    ),
    loinc=unverified_loinc("§4.5"),
    licence=unverified_licence("MDQ (Hirschfeld et al. 2000)", "§4.5"),
    source=src("§4.5", SECONDARY),
    scorer=score_mdq,
)
