"""What a validated instrument is, as data: items, answer options, bands, flags, codes and licence.

An :class:`InstrumentDefinition` is pure data plus one pure scoring function. Answers arrive keyed
by item id exactly as the patient (or rater) gave them; turning an answer into points (reverse
scoring, AUDIT's 0/2/4 items) is the definition's job, through each option's ``points``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from kapstone.clinical.instruments.policy import ScoringPolicy
from kapstone.clinical.provenance import Source

Answer = int | bool
Answers = Mapping[str, Answer]


class Flag(StrEnum):
    """Findings a result can raise; the shell turns some of them into alerts."""

    SUICIDE_RISK = "suicide_risk"
    PROVISIONAL_PTSD = "provisional_ptsd"
    PROBABLE_PTSD = "probable_ptsd"
    POSITIVE_SCREEN = "positive_screen"
    MAJOR_DEPRESSIVE_SYNDROME = "major_depressive_syndrome"
    OTHER_DEPRESSIVE_SYNDROME = "other_depressive_syndrome"
    SOMATOFORM_LIKELY = "somatoform_likely"
    ALCOHOL_DEPENDENCE_SYMPTOMS = "alcohol_dependence_symptoms"


class AnswerKind(StrEnum):
    SCALE = "scale"  # an integer: the option's scored value as printed on the form
    YES_NO = "yes_no"  # true / false


class WhenNotAsked(StrEnum):
    """What an item may hold when its instrument's flow does not ask it."""

    # Absent, or the lowest-scoring answer; anything else contradicts the answer that skipped it.
    ABSENT_OR_LOWEST = "absent_or_lowest"
    # Absent or any valid answer (an optional or unscored item).
    ANY = "any"


@dataclass(frozen=True, slots=True)
class AnswerOption:
    value: Answer  # what the caller sends
    label: str
    points: int  # what the option contributes to the score
    loinc: str | None = None  # LOINC answer code, only where the reference marks it VERIFIED


@dataclass(frozen=True, slots=True)
class AskedWhen:
    """Skip logic or a conditional requirement: the item is asked (and required) only when
    ``applies(valid answers)`` is true. ``applies`` reads only ``depends_on``, which come earlier in
    the form; while any of those has a problem of its own, the rule is not judged."""

    description: str
    depends_on: tuple[str, ...]
    applies: Callable[[Answers], bool]
    otherwise: WhenNotAsked
    source: Source


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    label: str  # short label we may always show
    kind: AnswerKind
    options: tuple[AnswerOption, ...]
    source: Source
    # Full wording, where redistribution is allowed or the clinic has licensed it.
    text: str | None = None
    reverse_scored: bool = False
    scored: bool = True  # False: answered and stored but never counted (PHQ-9 item 10)
    loinc: str | None = None
    asked_when: AskedWhen | None = None

    def option_for(self, value: Answer) -> AnswerOption | None:
        for option in self.options:
            # bool is an int subclass: compare types too, so True never matches 1.
            if type(option.value) is type(value) and option.value == value:
                return option
        return None

    @property
    def lowest(self) -> AnswerOption:
        return min(self.options, key=lambda option: option.points)

    def accepts(self) -> str:
        if self.kind is AnswerKind.YES_NO:
            return "true or false"
        values = sorted(int(option.value) for option in self.options)
        if values == list(range(values[0], values[-1] + 1)):
            return f"an integer {values[0]}-{values[-1]}"
        return "one of " + ", ".join(str(v) for v in values)


@dataclass(frozen=True, slots=True)
class RecallPeriod:
    """The window the questions ask about. ``days`` is None when the instrument rates the present
    state (CADSS during a session), a lifetime history, or a clinician's interview of the moment."""

    days: int | None
    wording: str
    source: Source


@dataclass(frozen=True, slots=True)
class SeverityBand:
    low: int
    high: int
    word: str
    source: Source

    def contains(self, total: int) -> bool:
        return self.low <= total <= self.high


@dataclass(frozen=True, slots=True)
class FlagRule:
    flag: Flag
    description: str
    source: Source


@dataclass(frozen=True, slots=True)
class ScoringRule:
    description: str
    source: Source
    total_range: tuple[int, int] | None  # None: the instrument has no total (C-SSRS screener)


@dataclass(frozen=True, slots=True)
class LoincCodes:
    """Only codes the reference marks VERIFIED; everything else stays None."""

    panel: str | None = None
    total: str | None = None
    subscales: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    source: Source | None = None


