"""Screening facts read from the patient's latest submitted questionnaires.

The facts format has the C-SSRS screener's risk tier and three positive-screen flags (MDQ, AUDIT,
DAST). A result recorded by hand on the intake (a paper C-SSRS, say) is never dropped: the screen
uses the more severe risk tier of the two and every flag either source raised. PHQ-9 item 9 is not
a screening fact (the C-SSRS is); it is shown beside them so nobody misses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kapstone.assessments.flow import short_name
from kapstone.assessments.models import QuestionnaireResponse, ResponseStatus
from kapstone.clinical.eligibility import EligibilityPolicy
from kapstone.clinical.eligibility.facts import QuestionnaireFlag
from kapstone.clinical.instruments.definition import Flag
from kapstone.clinical.instruments.policy import CssrsRisk
from kapstone.patients.models import Patient

_RISK_ORDER = [r.value for r in CssrsRisk]  # least severe first

_FLAG_SCREENS = {
    QuestionnaireFlag.MDQ_POSITIVE: ("mdq",),
    QuestionnaireFlag.AUDIT_POSITIVE: ("audit", "audit_c"),
    QuestionnaireFlag.DAST_POSITIVE: ("dast10",),
}


@dataclass(frozen=True, slots=True)
class QuestionnaireFact:
    fact: str  # "cssrs_risk", a QuestionnaireFlag value, or "phq9_item9" (shown, not screened)
    value: str  # the risk tier, or "positive" / "negative"
    instrument: str
    response_id: int
    submitted_at: str  # ISO
    note: str = ""

    @property
    def instrument_name(self) -> str:
        return short_name(self.instrument)

    def as_json(self) -> dict[str, Any]:
        return {
            "fact": self.fact,
            "value": self.value,
            "instrument": self.instrument,
            "response_id": self.response_id,
            "submitted_at": self.submitted_at,
            "note": self.note,
        }


def _latest(patient: Patient, instrument: str) -> QuestionnaireResponse | None:
    return (
        QuestionnaireResponse.objects.filter(
            questionnaire_set__patient=patient,
            instrument=instrument,
            status=ResponseStatus.SUBMITTED,
        )
        .order_by("-submitted_at", "-pk")
        .first()
    )


def _fact(
    fact: str, value: str, response: QuestionnaireResponse, note: str = ""
) -> QuestionnaireFact:
    assert response.submitted_at is not None
    return QuestionnaireFact(
        fact, value, response.instrument, response.pk, response.submitted_at.isoformat(), note
    )


def _dast_policy_note(policy: EligibilityPolicy) -> str:
    # DAST-10 carries no positive-screen flag (the reference gives bands only): the cut-off is the
    # clinic's, shown with its verification so nobody mistakes it for a published threshold.
    source = policy.source_of("dast10_positive_from_score")
    return (
        f"clinic policy ({source.verification.value.upper()}, {source.key}): DAST-10 of "
        f"{policy.dast10_positive_from_score} or more counts as positive"
    )


def latest_results(patient: Patient, *, policy: EligibilityPolicy) -> list[QuestionnaireFact]:
    """What the latest submitted screener of each kind says, in the facts' terms, under ``policy``
    (whose DAST-10 cut-off decides that screen)."""
    found: list[QuestionnaireFact] = []
    cssrs = _latest(patient, "cssrs_screen")
    if cssrs is not None and cssrs.severity in _RISK_ORDER:
        found.append(_fact("cssrs_risk", cssrs.severity, cssrs))
    for flag, instruments in _FLAG_SCREENS.items():
        for instrument in instruments:
            response = _latest(patient, instrument)
            if response is None:
                continue
            if instrument == "dast10":
                positive = (
                    response.total is not None
                    and response.total >= policy.dast10_positive_from_score
                )
                note = f"score {response.total}; {_dast_policy_note(policy)}"
            else:
                positive = Flag.POSITIVE_SCREEN.value in (response.flags or [])
                note = f"score {response.total}" if response.total is not None else ""
            found.append(_fact(flag.value, "positive" if positive else "negative", response, note))
    phq9 = _latest(patient, "phq9")
    if phq9 is not None:
        item9 = phq9.answers.get("9")
        found.append(
            _fact(
                "phq9_item9",
                "positive" if isinstance(item9, int) and item9 >= 1 else "negative",
                phq9,
                "not a screening fact: the C-SSRS screener is; a positive item 9 raises an alert",
            )
        )
    return found


def merge(
    facts: Mapping[str, Any], results: list[QuestionnaireFact]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The facts to screen and where each questionnaire fact came from (manual entries included)."""
    screened = dict(facts)
    sources: list[dict[str, Any]] = []
    manual_risk = facts.get("cssrs_risk")
    risks = [manual_risk] if manual_risk in _RISK_ORDER else []
    if manual_risk in _RISK_ORDER:
        sources.append(
            {"fact": "cssrs_risk", "value": manual_risk, "instrument": "", "manual": True}
        )
    manual_flags = list(facts.get("questionnaire_flags") or [])
    flags = set(manual_flags)
    for flag in manual_flags:
        sources.append({"fact": flag, "value": "positive", "instrument": "", "manual": True})
    for result in results:
        sources.append({**result.as_json(), "manual": False})
        if result.fact == "cssrs_risk":
            risks.append(result.value)
        elif result.fact in _FLAG_SCREENS and result.value == "positive":
            flags.add(result.fact)
    if risks:
        screened["cssrs_risk"] = max(risks, key=_RISK_ORDER.index)
    screened["questionnaire_flags"] = [f.value for f in QuestionnaireFlag if f.value in flags]
    return screened, sources
