"""The patient's link, page by page, and the staff's Questionnaires tab."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.assessments import flow
from kapstone.assessments.forms import MISSING_ANSWER
from kapstone.assessments.models import QuestionnaireResponse, QuestionnaireSet
from kapstone.assessments.services import (
    LINK_REFUSED,
    save_answers,
    send_questionnaires,
    submit,
)
from kapstone.audit.models import AuditEntry
from kapstone.clinical.instruments import INSTRUMENTS
from tests.conftest import verified_client


@pytest.fixture
def link(clinic):
    questionnaire_set, token = send_questionnaires(
        by=clinic.staff["prescriber"], patient=clinic.on_team, instruments=["phq9", "gad7"]
    )
    return questionnaire_set, token


def q(token, instrument=None, item=None, review=False) -> str:
    if instrument is None:
        return reverse("assessments:link", kwargs={"token": token})
    if review:
        return reverse("assessments:review", kwargs={"token": token, "instrument": instrument})
    if item is None:
        return reverse("assessments:resume", kwargs={"token": token, "instrument": instrument})
    return reverse(
        "assessments:question", kwargs={"token": token, "instrument": instrument, "item": item}
    )


def answers_of(questionnaire_set, instrument) -> dict:
    return QuestionnaireResponse.objects.get(
        questionnaire_set=questionnaire_set, instrument=instrument
    ).answers


def test_the_link_lists_its_questionnaires_without_caching_or_naming_the_patient(client, link):
    _, token = link
    response = client.get(q(token))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "Patient Health Questionnaire-9 (PHQ-9)" in page
    assert "Generalized Anxiety Disorder-7 (GAD-7)" in page
    assert "0 of 10 questions answered" in page  # PHQ-9: nine items and the difficulty item
    assert "Lovelace" not in page and "MRN-1001" not in page


def test_unknown_expired_and_used_links_show_the_same_refusal(client, link, clinic):
    questionnaire_set, token = link
    unknown = client.get(q("x" * 43))
    QuestionnaireSet.objects.filter(pk=questionnaire_set.pk).update(
        sent_at=timezone.now() - dt.timedelta(days=8),
        expires_at=timezone.now() - dt.timedelta(days=1),
    )
    expired = client.get(q(token))
    expired_question = client.get(q(token, "phq9", "1"))
    other, other_token = send_questionnaires(
        by=clinic.staff["nurse"], patient=clinic.on_team, instruments=["gad7"]
    )
    save_answers(
        questionnaire_set=other, instrument="gad7", answers={str(i): 1 for i in range(1, 8)}
    )
    submit(questionnaire_set=other, instrument="gad7")
    used = client.get(q(other_token))
    for refused in (unknown, expired, expired_question, used):
        assert refused.status_code == 404
        assert LINK_REFUSED in refused.content.decode()
        assert "no-store" in refused["Cache-Control"]


def test_one_question_per_screen_with_progress_and_an_accessible_radio_group(client, link):
    _, token = link
    page = client.get(q(token, "phq9", "3")).content.decode()
    assert "Question 3 of 10" in page
    assert re.search(r"<fieldset[^>]*>\s*<legend[^>]*>Trouble falling or staying asleep", page)
    for n, label in enumerate(
        ["Not at all", "Several days", "More than half the days", "Nearly every day"]
    ):
        assert f'<label class="q-option" for="id_answer_{n}">' in page
        assert label in page
    assert "Over the last 2 weeks" in page
    assert f'href="{q(token, "phq9", "2")}"' in page  # Back


def test_next_saves_the_answer_and_a_missing_answer_gets_a_clear_message(client, link):
    questionnaire_set, token = link
    empty = client.post(q(token, "phq9", "1"), {})
    assert empty.status_code == 200
    assert MISSING_ANSWER in empty.content.decode()
    out_of_range = client.post(q(token, "phq9", "1"), {"answer": "7"})
    assert "Please choose one of the answers shown." in out_of_range.content.decode()
    assert answers_of(questionnaire_set, "phq9") == {}
    saved = client.post(q(token, "phq9", "1"), {"answer": "2"})
    assert saved.status_code == 302 and saved["Location"] == q(token, "phq9", "2")
    assert answers_of(questionnaire_set, "phq9") == {"1": 2}
    again = client.get(q(token, "phq9", "1")).content.decode()
    assert re.search(r'value="2"[^>]*checked|checked[^>]*value="2"', again)


def test_leaving_and_coming_back_resumes_at_the_first_unanswered_question(client, link):
    _, token = link
    for item, value in (("1", "1"), ("2", "0"), ("3", "2")):
        client.post(q(token, "phq9", item), {"answer": value})
    home = client.get(q(token)).content.decode()
    assert "3 of 10 questions answered" in home
    assert f'href="{q(token, "phq9", "4")}"' in home and "Continue" in home
    assert client.get(q(token, "phq9"))["Location"] == q(token, "phq9", "4")


def test_yes_no_questions_follow_the_instruments_skip_logic(client, clinic):
    questionnaire_set, token = send_questionnaires(
        by=clinic.staff["therapist"], patient=clinic.on_team, instruments=["cssrs_screen"]
    )
    client.post(q(token, "cssrs_screen", "1"), {"answer": "false"})
    after_no = client.post(q(token, "cssrs_screen", "2"), {"answer": "false"})
    assert after_no["Location"] == q(token, "cssrs_screen", "6")  # 3-5 are skipped after a no
    assert answers_of(questionnaire_set, "cssrs_screen") == {"1": False, "2": False}
    assert client.get(q(token, "cssrs_screen", "3"))["Location"] == q(token, "cssrs_screen")
    # Licence: C-SSRS wording is not shipped, so the patient sees the short label.
    page = client.get(q(token, "cssrs_screen", "6")).content.decode()
    assert INSTRUMENTS["cssrs_screen"].item("6").label in page


def test_licensed_wording_shows_only_where_the_licence_or_the_clinic_allows_it():
    pcl5 = INSTRUMENTS["pcl5"]
    item = dataclasses.replace(pcl5.item("1"), text="Full licensed wording")
    assert flow.wording(pcl5, item) == item.label
    licensed = dataclasses.replace(pcl5, wording_note="Loaded from the clinic's licence")
    assert flow.wording(licensed, item) == "Full licensed wording"
    assert flow.wording(INSTRUMENTS["phq9"], INSTRUMENTS["phq9"].item("9")).startswith("Thoughts")


def test_review_lists_what_is_missing_and_submit_is_refused_until_answered(client, link):
    questionnaire_set, token = link
    save_answers(
        questionnaire_set=questionnaire_set,
        instrument="phq9",
        answers={str(i): 1 for i in range(1, 9)},
    )
    review = client.get(q(token, "phq9", review=True)).content.decode()
    assert "Not answered yet" in review and "still need" in review
    refused = client.post(q(token, "phq9", review=True))
    assert refused.status_code == 200
    page = refused.content.decode()
    assert f'<a href="{q(token, "phq9", "9")}">Question 9</a>: please answer this question.' in page
    assert answers_of(questionnaire_set, "phq9") == {str(i): 1 for i in range(1, 9)}


def test_submitting_every_questionnaire_ends_on_thank_you_and_closes_the_link(client, link):
    questionnaire_set, token = link
    for item in map(str, range(1, 11)):
        client.post(q(token, "phq9", item), {"answer": "1"})
    first = client.post(q(token, "phq9", review=True))
    assert first["Location"] == q(token)
    home = client.get(q(token)).content.decode()
    assert "Done." in home
    assert client.get(q(token, "phq9", "1"))["Location"] == q(token)  # submitted: not editable
    for item in map(str, range(1, 8)):
        client.post(q(token, "gad7", item), {"answer": "0"})
    last = client.post(q(token, "gad7", review=True))
    assert last["Location"] == reverse("assessments:thank_you")
    assert "Thank you" in client.get(last["Location"]).content.decode()
    assert client.get(q(token)).status_code == 404
    stored = QuestionnaireResponse.objects.get(
        questionnaire_set=questionnaire_set, instrument="phq9"
    )
    assert stored.total == 9 and stored.severity == "mild" and "suicide_risk" in stored.flags


def staff(client, clinic, role="therapist"):
    return verified_client(client, clinic.staff[role])


def test_the_chart_links_to_the_questionnaires_tab(client, clinic):
    chart = staff(client, clinic).get(reverse("patients:chart", args=[clinic.on_team.pk]))
    assert reverse("assessments:chart_tab", args=[clinic.on_team.pk]) in chart.content.decode()


def test_the_tab_lists_sets_with_total_severity_and_flags(client, clinic, link):
    questionnaire_set, _ = link
    save_answers(
        questionnaire_set=questionnaire_set,
        instrument="phq9",
        answers={**{str(i): 2 for i in range(1, 9)}, "9": 1, "10": 2},
    )
    submit(questionnaire_set=questionnaire_set, instrument="phq9")
    page = staff(client, clinic).get(reverse("assessments:chart_tab", args=[clinic.on_team.pk]))
    text = page.content.decode()
    assert "<td>17</td>" in text and "moderately severe" in text and "suicide risk" in text
    assert "In progress" in text  # GAD-7


def test_the_response_page_shows_every_item_answer_and_its_reading_is_audited(client, clinic, link):
    questionnaire_set, _ = link
    answers = {"1": 3, "2": 2, "3": 1, "4": 0, "5": 1, "6": 2, "7": 3, "8": 0, "9": 1, "10": 2}
    save_answers(questionnaire_set=questionnaire_set, instrument="phq9", answers=answers)
    response = submit(questionnaire_set=questionnaire_set, instrument="phq9")
    url = reverse("assessments:response", args=[clinic.on_team.pk, response.pk])
    page = staff(client, clinic).get(url).content.decode()
    rows = re.findall(r'<th scope="row">(\w+)</th>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>', page)
    labels = {o.value: o.label for o in INSTRUMENTS["phq9"].item("1").options}
    difficulty = {o.value: o.label for o in INSTRUMENTS["phq9"].item("10").options}
    assert rows == [(k, labels[v]) for k, v in answers.items() if k != "10"] + [
        ("10", difficulty[2])
    ]
    assert 'id="response-total">13<' in page
    entry = AuditEntry.objects.filter(action="questionnaire.response_viewed").latest("seq")
    assert entry.actor == clinic.staff["therapist"] and entry.object_id == str(response.pk)


def test_a_response_of_another_patient_is_not_found_under_this_chart(client, clinic, link):
    questionnaire_set, _ = link
    response = questionnaire_set.responses.first()
    url = reverse("assessments:response", args=[clinic.elsewhere.pk, response.pk])
    assert staff(client, clinic, "medical_director").get(url).status_code == 404


def test_sending_shows_the_link_once_and_keeps_only_its_hash(client, clinic):
    c = staff(client, clinic, "nurse")
    url = reverse("assessments:send", args=[clinic.on_team.pk])
    form = c.get(url).content.decode()
    assert "madrs" not in form and 'value="phq9"' in form
    page = c.post(url, {"instruments": ["phq9", "gad7"], "valid_days": "3"}).content.decode()
    token = re.search(r'value="http://testserver/q/([^/"]+)/"', page).group(1)
    questionnaire_set = QuestionnaireSet.objects.get()
    assert questionnaire_set.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert questionnaire_set.expires_at - questionnaire_set.sent_at == dt.timedelta(days=3)
    assert questionnaire_set.instruments == ["phq9", "gad7"]
    assert questionnaire_set.sent_by == clinic.staff["nurse"]
    tab = c.get(reverse("assessments:chart_tab", args=[clinic.on_team.pk])).content.decode()
    assert token not in tab


def test_sending_refuses_bad_choices_and_writes_nothing(client, clinic):
    c = staff(client, clinic, "nurse")
    url = reverse("assessments:send", args=[clinic.on_team.pk])
    for data in ({"valid_days": "7"}, {"instruments": ["madrs"], "valid_days": "7"}):
        assert c.post(url, data).status_code == 200
    assert c.post(url, {"instruments": ["gad7"], "valid_days": "45"}).status_code == 200
    assert not QuestionnaireSet.objects.exists()


def test_cssrs_progress_counts_the_questions_the_answers_so_far_will_ask(client, clinic):
    """The screener asks 3-5 only after a yes to 2, and 6b only after a yes to 6: the count
    follows the answers, never the 7 items of the form."""
    _, token = send_questionnaires(
        by=clinic.staff["prescriber"], patient=clinic.on_team, instruments=["cssrs_screen"]
    )

    def progress(item: str) -> str:
        page = client.get(q(token, "cssrs_screen", item)).content.decode()
        found = re.search(r'id="q-progress">Question (\d+) of (\d+)<', page)
        assert found, page
        return f"{found[1]} of {found[2]}"

    def say(item: str, yes: bool) -> None:
        posted = client.post(q(token, "cssrs_screen", item), {"answer": flow.encode(yes)})
        assert posted.status_code == 302

    assert "0 of 3 questions answered" in client.get(q(token)).content.decode()
    assert progress("1") == "1 of 3"
    say("1", True)
    assert progress("2") == "2 of 3"
    say("2", False)
    assert progress("6") == "3 of 3"  # no to 2: straight to 6
    say("2", True)  # back, and changed to yes: 3, 4 and 5 are asked now
    assert progress("3") == "3 of 6"
    for item in "345":
        say(item, False)
    assert progress("6") == "6 of 6"
    say("6", True)
    assert progress("6b") == "7 of 7"
    assert "6 of 7 questions answered" in client.get(q(token)).content.decode()
