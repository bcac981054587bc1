"""Urgent screening of a patient's message: worked examples at every edge, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapstone.clinical.message_screening import (
    DEFAULT_POLICY_VERSION,
    DEFAULT_SCREENING_POLICY,
    PhraseList,
    ScreeningPolicy,
    normalise,
    screen,
)
from kapstone.clinical.monitoring_policy import clinic_policy
from kapstone.clinical.provenance import Verification

PHRASES = [p for item in DEFAULT_SCREENING_POLICY.lists for p in item.phrases]


@pytest.mark.parametrize(
    ("text", "lists"),
    [
        ("I want to kill myself", ("suicide",)),
        ("Some days I think about suicide.", ("suicide",)),
        ("I don't want to be here any more", ("suicide",)),
        ("I don’t want to be here", ("suicide",)),  # a phone's curly apostrophe
        ("i dont want to be here", ("suicide",)),  # no apostrophe at all
        ("I might END MY LIFE", ("suicide",)),
        ("Thinking of an overdose tonight", ("overdose",)),
        ("I want to hurt-myself", ("self_harm",)),
        ("kill   myself", ("suicide",)),
        ("Suicidal again. Also cut myself.", ("suicide", "self_harm")),
        # Negation is not attempted: a safety net flags and a clinician reads.
        ("I would never kill myself", ("suicide",)),
    ],
)
def test_listed_phrases_flag_the_message(text, lists):
    decision = screen(text)
    assert decision.urgent
    assert decision.matched == lists
    assert decision.policy_version == DEFAULT_POLICY_VERSION


@pytest.mark.parametrize(
    "text",
    [
        "Can I move my Thursday session?",
        "The suicides in the news upset me",  # whole words only: list the forms a clinic wants
        "I skilled myself up at work",  # "kill" inside "skilled"
        "My friend said she would overdo set lists",  # "overdo set" is not "overdose"
        "I feel better, thank you",
        "",
    ],
)
def test_other_messages_are_not_flagged(text):
    assert not screen(text).urgent


def test_every_list_cites_clinic_policy_in_section_15():
    for item in DEFAULT_SCREENING_POLICY.lists:
        assert item.source.key.startswith("§15.")
        assert item.source.is_clinic_policy
        assert item.source.verification is Verification.UNVERIFIED


def test_a_policy_refuses_empty_or_duplicate_lists():
    source = clinic_policy("§15.1", "test")
    with pytest.raises(ValueError, match="at least one phrase"):
        PhraseList("x", (), source)
    with pytest.raises(ValueError, match="no words"):
        PhraseList("x", ("  '' ",), source)
    item = PhraseList("x", ("help",), source)
    with pytest.raises(ValueError, match="unique"):
        ScreeningPolicy("v", (item, item))
    with pytest.raises(ValueError, match="version"):
        ScreeningPolicy("", (item,))


def test_the_decision_records_the_policy_it_used():
    policy = ScreeningPolicy("clinic-7", (PhraseList("x", ("help me",), clinic_policy("§15", "")),))
    decision = screen("please HELP me", policy)
    assert (decision.urgent, decision.matched, decision.policy_version) == (
        True,
        ("x",),
        "clinic-7",
    )
    assert not screen("kill myself", policy).urgent  # only the given policy's lists count


# --- properties -------------------------------------------------------------------------------

ASCII_TEXT = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("\n’"),
    max_size=80,
)
SEPARATOR = st.sampled_from([" ", "\n", ". ", ", ", " - ", "! ", "(", ")"])


@given(before=st.text(max_size=60), phrase=st.sampled_from(PHRASES), after=st.text(max_size=60))
def test_a_listed_phrase_is_flagged_whatever_surrounds_it(before, phrase, after):
    assert screen(f"{before} {phrase} {after}").urgent


@given(
    before=ASCII_TEXT,
    sep1=SEPARATOR,
    phrase=st.sampled_from(PHRASES),
    sep2=SEPARATOR,
    after=ASCII_TEXT,
    upper=st.lists(st.booleans(), min_size=40, max_size=40),
)
def test_a_phrase_in_any_case_is_flagged(before, sep1, phrase, sep2, after, upper):
    mixed = "".join(c.upper() if upper[i % 40] else c for i, c in enumerate(phrase))
    assert screen(f"{before}{sep1}{mixed}{sep2}{after}").urgent


@given(text=ASCII_TEXT)
def test_the_flag_is_invariant_under_case(text):
    expected = screen(text)
    assert screen(text.upper()) == expected
    assert screen(text.lower()) == expected
    assert screen(text.swapcase()) == expected


@given(text=st.text(max_size=120))
def test_a_message_without_a_listed_phrase_is_never_flagged(text):
    """Soundness, checked independently of the matcher: a flag means some listed phrase's words
    stand in the message, in order, as whole words (apostrophes and case aside)."""
    words = normalise(text).split()
    contains = any(
        any(
            words[i : i + len(normalise(p).split())] == normalise(p).split()
            for i in range(len(words))
        )
        for p in PHRASES
    )
    assert screen(text).urgent == contains


@given(first=st.text(max_size=60), second=st.text(max_size=60))
def test_more_text_never_clears_a_flag(first, second):
    if screen(first).urgent:
        assert screen(f"{first}\n{second}").urgent
        assert screen(f"{second}\n{first}").urgent


BENIGN = st.lists(
    st.sampled_from(
        [
            "can",
            "i",
            "move",
            "my",
            "session",
            "to",
            "next",
            "week",
            "thank",
            "you",
            "the",
            "dose",
            "felt",
            "fine",
            "today",
            "tired",
            "sleep",
            "work",
            "family",
            "kill",
            "time",
            "end",
            "of",
            "the",
            "day",
            "here",
            "want",
            "be",
            "myself",
            "life",
            "over",
            "dose",
            "cut",
            "hair",
            "harm",
            "reduction",
        ]
    ),
    max_size=25,
)


@given(words=BENIGN)
def test_benign_words_in_any_order_are_flagged_only_when_they_form_a_phrase(words):
    text = " ".join(words)
    padded = f" {text} "
    formed = any(normalise(p) in padded for p in PHRASES)
    assert screen(text).urgent == formed
