"""Medical record numbers: one normal form for storing, comparing and searching.

MRNs arrive typed, pasted from referral letters and read by scanners, sometimes in full-width forms
(``ＫＡＰ-100001`` from an East Asian input method) that look identical but compare different; one
such MRN once registered a second patient. Every MRN is brought to Unicode NFKC (full-width letters
and digits become ASCII), trimmed and upper-cased before it is checked, stored or looked up, and must
then use only the clinic scheme's characters: A-Z, 0-9 and hyphens.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MRN_MAX_LENGTH = 20  # the column's length
_ALLOWED = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)*")


def normalise_mrn(mrn: str) -> str:
    return unicodedata.normalize("NFKC", mrn).strip().upper()


def mrn_problem(mrn: str) -> str | None:
    """Why an MRN (already normalised) cannot be stored, or None."""
    if not mrn:
        return "Enter the MRN."
    if len(mrn) > MRN_MAX_LENGTH:
        return f"An MRN has at most {MRN_MAX_LENGTH} characters; this one has {len(mrn)}."
    if not _ALLOWED.fullmatch(mrn):
        odd = sorted({c for c in mrn if not (c.isascii() and (c.isalnum() or c == "-"))})
        found = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, '?')}" for c in odd)
        return "An MRN has only the letters A-Z, digits 0-9 and single hyphens between them" + (
            f" (found {found})." if found else "."
        )
    return None


@dataclass(frozen=True)
class MrnScheme:
    """The clinic's own MRNs: a prefix and a zero-padded sequence number (``KAP-100001``).

    Typed MRNs of any other shape are still accepted; only MRNs of this shape count towards the
    next number, so one typed far ahead (``KAP-900000``) moves the sequence on past it.
    """

    prefix: str
    digits: int
    first: int

    @property
    def normal_prefix(self) -> str:
        return normalise_mrn(self.prefix)

    def format(self, number: int) -> str:
        return f"{self.normal_prefix}{number:0{self.digits}d}"

    def number(self, mrn: str) -> int | None:
        """The sequence number of an MRN of this scheme, or None for any other MRN."""
        prefix = self.normal_prefix
        rest = mrn[len(prefix) :] if mrn.startswith(prefix) else ""
        return int(rest) if rest.isascii() and rest.isdigit() else None

    def following(self, highest: str | None) -> str:
        """The MRN after the highest of this scheme already given (or the first one)."""
        current = self.number(highest) if highest is not None else None
        return self.format(self.first if current is None else max(current + 1, self.first))
