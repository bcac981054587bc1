"""Test helpers for other apps' tests: a complete intake and a signed eligibility decision.

``complete_intake(patient, by)`` saves every section of an intake for an eligible adult with
treatment-resistant major depression (decision ``eligible``); ``signed_eligibility_for(patient,
prescriber)`` screens the intake in force (completing one first if needed) and signs the screen's
decision, returning the review ``kapstone.intake.selectors.signed_eligibility`` now returns.
"""

from __future__ import annotations

import copy
from typing import Any

from django.utils import timezone

ELIGIBLE_SECTIONS: dict[str, dict[str, Any]] = {
    "conditions": {"presenting_conditions": ["major_depression"]},
    "episode": {
        "current_episode": {
            "started_on": "2025-01-15",
            "antidepressant_trials": [
                {
                    "drug": "sertraline",
                    "daily_dose_mg": 150,
                    "weeks": 10,
                    "adequate_dose": True,
                    "outcome": "no_response",
                },
                {
                    "drug": "venlafaxine",
                    "daily_dose_mg": 225,
                    "weeks": 8,
                    "adequate_dose": True,
                    "outcome": "no_response",
                },
            ],
        },
        "earlier_antidepressant_trials": [],
    },
    "treatments": {
        "psychotherapy": [{"kind": "cbt", "sessions": 16, "helped": False}],
        "neuromodulation": [],
        "prior_ketamine": [],
    },
    "history": {"medical_history": []},
    "substances": {"substance_use": []},
    "reproductive": {
        "reproductive": {
            "reproductive_potential": True,
            "pregnancy": "not_pregnant",
            "breastfeeding": False,
        }
    },
    "medications": {"medications": []},
    "vitals": {
        "baseline_vitals": {
            "measured_on": None,  # today, filled in when saved
            "systolic_mmhg": 122,
            "diastolic_mmhg": 78,
            "heart_rate_bpm": 70,
            "weight_kg": 70.0,
            "height_cm": 170.0,
        }
    },
    "questionnaires": {"cssrs_risk": "none", "questionnaire_flags": []},
    "presentation": {
        "anxiety_mainly": None,
        "trauma_rooted_memories": False,
        "intrusive_imagery": False,
        "harsh_self_criticism": True,
        "rumination": True,
        "body_symptoms": False,
        "panic_and_avoidance": False,
        "withdrawal": True,
    },
}


def eligible_sections() -> dict[str, dict[str, Any]]:
    """A fresh copy of the sections of an eligible intake (vitals dated today)."""
    sections = copy.deepcopy(ELIGIBLE_SECTIONS)
    sections["vitals"]["baseline_vitals"]["measured_on"] = timezone.localdate().isoformat()
    return sections


def complete_intake(patient, by, **overrides: dict[str, Any]):
    """Saves every intake section (``overrides`` replace whole sections by key); returns the last
    IntakeVersion, which is complete."""
    from kapstone.intake.services import save_intake_section

    sections = eligible_sections() | overrides
    version = None
    for section, value in sections.items():
        version = save_intake_section(by=by, patient=patient, section=section, value=value)
    assert version is not None and version.complete, version and version.problems
    return version


def signed_eligibility_for(patient, prescriber):
    """Screens the patient's intake (completing one first if there is none, or it is incomplete)
    and signs the screen's own decision; returns the fully signed EligibilityReview."""
    from kapstone.clinical.eligibility import Decision
    from kapstone.intake import selectors, services
    from kapstone.intake.signoff import overridden

    intake = selectors.current_intake(patient)
    if intake is None or not intake.complete:
        complete_intake(patient, prescriber)
    review = services.screen(by=prescriber, patient=patient)
    final = Decision(review.screened_decision)
    services.sign(
        by=prescriber,
        patient=patient,
        review=review,
        final_decision=final.value,
        reasons={f["rule_id"]: "Accepted for the test" for f in overridden(review.findings, final)},
    )
    signed = selectors.signed_eligibility(patient)
    assert signed is not None, "the signature needs the medical director's co-signature"
    return signed


def sample_review(patient):
    """The patient's latest eligibility review, screening a complete intake first if there is none
    (saved and screened by whoever registered the patient: the URL walker's sample)."""
    from kapstone.intake import selectors, services

    review = selectors.current_review(patient)
    if review is not None:
        return review
    if selectors.current_intake(patient) is None:
        complete_intake(patient, patient.registered_by)
    return services.screen(by=patient.registered_by, patient=patient)
