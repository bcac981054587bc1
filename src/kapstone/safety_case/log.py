"""The hazard log as typed data: loaded from YAML, its shape checked, every problem named at once."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

HAZARD_ID = re.compile(r"^HAZ-\d{3}$")
TEST_ID = re.compile(r"^tests/[\w/.-]+\.py(::[\w\[\]\-.,=/ ]+)+$")
DOTTED = re.compile(r"^kapstone(\.[A-Za-z_]\w*)+$")
SCALE = (1, 2, 3, 4, 5)


class ControlType(StrEnum):
    DESIGN = "design"
    TEST = "test"
    TRAINING = "training"
    PROCESS = "process"

    @property
    def needs_evidence(self) -> bool:
        """Design and test controls name the code and the tests that prove them."""
        return self in (ControlType.DESIGN, ControlType.TEST)


class Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    TRANSFERRED = "transferred"


class LogInvalid(ValueError):
    """The file is not a hazard log this code can read; ``problems`` names every reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class Level:
    name: str
    meaning: str


@dataclass(frozen=True, slots=True)
class RiskMatrix:
    """DCB0129's 5x5 matrix: ``grid[likelihood - 1][severity - 1]`` is the risk class (1-5)."""

    severity: Mapping[int, Level]
    likelihood: Mapping[int, Level]
    classes: Mapping[int, str]
    grid: tuple[tuple[int, ...], ...]

    def risk(self, severity: int, likelihood: int) -> int:
        return self.grid[likelihood - 1][severity - 1]


@dataclass(frozen=True, slots=True)
class Rating:
    severity: int
    likelihood: int
    risk: int


@dataclass(frozen=True, slots=True)
class Control:
    type: ControlType
    description: str
    code: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Hazard:
    id: str
    title: str
    situation: str
    causes: tuple[str, ...]
    effect: str
    initial: Rating
    controls: tuple[Control, ...]
    residual: Rating
    status: Status
    references: tuple[str, ...]
    justification: str = ""

    @property
    def code_paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for c in self.controls for p in c.code))

    @property
    def test_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for c in self.controls for t in c.tests))


@dataclass(frozen=True, slots=True)
class SafetyClass:
    iec_62304: str
    argument: str


@dataclass(frozen=True, slots=True)
class Case:
    title: str
    scope: str
    intended_use: str
    safety_class: SafetyClass
    open_issues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HazardLog:
    case: Case
    matrix: RiskMatrix
    acceptance_line: int
    hazards: tuple[Hazard, ...]

    def hazard(self, hazard_id: str) -> Hazard:
        return next(h for h in self.hazards if h.id == hazard_id)


def load(path: Path) -> HazardLog:
    # libyaml's loader when PyYAML was built with it: ten times faster than the pure-Python one.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return parse(yaml.load(path.read_text(encoding="utf-8"), Loader=loader))  # noqa: S506 (safe)


class _Reader:
    """Reads one mapping, noting each problem (with where it is) instead of stopping at the first."""

    def __init__(self, problems: list[str], where: str, data: object) -> None:
        self.problems, self.where = problems, where
        self.data: Mapping[Any, Any] = data if isinstance(data, Mapping) else {}
        if not isinstance(data, Mapping):
            problems.append(f"{where}: expected a mapping, found {type(data).__name__}")

    def text(self, key: str, *, required: bool = True) -> str:
        value = self.data.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
        if required or value is not None:
            self.problems.append(f"{self.where}: {key!r} must be a non-empty text")
        return ""

    def texts(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        value = self.data.get(key, None if required else [])
        if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
            if required and not value:
                self.problems.append(f"{self.where}: {key!r} must list at least one")
            return tuple(" ".join(v.split()) for v in value)
        self.problems.append(f"{self.where}: {key!r} must be a list of texts")
        return ()

    def level(self, key: str) -> int:
        value = self.data.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value in SCALE:
            return value
        self.problems.append(f"{self.where}: {key!r} must be a whole number from 1 to 5")
        return 1

    def child(self, key: str) -> _Reader:
        return _Reader(self.problems, f"{self.where}.{key}", self.data.get(key))


def parse(data: object) -> HazardLog:
    problems: list[str] = []
    top = _Reader(problems, "log", data)
    if top.data.get("format") != 1:
        problems.append("log: 'format' must be 1")
    case = _case(top.child("case"))
    matrix = _matrix(top.child("matrix"))
    acceptance = top.level("acceptance_line")
    raw = top.data.get("hazards")
    if not isinstance(raw, list) or not raw:
        problems.append("log: 'hazards' must list at least one hazard")
        raw = []
    hazards = tuple(_hazard(_Reader(problems, f"hazards[{i}]", h)) for i, h in enumerate(raw))
    ids = [h.id for h in hazards]
    for twice in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"{twice}: the id is used by more than one hazard")
    if problems:
        raise LogInvalid(problems)
    return HazardLog(case, matrix, acceptance, hazards)


