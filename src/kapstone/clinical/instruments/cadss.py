"""CADSS (23 subjective items, 0-4) and its six-item short form CADSS-6.

Dissociation during or just after a ketamine session. CADSS-6 answers are keyed by the original
CADSS item numbers (1, 2, 6, 7, 15, 22), so a full CADSS can be re-scored as CADSS-6 unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping

from kapstone.clinical.instruments._build import (
    UNVERIFIED,
    VERIFIED,
    id_range,
    ids,
    items,
    numbered_scale,
    src,
    total,
)
from kapstone.clinical.instruments.definition import (
    AnswerKind,
    Answers,
    InstrumentDefinition,
    Licence,
    LoincCodes,
    Outcome,
    RecallPeriod,
    ScoringRule,
)
from kapstone.clinical.instruments.policy import ScoringPolicy

CADSS_ITEMS = id_range(1, 23)
CADSS6_ITEMS = ids(1, 2, 6, 7, 15, 22)

_ITEMS = src(
    "§4.10",
    UNVERIFIED,
    "23 items verified (Rodrigues 2021; Bremner 2024); 0-4 range standard but unverified; "
    "wording not shipped",
)
_SHORT_FORM = src("§4.10", VERIFIED, "Rodrigues et al. 2021, n = 260, IV ketamine")
_RECALL = RecallPeriod(
    None,
    "now: the state during or just after the session",
    src("§4.10", UNVERIFIED, "State measure used around dosing; the reference states no window"),
)
_LICENCE = Licence(
    "CADSS (Bremner et al. 1998): licence UNVERIFIED (clinical-reference §4.10, §10 item 6). Item "
    "wording is not shipped; load it with a licensed-wording file.",
    False,
    src("§4.10", UNVERIFIED),
)


def score_cadss(
    definition: InstrumentDefinition,
    points: Mapping[str, int],
    answers: Answers,
    policy: ScoringPolicy,
) -> Outcome:
    # Original subscales (depersonalisation, derealisation, amnesia) are not in the reference.
    return Outcome(total(points, CADSS_ITEMS), None, {"cadss6": total(points, CADSS6_ITEMS)}, ())


def score_cadss6(
    definition: InstrumentDefinition,
    points: Mapping[str, int],
    answers: Answers,
    policy: ScoringPolicy,
) -> Outcome:
    return Outcome(total(points, CADSS6_ITEMS), None, {}, ())


def _labels(item_ids: tuple[str, ...]) -> dict[str, str]:
    return {item_id: f"CADSS item {item_id}" for item_id in item_ids}


CADSS = InstrumentDefinition(
    name="cadss",
    title="Clinician-Administered Dissociative States Scale (CADSS), 23 subjective items",
    version="1.0",
    items=items(_labels(CADSS_ITEMS), AnswerKind.SCALE, numbered_scale(0, 4), _ITEMS),
    recall=_RECALL,
    scoring=ScoringRule(
        "Sum of items 1-23 (0-92); subscale cadss6 = items 1, 2, 6, 7, 15, 22 (0-24).",
        _SHORT_FORM,
        (0, 92),
    ),
    bands=(),
    flag_rules=(),
    loinc=LoincCodes(source=src("§4.10", UNVERIFIED)),
    licence=_LICENCE,
    source=src("§4.10", VERIFIED),
    scorer=score_cadss,
)

CADSS6 = InstrumentDefinition(
    name="cadss6",
    title="CADSS-6 short form (CADSS items 1, 2, 6, 7, 15, 22)",
    version="1.0",
    items=items(_labels(CADSS6_ITEMS), AnswerKind.SCALE, numbered_scale(0, 4), _ITEMS),
    recall=_RECALL,
    scoring=ScoringRule("Sum of the six items (0-24).", _SHORT_FORM, (0, 24)),
    bands=(),
    flag_rules=(),
    loinc=LoincCodes(source=src("§4.10", UNVERIFIED)),
    licence=_LICENCE,
    source=_SHORT_FORM,
    scorer=score_cadss6,
)
