"""Clinician-rated instruments (MADRS): every item on one page at interview, stored and scored like a
patient's submission, with the rater named in the audit trail and the suicide-risk alert applied."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.assessments import flow
from kapstone.assessments.models import QuestionnaireResponse, QuestionnaireSet, ResponseStatus
from kapstone.assessments.services import rate_instrument, submit
from kapstone.audit.models import AuditEntry
from kapstone.clinical.instruments import INSTRUMENTS, ScoringPolicy
from kapstone.errors import InputError
from kapstone.safety.models import SafetyAlert
from tests.conftest import verified_client

# 3+3+2+2+1+2+2+2+1+0 = 18: mild (7-19), item 10 at 0.
MADRS_MILD = {"1": 3, "2": 3, "3": 2, "4": 2, "5": 1, "6": 2, "7": 2, "8": 2, "9": 1, "10": 0}


def rate_url(clinic, instrument="madrs", patient=None) -> str:
    return reverse("assessments:rate", args=[(patient or clinic.on_team).pk, instrument])


def form_data(answers, rated_at="") -> dict:
    data = {f"item_{k}": str(v) for k, v in answers.items()}
    data["rated_at"] = rated_at or timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    return data


def nothing_written():
    return (
        not QuestionnaireSet.objects.exists()
        and not AuditEntry.objects.filter(action__startswith="questionnaire.").exists()
    )


def test_madrs_is_the_clinician_rated_instrument():
    assert "madrs" in flow.CLINICIAN_RATED


def test_a_complete_madrs_is_stored_scored_and_closed(clinic):
    rater = clinic.staff["prescriber"]
    interview = timezone.now() - dt.timedelta(hours=1)
    response = rate_instrument(
        by=rater, patient=clinic.on_team, instrument="madrs", answers=MADRS_MILD, rated_at=interview
    )
    response.refresh_from_db()
    assert response.status == ResponseStatus.SUBMITTED
    assert (response.total, response.severity, response.flags) == (18, "mild", [])
    assert response.instrument_version == INSTRUMENTS["madrs"].version
    assert response.policy_version == ScoringPolicy().version
    assert response.answers == MADRS_MILD
    questionnaire_set = response.questionnaire_set
    assert questionnaire_set.sent_by == rater and questionnaire_set.sent_at == interview
    # The interview is the one time the rating describes: outcomes, the schedule and FHIR read it
    # from submitted_at, whenever the rating was entered.
    assert response.submitted_at == questionnaire_set.submitted_at == interview
    assert response.started_at == interview and not questionnaire_set.kiosk
    assert questionnaire_set.is_rating
    with pytest.raises(InputError, match=r"cannot be changed|cannot be opened"):
        submit(questionnaire_set=questionnaire_set, instrument="madrs")


def test_the_rating_is_audited_under_the_raters_name(clinic):
    rater = clinic.staff["therapist"]
    response = rate_instrument(
        by=rater, patient=clinic.on_team, instrument="madrs", answers=MADRS_MILD
    )
    rows = AuditEntry.objects.filter(patient=clinic.on_team, action__startswith="questionnaire.")
    assert [e.action for e in rows.order_by("seq")] == [
        "questionnaire.rated",
        "questionnaire.answers_saved",
        "questionnaire.submitted",
    ]
    assert all(e.actor == rater for e in rows)
    saved = rows.get(action="questionnaire.answers_saved")
    assert f"entered by {rater.display_name}" in saved.summary
    submitted = rows.get(action="questionnaire.submitted")
    assert submitted.object_id == str(response.pk) and "total 18" in submitted.summary


def test_a_missing_item_is_refused_naming_it_and_nothing_is_written(clinic):
    answers = {k: v for k, v in MADRS_MILD.items() if k not in {"4", "10"}}
    with pytest.raises(InputError) as refused:
        rate_instrument(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            instrument="madrs",
            answers=answers,
        )
    assert set(refused.value.errors) == {"4", "10"}
    assert "Question 4 (Reduced sleep): missing" in refused.value.errors["4"][0]
    assert "Suicidal thoughts" in refused.value.errors["10"][0]
    assert nothing_written()


def test_an_out_of_range_rating_is_refused_and_nothing_is_written(clinic):
    with pytest.raises(InputError) as refused:
        rate_instrument(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            instrument="madrs",
            answers={**MADRS_MILD, "3": 7, "11": 1},
        )
    assert {"3", "11"} <= set(refused.value.errors)
    [out_of_range] = refused.value.errors["3"]
    assert out_of_range.startswith("Question 3 (") and "7 is not one of its answers" in out_of_range
    assert out_of_range.endswith("0-6.")
    assert "has no question 11; its questions are 1, 2, " in refused.value.errors["11"][0]
    assert nothing_written()


def test_a_future_interview_time_is_refused(clinic):
    with pytest.raises(InputError) as refused:
        rate_instrument(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            instrument="madrs",
            answers=MADRS_MILD,
            rated_at=timezone.now() + dt.timedelta(hours=2),
        )
    assert "in the future" in refused.value.errors["rated_at"][0]
    assert nothing_written()


@pytest.mark.parametrize(
    ("instrument", "why"),
    [("phq9", "self-report questionnaire"), ("nope", "not in the questionnaire library")],
)
def test_only_clinician_rated_instruments_can_be_rated(clinic, instrument, why):
    with pytest.raises(InputError) as refused:
        rate_instrument(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            instrument=instrument,
            answers={"1": 0},
        )
    message = refused.value.errors["instrument"][0]
    assert why in message and "MADRS" in message
    assert nothing_written()


def test_item_10_at_the_clinic_threshold_raises_the_suicide_risk_alert(clinic):
    at = ScoringPolicy().madrs_suicidal_thoughts_alert_at
    assert at is not None  # clinic policy: on by default
    response = rate_instrument(
        by=clinic.staff["prescriber"],
        patient=clinic.on_team,
        instrument="madrs",
        answers={**MADRS_MILD, "10": at},
    )
    assert "suicide_risk" in response.flags
    alert = SafetyAlert.objects.get(response=response)
    assert alert.patient == clinic.on_team and "MADRS" in alert.reason


def test_item_10_below_the_threshold_raises_nothing(clinic):
    at = ScoringPolicy().madrs_suicidal_thoughts_alert_at
    response = rate_instrument(
        by=clinic.staff["prescriber"],
        patient=clinic.on_team,
        instrument="madrs",
        answers={**MADRS_MILD, "10": at - 1},
    )
    assert response.flags == [] and not SafetyAlert.objects.exists()


def test_a_policy_without_the_madrs_rule_raises_no_flag(clinic):
    response = rate_instrument(
        by=clinic.staff["prescriber"],
        patient=clinic.on_team,
        instrument="madrs",
        answers={**MADRS_MILD, "10": 6},
        policy=ScoringPolicy(version="no-madrs-rule", madrs_suicidal_thoughts_alert_at=None),
    )
    assert response.flags == [] and response.policy_version == "no-madrs-rule"


# ---------------------------------------------------------------------------------------------
# The page


def test_the_page_shows_every_item_as_a_labelled_radio_group(client, clinic):
    c = verified_client(client, clinic.staff["prescriber"])
    page = c.get(rate_url(clinic)).content.decode()
    definition = INSTRUMENTS["madrs"]
    for item in definition.items:
        assert re.search(rf"<legend>{item.id}\. {re.escape(flow.wording(definition, item))}", page)
        for option in item.options:
            assert f'name="item_{item.id}" value="{flow.encode(option.value)}"' in page
    assert page.count("<fieldset") == len(definition.items)
    assert 'type="datetime-local"' in page and "<h1>" in page and page.count("<h1") == 1
    assert definition.licence.notice in page


def test_saving_on_the_page_stores_the_rating_and_returns_to_the_tab(client, clinic):
    c = verified_client(client, clinic.staff["nurse"])
    saved = c.post(rate_url(clinic), form_data(MADRS_MILD))
    assert saved.status_code == 302
    assert saved["Location"] == reverse("assessments:chart_tab", args=[clinic.on_team.pk])
    response = QuestionnaireResponse.objects.get()
    assert (response.total, response.severity) == (18, "mild")
    tab = c.get(saved["Location"]).content.decode()
    assert "MADRS), clinician-rated: total 18, mild." in tab
    assert "Rated at interview" in tab and clinic.staff["nurse"].display_name in tab


def test_a_missing_item_on_the_page_is_named_and_the_ratings_are_kept(client, clinic):
    c = verified_client(client, clinic.staff["prescriber"])
    answers = {k: v for k, v in MADRS_MILD.items() if k != "7"}
    response = c.post(rate_url(clinic), form_data(answers, rated_at="2026-11-20T09:15"))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<a href="#item-7">Item 7</a>: Question 7 (Lassitude): missing' in page
    assert re.search(r'<fieldset id="item-7" class="r-item has-error"', page)
    assert re.search(r'name="item_1" value="3"[^>]*checked', page)
    assert re.search(r'name="item_9" value="1"[^>]*checked', page)
    assert 'value="2026-11-20T09:15"' in page
    assert nothing_written()


def test_rating_a_self_report_questionnaire_gets_a_clear_refusal(client, clinic):
    c = verified_client(client, clinic.staff["prescriber"])
    response = c.get(rate_url(clinic, "phq9"))
    assert response.status_code == 404
    assert "self-report questionnaire: send it to the patient instead" in response.content.decode()
    assert c.post(rate_url(clinic, "phq9"), {"item_1": "1"}).status_code == 404
    assert nothing_written()


def test_the_tab_offers_rating_only_to_those_who_may_rate(client, clinic):
    url = reverse("assessments:chart_tab", args=[clinic.on_team.pk])
    button = f'href="{rate_url(clinic)}">Rate MADRS</a>'
    prescriber = verified_client(client, clinic.staff["prescriber"]).get(url).content.decode()
    assert button in prescriber
    client.logout()
    coordinator = verified_client(client, clinic.staff["intake_coordinator"]).get(url)
    assert coordinator.status_code == 200 and button not in coordinator.content.decode()


def test_the_front_desk_cannot_rate(client, clinic):
    c = verified_client(client, clinic.staff["intake_coordinator"])
    assert c.get(rate_url(clinic)).status_code == 403
    assert c.post(rate_url(clinic), form_data(MADRS_MILD)).status_code == 403
    assert nothing_written()


def test_a_clinician_off_the_care_team_cannot_rate(client, clinic):
    c = verified_client(client, clinic.staff["prescriber"])
    assert (
        c.post(rate_url(clinic, patient=clinic.elsewhere), form_data(MADRS_MILD)).status_code == 403
    )
    assert not QuestionnaireSet.objects.exists()