@dataclass(frozen=True, slots=True)
class Licence:
    notice: str
    wording_redistributable: bool
    source: Source


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an instrument's scoring function computes from validated answers."""

    total: int | None
    severity: str | None
    subscales: Mapping[str, int]
    flags: tuple[Flag, ...]


@dataclass(frozen=True, slots=True)
class Scoring:
    """What a scoring function reads: the definition, the points of every scored item (validated;
    an item the flow skipped holds its lowest answer), the answers as given, and the clinic's
    scoring policy."""

    definition: InstrumentDefinition
    points: Mapping[str, int]
    answers: Answers
    policy: ScoringPolicy

    def total(self, item_ids: Iterable[str] | None = None) -> int:
        """The sum of ``item_ids``' points; by default of every scored item."""
        if item_ids is None:
            item_ids = (item.id for item in self.definition.items if item.scored)
        return sum(self.points[item_id] for item_id in item_ids)

    def banded(
        self,
        total: int,
        subscales: Mapping[str, int] | None = None,
        flags: Iterable[Flag] = (),
    ) -> Outcome:
        """The outcome for ``total``, with the definition's severity word for it (if it has bands)."""
        return Outcome(total, self.definition.band_for(total), dict(subscales or {}), tuple(flags))


Scorer = Callable[[Scoring], Outcome]


def sum_of_items(scoring: Scoring) -> Outcome:
    """The plain total most instruments are scored by: every scored item summed, with its band."""
    return scoring.banded(scoring.total())


def flagged(flag: Flag, when: bool) -> tuple[Flag, ...]:
    return (flag,) if when else ()


@dataclass(frozen=True, slots=True)
class InstrumentDefinition:
    name: str  # the CLI name: phq9, gad7 ...
    title: str
    version: str
    items: tuple[Item, ...]
    recall: RecallPeriod
    scoring: ScoringRule
    bands: tuple[SeverityBand, ...]
    flag_rules: tuple[FlagRule, ...]
    loinc: LoincCodes
    licence: Licence
    source: Source
    scorer: Scorer
    stem: str | None = None
    wording_note: str | None = None  # set when a clinic's licensed wording was loaded

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    def band_for(self, total: int) -> str | None:
        for band in self.bands:
            if band.contains(total):
                return band.word
        return None


@dataclass(frozen=True, slots=True)
class AnswerProblem:
    item: str | None  # None when the problem is not about one item (unknown instrument, bad JSON)
    problem: str
    accepts: str

    def as_dict(self) -> dict[str, str | None]:
        return {"item": self.item, "problem": self.problem, "accepts": self.accepts}


class AnswerErrors(ValueError):
    """The answers cannot be scored; ``problems`` names every offending item, not just the first."""

    def __init__(self, instrument: str, problems: tuple[AnswerProblem, ...]) -> None:
        self.instrument = instrument
        self.problems = problems
        summary = "; ".join(f"{p.item}: {p.problem}" for p in problems)
        super().__init__(f"{instrument}: {summary}")


class UnknownInstrument(KeyError):
    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        self.name = name
        self.known = known
        self.problem = AnswerProblem(
            item=None,
            problem=f"unknown instrument {name!r}",
            accepts="one of " + ", ".join(known),
        )
        super().__init__(name)


class WordingErrors(ValueError):
    """A clinic's licensed wording does not match the instrument's items."""

    def __init__(self, instrument: str, problems: tuple[AnswerProblem, ...]) -> None:
        self.instrument = instrument
        self.problems = problems
        summary = "; ".join(f"{p.item}: {p.problem}" for p in problems)
        super().__init__(f"{instrument}: {summary}")


@dataclass(frozen=True, slots=True)
class ScoreResult:
    instrument: str
    version: str
    total: int | None
    severity: str | None
    subscales: Mapping[str, int]
    flags: tuple[Flag, ...]
    answers: Mapping[str, Answer]  # every item answer as given, so staff see more than the total
    policy_version: str

    def summary(self) -> dict[str, object]:
        """The stable five-key interface the ``kapstone score`` command prints."""
        return {
            "instrument": self.instrument,
            "total": self.total,
            "severity": self.severity,
            "subscales": dict(self.subscales),
            "flags": [str(flag) for flag in self.flags],
        }
