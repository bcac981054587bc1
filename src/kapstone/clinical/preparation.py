"""Advice given at the preparation session, as clinic-policy defaults with their sources."""

from __future__ import annotations

from dataclasses import dataclass

from kapstone.clinical.provenance import Evidence, Source, Verification


@dataclass(frozen=True, slots=True)
class Advice:
    text: str
    source: Source


# Spravato's patient information asks for no food 2 hours before and no liquids 30 minutes before
# (the second half unverified); applying it to every route is the clinic's choice, editable per plan.
FASTING = Advice(
    "No food for 2 hours and no drinks for 30 minutes before each session.",
    Source(
        "§2.1",
        Verification.UNVERIFIED,
        Evidence.CLINIC_POLICY,
        "Spravato patient information (2 h food verified in a summary, 30 min liquids unverified); "
        "used for every route by clinic policy",
    ),
)