def _case(r: _Reader) -> Case:
    klass = r.child("safety_class")
    return Case(
        title=r.text("title"),
        scope=r.text("scope"),
        intended_use=r.text("intended_use"),
        safety_class=SafetyClass(klass.text("iec_62304"), klass.text("argument")),
        open_issues=r.texts("open_issues", required=False),
    )


def _levels(r: _Reader) -> dict[int, Level]:
    if sorted(r.data) != list(SCALE):
        r.problems.append(f"{r.where}: must name the levels 1 to 5")
    levels = {}
    for key in SCALE:
        level = _Reader(r.problems, f"{r.where}.{key}", r.data.get(key, {}))
        levels[key] = Level(level.text("name"), level.text("meaning"))
    return levels


def _matrix(r: _Reader) -> RiskMatrix:
    grid = r.data.get("grid")
    rows: tuple[tuple[int, ...], ...] = ((1,) * 5,) * 5
    if (
        isinstance(grid, list)
        and len(grid) == len(SCALE)
        and all(isinstance(row, list) and len(row) == len(SCALE) for row in grid)
        and all(v in SCALE and isinstance(v, int) for row in grid for v in row)
    ):
        rows = tuple(tuple(row) for row in grid)
        # A worse severity or a likelier hazard never lowers the class.
        for i in range(5):
            for j in range(5):
                if (j and rows[i][j] < rows[i][j - 1]) or (i and rows[i][j] < rows[i - 1][j]):
                    r.problems.append(
                        f"{r.where}.grid: class falls at likelihood {i + 1}, severity {j + 1}"
                    )
    else:
        r.problems.append(f"{r.where}: 'grid' must be 5 rows of 5 risk classes from 1 to 5")
    classes = r.data.get("classes")
    if not isinstance(classes, Mapping) or sorted(classes) != list(SCALE):
        r.problems.append(f"{r.where}: 'classes' must describe the classes 1 to 5")
        classes = {k: "" for k in SCALE}
    return RiskMatrix(
        severity=_levels(r.child("severity")),
        likelihood=_levels(r.child("likelihood")),
        classes={int(k): str(v) for k, v in classes.items()},
        grid=rows,
    )


def _rating(r: _Reader) -> Rating:
    return Rating(r.level("severity"), r.level("likelihood"), r.level("risk"))


def _control(r: _Reader) -> Control:
    raw = r.data.get("type")
    try:
        kind = ControlType(str(raw))
    except ValueError:
        r.problems.append(f"{r.where}: 'type' must be one of {', '.join(ControlType)}, not {raw!r}")
        kind = ControlType.PROCESS
    code = r.texts("code", required=kind.needs_evidence) if kind.needs_evidence else ()
    tests = r.texts("tests", required=kind.needs_evidence) if kind.needs_evidence else ()
    if not kind.needs_evidence and ("code" in r.data or "tests" in r.data):
        r.problems.append(
            f"{r.where}: a {kind} control names no code or tests (make it design or test)"
        )
    for path in code:
        if not DOTTED.match(path):
            r.problems.append(f"{r.where}: {path!r} is not a dotted path under kapstone")
    for test in tests:
        if not TEST_ID.match(test):
            r.problems.append(
                f"{r.where}: {test!r} is not a pytest node id (tests/....py::test_name)"
            )
    return Control(kind, r.text("description"), code, tests)


def _hazard(r: _Reader) -> Hazard:
    hazard_id = r.text("id")
    if hazard_id and not HAZARD_ID.match(hazard_id):
        r.problems.append(f"{r.where}: id {hazard_id!r} is not of the form HAZ-001")
    r.where = hazard_id or r.where
    raw_controls = r.data.get("controls")
    if not isinstance(raw_controls, list) or not raw_controls:
        r.problems.append(f"{r.where}: 'controls' must list at least one control")
        raw_controls = []
    status_raw = r.data.get("status")
    try:
        status = Status(str(status_raw))
    except ValueError:
        r.problems.append(
            f"{r.where}: 'status' must be one of {', '.join(Status)}, not {status_raw!r}"
        )
        status = Status.OPEN
    refs = r.data.get("references", [])
    if not isinstance(refs, list) or not all(isinstance(x, str) for x in refs):
        r.problems.append(f"{r.where}: 'references' must be a list of clinical-reference keys")
        refs = []
    return Hazard(
        id=hazard_id,
        title=r.text("title"),
        situation=r.text("situation"),
        causes=r.texts("causes"),
        effect=r.text("effect"),
        initial=_rating(r.child("initial")),
        controls=tuple(
            _control(_Reader(r.problems, f"{r.where}.controls[{i}]", c))
            for i, c in enumerate(raw_controls)
        ),
        residual=_rating(r.child("residual")),
        status=status,
        references=tuple(refs),
        justification=r.text("justification", required=False),
    )
