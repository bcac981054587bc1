"""Eligibility screening: intake facts in, a cited decision out (issue 4 item 2)."""

from __future__ import annotations

from kapstone.clinical.eligibility.decision import Decision, EligibilityDecision, Finding
from kapstone.clinical.eligibility.engine import assess
from kapstone.clinical.eligibility.facts import IntakeFacts
from kapstone.clinical.eligibility.parsing import FactsProblem, IntakeFactsError, facts_from_json
from kapstone.clinical.eligibility.policy import EligibilityPolicy, EligibilityPolicyError
from kapstone.clinical.eligibility.rules import RULE_SET_VERSION, RULES, Pathway, Rule, RuleKind

__all__ = [
    "RULES",
    "RULE_SET_VERSION",
    "Decision",
    "EligibilityDecision",
    "EligibilityPolicy",
    "EligibilityPolicyError",
    "FactsProblem",
    "Finding",
    "IntakeFacts",
    "IntakeFactsError",
    "Pathway",
    "Rule",
    "RuleKind",
    "assess",
    "facts_from_json",
]
