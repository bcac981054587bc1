"""Hypothesis properties over every instrument: any valid answer set scores within the declared
range, and raising any one answer's points never lowers the total, the C-SSRS risk tier, or a
safety/screening flag."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.instruments import (
    INSTRUMENTS,
    AnswerErrors,
    CssrsRisk,
    Flag,
    InstrumentDefinition,
    WhenNotAsked,
    score,
)

Answer = int | bool
NAMES = sorted(INSTRUMENTS)

# Flags that must never switch off when a symptom gets worse. (The PHQ-9 syndromes are excluded on
# purpose: "other depressive syndrome" gives way to "major" as symptoms are added.)
MONOTONE_FLAGS = {
    Flag.SUICIDE_RISK,
    Flag.PROVISIONAL_PTSD,
    Flag.PROBABLE_PTSD,
    Flag.POSITIVE_SCREEN,
    Flag.SOMATOFORM_LIKELY,
    Flag.ALCOHOL_DEPENDENCE_SYMPTOMS,
}


@st.composite
def valid_answers(draw: st.DrawFn, definition: InstrumentDefinition) -> dict[str, Answer]:
    """Answers that follow the form's flow; skip rules only read earlier items."""
    answers: dict[str, Answer] = {}
    for item in definition.items:
        values = [option.value for option in item.options]
        rule = item.asked_when
        if rule is None or rule.applies(answers):
            answers[item.id] = draw(st.sampled_from(values))
        elif rule.otherwise is WhenNotAsked.ANY:
            if draw(st.booleans()):
                answers[item.id] = draw(st.sampled_from(values))
        elif draw(st.booleans()):
            answers[item.id] = item.lowest.value
    return answers


def complete(definition: InstrumentDefinition, answers: dict[str, Answer]) -> dict[str, Answer]:
    """After an answer changed, fill newly asked items with their lowest answer."""
    filled = dict(answers)
    for item in definition.items:
        rule = item.asked_when
        if rule is not None and item.id not in filled and rule.applies(filled):
            filled[item.id] = item.lowest.value
    return filled


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_valid_answers_score_within_the_declared_range(name: str, data: Any) -> None:
    definition = INSTRUMENTS[name]
    answers = data.draw(valid_answers(definition))
    result = score(name, answers)
    assert dict(result.answers) == answers
    if definition.scoring.total_range is None:
        assert result.total is None
        assert result.severity in set(CssrsRisk)
        return
    low, high = definition.scoring.total_range
    assert result.total is not None
    assert low <= result.total <= high
    if definition.bands:
        assert result.severity == definition.band_for(result.total)
    else:
        assert result.severity is None


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_raising_one_answer_never_lowers_total_risk_or_safety_flags(name: str, data: Any) -> None:
    definition = INSTRUMENTS[name]
    answers = data.draw(valid_answers(definition))
    # Only items the flow asks: a "yes" to a skipped question is refused, by design.
    raisable = [
        item
        for item in definition.items
        if item.id in answers
        and (item.asked_when is None or item.asked_when.applies(answers))
        and any(o.points > item.lowest.points for o in item.options)
        and answers[item.id] != max(item.options, key=lambda o: o.points).value
    ]
    if not raisable:
        return
    item = data.draw(st.sampled_from(raisable))
    current = item.option_for(answers[item.id])
    assert current is not None
    higher = data.draw(st.sampled_from([o for o in item.options if o.points > current.points]))
    raised = complete(definition, {**answers, item.id: higher.value})

    before, after = score(name, answers), score(name, raised)
    if before.total is not None:
        assert after.total is not None
        assert after.total >= before.total
    if name == "cssrs_screen":
        assert CssrsRisk(after.severity).rank >= CssrsRisk(before.severity).rank
    assert set(before.flags) & MONOTONE_FLAGS <= set(after.flags)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_bad_value_on_any_item_is_named(name: str, data: Any) -> None:
    definition = INSTRUMENTS[name]
    answers = data.draw(valid_answers(definition))
    item = data.draw(st.sampled_from(definition.items))
    valid = {option.value for option in item.options if type(option.value) is int}
    bad = data.draw(
        st.one_of(
            st.integers(min_value=-5, max_value=10).filter(lambda v: v not in valid),
            st.just(True) if valid else st.just(2),
            st.text(max_size=2),
            st.none(),
        )
    )
    with pytest.raises(AnswerErrors) as caught:
        score(name, {**answers, item.id: bad})
    assert item.id in {p.item for p in caught.value.problems}
