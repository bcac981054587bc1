"""Urgent screening of a patient's secure message: a safety net, not a diagnostic instrument.

A message that contains one of the listed words or phrases is flagged urgent, so the clinic's
suicide-risk alert reaches the care team at once instead of waiting for someone to open the inbox.
The lists are clinic policy (clinical-reference §15, UNVERIFIED): the medical director owns them and
every change bumps the version that each decision records.

How a phrase matches: case-insensitive (Unicode case folding), on whole words only ("suicide" does
not match inside "suicides"; list the forms you want), apostrophes ignored (``don't``, ``don’t``
and ``dont`` are the same), and any run of spaces or punctuation between words counts as one space
("hurt-myself", "hurt   myself"). **Negation is not attempted**: "I would never kill myself" is
flagged. A false alarm costs a clinician a call; a missed message could cost a life, and no word
list understands a sentence. A message without a listed phrase is never flagged, so the lists never
replace reading the message.
"""

from __future__ import annotations

from dataclasses import dataclass

from kapstone.clinical.monitoring_policy import clinic_policy
from kapstone.clinical.provenance import Source

DEFAULT_POLICY_VERSION = "messages-2026-12"

# Every apostrophe a phone keyboard may type: straight, curly, modifier letter, prime, backtick.
_APOSTROPHES = frozenset("'\u2018\u2019\u02bc\u2032`\u00b4")


def normalise(text: str) -> str:
    """Case-folded words separated by single spaces, apostrophes dropped, padded by a space each
    side, so that a phrase matches on whole words by a substring test."""
    folded = "".join(c for c in text.casefold() if c not in _APOSTROPHES)
    words: list[str] = []
    current: list[str] = []
    for char in folded:
        if char.isalnum():
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return f" {' '.join(words)} "


@dataclass(frozen=True, slots=True)
class PhraseList:
    """One named list of phrases, with where it comes from."""

    name: str
    phrases: tuple[str, ...]
    source: Source

    def __post_init__(self) -> None:
        if not self.name or not self.phrases:
            raise ValueError("a phrase list needs a name and at least one phrase")
        for phrase in self.phrases:
            if not normalise(phrase).strip():
                raise ValueError(f"{phrase!r} has no words to match")


@dataclass(frozen=True, slots=True)
class ScreeningPolicy:
    version: str
    lists: tuple[PhraseList, ...]

    def __post_init__(self) -> None:
        if not self.version:
            raise ValueError("a screening policy needs a version")
        names = [item.name for item in self.lists]
        if len(set(names)) != len(names):
            raise ValueError("phrase list names must be unique")


@dataclass(frozen=True, slots=True)
class ScreeningDecision:
    """Whether the message is urgent, which lists matched (never the text), and under which
    policy version."""

    urgent: bool
    matched: tuple[str, ...]
    policy_version: str


_SAFETY_NET = (
    "safety net for a message inbox, not a diagnostic instrument; set by the medical director"
)

DEFAULT_SCREENING_POLICY = ScreeningPolicy(
    version=DEFAULT_POLICY_VERSION,
    lists=(
        PhraseList(
            "suicide",
            (
                "suicide",
                "suicidal",
                "kill myself",
                "killing myself",
                "end my life",
                "ending my life",
                "end it all",
                "take my own life",
                "want to die",
                "wanna die",
                "better off dead",
                "don't want to be here",
                "don't want to live",
                "no reason to live",
            ),
            clinic_policy("§15.1", _SAFETY_NET),
        ),
        PhraseList(
            "self_harm",
            (
                "hurt myself",
                "hurting myself",
                "harm myself",
                "harming myself",
                "self harm",
                "self harming",
                "cut myself",
                "cutting myself",
            ),
            clinic_policy("§15.2", _SAFETY_NET),
        ),
        PhraseList(
            "overdose",
            ("overdose", "overdosed", "overdosing", "take all my pills", "took all my pills"),
            clinic_policy("§15.3", _SAFETY_NET),
        ),
    ),
)


def screen(text: str, policy: ScreeningPolicy = DEFAULT_SCREENING_POLICY) -> ScreeningDecision:
    """Flags ``text`` urgent when any listed phrase occurs in it as whole words."""
    body = normalise(text)
    matched = tuple(
        item.name
        for item in policy.lists
        if any(normalise(phrase) in body for phrase in item.phrases)
    )
    return ScreeningDecision(urgent=bool(matched), matched=matched, policy_version=policy.version)
