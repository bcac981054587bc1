"""Structured integration-session notes per modality: what each holds, its ranges, its problems.

A therapist's integration note after a dose is free text plus, for each modality used, a small
structured record that can be trended across a course (SUD and VOC in EMDR, Self-energy in IFS,
activities done in behavioural activation ...), and the homework agreed. This module is the one
place those fields, their ranges and their sources live: the shell builds its form from
:data:`MODALITY_FIELDS`, stores :meth:`StructuredNote.to_json`, and :func:`parse_structured` reads
both the form's raw text and the stored JSON, returning every problem keyed by field
(``"emdr.sud_before"``) instead of raising.

The scales are not in ``clinical-reference.md``: SUD 0–10 and VOC 1–7 are the standard EMDR
protocol's (Shapiro), and the Self-energy rating is the clinic's own 0–10 scale; each is marked
UNVERIFIED clinic policy under §10 (open items for a clinician) until a clinician confirms it.

:func:`note_warnings` says what a clinician must give a reason for when signing: a note outside the
plan's integration window after its dose, a length outside 60–90 minutes, a modality the plan did
not confirm or the therapist is not credentialed in. Time is passed in; nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from kapstone.clinical.access import Modality
from kapstone.clinical.problems import Problem
from kapstone.clinical.programs import IntegrationSession
from kapstone.clinical.provenance import Evidence, Source, Verification

# --- sources ------------------------------------------------------------------------------------

EMDR_SCALES_SOURCE = Source(
    "§10",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "Standard EMDR protocol (Shapiro): SUD 0-10 (0 no disturbance, 10 the worst imaginable), "
    "VOC 1-7 (1 completely false, 7 completely true). Not in the clinical reference: a clinician "
    "to confirm.",
)
SELF_ENERGY_SOURCE = Source(
    "§10",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "IFS has no standard numeric Self-energy scale: the clinic rates it 0 (none) to 10 (fully "
    "Self-led) as the therapist's impression.",
)
WINDOW_SOURCE = Source(
    "§10",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "Seed articles: an integration session of 60-90 minutes follows each ketamine session; "
    "without a plan the clinic expects it within 24 hours of the dose (the retreat template's "
    "window).",
)

# Upper bounds that only stop typing errors (a 300-set EMDR session, a 10-hour exposure).
MAX_BLS_SETS = 200
MAX_EXPOSURE_MINUTES = 240
MAX_TEXT = 2000
MAX_LINES = 30


# --- field specifications: the form and the parser both read these -------------------------------


class Kind(StrEnum):
    TEXT = "text"  # one free-text answer
    LINES = "lines"  # a list, one entry per line
    NUMBER = "number"  # a whole number in [low, high]
    PARTS = "parts"  # IFS parts, one "name: role" per line


class PartRole(StrEnum):
    """The roles IFS gives the parts a person meets."""

    MANAGER = "manager"
    FIREFIGHTER = "firefighter"
    EXILE = "exile"
    UNCLEAR = "unclear"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    label: str
    kind: Kind
    required: bool = True
    low: int | None = None
    high: int | None = None
    help: str = ""
    source: Source | None = None


def _score(name: str, label: str, low: int, high: int, source: Source, help: str) -> FieldSpec:
    return FieldSpec(name, label, Kind.NUMBER, True, low, high, help, source)


_SUD = "0 no disturbance … 10 the worst imaginable"
_VOC = "1 completely false … 7 completely true"

MODALITY_FIELDS: Mapping[Modality, tuple[FieldSpec, ...]] = {
    Modality.EMDR: (
        FieldSpec("target_memory", "Target memory", Kind.TEXT),
        FieldSpec("negative_cognition", "Negative cognition", Kind.TEXT),
        FieldSpec("positive_cognition", "Positive cognition", Kind.TEXT),
        _score("sud_before", "SUD before", 0, 10, EMDR_SCALES_SOURCE, _SUD),
        _score("sud_after", "SUD after", 0, 10, EMDR_SCALES_SOURCE, _SUD),
        _score("voc_before", "VOC before", 1, 7, EMDR_SCALES_SOURCE, _VOC),
        _score("voc_after", "VOC after", 1, 7, EMDR_SCALES_SOURCE, _VOC),
        FieldSpec(
            "bls_sets",
            "Sets of bilateral stimulation",
            Kind.NUMBER,
            True,
            0,
            MAX_BLS_SETS,
        ),
    ),
    Modality.ART: (
        FieldSpec("scene", "Scene worked on", Kind.TEXT),
        FieldSpec("sensations", "Sensations noticed", Kind.TEXT),
        FieldSpec(
            "image_replacement",
            "Voluntary image replacement",
            Kind.TEXT,
            help="The new scene the patient chose in place of the distressing one",
        ),
    ),
    Modality.IFS: (
        FieldSpec(
            "parts",
            "Parts met",
            Kind.PARTS,
            help="One per line as 'name: role' (manager, firefighter, exile or unclear)",
        ),
        _score(
            "self_energy",
            "Self-energy",
            0,
            10,
            SELF_ENERGY_SOURCE,
            "0 none … 10 fully Self-led",
        ),
    ),
    Modality.CBT: (
        FieldSpec("thoughts_examined", "Thoughts examined", Kind.LINES, help="One per line"),
        FieldSpec("restructured_beliefs", "Restructured beliefs", Kind.LINES, help="One per line"),
    ),
    Modality.SOMATIC: (
        FieldSpec("practice", "Practice", Kind.TEXT, help="e.g. grounding, orienting, breath"),
        FieldSpec("regulation", "Regulation", Kind.TEXT, help="How the patient regulated"),
    ),
    Modality.EXPOSURE: (
        FieldSpec("situation", "Exposure situation", Kind.TEXT),
        _score("sud_start", "SUD at the start", 0, 10, EMDR_SCALES_SOURCE, _SUD),
        _score("sud_peak", "SUD at the peak", 0, 10, EMDR_SCALES_SOURCE, _SUD),
        _score("sud_end", "SUD at the end", 0, 10, EMDR_SCALES_SOURCE, _SUD),
        FieldSpec("minutes", "Minutes of exposure", Kind.NUMBER, True, 1, MAX_EXPOSURE_MINUTES),
    ),
    Modality.BEHAVIOURAL_ACTIVATION: (
        FieldSpec(
            "done",
            "Planned last time and done",
            Kind.LINES,
            required=False,
            help="One activity per line",
        ),
        FieldSpec(
            "not_done",
            "Planned last time and not done",
            Kind.LINES,
            required=False,
            help="One activity per line",
        ),
        FieldSpec("planned", "Planned for next time", Kind.LINES, help="One activity per line"),
    ),
}

HOMEWORK = FieldSpec(
    "homework", "Homework", Kind.LINES, required=False, help="One assignment per line"
)


# --- the structured records ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmdrNote:
    target_memory: str
    negative_cognition: str
    positive_cognition: str
    sud_before: int
    sud_after: int
    voc_before: int
    voc_after: int
    bls_sets: int


@dataclass(frozen=True, slots=True)
class ArtNote:
    scene: str
    sensations: str
    image_replacement: str


@dataclass(frozen=True, slots=True)
class IfsPart:
    name: str
    role: PartRole


@dataclass(frozen=True, slots=True)
class IfsNote:
    parts: tuple[IfsPart, ...]
    self_energy: int


@dataclass(frozen=True, slots=True)
class CbtNote:
    thoughts_examined: tuple[str, ...]
    restructured_beliefs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SomaticNote:
    practice: str
    regulation: str


@dataclass(frozen=True, slots=True)
class ExposureNote:
    situation: str
    sud_start: int
    sud_peak: int
    sud_end: int
    minutes: int


@dataclass(frozen=True, slots=True)
class BehaviouralActivationNote:
    done: tuple[str, ...]
    not_done: tuple[str, ...]
    planned: tuple[str, ...]


ModalityNote = (
    EmdrNote | ArtNote | IfsNote | CbtNote | SomaticNote | ExposureNote | BehaviouralActivationNote
)

_RECORD: Mapping[Modality, type[Any]] = {
    Modality.EMDR: EmdrNote,
    Modality.ART: ArtNote,
    Modality.IFS: IfsNote,
    Modality.CBT: CbtNote,
    Modality.SOMATIC: SomaticNote,
    Modality.EXPOSURE: ExposureNote,
    Modality.BEHAVIOURAL_ACTIVATION: BehaviouralActivationNote,
}


@dataclass(frozen=True, slots=True)
class StructuredNote:
    """The structured part of one integration note: a record per modality used, and homework."""

    records: Mapping[Modality, ModalityNote] = field(default_factory=dict)
    homework: tuple[str, ...] = ()

    @property
    def modalities(self) -> tuple[Modality, ...]:
        return tuple(m for m in Modality if m in self.records)

    def get(self, modality: Modality) -> Any:
        return self.records.get(modality)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for modality in self.modalities:
            record = self.records[modality]
            values: dict[str, Any] = {}
            for f in fields(record):
                value = getattr(record, f.name)
                if isinstance(value, tuple):
                    value = [
                        {"name": v.name, "role": v.role.value} if isinstance(v, IfsPart) else v
                        for v in value
                    ]
                values[f.name] = value
            out[modality.value] = values
        out["homework"] = list(self.homework)
        return out


# --- parsing -----------------------------------------------------------------------------------


def _lines(value: object) -> tuple[list[str], str | None]:
    if value is None or value == "":
        return [], None
    if isinstance(value, str):
        items = [line.strip() for line in value.splitlines()]
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value]
    else:
        return [], "accepts text, one entry per line"
    items = [i for i in items if i]
    if len(items) > MAX_LINES:
        return [], f"has {len(items)} entries; accepts at most {MAX_LINES}"
    if any(len(i) > MAX_TEXT for i in items):
        return [], f"has an entry longer than {MAX_TEXT} characters"
    return items, None


def _number(spec: FieldSpec, value: object) -> tuple[int | None, str | None]:
    accepts = f"accepts a whole number from {spec.low} to {spec.high}"
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return None, accepts
    if isinstance(value, str):
        text = value.strip()
        # isdecimal, not isdigit: "²" and "①" are digits int() refuses; one minus sign at most.
        if not text.removeprefix("-").isdecimal():
            return None, f"{value!r} is not a whole number; {accepts}"
        try:
            number = int(text)
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
            return None, f"{len(text)} digits is out of range; {accepts}"
    elif isinstance(value, int):
        number = value
    else:
        return None, accepts
    assert spec.low is not None and spec.high is not None
    if not spec.low <= number <= spec.high:
        return None, f"{number} is out of range; {accepts}"
    return number, None


def _parts(value: object) -> tuple[list[IfsPart], str | None]:
    roles = ", ".join(r.value for r in PartRole)
    raw: list[tuple[str, str]] = []
    if isinstance(value, list | tuple) and all(isinstance(v, Mapping) for v in value):
        raw = [(str(v.get("name", "")), str(v.get("role", ""))) for v in value]
    else:
        lines, problem = _lines(value)
        if problem:
            return [], problem
        for line in lines:
            name, sep, role = line.rpartition(":")
            if not sep:
                return [], f"{line!r} has no role; write 'name: role' ({roles})"
            raw.append((name, role))
    parts = []
    for name, role in raw:
        if not name.strip():
            return [], "a part has no name; write 'name: role'"
        try:
            parts.append(IfsPart(name.strip(), PartRole(role.strip().lower())))
        except ValueError:
            return [], f"{role.strip()!r} is not a role; accepts {roles}"
    return parts, None


def _record(
    modality: Modality, raw: Mapping[str, object], problems: list[Problem]
) -> ModalityNote | None:
    values: dict[str, Any] = {}
    before = len(problems)
    for spec in MODALITY_FIELDS[modality]:
        key = f"{modality.value}.{spec.name}"
        value = raw.get(spec.name)
        problem: str | None = None
        parsed: Any
        if spec.kind is Kind.TEXT:
            parsed = value.strip() if isinstance(value, str) else value
            if parsed is not None and not isinstance(parsed, str):
                problem, parsed = "accepts text", None
            elif parsed and len(parsed) > MAX_TEXT:
                problem = f"is longer than {MAX_TEXT} characters"
            empty = not parsed
            parsed = parsed or ""
        elif spec.kind is Kind.LINES:
            items, problem = _lines(value)
            parsed, empty = tuple(items), not items
        elif spec.kind is Kind.PARTS:
            part_list, problem = _parts(value)
            parsed, empty = tuple(part_list), not part_list
        else:
            parsed, problem = _number(spec, value)
            empty = parsed is None
        if problem is None and spec.required and empty:
            problem = f"{spec.label} is required for {modality.label}"
        if problem is not None:
            problems.append(Problem(key, problem))
        values[spec.name] = parsed
    unknown = sorted(set(raw) - {s.name for s in MODALITY_FIELDS[modality]})
    for name in unknown:
        problems.append(Problem(f"{modality.value}.{name}", "is not a field of this modality"))
    if modality is Modality.BEHAVIOURAL_ACTIVATION and len(problems) == before:
        overlap = set(values["done"]) & set(values["not_done"])
        if overlap:
            problems.append(
                Problem(
                    "behavioural_activation.not_done",
                    f"{', '.join(sorted(overlap))} is listed as both done and not done",
                )
            )
    if len(problems) > before:
        return None
    record: ModalityNote = _RECORD[modality](**values)
    return record


def parse_structured(
    document: Mapping[str, object],
) -> tuple[StructuredNote | None, tuple[Problem, ...]]:
    """Reads a structured note: ``{"emdr": {...}, "ifs": {...}, "homework": [...]}``.

    Each modality key present is a modality used; at least one is needed. Values may be the form's
    raw text (numbers as digits, lists one per line) or stored JSON. Returns the note, or None and
    every problem found.
    """
    problems: list[Problem] = []
    records: dict[Modality, ModalityNote] = {}
    known = {m.value: m for m in Modality}
    for key, raw in document.items():
        if key == HOMEWORK.name:
            continue
        modality = known.get(key)
        if modality is None:
            problems.append(Problem(key, f"{key!r} is not a modality"))
            continue
        if not isinstance(raw, Mapping):
            problems.append(Problem(key, "accepts the modality's fields"))
            continue
        record = _record(modality, raw, problems)
        if record is not None:
            records[modality] = record
    if not any(key in known for key in document):
        problems.append(Problem("modalities", "Choose at least one modality used."))
    homework, problem = _lines(document.get(HOMEWORK.name))
    if problem:
        problems.append(Problem(HOMEWORK.name, problem))
    if problems:
        return None, tuple(problems)
    return StructuredNote(records=records, homework=tuple(homework)), ()


# --- trendable measures -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteMeasures:
    """The numbers a course's notes are trended by; None where the modality was not used."""

    sud_before: int | None = None
    sud_after: int | None = None
    voc_before: int | None = None
    voc_after: int | None = None
    bls_sets: int | None = None
    self_energy: int | None = None
    parts_met: int | None = None
    activities_done: int | None = None
    activities_reviewed: int | None = None
    activities_planned: int | None = None
    exposure_sud_peak: int | None = None
    exposure_sud_end: int | None = None

    @property
    def sud_change(self) -> int | None:
        if self.sud_before is None or self.sud_after is None:
            return None
        return self.sud_after - self.sud_before

    @property
    def voc_change(self) -> int | None:
        if self.voc_before is None or self.voc_after is None:
            return None
        return self.voc_after - self.voc_before


