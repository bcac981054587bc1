"""One definition per clinical fact (issue 16): the core defines, everything else imports.

The routes, pregnancy status and C-SSRS risk tiers are enums in the pure core; the plausible weight
and height and the esketamine device size are numbers in the core. Before issue 16 the scheduler
spelled the routes its own way, two pregnancy enums and two C-SSRS enums lived side by side, and the
weight was 30-300 kg in four places but 20-400 kg in the intake facts parser. This test reads the
source (no import, no database) and fails when one of them is written again:

- a class named like a core enum anywhere but its home module, or a class or a choices list whose
  member names or stored values are a core enum's;
- a number typed next to a weight, a height or an esketamine device (a comparison, a call's
  arguments, ``min_value=``/``max_value=``, a ``__gte``/``__lte`` lookup, a constant) anywhere but
  the module that defines that limit. 0 and 1 are counts, not limits, and pass.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pytest

from kapstone.clinical import dosing, plausibility
from kapstone.clinical.instruments.policy import CssrsRisk
from kapstone.clinical.pregnancy import PregnancyStatus
from kapstone.clinical.routes import Route

SRC = Path(__file__).resolve().parents[2] / "src"

# Each core enum and the module that is its one home.
CORE_ENUMS: dict[type[StrEnum], str] = {
    Route: "kapstone.clinical.routes",
    PregnancyStatus: "kapstone.clinical.pregnancy",
    CssrsRisk: "kapstone.clinical.instruments.policy",
}
# The modules that define the numeric limits: the dose calculator (weight bound and esketamine
# device) and the plausibility limits (height, and the weight derived from the calculator's).
LIMIT_HOMES = frozenset({dosing.__name__, plausibility.__name__})
# The numbers the core defines, by what they are about.
LIMITS: dict[str, frozenset[float]] = {
    "weight": frozenset(
        float(v) for v in (plausibility.WEIGHT_RANGE_KG.low, plausibility.WEIGHT_RANGE_KG.high)
    ),
    "height": frozenset(
        float(v) for v in (plausibility.HEIGHT_RANGE_CM.low, plausibility.HEIGHT_RANGE_CM.high)
    ),
    "device": frozenset({float(dosing.ESKETAMINE_DEVICE_MG)}),
}
# What a number is "about" when it stands beside one of these words.
FACT_WORDS = {
    # A body weight, not a sampling weight (``_ROUTE_WEIGHTS`` in the scheduler's generator).
    "weight": re.compile(r"weight(?!s)", re.IGNORECASE),
    "height": re.compile(r"height_?cm|height \(cm\)", re.IGNORECASE),
    "device": re.compile(r"device", re.IGNORECASE),
}
# Where any number beside a weight or a height is a bound, whatever its value: a comparison,
# ``min_value=``/``max_value=``, a ``__gte``/``__lte`` lookup, a constant named like a bound, a call
# to a number reader (the intake facts parser's ``optional_number(..., 20, 400)``).
BOUND_KEYWORD = re.compile(r"^(min_value|max_value)$|__(gte|lte|gt|lt)$")
BOUND_NAME = re.compile(r"min|max|low|high|limit|range|bound", re.IGNORECASE)
NUMBER_READER = re.compile(r"number|integer|decimal", re.IGNORECASE)
COUNTS = frozenset({0.0, 1.0})


@dataclass(frozen=True, slots=True)
class Redefinition:
    module: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.what}"


def _member_values(cls: ast.ClassDef) -> dict[str, str]:
    """``NAME = "value"`` (or ``NAME = "value", "Label"`` as Django's choices write it)."""
    members: dict[str, str] = {}
    for stmt in cls.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            continue
        target, value = stmt.targets[0], stmt.value
        if isinstance(value, ast.Tuple) and value.elts:
            value = value.elts[0]
        if (
            isinstance(target, ast.Name)
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            members[target.id] = value.value
    return members


def _choice_values(node: ast.List | ast.Tuple) -> set[str] | None:
    """The stored values of a literal choices list ``[("value", "Label"), ...]``, else None."""
    values = set()
    for elt in node.elts:
        if not (isinstance(elt, ast.Tuple) and len(elt.elts) == 2):
            return None
        first = elt.elts[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            return None
        values.add(first.value)
    return values or None


def _numbers(node: ast.AST) -> Iterator[tuple[int, float]]:
    """Numeric literals in ``node``: ``30``, ``2.5``, ``Decimal(30)``, ``Decimal("30")``.

    Not inside f-strings: a street number in a demo address is not a limit.
    """
    if isinstance(node, ast.JoinedStr):
        return
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        yield node.lineno, float(node.value)
        return
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Decimal"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        if re.fullmatch(r"-?\d+(\.\d+)?", node.args[0].value):
            yield node.lineno, float(node.args[0].value)
        return
    for child in ast.iter_child_nodes(node):
        yield from _numbers(child)


def _words(node: ast.AST) -> str:
    """The names, attributes, keywords and plain strings a node mentions (not f-string text)."""
    parts: list[str] = []
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            parts.append(n.id)
        elif isinstance(n, ast.Attribute):
            parts.append(n.attr)
        elif isinstance(n, ast.keyword) and n.arg:
            parts.append(n.arg)
        elif isinstance(n, ast.Constant) and isinstance(n.value, str):
            parts.append(n.value)
    return " ".join(parts)


def _callee(node: ast.Call) -> str:
    func = node.func
    return (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else ""
    )


@dataclass(frozen=True, slots=True)
class _Site:
    about: str  # the words the numbers stand beside
    places: tuple[ast.AST, ...]  # where the numbers are
    bound: bool  # any number here is a bound, not only one equal to the core's


def _limit_sites(tree: ast.AST) -> Iterator[_Site]:
    """Where a limit would be written.

    A comparison: its sides. A call: its arguments and keywords, not the callee. A constant: its
    name (``MAX_WEIGHT_KG = ...``), not the expression, so that ``metres = height_cm / 100`` is
    arithmetic, not a limit.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = (node.left, *node.comparators)
            yield _Site(" ".join(_words(n) for n in sides), sides, bound=True)
        elif isinstance(node, ast.Call):
            for k in node.keywords:
                if k.arg and BOUND_KEYWORD.search(k.arg):
                    # The field's own label or the lookup's name says what it bounds.
                    yield _Site(f"{k.arg} {_words(node)}", (k.value,), bound=True)
            # Positional arguments stand beside each other (``optional_number(d, "weight", 20,
            # 400)``); a keyword's value stands beside its own name only, so ``number=30`` in a
            # call that also passes ``weight_kg=...`` is a house number, not a weight.
            bound = bool(NUMBER_READER.search(_callee(node)))
            if node.args:
                yield _Site(" ".join(_words(a) for a in node.args), tuple(node.args), bound=bound)
            for k in node.keywords:
                yield _Site(f"{k.arg or ''} {_words(k.value)}", (k.value,), bound=bound)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = " ".join(_words(t) for t in targets if isinstance(t, ast.Name | ast.Tuple))
            yield _Site(names, (node.value,), bound=bool(BOUND_NAME.search(names)))


def redefinitions(source: str, module: str) -> list[Redefinition]:
    """Every place in ``source`` (the text of ``module``) that writes a core fact again."""
    tree = ast.parse(source)
    found = _enum_copies(tree, module)
    if module not in LIMIT_HOMES:
        found += _limit_copies(tree, module)
    return found


def _enum_copies(tree: ast.Module, module: str) -> list[Redefinition]:
    found: list[Redefinition] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            members = _member_values(node)
            for enum, home in CORE_ENUMS.items():
                if module == home:
                    continue
                names = {m.name for m in enum}
                values = {m.value for m in enum}
                if node.name == enum.__name__:
                    found.append(Redefinition(module, node.lineno, f"class {node.name} again"))
                elif members and (set(members) == names or set(members.values()) == values):
                    found.append(
                        Redefinition(module, node.lineno, f"{node.name} repeats {enum.__name__}")
                    )
        elif isinstance(node, ast.List | ast.Tuple):
            values = _choice_values(node)
            for enum, home in CORE_ENUMS.items():
                if module != home and values == {m.value for m in enum}:
                    found.append(
                        Redefinition(module, node.lineno, f"choices spell {enum.__name__} out")
                    )
    return found


def _limit_copies(tree: ast.Module, module: str) -> list[Redefinition]:
    found: list[Redefinition] = []
    seen: set[tuple[int, float]] = set()
    for site in _limit_sites(tree):
        for fact, words in FACT_WORDS.items():
            if not words.search(site.about):
                continue
            for line, number in (n for place in site.places for n in _numbers(place)):
                flagged = number in LIMITS[fact] or (site.bound and fact != "device")
                if not flagged or number in COUNTS or (line, number) in seen:
                    continue
                seen.add((line, number))
                found.append(Redefinition(module, line, f"{number:g} typed beside a {fact}"))
    return found


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted((SRC / "kapstone").rglob("*.py")):
        if "migrations" in path.parts:
            continue  # history: never edited, and it must not import app code
        yield ".".join(path.relative_to(SRC).with_suffix("").parts), path


def test_no_core_fact_is_written_twice() -> None:
    found = [
        str(r)
        for module, path in _modules()
        for r in redefinitions(path.read_text(encoding="utf-8"), module)
    ]
    assert found == []


def test_each_core_enum_is_defined_once_in_the_core() -> None:
    homes: dict[str, list[str]] = {enum.__name__: [] for enum in CORE_ENUMS}
    for module, path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name in homes:
                homes[node.name].append(module)
    assert homes == {enum.__name__: [home] for enum, home in CORE_ENUMS.items()}


# --- the checker finds what it is meant to find ------------------------------------------------


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        # The scheduler's own route enum, spelled differently, as it was before issue 16.
        (
            'class Route(StrEnum):\n    IV = "iv"\n    SUBLINGUAL = "sublingual"\n',
            "kapstone.scheduling.policy",
            "class Route again",
        ),
        # Same stored values under another name.
        (
            "class Pregnancy(models.TextChoices):\n"
            '    PREGNANT = "pregnant", "Pregnant"\n'
            '    NOT_PREGNANT = "not_pregnant", "Not pregnant"\n'
            '    UNKNOWN = "unknown", "Unknown"\n',
            "kapstone.chairside.models",
            "Pregnancy repeats PregnancyStatus",
        ),
        # Same member names, other values.
        (
            'class Risk(StrEnum):\n    NONE = "0"\n    LOW = "1"\n    MODERATE = "2"\n'
            '    HIGH = "3"\n',
            "kapstone.safety.models",
            "Risk repeats CssrsRisk",
        ),
        # A form spelling the choices out.
        (
            'RISK = [("none", "None"), ("low", "Low"), ("moderate", "Moderate"), ("high", "High")]\n',
            "kapstone.intake.forms",
            "choices spell CssrsRisk out",
        ),
        # The intake facts parser's own weight range, as it was before issue 16.
        (
            'weight = r.optional_number(o.get("weight_kg"), f"{path}.weight_kg", 20, 400)\n',
            "kapstone.clinical.eligibility.parsing",
            "400 typed beside a weight",
        ),
        # A service's own bounds.
        (
            "MIN_WEIGHT_KG, MAX_WEIGHT_KG = Decimal(30), Decimal(300)\n",
            "kapstone.patients.services",
            "30 typed beside a weight",
        ),
        (
            "if height_cm is not None and not Decimal('100') <= height_cm <= 250:\n    pass\n",
            "kapstone.patients.services",
            "250 typed beside a height",
        ),
        # A form field's bounds.
        (
            'weight_kg = forms.DecimalField(label="Weight (kg)", min_value=30, max_value=300)\n',
            "kapstone.patients.forms",
            "300 typed beside a weight",
        ),
        # A database constraint's bounds.
        (
            "c = models.Q(weight_kg__gte=Decimal(30), weight_kg__lte=Decimal(300))\n",
            "kapstone.patients.models",
            "30 typed beside a weight",
        ),
        # The device size again.
        (
            "ESKETAMINE_DEVICE_MG = Decimal(28)\n",
            "kapstone.chairside.services",
            "28 typed beside a device",
        ),
        # A weight typed as a keyword, among other keywords.
        (
            'DESK = FrontDesk(number=30, weight_kg=Decimal("300"))\n',
            "kapstone.demo.today",
            "300 typed beside a weight",
        ),
    ],
)
def test_the_checker_flags_a_reintroduced_duplicate(
    source: str, module: str, expected: str
) -> None:
    found = [r.what for r in redefinitions(source, module)]
    assert expected in found


@pytest.mark.parametrize(
    ("source", "module"),
    [
        # Importing and using the core's definitions is what every module should do.
        (
            "from kapstone.clinical.routes import Route\n"
            "CHOICES = [(r.value, r.label) for r in Route]\n",
            "kapstone.plans.models",
        ),
        (
            "if not WEIGHT_RANGE_KG.low <= weight_kg <= WEIGHT_RANGE_KG.high:\n    pass\n",
            "kapstone.patients.services",
        ),
        # A count of devices is not a limit; a BMI divides by 100 without bounding anything.
        ("if devices is None or not 1 <= devices <= ESKETAMINE_MOST_DEVICES:\n    pass\n", "m"),
        ("metres = self.height_cm / 100\n", "kapstone.patients.models"),
        # A house number passed beside a weight keyword is not about the weight.
        ('DESK = FrontDesk(number=30, weight_kg=Decimal("70.0"))\n', "kapstone.demo.today"),
        # The home module defines its own enum.
        ('class Route(StrEnum):\n    IV = "iv"\n', "kapstone.clinical.routes"),
    ],
)
def test_the_checker_passes_a_use_of_the_core(source: str, module: str) -> None:
    assert redefinitions(source, module) == []
