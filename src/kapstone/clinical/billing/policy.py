"""The billing rules' numbers as clinic policy (§13): versioned, each with its source.

Time thresholds found in secondary sources (coding guides quoting the CPT rules) are SECONDARY;
the ones no source confirmed are UNVERIFIED, and the clinic's biller may change every one of them.
A proposal records the version it used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from kapstone.clinical.provenance import Evidence, Source, Verification


@dataclass(frozen=True, slots=True)
class BillingValue:
    """A whole number the rules use (minutes, mg, days), with where it comes from."""

    value: int
    source: Source


@dataclass(frozen=True, slots=True)
class TimeBand:
    """A psychotherapy time band: ``from_minutes`` and longer (up to the next band's start)."""

    from_minutes: int
    standalone: str
    with_em: str
    source: Source


def _rule(value: int, key: str, note: str) -> BillingValue:
    return BillingValue(value, Source(key, Verification.SECONDARY, Evidence.CLINIC_POLICY, note))


def _unverified(value: int, key: str, note: str) -> BillingValue:
    return BillingValue(value, Source(key, Verification.UNVERIFIED, Evidence.CLINIC_POLICY, note))


_TIME = Source(
    "AMA-CPT-TIME",
    Verification.SECONDARY,
    Evidence.CLINIC_POLICY,
    "a time code's unit is reached once its midpoint is passed: 16-37, 38-52, 53 and more",
)


def _default_bands() -> tuple[TimeBand, ...]:
    return (
        TimeBand(16, "90832", "90833", _TIME),
        TimeBand(38, "90834", "90836", _TIME),
        TimeBand(53, "90837", "90838", _TIME),
    )


@dataclass(frozen=True, slots=True)
class BillingPolicy:
    """The clinic's billing rules (the biller may change them; a change bumps ``version``)."""

    version: str = "billing-2026-12"
    # An infusion of this many minutes or fewer is a push (96374), not an infusion (96365).
    push_max_minutes: BillingValue = field(
        default_factory=lambda: _rule(
            15, "AMA-CPT-INFUSION", "an infusion of 15 minutes or less is reported as a push"
        )
    )
    # 96365 covers the first hour; a further 96366 unit needs more than this past the hour.
    first_hour_minutes: BillingValue = field(
        default_factory=lambda: _rule(60, "AMA-CPT-INFUSION", "96365: initial, up to one hour")
    )
    additional_hour_more_than_minutes: BillingValue = field(
        default_factory=lambda: _rule(
            30, "AMA-CPT-INFUSION", "96366: more than 30 minutes beyond the last full hour"
        )
    )
    psychotherapy_bands: tuple[TimeBand, ...] = field(default_factory=_default_bands)
    # G2082 up to this dose, G2083 above it.
    g2082_max_mg: BillingValue = field(
        default_factory=lambda: _rule(56, "CMS-PFS-ESKETAMINE", "G2082 up to 56 mg; G2083 above")
    )
    # The modifier on a same-day E/M billed with a procedure (an injection or an infusion).
    em_with_procedure_modifier: str = "25"
    em_with_procedure_source: Source = field(
        default_factory=lambda: Source(
            "CMS-NCCI",
            Verification.SECONDARY,
            Evidence.CLINIC_POLICY,
            "a separately identifiable E/M on the day of a procedure carries modifier 25",
        )
    )
    # Category III psychedelic monitoring codes: off until the clinic's payers accept them.
    propose_psychedelic_monitoring: bool = False
    monitoring_hour_more_than_minutes: BillingValue = field(
        default_factory=lambda: _unverified(
            30, "AMA-CPT-III-PSYCHEDELIC", "an hour unit once more than 30 minutes are reached"
        )
    )

    @property
    def g2082_max(self) -> Decimal:
        return Decimal(self.g2082_max_mg.value)


DEFAULT_BILLING_POLICY = BillingPolicy()
