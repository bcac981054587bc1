"""Screen intake facts against the rule set under a clinic policy."""

from __future__ import annotations

from datetime import date

from kapstone.clinical.eligibility.decision import EligibilityDecision, Finding, decide
from kapstone.clinical.eligibility.facts import IntakeFacts
from kapstone.clinical.eligibility.parsing import FactsProblem, IntakeFactsError
from kapstone.clinical.eligibility.policy import (
    EligibilityPolicy,
    EligibilityPolicyError,
)
from kapstone.clinical.eligibility.rules import (
    RULE_SET_VERSION,
    RULES,
    RULES_BY_ID,
    Rule,
    RuleKind,
    ScreeningContext,
)
from kapstone.clinical.eligibility.trd import assess_treatment_resistance
from kapstone.clinical.problems import Problem

_DEFAULT_POLICY = EligibilityPolicy()


def assess(
    facts: IntakeFacts, *, policy: EligibilityPolicy = _DEFAULT_POLICY, on: date
) -> EligibilityDecision:
    """Every rule that applies becomes a finding, in rule-set order; the findings decide."""
    _check_escalations(policy)
    _check_dates(facts, on)
    context = ScreeningContext(
        facts=facts,
        policy=policy,
        on=on,
        trd=assess_treatment_resistance(facts.current_episode, policy),
    )
    findings = tuple(_finding(rule, policy) for rule in RULES if rule.applies(context))
    return EligibilityDecision(
        decision=decide(findings),
        findings=findings,
        treatment_resistance=context.trd,
        assessed_on=on,
        rule_set_version=RULE_SET_VERSION,
        policy_version=policy.version,
    )


def _finding(rule: Rule, policy: EligibilityPolicy) -> Finding:
    escalated = rule.id in policy.escalated_rules
    return Finding(
        rule_id=rule.id,
        kind=RuleKind.ABSOLUTE if escalated else rule.kind,
        pathway=rule.pathway,
        checks=rule.checks,
        message=rule.message,
        required_action=rule.required_action,
        source=rule.source,
        escalated_by_policy=escalated,
    )


def _check_escalations(policy: EligibilityPolicy) -> None:
    relative = sorted(rule.id for rule in RULES if rule.kind is RuleKind.RELATIVE)
    problems = tuple(
        Problem(
            "escalated_rules",
            f"{rule_id!r} is "
            + ("not a rule" if rule_id not in RULES_BY_ID else "not a relative rule"),
            "ids of relative rules: " + ", ".join(relative),
        )
        for rule_id in sorted(policy.escalated_rules)
        if rule_id not in RULES_BY_ID or RULES_BY_ID[rule_id].kind is not RuleKind.RELATIVE
    )
    EligibilityPolicyError.refuse_if_any(problems)


def _check_dates(facts: IntakeFacts, on: date) -> None:
    problems = tuple(
        FactsProblem(
            path,
            f"{when.isoformat()} is after the screening date",
            f"a date on or before {on.isoformat()}",
        )
        for path, when in facts.dated_facts()
        if when > on
    )
    IntakeFactsError.refuse_if_any(problems)
