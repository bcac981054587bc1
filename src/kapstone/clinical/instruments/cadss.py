"""CADSS (23 subjective items, 0-4) and its six-item short form CADSS-6.

Dissociation during or just after a ketamine session. CADSS-6 answers are keyed by the original
CADSS item numbers (1, 2, 6, 7, 15, 22), so a full CADSS can be re-scored as CADSS-6 unchanged.
"""

from __future__ import annotations

from kapstone.clinical.instruments._build import (
    UNVERIFIED,
    VERIFIED,
    id_range,
    ids,
    items,
    numbered_scale,
    src,
    unverified_licence,
    unverified_loinc,
)
from kapstone.clinical.instruments.definition import (
    AnswerKind,
    InstrumentDefinition,
    Item,
    Outcome,
    RecallPeriod,
    Scorer,
    Scoring,
    ScoringRule,
    sum_of_items,
)
from kapstone.clinical.provenance import Source

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


def score_cadss(scoring: Scoring) -> Outcome:
    # Original subscales (depersonalisation, derealisation, amnesia) are not in the reference.
    return scoring.banded(scoring.total(), {"cadss6": scoring.total(CADSS6_ITEMS)})


def _items(item_ids: tuple[str, ...]) -> tuple[Item, ...]:
    labels = {item_id: f"CADSS item {item_id}" for item_id in item_ids}
    return items(labels, AnswerKind.SCALE, numbered_scale(0, 4), _ITEMS)


def _cadss(
    *,
    name: str,
    title: str,
    item_ids: tuple[str, ...],
    scoring: ScoringRule,
    source: Source,
    scorer: Scorer,
) -> InstrumentDefinition:
    """The full scale and its short form differ only in their items, scoring and source."""
    return InstrumentDefinition(
        name=name,
        title=title,
        version="1.0",
        items=_items(item_ids),
        recall=_RECALL,
        scoring=scoring,
        bands=(),
        flag_rules=(),
        loinc=unverified_loinc("§4.10"),
        licence=unverified_licence("CADSS (Bremner et al. 1998)", "§4.10"),
        source=source,
        scorer=scorer,
    )


CADSS = _cadss(
    name="cadss",
    title="Clinician-Administered Dissociative States Scale (CADSS), 23 subjective items",
    item_ids=CADSS_ITEMS,
    scoring=ScoringRule(
        "Sum of items 1-23 (0-92); subscale cadss6 = items 1, 2, 6, 7, 15, 22 (0-24).",
        _SHORT_FORM,
        (0, 92),
    ),
    source=src("§4.10", VERIFIED),
    scorer=score_cadss,
)
CADSS6 = _cadss(
    name="cadss6",
    title="CADSS-6 short form (CADSS items 1, 2, 6, 7, 15, 22)",
    item_ids=CADSS6_ITEMS,
    scoring=ScoringRule("Sum of the six items (0-24).", _SHORT_FORM, (0, 24)),
    source=_SHORT_FORM,
    scorer=sum_of_items,
)
