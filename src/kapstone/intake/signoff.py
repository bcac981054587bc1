"""What a prescriber's sign-off must carry, from the screened findings and the decision they accept.

§1.6: a relative finding (SOFT) needs a documented clinician justification to proceed; an absolute
one (HARD) needs a second sign-off as well. "Proceeding" is accepting a decision under which
treatment goes ahead: eligible, eligible with precautions, or the specialist protocol (which follows,
rather than overrides, the findings that open it). Accepting a decision that stops treatment
(not eligible, urgent safety review) overrides nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kapstone.clinical.eligibility import Decision, Pathway, RuleKind

PROCEEDING = frozenset(
    {Decision.ELIGIBLE, Decision.ELIGIBLE_WITH_PRECAUTIONS, Decision.SPECIALIST_PROTOCOL}
)


def overridden(findings: Sequence[Mapping[str, Any]], final: Decision) -> list[Mapping[str, Any]]:
    """The findings accepting ``final`` goes against, each needing a written reason."""
    if final not in PROCEEDING:
        return []
    return [
        f
        for f in findings
        if f["kind"] != RuleKind.INFORMATIONAL
        and not (
            final is Decision.SPECIALIST_PROTOCOL
            and f.get("pathway") == Pathway.SPECIALIST_PROTOCOL
        )
    ]


def needs_cosign(findings: Sequence[Mapping[str, Any]], final: Decision) -> bool:
    return any(f["kind"] == RuleKind.ABSOLUTE for f in overridden(findings, final))


def problems(
    *,
    screened: Decision,
    findings: Sequence[Mapping[str, Any]],
    final: Decision,
    reasons: Mapping[str, str],
    note: str,
) -> dict[str, list[str]]:
    """Every reason the sign-off cannot be accepted, keyed by field ("reason:<rule id>" per finding)."""
    errors: dict[str, list[str]] = {}
    against = overridden(findings, final)
    for finding in against:
        if not reasons.get(finding["rule_id"], "").strip():
            kind = "an absolute" if finding["kind"] == RuleKind.ABSOLUTE else "a relative"
            errors[f"reason:{finding['rule_id']}"] = [
                f"Proceeding despite {finding['rule_id']} ({kind} finding) needs your written "
                "reason."
            ]
    if final is Decision.ELIGIBLE and against:
        errors["final_decision"] = [
            "Proceeding despite findings is 'eligible with precautions' (or the specialist "
            "protocol), not 'eligible'."
        ]
    if final != screened and not note.strip():
        errors["note"] = ["You accept a decision other than the screen's: say why in the note."]
    unknown = set(reasons) - {f["rule_id"] for f in against}
    stray = sorted(rule for rule in unknown if reasons[rule].strip())
    if stray:
        errors.setdefault("", []).append(
            "Reasons were given for findings this decision does not override: "
            + ", ".join(stray)
            + ". Remove them, or choose the decision they belong to."
        )
    return errors