def measures(note: StructuredNote) -> NoteMeasures:
    emdr = note.get(Modality.EMDR)
    ifs = note.get(Modality.IFS)
    ba = note.get(Modality.BEHAVIOURAL_ACTIVATION)
    exposure = note.get(Modality.EXPOSURE)
    return NoteMeasures(
        sud_before=emdr.sud_before if emdr else None,
        sud_after=emdr.sud_after if emdr else None,
        voc_before=emdr.voc_before if emdr else None,
        voc_after=emdr.voc_after if emdr else None,
        bls_sets=emdr.bls_sets if emdr else None,
        self_energy=ifs.self_energy if ifs else None,
        parts_met=len(ifs.parts) if ifs else None,
        activities_done=len(ba.done) if ba else None,
        activities_reviewed=len(ba.done) + len(ba.not_done) if ba else None,
        activities_planned=len(ba.planned) if ba else None,
        exposure_sud_peak=exposure.sud_peak if exposure else None,
        exposure_sud_end=exposure.sud_end if exposure else None,
    )


# --- the integration window and what a signature needs a reason for ------------------------------


@dataclass(frozen=True, slots=True)
class IntegrationWindow:
    """How soon after its dose, and for how long, an integration session is expected."""

    within_hours: int
    minutes_min: int
    minutes_max: int
    source: Source


