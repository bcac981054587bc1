"""Pregnancy status: one vocabulary for the intake facts and the pre-dose checklist.

Esketamine is contraindicated in pregnancy and a person of reproductive potential needs a known
status (§1.1, SPRAVATO-US). The values are stored (intake facts JSON, chair-side checklist answers),
so they never change meaning.
"""

from __future__ import annotations

from enum import StrEnum


class PregnancyStatus(StrEnum):
    PREGNANT = "pregnant"
    NOT_PREGNANT = "not_pregnant"  # negative test, or reported not pregnant, as policy accepts
    UNKNOWN = "unknown"  # not tested, declined, unsure
