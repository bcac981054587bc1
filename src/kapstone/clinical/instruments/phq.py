"""The Pfizer PHQ family: PHQ-9 (depression), GAD-7 (anxiety), PHQ-15 (somatic symptoms).

Their wording may be redistributed ("No permission required to reproduce, translate, display or
distribute"), so full item texts ship with them.
"""

from __future__ import annotations

from kapstone.clinical.instruments._build import (
    SECONDARY,
    VERIFIED,
    bands,
    id_range,
    items,
    scale,
    src,
)
from kapstone.clinical.instruments.definition import (
    AnswerKind,
    Answers,
    AskedWhen,
    Flag,
    FlagRule,
    InstrumentDefinition,
    Item,
    Licence,
    LoincCodes,
    Outcome,
    RecallPeriod,
    Scoring,
    ScoringRule,
    WhenNotAsked,
    flagged,
    sum_of_items,
)

PFIZER_NOTICE = (
    "Copyright © Pfizer Inc. All rights reserved. Developed by Drs. Robert L. Spitzer, "
    "Janet B.W. Williams, Kurt Kroenke and colleagues, with an educational grant from Pfizer Inc. "
    "No permission required to reproduce, translate, display or distribute."
)

FREQUENCY = scale(
    ["Not at all", "Several days", "More than half the days", "Nearly every day"],
    loinc=["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"],
)

# ---------------------------------------------------------------------------------------------
# PHQ-9

PHQ9_TEXTS = {
    "1": "Little interest or pleasure in doing things",
    "2": "Feeling down, depressed, or hopeless",
    "3": "Trouble falling or staying asleep, or sleeping too much",
    "4": "Feeling tired or having little energy",
    "5": "Poor appetite or overeating",
    "6": "Feeling bad about yourself — or that you are a failure or have let yourself or your "
    "family down",
    "7": "Trouble concentrating on things, such as reading the newspaper or watching television",
    "8": "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
    "being so fidgety or restless that you have been moving around a lot more than usual",
    "9": "Thoughts that you would be better off dead or of hurting yourself in some way",
}
PHQ9_LABELS = {
    "1": "Little interest or pleasure",
    "2": "Down, depressed, hopeless",
    "3": "Sleep problems",
    "4": "Tired, little energy",
    "5": "Appetite",
    "6": "Feeling bad about yourself",
    "7": "Trouble concentrating",
    "8": "Slowed down or restless",
    "9": "Thoughts of death or self-harm",
}
PHQ9_LOINC = {
    "1": "44250-9",
    "2": "44255-8",
    "3": "44259-0",
    "4": "44254-1",
    "5": "44251-7",
    "6": "44258-2",
    "7": "44252-5",
    "8": "44253-3",
    "9": "44260-8",
}
PHQ9_SYMPTOMS = id_range(1, 9)
_PHQ9 = src("§4.1", VERIFIED, "Items, options and LOINC from LHC-Forms / HL7 SDC Questionnaires")


def _phq9_any_problem(answers: Answers) -> bool:
    return any(int(answers.get(item_id, 0)) > 0 for item_id in PHQ9_SYMPTOMS)


PHQ9_ITEM_10 = Item(
    id="10",
    label="Difficulty these problems caused",
    kind=AnswerKind.SCALE,
    options=scale(
        ["Not difficult at all", "Somewhat difficult", "Very difficult", "Extremely difficult"]
    ),
    source=_PHQ9,
    text="If you checked off any problems, how difficult have these problems made it for you to "
    "do your work, take care of things at home, or get along with other people?",
    scored=False,
    loinc="69722-7",
    asked_when=AskedWhen(
        description="items 1-9 total more than 0",
        depends_on=PHQ9_SYMPTOMS,
        applies=_phq9_any_problem,
        # Not scored, so any answer given at total 0 is kept as the patient gave it.
        otherwise=WhenNotAsked.ANY,
        source=src("§4.1", VERIFIED, "CamCOPS completeness rule: item 10 required if total > 0"),
    ),
)