DEFAULT_WINDOW = IntegrationWindow(24, 60, 90, WINDOW_SOURCE)


def window_from_template(integration: IntegrationSession) -> IntegrationWindow:
    """The program template's integration part, as the window a note is checked against."""
    return IntegrationWindow(
        integration.within_hours,
        integration.minutes_min,
        integration.minutes_max,
        integration.source,
    )


class WarningCode(StrEnum):
    NO_DOSE = "no_dose"
    BEFORE_DOSE = "before_dose"
    OUTSIDE_WINDOW = "outside_window"
    LENGTH = "length"
    NOT_IN_PLAN = "not_in_plan"
    NOT_CREDENTIALED = "not_credentialed"


@dataclass(frozen=True, slots=True)
class NoteWarning:
    code: WarningCode
    message: str
    source: Source | None = None


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f}".rstrip("0").rstrip(".")


def note_warnings(
    *,
    dose_at: datetime | None,
    held_at: datetime,
    minutes: int,
    window: IntegrationWindow,
    used: Iterable[Modality],
    planned: frozenset[Modality] | None,
    credentialed: frozenset[Modality],
) -> tuple[NoteWarning, ...]:
    """What the signing clinician must give a reason for; empty when the note is as planned.

    ``planned`` is the signed plan's confirmed modalities (None without a signed plan: nothing to
    compare with); ``credentialed`` the author's modality credentials.
    """
    found: list[NoteWarning] = []
    if dose_at is None:
        found.append(
            NoteWarning(
                WarningCode.NO_DOSE, "No dosing session before this integration session is known."
            )
        )
    elif held_at < dose_at:
        found.append(
            NoteWarning(
                WarningCode.BEFORE_DOSE,
                "The session was held before its dosing session: integration follows the dose.",
            )
        )
    elif held_at - dose_at > timedelta(hours=window.within_hours):
        found.append(
            NoteWarning(
                WarningCode.OUTSIDE_WINDOW,
                f"Held {_hours(held_at - dose_at)} h after the dose; the plan expects "
                f"integration within {window.within_hours} h.",
                window.source,
            )
        )
    if not window.minutes_min <= minutes <= window.minutes_max:
        found.append(
            NoteWarning(
                WarningCode.LENGTH,
                f"The session lasted {minutes} minutes; the plan expects "
                f"{window.minutes_min}-{window.minutes_max}.",
                window.source,
            )
        )
    used_list = [m for m in Modality if m in set(used)]
    if planned is not None:
        outside = [m for m in used_list if m not in planned]
        if outside:
            found.append(
                NoteWarning(
                    WarningCode.NOT_IN_PLAN,
                    f"{', '.join(m.label for m in outside)} is not among the plan's confirmed "
                    "modalities.",
                )
            )
    uncredentialed = [m for m in used_list if m not in credentialed]
    if uncredentialed:
        found.append(
            NoteWarning(
                WarningCode.NOT_CREDENTIALED,
                f"The author holds no credential in {', '.join(m.label for m in uncredentialed)}.",
            )
        )
    return tuple(found)


def dosing_session_before(
    held_at: datetime, doses: Sequence[tuple[int, datetime]]
) -> tuple[int, datetime] | None:
    """The dose (id, time) an integration session held at ``held_at`` follows: the latest dose at
    or before it, or None."""
    before = [d for d in doses if d[1] <= held_at]
    return max(before, key=lambda d: (d[1], d[0])) if before else None
