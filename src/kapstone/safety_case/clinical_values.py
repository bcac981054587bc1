"""Every cited clinical value of the core as one stable JSON snapshot, and what changed between two.

A value is cited when it sits beside a :class:`~kapstone.clinical.provenance.Source`: a policy
field (``PolicyValue(value, source)``), a rule (a threshold, its grade, its source), a template.
The walk starts from the public names each core module assigns itself (not the ones it imports, so
every value is found under the module that defines it) and goes down dataclasses, mappings,
sequences and enums. A value's path names the way to it (``DEFAULT_DOSING_POLICY.route_limits[iv]
.max_mg``): rules in a list are named by their id, so inserting a rule moves no other path.

The snapshot is written to ``docs/safety/clinical-values.json`` and a test fails when it is stale,
so the clinical changes between two releases are the git diff of that file (``clinical_changes``).
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import datetime as dt
import enum
import functools
import importlib
import inspect
import json
import pkgutil
from collections.abc import Iterator, Mapping
from decimal import Decimal
from types import ModuleType
from typing import Any

from kapstone.clinical.provenance import Source

# The pure packages whose values cite the clinical reference (the policy defaults live here too:
# the shell's policy tables hold only the medical director's overrides).
# The scheduler's solver modules are left out: they cite nothing and import OR-Tools (seconds).
CITED_PACKAGES = ("kapstone.clinical", "kapstone.interop", "kapstone.scheduling.policy")
FORMAT = 1
# Fields that name an item of a list, in the order they are tried.
_NAME_FIELDS = ("rule_id", "id", "key", "code", "instrument", "name", "measure", "route")
_MAX_DEPTH = 14

type Json = bool | int | float | str | list[Json] | dict[str, Json] | None


def core_modules(packages: tuple[str, ...] = CITED_PACKAGES) -> Iterator[ModuleType]:
    for name in packages:
        try:
            package = importlib.import_module(name)
        except ModuleNotFoundError:  # an older release without it
            continue
        yield package
        if not hasattr(package, "__path__"):
            continue
        for info in sorted(
            pkgutil.walk_packages(package.__path__, f"{name}."), key=lambda i: i.name
        ):
            yield importlib.import_module(info.name)


def _assigned_names(module: ModuleType) -> list[str]:
    """Public names the module assigns at its top level, in source order (not imported names)."""
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError):
        return []
    names: list[str] = []
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.ClassDef):
            targets = [ast.Name(node.name)]
        for target in targets:
            if isinstance(target, ast.Name) and not target.id.startswith("_"):
                names.append(target.id)
    return list(dict.fromkeys(names))


class _NotScalar:
    """What :func:`_scalar` answers for a value with parts of its own (walked, not shown)."""


NOT_SCALAR = _NotScalar()


def _scalar(value: object) -> Json | _NotScalar:
    if isinstance(value, enum.Enum):
        return _scalar(value.value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
        return f"{int(seconds)}s" if seconds == int(seconds) else f"{seconds}s"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, tuple | list | frozenset | set):
        items: list[Json] = []
        for item in value:
            scalar = _scalar(item)
            if isinstance(scalar, _NotScalar):
                return NOT_SCALAR
            items.append(scalar)
        if isinstance(value, frozenset | set):
            items.sort(key=lambda i: json.dumps(i, sort_keys=True))
        return items
    if isinstance(value, Mapping):
        pairs: dict[str, Json] = {}
        for key, item in value.items():
            scalar = _scalar(item)
            if isinstance(scalar, _NotScalar):
                return NOT_SCALAR
            pairs[_key(key)] = scalar
        return dict(sorted(pairs.items()))
    return NOT_SCALAR


def _source(source: Source) -> dict[str, Json]:
    return {
        "key": source.key,
        "verification": source.verification.value,
        "evidence": source.evidence.value,
        "note": source.note,
    }


def _item_name(item: object, index: int) -> str:
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        for name in _NAME_FIELDS:
            found = getattr(item, name, None)
            if isinstance(found, str | enum.Enum):
                return str(found.value if isinstance(found, enum.Enum) else found)
    return str(index)


class _Walk:
    def __init__(self) -> None:
        self.found: dict[str, dict[str, Json]] = {}
        self._seen: set[int] = set()  # each object is reported once, under the first path to it
        self._defaults: list[tuple[type[Any], str]] = []
        self._walked: list[object] = []  # the dataclass instances met, to spot a default again

    def emit(self, path: str, kind: str, values: dict[str, Json], source: Source) -> None:
        self.found[path] = {"kind": kind, "values": values, "source": _source(source)}

    def visit(self, value: object, path: str, depth: int = 0) -> None:
        if depth > _MAX_DEPTH or isinstance(value, Source) or _scalar(value) is not NOT_SCALAR:
            return
        if isinstance(value, type):
            if issubclass(value, enum.Enum):
                for member in value:
                    self.visit(member.value, f"{path}.{member.name}", depth + 1)
            elif dataclasses.is_dataclass(value):
                self._defaults.append((value, path))
            return
        if isinstance(value, enum.Enum) or id(value) in self._seen:
            return
        if not _sourced_leaf(value):  # a value shared by two rules is reported under both
            self._seen.add(id(value))
        if dataclasses.is_dataclass(value):
            self._walked.append(value)
            self._dataclass(value, path, depth)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                self.visit(item, f"{path}[{_key(key)}]", depth + 1)
        elif isinstance(value, tuple | list):
            sources = [v for v in value if isinstance(v, Source)]
            if sources:  # a (value, source) pair
                self.emit(path, type(value).__name__, _scalars(dict(enumerate(value))), sources[0])
            names = [_item_name(v, i) for i, v in enumerate(value)]
            unique = len(set(names)) == len(names)
            for i, item in enumerate(value):
                self.visit(item, f"{path}[{names[i] if unique else i}]", depth + 1)

    def _dataclass(self, value: Any, path: str, depth: int) -> None:
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        sources = [v for v in fields.values() if isinstance(v, Source)]
        if sources:
            self.emit(path, type(value).__name__, _scalars(fields), sources[0])
        for name, item in fields.items():
            cited = _source_mapping(item)
            if cited is None:
                self.visit(item, f"{path}.{name}", depth + 1)
                continue
            # Sources kept beside the values in one mapping, keyed by the field they cite.
            for key, source in cited.items():
                named = next((f for f in (key, f"default_{key}") if f in fields), None)
                values = _scalars({"value": fields[named]} if named else fields)
                self.emit(f"{path}.{named or key}", type(value).__name__, values, source)

    def defaults(self) -> None:
        """Policy classes no module instantiates: their defaults, unless an equal one was walked."""
        for cls, path in self._defaults:
            try:
                instance = cls()
            except TypeError:
                continue  # it has required fields: not a policy with defaults
            if not any(type(w) is cls and w == instance for w in self._walked):
                self.visit(instance, f"{path}()")


def _sourced_leaf(value: object) -> bool:
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return False
    fields = [getattr(value, f.name) for f in dataclasses.fields(value)]
    return any(isinstance(f, Source) for f in fields) and all(
        isinstance(f, Source) or _scalar(f) is not NOT_SCALAR for f in fields
    )


def _key(key: object) -> str:
    scalar = _scalar(key)
    return str(key) if isinstance(scalar, _NotScalar) else str(scalar)


def _scalars(fields: Mapping[Any, object]) -> dict[str, Json]:
    found: dict[str, Json] = {}
    for name, value in fields.items():
        scalar = _scalar(value)
        if not isinstance(scalar, _NotScalar):
            found[str(name)] = scalar
    return found


def _source_mapping(value: object) -> Mapping[str, Source] | None:
    if isinstance(value, Mapping) and value and all(isinstance(v, Source) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    return None


def snapshot(packages: tuple[str, ...] = CITED_PACKAGES) -> dict[str, Json]:
    """``{"format": 1, "values": {path: {kind, values, source}}}``, every path sorted."""
    return copy.deepcopy(_snapshot(packages))


@functools.cache  # the modules are loaded once per process, so are their values
def _snapshot(packages: tuple[str, ...]) -> dict[str, Json]:
    walk = _Walk()
    for module in core_modules(packages):
        for name in _assigned_names(module):
            if hasattr(module, name):
                walk.visit(getattr(module, name), f"{module.__name__}.{name}")
    walk.defaults()
    values: dict[str, Json] = dict(sorted(walk.found.items()))
    return {"format": FORMAT, "values": values}


def dumps(snap: Mapping[str, Json]) -> str:
    return json.dumps(snap, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