def score_phq9(scoring: Scoring) -> Outcome:
    points = scoring.points
    flags: list[Flag] = []
    if points["9"] >= 1:
        flags.append(Flag.SUICIDE_RISK)
    # CamCOPS diagnostic algorithm (citing DSM-IV-TR): item 9 counts whenever present.
    core = sum(1 for i in ("1", "2") if points[i] >= 2)
    other = sum(1 for i in id_range(3, 8) if points[i] >= 2) + (1 if points["9"] >= 1 else 0)
    if core >= 1 and core + other >= 5:
        flags.append(Flag.MAJOR_DEPRESSIVE_SYNDROME)
    elif core >= 1 and 2 <= core + other <= 4:
        flags.append(Flag.OTHER_DEPRESSIVE_SYNDROME)
    return scoring.banded(scoring.total(PHQ9_SYMPTOMS), flags=flags)


PHQ9 = InstrumentDefinition(
    name="phq9",
    title="Patient Health Questionnaire-9 (PHQ-9)",
    version="1.0",
    stem="Over the last 2 weeks, how often have you been bothered by any of the following "
    "problems?",
    items=(
        *items(
            PHQ9_LABELS,
            AnswerKind.SCALE,
            FREQUENCY,
            _PHQ9,
            texts=PHQ9_TEXTS,
            loinc=PHQ9_LOINC,
        ),
        PHQ9_ITEM_10,
    ),
    recall=RecallPeriod(
        14,
        "the last 2 weeks",
        src("§4.1", VERIFIED, "Stem; §9: not 'the last week' as one summary says"),
    ),
    scoring=ScoringRule(
        "Sum of items 1-9 (0-27). Item 10 is recorded, never scored.",
        src("§4.1", VERIFIED, "CamCOPS phq9.py; AWELL"),
        (0, 27),
    ),
    bands=bands(
        src("§4.1", VERIFIED, "CamCOPS phq9.py; AWELL phq9_interpretation.ts"),
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately_severe"),
        (20, 27, "severe"),
    ),
    flag_rules=(
        FlagRule(
            Flag.SUICIDE_RISK,
            "Item 9 answered 1 or more: alert a clinician at once and give the C-SSRS screener.",
            src("§4.1", VERIFIED, "CamCOPS counts item 9 whenever present (>= 1)"),
        ),
        FlagRule(
            Flag.MAJOR_DEPRESSIVE_SYNDROME,
            "At least one core symptom (items 1-2 rated >= 2) and >= 5 symptoms in all (items 3-8 "
            "rated >= 2, item 9 >= 1).",
            src("§4.1", VERIFIED, "CamCOPS diagnostic algorithm citing DSM-IV-TR"),
        ),
        FlagRule(
            Flag.OTHER_DEPRESSIVE_SYNDROME,
            "At least one core symptom and 2-4 symptoms in all.",
            src("§4.1", VERIFIED, "CamCOPS diagnostic algorithm citing DSM-IV-TR"),
        ),
    ),
    loinc=LoincCodes(
        panel="44249-1",
        total="44261-6",
        source=src("§4.1", VERIFIED, "Panel and total codes; HL7 SDC example"),
    ),
    licence=Licence(PFIZER_NOTICE, True, src("§4.1", VERIFIED, "Embedded in LHC-Forms")),
    source=src("§4.1", VERIFIED),
    scorer=score_phq9,
)

# ---------------------------------------------------------------------------------------------
# GAD-7

GAD7_TEXTS = {
    "1": "Feeling nervous, anxious, or on edge",
    "2": "Not being able to stop or control worrying",
    "3": "Worrying too much about different things",
    "4": "Trouble relaxing",
    "5": "Being so restless that it is hard to sit still",
    "6": "Becoming easily annoyed or irritable",
    "7": "Feeling afraid, as if something awful might happen",
}
GAD7_LOINC = {
    "1": "69725-0",
    "2": "68509-9",
    "3": "69733-4",
    "4": "69734-2",
    "5": "69735-9",
    # LOINC's display says "in last 4 weeks": the code is shared with the PHQ, harmless (§4.2).
    "6": "69689-8",
    "7": "69736-7",
}
_GAD7 = src("§4.2", VERIFIED, "HL7 personal-health-record-format-ig GAD-7 Questionnaire (FSH)")


