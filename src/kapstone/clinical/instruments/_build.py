"""Small constructors shared by the instrument modules, so each definition reads as data."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from kapstone.clinical.instruments.definition import (
    AnswerKind,
    AnswerOption,
    Answers,
    AskedWhen,
    Item,
    Licence,
    LoincCodes,
    SeverityBand,
    WhenNotAsked,
)
from kapstone.clinical.provenance import Evidence, Source, Verification

VERIFIED = Verification.VERIFIED
SECONDARY = Verification.SECONDARY
UNVERIFIED = Verification.UNVERIFIED


def src(
    key: str,
    verification: Verification,
    note: str = "",
    evidence: Evidence = Evidence.INSTRUMENT_MANUAL,
) -> Source:
    return Source(key, verification, evidence, note)


def scale(
    labels: Sequence[str],
    loinc: Sequence[str] | None = None,
    values: Sequence[int] | None = None,
) -> tuple[AnswerOption, ...]:
    """Options whose value is also their points (0, 1, 2 ... unless ``values`` says otherwise)."""
    values = list(values) if values is not None else list(range(len(labels)))
    codes: list[str | None] = list(loinc) if loinc is not None else [None] * len(labels)
    return tuple(
        AnswerOption(value=v, label=label, points=v, loinc=code)
        for v, label, code in zip(values, labels, codes, strict=True)
    )


def numbered_scale(low: int, high: int) -> tuple[AnswerOption, ...]:
    """Options labelled only by their number, where anchor wording is unverified or licensed."""
    return tuple(AnswerOption(value=v, label=str(v), points=v) for v in range(low, high + 1))


def yes_no(*, reverse: bool = False) -> tuple[AnswerOption, ...]:
    return (
        AnswerOption(value=True, label="Yes", points=0 if reverse else 1),
        AnswerOption(value=False, label="No", points=1 if reverse else 0),
    )


def items(
    labels: Mapping[str, str],
    kind: AnswerKind,
    options: tuple[AnswerOption, ...],
    source: Source,
    *,
    texts: Mapping[str, str] | None = None,
    loinc: Mapping[str, str] | None = None,
    asked_when: Mapping[str, AskedWhen] | None = None,
) -> tuple[Item, ...]:
    return tuple(
        Item(
            id=item_id,
            label=label,
            kind=kind,
            options=options,
            source=source,
            text=(texts or {}).get(item_id),
            loinc=(loinc or {}).get(item_id),
            asked_when=(asked_when or {}).get(item_id),
        )
        for item_id, label in labels.items()
    )


def bands(source: Source, *spans: tuple[int, int, str]) -> tuple[SeverityBand, ...]:
    return tuple(SeverityBand(low, high, word, source) for low, high, word in spans)


def total(points: Mapping[str, int], ids: Iterable[str]) -> int:
    return sum(points[item_id] for item_id in ids)


def ids(*numbers: int) -> tuple[str, ...]:
    return tuple(str(n) for n in numbers)


def id_range(first: int, last: int) -> tuple[str, ...]:
    return ids(*range(first, last + 1))


def answered_yes(item_id: str) -> Callable[[Answers], bool]:
    """A flow rule's test: ``item_id`` was answered yes."""

    def applies(answers: Answers) -> bool:
        return answers.get(item_id) is True

    return applies


def skipped_unless(
    description: str,
    depends_on: tuple[str, ...],
    applies: Callable[[Answers], bool],
    source: Source,
) -> AskedWhen:
    """Skip logic: asked only when ``applies``; when skipped, absent or the lowest answer."""
    return AskedWhen(description, depends_on, applies, WhenNotAsked.ABSENT_OR_LOWEST, source)


def unconfirmed_licence(notice: str, section: str) -> Licence:
    """A licence whose terms the reference could not confirm (§10 item 6): the wording is not
    shipped, a clinic loads it with a licensed-wording file."""
    return Licence(notice, False, src(section, UNVERIFIED))


def unverified_licence(name: str, section: str, wording: str = "Item") -> Licence:
    """:func:`unconfirmed_licence` with the notice most such instruments share."""
    return unconfirmed_licence(
        f"{name}: licence UNVERIFIED (clinical-reference {section}, §10 item 6). {wording} wording "
        "is not shipped; load it with a licensed-wording file.",
        section,
    )


def unverified_loinc(section: str, note: str = "") -> LoincCodes:
    """No LOINC code: none the reference marks VERIFIED."""
    return LoincCodes(source=src(section, UNVERIFIED, note))
