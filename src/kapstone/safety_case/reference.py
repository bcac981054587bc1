"""What docs/clinical-reference.md offers to cite: its short keys and sections, and what it marks
UNVERIFIED (the values the medical director must confirm before go-live)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^(#+) (\d+(?:\.\d+)*)\.? (.*)$")
_KEY_ROW = re.compile(r"^\| ([A-Z0-9][A-Z0-9-]+) \|")
_EMPHASIS = re.compile(r"\*\*|`")
_LONGEST = 320


@dataclass(frozen=True, slots=True)
class Unverified:
    section: str  # "§2.2 During and after the dose"
    text: str


@dataclass(frozen=True, slots=True)
class Reference:
    keys: frozenset[str]  # section 0's short keys
    sections: frozenset[str]  # "2", "2.2", ...
    titles: dict[str, str]

    def has(self, key: str) -> bool:
        """``"§4.1"`` names a heading; anything else must be a key of section 0."""
        if key.startswith("§"):
            return key[1:] in self.sections
        return key in self.keys

    def title(self, key: str) -> str:
        return self.titles.get(key[1:], "") if key.startswith("§") else ""


def parse(text: str) -> Reference:
    keys: set[str] = set()
    sections: dict[str, str] = {}
    current = ""
    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            current = heading.group(2)
            sections[current] = heading.group(3).strip()
        elif current == "0" and (row := _KEY_ROW.match(line)) and row.group(1) != "Key":
            keys.add(row.group(1))
    return Reference(frozenset(keys), frozenset(sections), sections)


def _clean(text: str) -> str:
    return " ".join(_EMPHASIS.sub("", text).split())


def _shorten(text: str) -> str:
    """At most about ``_LONGEST`` characters, always keeping the word UNVERIFIED in view."""
    if len(text) <= _LONGEST:
        return text
    at = text.find("UNVERIFIED")
    start = 0 if at < _LONGEST - 60 else text.find(" ", at - _LONGEST // 2) + 1
    cut = text[start : start + _LONGEST]
    if start + _LONGEST < len(text):
        cut = cut.rsplit(" ", 1)[0] + " …"
    return ("… " if start else "") + cut


def unverified(text: str) -> list[Unverified]:
    """Each table row or paragraph (a bullet, a numbered item) of sections 1 and on that says
    UNVERIFIED, under its section; the legend at the top is left out."""
    found: list[Unverified] = []
    section = ""
    paragraph: list[str] = []

    def close() -> None:
        joined = _clean(" ".join(paragraph))
        if section and "UNVERIFIED" in joined:
            found.append(Unverified(section, _shorten(joined)))
        paragraph.clear()

    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading or line.startswith("#"):
            close()
            if heading:
                number = heading.group(2)
                section = "" if number == "0" else f"§{number} {heading.group(3).strip()}"
            continue
        stripped = line.strip()
        if stripped.startswith("|"):
            close()
            cells = [_clean(c) for c in stripped.strip("|").split("|")]
            marked = [c for c in cells[1:] if "UNVERIFIED" in c]
            if section and marked and not set(cells[0]) <= {"-", ":", " "}:
                label = (
                    f"{cells[0]} {cells[1]}" if len(cells[0]) <= 5 else cells[0]
                )  # "C9 Psychosis"
                found.append(Unverified(section, _shorten(f"{label}: {' / '.join(marked)}")))
        elif not stripped or stripped == "---":
            close()
        elif re.match(r"^(- |\d+\. )", stripped):
            close()
            paragraph.append(stripped)
        else:
            paragraph.append(stripped)
    close()
    return found
