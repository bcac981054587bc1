"""The eligibility decision: its outcome, every finding behind it, the rules and policy used.

Precedence, first match wins:
1. ``urgent_safety_review`` — any finding opening the urgent safety pathway (high suicide risk);
2. ``not_eligible`` — any absolute finding (including relative rules the policy escalated);
3. ``specialist_protocol`` — any finding opening the specialist pathway (bipolar disorder);
4. ``eligible_with_precautions`` — any relative finding;
5. ``eligible``.
Informational findings never change the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from kapstone.clinical.eligibility.rules import Pathway, RuleKind
from kapstone.clinical.eligibility.trd import TreatmentResistance
from kapstone.clinical.provenance import Source


class Decision(StrEnum):
    ELIGIBLE = "eligible"
    ELIGIBLE_WITH_PRECAUTIONS = "eligible_with_precautions"
    SPECIALIST_PROTOCOL = "specialist_protocol"
    NOT_ELIGIBLE = "not_eligible"
    URGENT_SAFETY_REVIEW = "urgent_safety_review"

    @property
    def restrictiveness(self) -> int:
        """0 is the most permissive; a larger number never lets more happen without review."""
        return _RESTRICTIVENESS[self]


# Declared order = permissiveness order, most permissive first.
_RESTRICTIVENESS = {decision: rank for rank, decision in enumerate(Decision)}


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    kind: RuleKind
    pathway: Pathway | None
    checks: str
    message: str
    required_action: str
    source: Source
    # True when the rule is relative in the rule set but this clinic's policy makes it absolute.
    escalated_by_policy: bool = False


@dataclass(frozen=True, slots=True)
class EligibilityDecision:
    decision: Decision
    findings: tuple[Finding, ...]
    treatment_resistance: TreatmentResistance
    assessed_on: date
    rule_set_version: str
    policy_version: str

    @property
    def finding_ids(self) -> tuple[str, ...]:
        return tuple(f.rule_id for f in self.findings)

    def as_json(self) -> dict[str, Any]:
        trd = self.treatment_resistance
        return {
            "decision": self.decision.value,
            "assessed_on": self.assessed_on.isoformat(),
            "rule_set_version": self.rule_set_version,
            "policy_version": self.policy_version,
            "derived": {
                "treatment_resistant_depression": trd.treatment_resistant,
                "min_failed_trials": trd.min_failed_trials,
                "failed_adequate_trials_counted": len(trd.counted_trials),
                "trials": [
                    {
                        "drug": t.trial.drug,
                        "weeks": t.trial.weeks,
                        "outcome": t.trial.outcome.value,
                        "verdict": t.verdict.value,
                        "counted": t.counted,
                    }
                    for t in trd.trials
                ],
                "source": _source_json(trd.source),
            },
            "findings": [
                {
                    "rule_id": f.rule_id,
                    "kind": f.kind.value,
                    "pathway": f.pathway.value if f.pathway else None,
                    "checks": f.checks,
                    "message": f.message,
                    "required_action": f.required_action,
                    "source": _source_json(f.source),
                    "escalated_by_policy": f.escalated_by_policy,
                }
                for f in self.findings
            ],
        }


def _source_json(source: Source) -> dict[str, str]:
    return {
        "key": source.key,
        "verification": source.verification.value,
        "evidence": source.evidence.value,
        "note": source.note,
    }


def decide(findings: tuple[Finding, ...]) -> Decision:
    pathways = {f.pathway for f in findings if f.kind is not RuleKind.INFORMATIONAL}
    kinds = {f.kind for f in findings}
    if Pathway.URGENT_SAFETY_REVIEW in pathways:
        return Decision.URGENT_SAFETY_REVIEW
    if RuleKind.ABSOLUTE in kinds:
        return Decision.NOT_ELIGIBLE
    if Pathway.SPECIALIST_PROTOCOL in pathways:
        return Decision.SPECIALIST_PROTOCOL
    if RuleKind.RELATIVE in kinds:
        return Decision.ELIGIBLE_WITH_PRECAUTIONS
    return Decision.ELIGIBLE
