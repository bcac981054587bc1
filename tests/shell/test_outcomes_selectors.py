"""Per-patient outcomes from submitted questionnaires and booked dosing sessions: the core's numbers
on real rows, the chart with its dosing markers, and what does not count (future sessions,
unfinished questionnaires)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from kapstone.assessments.models import QuestionnaireResponse
from kapstone.assessments.services import save_answers, send_questionnaires, submit
from kapstone.clinical.outcomes import BaselineRule
from kapstone.clinical.reliable_change import ReliableChangeCategory
from kapstone.dosing.services import book_dosing_session
from kapstone.outcomes.selectors import overview_for, patient_outcomes

# Scenarios run in the recent past so the services accept the bookings and "now" is real.
NOW = timezone.now().replace(microsecond=0)
FIRST_DOSE = NOW - dt.timedelta(days=60)


def day(n: float) -> dt.datetime:
    return FIRST_DOSE + dt.timedelta(days=n)


def spread(total: int, items: int) -> dict[str, int]:
    """Answers 0-3 on items 1..items adding up to ``total``."""
    answers: dict[str, int] = {}
    left = total
    for number in range(1, items + 1):
        answers[str(number)] = min(3, left)
        left -= answers[str(number)]
    assert left == 0, f"{total} does not fit {items} items"
    return answers


def phq9(total: int) -> dict[str, int]:
    # Items 1-8 carry the total; item 9 (thoughts of self-harm) stays 0 so no safety alert is
    # raised, and item 10 is answered whenever a problem is.
    answers = {**spread(total, 8), "9": 0}
    if total:
        answers["10"] = 1
    return answers


ANSWERS = {
    "phq9": phq9,
    "gad7": lambda total: spread(total, 7),
}


def submitted(patient, by, instrument: str, total: int | None, at: dt.datetime, answers=None):
    """A response submitted through the services, then dated ``at``: the services stamp the real
    clock, and these scenarios need scores spread over weeks."""
    questionnaire_set, _ = send_questionnaires(by=by, patient=patient, instruments=[instrument])
    given = answers if answers is not None else ANSWERS[instrument](total)
    save_answers(questionnaire_set=questionnaire_set, instrument=instrument, answers=given)
    response = submit(questionnaire_set=questionnaire_set, instrument=instrument)
    QuestionnaireResponse.objects.filter(pk=response.pk).update(submitted_at=at, started_at=at)
    response.refresh_from_db()
    assert response.total == total
    return response


def dose(patient, by, at: dt.datetime):
    return book_dosing_session(by=by, patient=patient, starts_at=at, now=at - dt.timedelta(days=1))


def scores(clinic, instrument: str, *pairs: tuple[dt.datetime, int]) -> None:
    for at, total in pairs:
        submitted(clinic.on_team, clinic.staff["prescriber"], instrument, total, at)


@pytest.fixture
def first_dose(clinic):
    return dose(clinic.on_team, clinic.staff["prescriber"], FIRST_DOSE)


def test_a_responder_halves_their_phq9_with_a_reliable_improvement(clinic, first_dose):
    scores(clinic, "phq9", (day(-1), 20), (day(7), 14), (day(21), 8))
    card = patient_outcomes(clinic.on_team, NOW).card("phq9")
    assert card is not None
    out = card.outcome
    assert (out.baseline.total, out.latest.total, out.follow_up_count) == (20, 8, 2)
    assert out.baseline.at == day(-1)
    assert out.baseline_rule is BaselineRule.LAST_AT_OR_BEFORE_FIRST_DOSE
    assert out.change == -12
    assert out.percent_change == pytest.approx(-60.0)
    assert out.response is True
    assert out.remission is False  # 8 is not < 5
    assert out.relapse_warnings == ()
    assert (card.change_text, card.percent_text) == ("-12", "-60 %")
    assert card.response_threshold == 10.0
    assert out.reliable_change is not None
    assert out.reliable_change.category is ReliableChangeCategory.RELIABLE_IMPROVEMENT
    assert card.reliability is not None
    assert card.reliability.parameters.reliability == 0.89
    assert card.reliability.parameters.standard_deviation == 5.5
    assert out.policy_version == "default-2026-11"


def test_a_remitter_meets_the_clinic_policy_criterion(clinic, first_dose):
    scores(clinic, "phq9", (day(-2), 18), (day(10), 9), (day(24), 4))
    card = patient_outcomes(clinic.on_team, NOW).card("phq9")
    assert card is not None
    assert card.outcome.remission is True
    assert card.outcome.first_remission_at == day(24)
    assert card.remission is not None
    assert card.remission.text == "PHQ-9 < 5"
    assert card.remission.basis.startswith("clinic policy")


def test_gad7_remission_is_worded_with_its_comparator_and_unverified_basis(clinic, first_dose):
    scores(clinic, "gad7", (day(-1), 15), (day(14), 3))
    card = patient_outcomes(clinic.on_team, NOW).card("gad7")
    assert card is not None
    assert card.remission is not None
    assert card.remission.text == "GAD-7 < 5"
    assert "unverified" in card.remission.basis


def test_losing_response_after_remission_on_two_scores_a_week_apart_warns_of_relapse(
    clinic, first_dose
):
    scores(
        clinic,
        "phq9",
        (day(-1), 20),
        (day(14), 3),  # remission
        (day(28), 12),  # above 10: response lost
        (day(35), 13),  # still lost, 7 days later
    )
    data = patient_outcomes(clinic.on_team, NOW)
    card = data.card("phq9")
    assert card is not None
    (warning,) = card.relapse_warnings
    assert warning.remission_at == day(14)
    assert warning.triggering_dates == (day(28), day(35))
    assert warning.policy_version == "default-2026-11"
    assert data.relapse_warnings == [(card, warning)]
    overview = overview_for(clinic.staff["nurse"], clinic.on_team, NOW)
    assert overview is not None
    assert overview.relapse_warnings == [(overview.phq9, warning)]


def test_two_raised_scores_less_than_a_week_apart_do_not_warn_yet(clinic, first_dose):
    scores(clinic, "phq9", (day(-1), 20), (day(14), 3), (day(28), 12), (day(31), 13))
    card = patient_outcomes(clinic.on_team, NOW).card("phq9")
    assert card is not None
    assert card.relapse_warnings == ()


def test_rapid_response_24_hours_after_the_first_dosing_session(clinic, first_dose):
    dose(clinic.on_team, clinic.staff["prescriber"], day(3))
    scores(clinic, "phq9", (day(-0.1), 20), (day(1), 9), (day(14), 7))
    card = patient_outcomes(clinic.on_team, NOW).card("phq9")
    assert card is not None
    rapid = card.outcome.rapid_response
    assert rapid is not None
    assert rapid.first_dose_at == FIRST_DOSE
    assert rapid.hours_after_first_dose == pytest.approx(24.0)
    assert rapid.total == 9
    assert rapid.responded is True


def test_no_rapid_response_without_a_score_in_the_window_and_the_page_says_why(clinic, first_dose):
    scores(clinic, "phq9", (day(-1), 20), (day(7), 9))
    card = patient_outcomes(clinic.on_team, NOW).card("phq9")
    assert card is not None
    assert card.outcome.rapid_response is None
    assert (
        card.unavailable["rapid_response"] == "no score between 18 h and 36 h after the first dose"
    )


def test_the_chart_is_safe_svg_with_every_dosing_session_marked_and_severity_bands(clinic):
    by = clinic.staff["prescriber"]
    sessions = [day(0), day(7), day(14)]
    for at in sessions:
        dose(clinic.on_team, by, at)
    scores(clinic, "phq9", (day(-1), 20), (day(8), 12), (day(15), 6))
    card = patient_outcomes(clinic.on_team, NOW).card("phq9")
    assert card is not None
    svg = card.chart_svg
    assert svg.startswith("<svg") and "kapstone-chart" in svg
    assert "<script" not in svg and "style=" not in svg and "<style" not in svg
    rules = re.search(r'class="[^"]*dosing_sessions_marks"[^>]*>(.*?)</g>', svg, re.S)
    assert rules is not None
    assert len(re.findall(r"<line", rules.group(1))) == len(sessions)
    assert "moderately severe" in svg and "minimal" in svg
    assert card.chart_summary == (
        f"PHQ-9 fell from 20 (severe) on {timezone.localtime(day(-1)):%-d %b} to 6 (mild) on "
        f"{timezone.localtime(day(15)):%-d %b} over 3 scores; 3 dosing sessions; "
        "response threshold 10."
    )
    assert card.chart_summary in svg  # the SVG's <desc>


def test_booked_future_sessions_and_unsubmitted_questionnaires_do_not_count(clinic):
    by = clinic.staff["prescriber"]
    scores(clinic, "phq9", (day(-1), 20), (day(10), 15))
    dose(clinic.on_team, by, NOW + dt.timedelta(days=2))
    send_questionnaires(by=by, patient=clinic.on_team, instruments=["phq9"])  # left unanswered
    data = patient_outcomes(clinic.on_team, NOW)
    assert data.dosing_sessions == ()
    card = data.card("phq9")
    assert card is not None
    assert card.outcome.baseline_rule is BaselineRule.FIRST_SCORE_NO_DOSING
    assert [p.total for p in card.scores] == [20, 15]
    assert card.chart_svg and "dosing_sessions_marks" not in card.chart_svg


def test_a_single_score_is_a_baseline_only_and_says_what_is_missing(clinic):
    scores(clinic, "phq9", (day(-1), 16))
    card = patient_outcomes(clinic.on_team, NOW).card("phq9")
    assert card is not None
    assert not card.has_follow_up
    assert card.outcome.change is None and card.outcome.response is None
    assert card.unavailable["change"] == "no score after the baseline yet"


def test_the_cssrs_screener_is_listed_apart_with_its_latest_risk_level(clinic):
    by = clinic.staff["prescriber"]
    submitted(
        clinic.on_team, by, "cssrs_screen", None, day(-5), {"1": False, "2": False, "6": False}
    )
    latest = submitted(
        clinic.on_team, by, "cssrs_screen", None, day(-1), {"1": True, "2": False, "6": False}
    )
    scores(clinic, "phq9", (day(-1), 12))
    data = patient_outcomes(clinic.on_team, NOW)
    assert [card.definition.name for card in data.cards] == ["phq9"]
    (screen,) = data.risk_screens
    assert screen.definition.name == "cssrs_screen"
    assert screen.latest == latest
    assert screen.level == latest.severity.replace("_", " ")
    assert screen.count == 2


def test_only_this_patients_scores_are_used(clinic):
    scores(clinic, "phq9", (day(-1), 20))
    submitted(clinic.elsewhere, clinic.others["prescriber"], "phq9", 5, day(3))
    card = patient_outcomes(clinic.on_team, NOW).card("phq9")
    assert card is not None
    assert [p.total for p in card.scores] == [20]


def test_the_overview_needs_permission_to_read_results(clinic):
    scores(clinic, "phq9", (day(-1), 20))
    assert overview_for(clinic.staff["researcher"], clinic.on_team, NOW) is None
    assert overview_for(clinic.others["nurse"], clinic.on_team, NOW) is None
    overview = overview_for(clinic.staff["therapist"], clinic.on_team, NOW)
    assert overview is not None and overview.phq9 is not None
    assert overview.phq9.outcome.latest.total == 20


def madrs(total: int) -> dict[str, int]:
    """Ten items rated 0-6 adding up to ``total``; item 10 (suicidal thoughts) stays 0."""
    answers: dict[str, int] = {}
    left = total
    for number in range(1, 10):
        answers[str(number)] = min(6, left)
        left -= answers[str(number)]
    assert left == 0
    return {**answers, "10": 0}


def rated(clinic, total: int, interview: dt.datetime):
    from kapstone.assessments.services import rate_instrument

    return rate_instrument(
        by=clinic.staff["prescriber"],
        patient=clinic.on_team,
        instrument="madrs",
        answers=madrs(total),
        rated_at=interview,
    )


def test_a_madrs_rating_is_dated_by_its_interview_and_remits_at_12_or_less(clinic, first_dose):
    # Entered today, rated at interviews weeks ago: the interview dates place the scores.
    rated(clinic, 30, day(-1))
    rated(clinic, 12, day(21))
    card = patient_outcomes(clinic.on_team, timezone.now()).card("madrs")
    assert card is not None
    assert [(p.at, p.total) for p in card.scores] == [
        (timezone.localtime(day(-1)), 30),
        (timezone.localtime(day(21)), 12),
    ]
    assert card.outcome.baseline_rule is BaselineRule.LAST_AT_OR_BEFORE_FIRST_DOSE
    assert card.remission is not None and card.remission.text == "MADRS ≤ 12"
    assert card.outcome.remission is True and card.outcome.response is True
    assert card.reliability is None
    assert card.unavailable["reliable_change"] == (
        "the outcome policy has no reliability and SD for MADRS"
    )
