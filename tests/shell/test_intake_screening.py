"""Screening: the core's assess() on the intake in force, with the latest questionnaire results,
stored as an append-only review with every finding, its source and the versions used."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kapstone.assessments.services import save_answers, send_questionnaires, submit
from kapstone.audit.models import AuditEntry
from kapstone.clinical.eligibility import RULE_SET_VERSION, EligibilityPolicy
from kapstone.errors import InputError
from kapstone.intake import selectors
from kapstone.intake.models import EligibilityReview
from kapstone.intake.questionnaire_facts import latest_results
from kapstone.intake.selectors import current_policy
from kapstone.intake.services import save_intake_section, screen, sign
from tests.shell.intake_support import complete_intake, signed_eligibility_for

CSSRS_HIGH = {"1": True, "2": True, "3": True, "4": True, "5": False, "6": False}

# The documented example's medications and history: precautions M-BZD and M-CNS, informational
# M-LAMO and I-HTN (docs/eligibility-facts.md).
PRECAUTIONS = {
    "medications": {
        "medications": [
            {
                "name": "lorazepam",
                "interaction_classes": ["benzodiazepine"],
                "daily_dose_mg": 1,
                "diazepam_equivalent_mg_per_day": 10,
            },
            {"name": "lamotrigine", "interaction_classes": ["lamotrigine"], "daily_dose_mg": 100},
        ]
    },
    "history": {
        "medical_history": [
            {
                "condition": "hypertension",
                "status": "controlled",
                "since": "2019-05-01",
                "note": "amlodipine 5 mg",
            },
            {"condition": "cystitis", "status": "past"},
        ]
    },
}


def complete(patient, by, instrument, answers):
    questionnaire_set, _ = send_questionnaires(by=by, patient=patient, instruments=[instrument])
    save_answers(questionnaire_set=questionnaire_set, instrument=instrument, answers=answers)
    return submit(questionnaire_set=questionnaire_set, instrument=instrument)


def test_screening_stores_the_decision_every_finding_and_the_versions(clinic):
    prescriber = clinic.staff["prescriber"]
    intake = complete_intake(clinic.on_team, prescriber, **PRECAUTIONS)
    review = screen(by=prescriber, patient=clinic.on_team)

    assert review.screened_decision == "eligible_with_precautions"
    assert review.intake == intake
    assert review.rule_set_version == RULE_SET_VERSION
    assert review.policy_version == current_policy().version
    assert review.screened_by == prescriber
    ids = [f["rule_id"] for f in review.findings]
    assert ids == ["C19", "M-BZD", "M-CNS", "M-LAMO", "I-HTN", "I-REPRO"]
    bzd = next(f for f in review.findings if f["rule_id"] == "M-BZD")
    assert bzd["kind"] == "relative"
    assert bzd["message"] and bzd["required_action"]
    assert bzd["source"]["key"] == "ANDRASHKO2020"
    assert bzd["source"]["verification"] == "verified"
    assert review.derived["treatment_resistant_depression"] is True
    # Nothing counts as signed until a prescriber signs.
    assert selectors.signed_eligibility(clinic.on_team) is None
    entry = AuditEntry.objects.get(action="eligibility.screened")
    assert entry.after["findings"] == ids and entry.after["intake_version"] == intake.pk


def test_an_incomplete_intake_is_not_screened(clinic):
    save_intake_section(
        by=clinic.staff["intake_coordinator"],
        patient=clinic.on_team,
        section="conditions",
        value={"presenting_conditions": ["major_depression"]},
    )
    with pytest.raises(InputError) as caught:
        screen(by=clinic.staff["prescriber"], patient=clinic.on_team)
    message = caught.value.errors[""][0]
    assert message.startswith("The intake is incomplete: save ")
    assert "Current medications" in message and "Medical and psychiatric history" in message
    assert not EligibilityReview.objects.exists()


def test_the_latest_c_ssrs_is_read_when_screening_and_shown_as_such(clinic):
    prescriber = clinic.staff["prescriber"]
    complete_intake(clinic.on_team, prescriber)  # the hand-recorded C-SSRS says "none"
    response = complete(clinic.on_team, clinic.staff["nurse"], "cssrs_screen", CSSRS_HIGH)

    review = screen(by=prescriber, patient=clinic.on_team)
    assert review.facts["cssrs_risk"] == "high"  # the more severe of the two
    assert review.screened_decision == "urgent_safety_review"
    assert "C20" in [f["rule_id"] for f in review.findings]
    assert {
        "fact": "cssrs_risk",
        "value": "high",
        "instrument": "cssrs_screen",
        "response_id": response.pk,
        "submitted_at": response.submitted_at.isoformat(),
        "note": "",
        "manual": False,
    } in review.questionnaire_sources
    # The intake itself still holds what was recorded by hand.
    assert review.intake.facts["cssrs_risk"] == "none"


def test_a_new_screening_supersedes_a_signed_one(clinic):
    prescriber = clinic.staff["prescriber"]
    signed = signed_eligibility_for(clinic.on_team, prescriber)
    assert selectors.signed_eligibility(clinic.on_team).pk == signed.pk

    newer = screen(by=prescriber, patient=clinic.on_team)
    assert newer.supersedes_id == signed.pk
    assert selectors.signed_eligibility(clinic.on_team) is None
    sign(by=prescriber, patient=clinic.on_team, review=newer, final_decision="eligible", reasons={})
    assert selectors.signed_eligibility(clinic.on_team).pk == newer.pk
    # The earlier signature is kept, unchanged, on the superseded review.
    assert EligibilityReview.objects.get(pk=signed.pk).decision == "eligible"


def test_the_review_page_shows_each_finding_with_its_source_and_status(clinic, as_role):
    complete_intake(clinic.on_team, clinic.staff["prescriber"], **PRECAUTIONS)
    client = as_role("prescriber")
    response = client.post(reverse("intake:screen", kwargs={"patient_id": clinic.on_team.pk}))
    review = selectors.current_review(clinic.on_team)
    assert response["Location"] == reverse(
        "intake:review", kwargs={"patient_id": clinic.on_team.pk, "review_id": review.pk}
    )
    page = client.get(response["Location"])
    html = page.content.decode()
    assert html.count("<h1") == 1 and "<caption>Findings of the screen</caption>" in html
    assert "Screen: Eligible with precautions" in html
    assert "ANDRASHKO2020: <strong>Verified</strong>" in html
    # C19's detail is UNVERIFIED in the reference: shown as clinic policy.
    assert "SPRAVATO-US: <strong>Clinic policy</strong>" in html
    assert "Review and sign" in html
    assert AuditEntry.objects.filter(action="eligibility.viewed", patient=clinic.on_team).exists()


def test_a_review_of_another_patient_is_not_found_under_this_one(clinic, as_role):
    review = signed_eligibility_for(clinic.elsewhere, clinic.others["prescriber"])
    client = as_role("medical_director")
    url = reverse("intake:review", kwargs={"patient_id": clinic.on_team.pk, "review_id": review.pk})
    assert client.get(url).status_code == 404


def test_questionnaire_results_are_shown_as_such_and_phq9_item_9_is_not_screened(clinic, as_role):
    nurse = clinic.staff["nurse"]
    complete(clinic.on_team, nurse, "phq9", {str(i): 1 for i in range(1, 11)})
    dast = complete(
        clinic.on_team,
        nurse,
        "dast10",
        {
            "1": True,
            "2": True,
            "3": True,
            "4": False,
            "5": True,
            "6": False,
            "7": False,
            "8": False,
            "9": False,
            "10": False,
        },
    )
    assert dast.total == 3
    complete_intake(clinic.on_team, clinic.staff["prescriber"])
    review = screen(by=clinic.staff["prescriber"], patient=clinic.on_team)
    # DAST-10 of 3 is a positive screen by clinic policy; PHQ-9 item 9 is shown, never screened.
    assert review.facts["questionnaire_flags"] == ["dast_positive"]
    assert "C10-SCREEN" in [f["rule_id"] for f in review.findings]
    assert "phq9_item9" in [s["fact"] for s in review.questionnaire_sources]
    html = (
        as_role("prescriber")
        .get(reverse("intake:chart_tab", kwargs={"patient_id": clinic.on_team.pk}))
        .content.decode()
    )
    assert "DAST-10 submitted" in html
    assert "clinic policy (UNVERIFIED, §4.9): DAST-10 of 3 or more counts as positive" in html
    # The cut-off is the policy's, not the shell's: a stricter clinic reads the same 3 as negative.
    stricter = EligibilityPolicy(version="clinic-dast-4", dast10_positive_from_score=4)
    dast_fact = next(
        r for r in latest_results(clinic.on_team, policy=stricter) if r.fact == "dast_positive"
    )
    assert dast_fact.value == "negative" and "DAST-10 of 4 or more" in dast_fact.note
    assert "<strong>Not screened:</strong> not a screening fact" in html
