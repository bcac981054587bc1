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
