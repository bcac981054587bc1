"""Where a clinical fact comes from, and how far it was checked.

Every instrument, threshold, rule and template in the core carries a :class:`Source`. ``key`` is either
a short key from section 0 of ``docs/clinical-reference.md`` (for example ``"SPRAVATO-US"``) or a
section of that file (for example ``"§4.1"``); a test checks that every key used appears there.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verification(StrEnum):
    """The reference's legend: how far the fact was checked when the reference was compiled."""

    VERIFIED = "verified"
    SECONDARY = "secondary"
    UNVERIFIED = "unverified"


class Evidence(StrEnum):
    """What kind of authority the fact has."""

    LABEL = "label"
    GUIDELINE = "guideline"
    PUBLISHED_PRACTICE = "published_practice"
    INSTRUMENT_MANUAL = "instrument_manual"
    CLINIC_POLICY = "clinic_policy"


@dataclass(frozen=True, slots=True)
class Source:
    key: str
    verification: Verification
    evidence: Evidence
    note: str = ""

    @property
    def is_clinic_policy(self) -> bool:
        """UNVERIFIED facts may only ship as clinic policy the medical director can change."""
        return self.evidence is Evidence.CLINIC_POLICY or self.verification is (
            Verification.UNVERIFIED
        )

    def cite(self) -> str:
        return f"{self.key} ({self.verification.value})"
