"""PCL-5: the PTSD Checklist for DSM-5, 20 items rated 0-4 over the past month."""

from __future__ import annotations

from collections.abc import Mapping

from kapstone.clinical.instruments._build import (
    UNVERIFIED,
    VERIFIED,
    id_range,
    items,
    scale,
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
)

# Short labels naming the DSM-5 criterion each item asks about; the official wording is not shipped
# until the licence is confirmed.
PCL5_LABELS = {
    "1": "B1 Repeated, disturbing memories",
    "2": "B2 Repeated, disturbing dreams",
    "3": "B3 Reliving it (flashbacks)",
    "4": "B4 Upset when reminded",
    "5": "B5 Physical reactions to reminders",
    "6": "C1 Avoiding memories, thoughts or feelings",
    "7": "C2 Avoiding external reminders",
    "8": "D1 Trouble remembering important parts",
    "9": "D2 Strong negative beliefs",
    "10": "D3 Blaming self or others",
    "11": "D4 Strong negative feelings",
    "12": "D5 Loss of interest in activities",
    "13": "D6 Feeling distant or cut off",
    "14": "D7 Trouble having positive feelings",
    "15": "E1 Irritable or angry outbursts",
    "16": "E2 Taking too many risks",
    "17": "E3 Being super-alert or on guard",
    "18": "E4 Jumpy or easily startled",
    "19": "E5 Difficulty concentrating",
    "20": "E6 Trouble sleeping",
}

CLUSTERS: Mapping[str, tuple[str, ...]] = {
    "cluster_b": id_range(1, 5),
    "cluster_c": id_range(6, 7),
    "cluster_d": id_range(8, 14),
    "cluster_e": id_range(15, 20),
}
# Items rated >= 2 count as endorsed; the provisional diagnosis needs this many per cluster.
ENDORSED_AT = 2
NEEDED = {"cluster_b": 1, "cluster_c": 1, "cluster_d": 2, "cluster_e": 2}

_CLUSTERS = src("§4.3", VERIFIED, "AWELL README and CamCOPS pcl5.py")


def score_pcl5(scoring: Scoring) -> Outcome:
    points, pcl_total = scoring.points, scoring.total()
    subscales = {name: scoring.total(ids) for name, ids in CLUSTERS.items()}
    flags: list[Flag] = []
    if all(
        sum(1 for i in ids if points[i] >= ENDORSED_AT) >= NEEDED[name]
        for name, ids in CLUSTERS.items()
    ):
        flags.append(Flag.PROVISIONAL_PTSD)
    if pcl_total >= scoring.policy.pcl5_probable_ptsd_cutoff:
        flags.append(Flag.PROBABLE_PTSD)
    return scoring.banded(pcl_total, subscales, flags)


PCL5 = InstrumentDefinition(
    name="pcl5",
    title="PTSD Checklist for DSM-5 (PCL-5)",
    version="1.0",
    items=items(
        PCL5_LABELS,
        AnswerKind.SCALE,
        scale(["Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely"]),
        src(
            "§4.3",
            UNVERIFIED,
            "Range 0-4 and end labels from CamCOPS; middle labels from the standard form "
            "(unverified); short labels paraphrase the DSM-5 criteria (unverified).",
        ),
    ),
    recall=RecallPeriod(30, "the past month", src("§4.3", VERIFIED)),
    scoring=ScoringRule(
        "Sum of items 1-20 (0-80); cluster sums B 1-5, C 6-7, D 8-14, E 15-20.",
        _CLUSTERS,
        (0, 80),
    ),
    bands=(),
    flag_rules=(
        FlagRule(
            Flag.PROVISIONAL_PTSD,
            "DSM-5 cluster rule: an item rated >= 2 is endorsed; needs >= 1 B, >= 1 C, >= 2 D, "
            ">= 2 E.",
            _CLUSTERS,
        ),
        FlagRule(
            Flag.PROBABLE_PTSD,
            "Total at or above the clinic's cut-off (ScoringPolicy.pcl5_probable_ptsd_cutoff, "
            "default 33).",
            src("§4.3", VERIFIED, "31-33 per AWELL README; CamCOPS 'preliminary cutoff' 33"),
        ),
    ),
    loinc=unverified_loinc("§4.3", "No code verified; 97006-2 unconfirmed"),
    licence=unconfirmed_licence(
        "PCL-5: US National Center for PTSD. Reported as public domain, not confirmed "
        "(UNVERIFIED, clinical-reference §4.3 and §10 item 6). Item wording is not shipped until "
        "the licence is confirmed; load it with a licensed-wording file.",
        "§4.3",
    ),
    source=src("§4.3", VERIFIED),
    scorer=score_pcl5,
)
