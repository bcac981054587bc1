"""Scheduling policy: the clinic's rules for booking retreats, each with its source.

Most numbers here are clinic policy (the reference marks them UNVERIFIED or has nothing on them), so
they are fields the medical director edits and versions; every schedule records the version it used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.routes import Route

# Chair time per route, administration plus observation until discharge. Only the esketamine
# two-hour minimum observation is label text; the rest are clinic defaults to be reviewed.
_DEFAULT_SESSION_MINUTES = MappingProxyType(
    {
        Route.IV: 120,
        Route.IM: 120,
        Route.SC: 120,
        Route.SUBLINGUAL_LOZENGE: 120,
        Route.ORAL: 150,
        Route.INTRANASAL_ESKETAMINE: 150,
    }
)

_SOURCES = MappingProxyType(
    {
        "session_minutes": Source(
            "§2.3",
            Verification.UNVERIFIED,
            Evidence.CLINIC_POLICY,
            "Esketamine: >= 2 h observation after every dose (SPRAVATO-US, VERIFIED); other routes'"
            " observation time is configurable clinic policy.",
        ),
        "patients_per_nurse": Source(
            "§2.2",
            Verification.UNVERIFIED,
            Evidence.CLINIC_POLICY,
            "No source gives a nurse-to-patient monitoring ratio; clinic policy.",
        ),
        "prescriber_on_site": Source(
            "§11.1",
            Verification.VERIFIED,
            Evidence.LABEL,
            "Spravato REMS: a prescriber onsite during administration and monitoring; applied to"
            " every route as clinic policy.",
        ),
        "integration_window_hours": Source(
            "§10",
            Verification.UNVERIFIED,
            Evidence.CLINIC_POLICY,
            "Integration 'after each dose' is the seed program's practice; the window is policy.",
        ),
        "integration_minutes": Source(
            "§10",
            Verification.UNVERIFIED,
            Evidence.CLINIC_POLICY,
            "Seed program: 60-90 minute integration sessions; length is policy.",
        ),
        "min_gap_hours": Source(
            "§3",
            Verification.UNVERIFIED,
            Evidence.CLINIC_POLICY,
            "Retreats dose 3-5 times a week (seed); the minimum interval is policy.",
        ),
    }
)


@dataclass(frozen=True, slots=True)
class SchedulingPolicy:
    """Clinic rules the scheduler obeys; edited and versioned by the medical director."""

    version: str = "default-2026-11"
    session_minutes: Mapping[Route, int] = field(default_factory=lambda: _DEFAULT_SESSION_MINUTES)
    # How many dosing patients one nurse may monitor at the same time.
    patients_per_nurse: int = 2
    prescriber_on_site: bool = True
    # Integration must start no earlier than this after the dose ends, and no later than the window.
    integration_min_delay_minutes: int = 0
    integration_window_hours: int = 24
    default_integration_minutes: int = 90
    default_min_gap_hours: int = 20
    sources: Mapping[str, Source] = field(default_factory=lambda: _SOURCES)
