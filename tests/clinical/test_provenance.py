"""Every Source anywhere in the core names a key that the clinical reference actually contains."""

from __future__ import annotations

import dataclasses
import enum
import importlib
import pkgutil
import re
from collections.abc import Iterator, Mapping

import kapstone.clinical
import kapstone.scheduling
from kapstone.clinical.provenance import Source, Verification
from tests.reference import REFERENCE


def core_modules() -> Iterator[object]:
    for package in (kapstone.clinical, kapstone.scheduling):
        yield package
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            yield importlib.import_module(info.name)


def sources_in(value: object, seen: set[int], depth: int = 0) -> Iterator[Source]:
    if depth > 12 or id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, Source):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from sources_in(key, seen, depth + 1)
            yield from sources_in(item, seen, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from sources_in(item, seen, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from sources_in(getattr(value, field.name), seen, depth + 1)
    elif isinstance(value, enum.Enum):
        yield from sources_in(value.value, seen, depth + 1)


def all_sources() -> list[Source]:
    seen: set[int] = set()
    found: list[Source] = []
    for module in core_modules():
        for name, value in vars(module).items():
            if name.startswith("__") or (
                isinstance(value, type) and not issubclass(value, enum.Enum)
            ):
                continue
            if isinstance(value, type):  # an Enum class: walk its members
                value = list(value)
            found.extend(sources_in(value, seen))
    return found


def test_the_core_cites_its_sources():
    assert len(all_sources()) > 100


def found_in_reference(key: str, text: str) -> bool:
    """A short key from section 0 appears in the text; a "§4.1" key names a heading ("### 4.1 ...")."""
    if key.startswith("§"):
        number = re.escape(key[1:])
        return re.search(rf"^#+ {number}\.? ", text, flags=re.MULTILINE) is not None
    return key in text


def test_section_keys_must_name_a_real_heading():
    text = REFERENCE.read_text(encoding="utf-8")
    assert found_in_reference("§4.1", text)
    assert found_in_reference("§5", text)
    assert not found_in_reference("§4.99", text)
    assert not found_in_reference("NOT-A-SOURCE-KEY", text)


def test_every_source_key_is_in_the_reference():
    text = REFERENCE.read_text(encoding="utf-8")
    missing = sorted({s.key for s in all_sources() if not found_in_reference(s.key, text)})
    assert missing == [], f"source keys not found in {REFERENCE.name}: {missing}"


def test_unverified_facts_are_clinic_policy():
    for source in all_sources():
        if source.verification is Verification.UNVERIFIED:
            assert source.is_clinic_policy, source