GAD7 = InstrumentDefinition(
    name="gad7",
    title="Generalized Anxiety Disorder-7 (GAD-7)",
    version="1.0",
    stem="Over the last 2 weeks, how often have you been bothered by the following problems?",
    items=items(GAD7_TEXTS, AnswerKind.SCALE, FREQUENCY, _GAD7, texts=GAD7_TEXTS, loinc=GAD7_LOINC),
    recall=RecallPeriod(14, "the last 2 weeks", _GAD7),
    scoring=ScoringRule("Sum of items 1-7 (0-21).", src("§4.2", VERIFIED, "AWELL"), (0, 21)),
    bands=bands(
        src("§4.2", VERIFIED, "AWELL"),
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 21, "severe"),
    ),
    flag_rules=(),
    loinc=LoincCodes(
        panel="69737-5",
        total="70274-6",
        source=src("§4.2", VERIFIED, "HL7 PHR IG Questionnaire and Observation examples"),
    ),
    licence=Licence(PFIZER_NOTICE, True, src("§4.2", VERIFIED)),
    source=_GAD7,
    scorer=sum_of_items,
)

# ---------------------------------------------------------------------------------------------
# PHQ-15

PHQ15_TEXTS = {
    "1": "Stomach pain",
    "2": "Back pain",
    "3": "Pain in your arms, legs, or joints (knees, hips, etc.)",
    "4": "Menstrual cramps or other problems with your periods",
    "5": "Headaches",
    "6": "Chest pain",
    "7": "Dizziness",
    "8": "Fainting spells",
    "9": "Feeling your heart pound or race",
    "10": "Shortness of breath",
    "11": "Pain or problems during sexual intercourse",
    "12": "Constipation, loose bowels, or diarrhea",
    "13": "Nausea, gas, or indigestion",
    "14": "Feeling tired or having low energy",
    "15": "Trouble sleeping",
}
_PHQ15 = src(
    "§4.12",
    SECONDARY,
    "Numbering as CamCOPS phq15.py; texts as the LHC-Forms FSH cited in §4.12 (items 1 and 4 "
    "named in the reference). Item LOINC codes other than item 1 are not marked verified.",
)
PHQ15_MENSTRUAL = "4"


def _never_required(answers: Answers) -> bool:
    return False


def score_phq15(scoring: Scoring) -> Outcome:
    bothered_a_lot = sum(1 for p in scoring.points.values() if p >= 2)
    flags = flagged(Flag.SOMATOFORM_LIKELY, bothered_a_lot >= 3)
    return scoring.banded(scoring.total(), flags=flags)


PHQ15 = InstrumentDefinition(
    name="phq15",
    title="Patient Health Questionnaire-15 (PHQ-15)",
    version="1.0",
    stem="During the past 4 weeks, how much have you been bothered by any of the following "
    "problems?",
    items=items(
        PHQ15_TEXTS,
        AnswerKind.SCALE,
        scale(
            ["Not bothered at all", "Bothered a little", "Bothered a lot"],
            loinc=["LA18334-5", "LA18335-2", "LA18336-0"],
        ),
        _PHQ15,
        texts=PHQ15_TEXTS,
        loinc={"1": "69671-6"},
        asked_when={
            PHQ15_MENSTRUAL: AskedWhen(
                description="the patient menstruates (item 4 is for women only; men score out "
                "of 28)",
                depends_on=(),
                applies=_never_required,
                otherwise=WhenNotAsked.ANY,
                source=src("§4.12", VERIFIED, "CamCOPS phq15.py"),
            )
        },
    ),
    recall=RecallPeriod(28, "the past 4 weeks", src("§4.12", VERIFIED)),
    scoring=ScoringRule(
        "Sum of items 1-15 (0-30; 0-28 when item 4 is not asked).",
        src("§4.12", VERIFIED, "CamCOPS phq15.py"),
        (0, 30),
    ),
    bands=bands(
        src(
            "§4.12",
            VERIFIED,
            "CamCOPS cut-offs 5/10/15; the words minimal/low/medium/high are the issue's",
        ),
        (0, 4, "minimal"),
        (5, 9, "low"),
        (10, 14, "medium"),
        (15, 30, "high"),
    ),
    flag_rules=(
        FlagRule(
            Flag.SOMATOFORM_LIKELY,
            "Three or more symptoms rated 2 ('bothered a lot').",
            src("§4.12", VERIFIED, "CamCOPS phq15.py"),
        ),
    ),
    loinc=LoincCodes(
        panel="69728-4",
        source=src("§4.12", VERIFIED, "Total-score LOINC unverified, so none"),
    ),
    licence=Licence(PFIZER_NOTICE, True, src("§4.12", VERIFIED, "Notice in the same FSH")),
    source=src("§4.12", VERIFIED),
    scorer=score_phq15,
)

__all__ = ["GAD7", "PHQ9", "PHQ15"]
