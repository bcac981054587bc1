"""The chart's Outcomes tab, its summary on the Overview, and the Export FHIR link."""

from __future__ import annotations

import re

from django.urls import reverse
from django.utils import timezone

from kapstone.assessments.services import send_questionnaires
from tests.shell.test_outcomes_selectors import day, dose, scores, submitted


def tab(patient) -> str:
    return reverse("outcomes:chart_tab", kwargs={"patient_id": patient.pk})


def _local(at) -> str:
    return f"{timezone.localtime(at):%-d %b %Y}"


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_care_team_member_sees_each_instruments_outcome_with_its_criteria(clinic, as_role):
    dose(clinic.on_team, clinic.staff["prescriber"], day(0))
    scores(clinic, "phq9", (day(-1), 20), (day(1), 9), (day(14), 3), (day(28), 12), (day(35), 13))
    scores(clinic, "gad7", (day(-1), 14), (day(14), 6))
    response = as_role("therapist").get(tab(clinic.on_team))
    assert response.status_code == 200
    page = response.content.decode()
    words = text_of(page)
    assert 'aria-current="page">Outcomes</a>' in page
    assert "Patient Health Questionnaire-9 (PHQ-9)" in words
    assert "Generalized Anxiety Disorder-7 (GAD-7)" in words
    # Remission criterion, named as clinic policy.
    assert "Criterion: PHQ-9 &lt; 5, clinic policy" in words
    # Reliable change with its reliability and SD (and the RCI threshold).
    assert "Reliability r = 0.89 (Cronbach's alpha" in words.replace("&#x27;", "'")
    assert "SD = 5.5" in words
    assert "|RCI| &gt; 1.96" in words
    # Rapid response at 24 h.
    assert "Rapid response (24 h)" in words and "24 h after the first dose" in words
    # The relapse warning, visible, with the dates that raised it.
    # A plain box, not role="alert": the page is read calmly, not announced over.
    assert '<div class="relapse-warning relapse-detail">' in page
    for at in (day(28), day(35)):
        assert f"{_local(at)}: " in words
    assert "Relapse warning: PHQ-9" in words
    assert "Outcome policy default-2026-11" in words
    # Each chart inline, with its text alternative.
    assert page.count('class="marks kapstone-chart"') == 2
    assert "dosing_sessions_marks" in page
    assert 'class="chart-summary">PHQ-9 fell from 20 (severe)' in page
    assert ' style="' not in page and "<style" not in page


def test_not_enough_data_is_explained(clinic, as_role):
    scores(clinic, "phq9", (day(-1), 16))
    send_questionnaires(by=clinic.staff["nurse"], patient=clinic.on_team, instruments=["gad7"])
    words = text_of(as_role("nurse").get(tab(clinic.on_team)).content.decode())
    assert (
        "Not enough data: no score after the baseline yet, so change, response, remission and "
        "reliable change cannot be judged." in words
    )
    assert "No dosing session has taken place yet" in words
    assert "Generalized Anxiety" not in words  # sent but not submitted


def test_a_patient_without_questionnaires_gets_a_clear_empty_state(clinic, as_role):
    words = text_of(as_role("prescriber").get(tab(clinic.on_team)).content.decode())
    assert "No questionnaire has been submitted yet." in words


def test_risk_screens_show_their_latest_level(clinic, as_role):
    submitted(
        clinic.on_team,
        clinic.staff["nurse"],
        "cssrs_screen",
        None,
        day(-1),
        {"1": True, "2": False, "6": False},
    )
    page = as_role("nurse").get(tab(clinic.on_team)).content.decode()
    assert 'id="risk-screens"' in page
    assert "C-SSRS screener" in page


def test_staff_off_the_care_team_are_refused(clinic, as_role):
    response = as_role("nurse").get(tab(clinic.elsewhere))
    assert response.status_code == 403


def test_the_overview_shows_latest_phq9_and_the_relapse_warning(clinic, as_role):
    scores(clinic, "phq9", (day(-1), 20), (day(14), 3), (day(28), 12), (day(35), 13))
    url = reverse("patients:chart", kwargs={"patient_id": clinic.on_team.pk})
    page = as_role("nurse").get(url).content.decode()
    words = text_of(page)
    assert 'id="outcomes-overview"' in page
    assert "Latest PHQ-9 13 on" in words
    assert "Relapse warning: PHQ-9" in words


def test_the_overview_without_phq9_says_so(clinic, as_role):
    url = reverse("patients:chart", kwargs={"patient_id": clinic.on_team.pk})
    words = text_of(as_role("prescriber").get(url).content.decode())
    assert "No PHQ-9 submitted yet." in words


def test_export_fhir_link_shows_only_to_those_who_may_export(clinic, as_role):
    response = submitted(clinic.on_team, clinic.staff["nurse"], "phq9", 12, day(-1))
    url = reverse(
        "assessments:response",
        kwargs={"patient_id": clinic.on_team.pk, "response_id": response.pk},
    )
    export = reverse(
        "outcomes:fhir_export",
        kwargs={"patient_id": clinic.on_team.pk, "response_id": response.pk},
    )
    assert export in as_role("prescriber").get(url).content.decode()
    assert export not in as_role("nurse").get(url).content.decode()  # nurses may not export
