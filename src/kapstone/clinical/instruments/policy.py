"""Clinic scoring policy: the cut-offs and tiers the reference does not settle as fact.

The medical director edits and versions this in the shell; every :class:`ScoreResult` records the
``version`` that produced it. Each field's provenance is in its dataclass metadata, read with
``policy_source``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum

from kapstone.clinical.provenance import Evidence, Source, Verification


class CssrsRisk(StrEnum):
    """C-SSRS screener triage level (§4.4), least severe first; the intake facts' ``cssrs_risk``."""

    NONE = "none"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return list(CssrsRisk).index(self)


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    field: str
    problem: str
    accepts: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "problem": self.problem, "accepts": self.accepts}


class PolicyErrors(ValueError):
    def __init__(self, problems: tuple[PolicyProblem, ...]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.problem}" for p in problems))


PCL5_CUTOFF_SOURCE = Source(
    "§4.3",
    Verification.VERIFIED,
    Evidence.CLINIC_POLICY,
    "Published probable-PTSD cut-offs run 31-33 (AWELL README citing the National Center for "
    "PTSD); CamCOPS calls 33 'preliminary'. The clinic chooses within that range.",
)
AUDIT_C_CUTOFF_SOURCE = Source(
    "§4.8",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "Bradley 2007 (not read): >= 4 men, >= 3 women. The score is computed without the patient's "
    "sex, so the lower (more sensitive) cut-off is the default. Source needed.",
)
CSSRS_WISH_SOURCE = Source(
    "§4.4",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "Tier for YES to Q1 and/or Q2 only; common colour-coded triage, not checked against the "
    "official chart.",
)
CSSRS_METHOD_SOURCE = Source(
    "§4.4",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "Tier for YES to Q3 (method, no intent); common triage, unverified.",
)
CSSRS_PAST_BEHAVIOUR_SOURCE = Source(
    "§4.4",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "Tier for suicidal behaviour more than 3 months ago; common triage, unverified.",
)
MADRS_ALERT_SOURCE = Source(
    "§4.7",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "The reference gives no MADRS safety rule. Design proposal: raise suicide_risk when item 10 "
    "(suicidal thoughts) reaches this rating, mirroring PHQ-9 item 9's 'any thoughts' rule. None "
    "turns it off. Source needed.",
)


@dataclass(frozen=True, slots=True)
class ScoringPolicy:
    version: str = "default-2026-11"
    pcl5_probable_ptsd_cutoff: int = field(default=33, metadata={"source": PCL5_CUTOFF_SOURCE})
    audit_c_positive_cutoff: int = field(default=3, metadata={"source": AUDIT_C_CUTOFF_SOURCE})
    cssrs_wish_or_thoughts_risk: CssrsRisk = field(
        default=CssrsRisk.LOW, metadata={"source": CSSRS_WISH_SOURCE}
    )
    cssrs_method_risk: CssrsRisk = field(
        default=CssrsRisk.MODERATE, metadata={"source": CSSRS_METHOD_SOURCE}
    )
    cssrs_past_behaviour_risk: CssrsRisk = field(
        default=CssrsRisk.MODERATE, metadata={"source": CSSRS_PAST_BEHAVIOUR_SOURCE}
    )
    madrs_suicidal_thoughts_alert_at: int | None = field(
        default=2, metadata={"source": MADRS_ALERT_SOURCE}
    )

    def __post_init__(self) -> None:
        problems: list[PolicyProblem] = []
        if not self.version.strip():
            problems.append(PolicyProblem("version", "is empty", "a non-empty version label"))
        if not 1 <= self.pcl5_probable_ptsd_cutoff <= 80:
            problems.append(
                PolicyProblem(
                    "pcl5_probable_ptsd_cutoff",
                    f"{self.pcl5_probable_ptsd_cutoff} is outside the PCL-5 total range",
                    "an integer 1-80 (published 31-33)",
                )
            )
        if not 1 <= self.audit_c_positive_cutoff <= 12:
            problems.append(
                PolicyProblem(
                    "audit_c_positive_cutoff",
                    f"{self.audit_c_positive_cutoff} is outside the AUDIT-C total range",
                    "an integer 1-12",
                )
            )
        for name in (
            "cssrs_wish_or_thoughts_risk",
            "cssrs_method_risk",
            "cssrs_past_behaviour_risk",
        ):
            tier = getattr(self, name)
            # A YES on the screener is never "no risk": that would silence the suicide_risk alert.
            if not isinstance(tier, CssrsRisk) or tier is CssrsRisk.NONE:
                problems.append(
                    PolicyProblem(name, f"{tier!r} is not a risk tier", "low, moderate or high")
                )
        at = self.madrs_suicidal_thoughts_alert_at
        if at is not None and not 1 <= at <= 6:
            problems.append(
                PolicyProblem(
                    "madrs_suicidal_thoughts_alert_at",
                    f"{at} is outside MADRS item 10's ratings",
                    "an integer 1-6, or null to turn the rule off",
                )
            )
        if problems:
            raise PolicyErrors(tuple(problems))


def policy_source(field_name: str) -> Source:
    """The provenance of one policy field's default."""
    for f in fields(ScoringPolicy):
        if f.name == field_name and "source" in f.metadata:
            source: Source = f.metadata["source"]
            return source
    raise KeyError(field_name)


POLICY_FIELDS_WITH_SOURCES = tuple(f.name for f in fields(ScoringPolicy) if "source" in f.metadata)
