"""Questionnaire services: hashed link tokens, refusals that cannot be probed, saving as the patient
goes, and submission scored by the core with every item answer kept."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from kapstone.assessments import flow
from kapstone.assessments.models import QuestionnaireResponse, QuestionnaireSet, ResponseStatus
from kapstone.assessments.services import (
    LINK_REFUSED,
    open_link,
    save_answers,
    send_questionnaires,
    submit,
)
from kapstone.audit.models import AuditEntry
from kapstone.clinical.instruments import INSTRUMENTS, ScoringPolicy
from kapstone.errors import InputError

PHQ9_MODERATE = {"1": 2, "2": 2, "3": 1, "4": 1, "5": 1, "6": 1, "7": 1, "8": 1, "9": 0, "10": 1}


@pytest.fixture
def sent(clinic):
    return send_questionnaires(
        by=clinic.staff["prescriber"], patient=clinic.on_team, instruments=["phq9", "gad7"]
    )


def response_for(questionnaire_set, instrument) -> QuestionnaireResponse:
    return QuestionnaireResponse.objects.get(
        questionnaire_set=questionnaire_set, instrument=instrument
    )


def test_sending_creates_one_response_per_instrument_and_keeps_only_the_tokens_hash(sent, clinic):
    questionnaire_set, token = sent
    assert len(token) >= 43  # 32 random bytes, URL-safe
    assert questionnaire_set.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = QuestionnaireSet.objects.filter(pk=questionnaire_set.pk).values().get()
    assert token not in {str(v) for v in stored.values()}
    responses = list(questionnaire_set.responses.all())
    assert [(r.instrument, r.instrument_version, r.status) for r in responses] == [
        ("phq9", INSTRUMENTS["phq9"].version, ResponseStatus.IN_PROGRESS),
        ("gad7", INSTRUMENTS["gad7"].version, ResponseStatus.IN_PROGRESS),
    ]
    assert questionnaire_set.expires_at - questionnaire_set.sent_at == dt.timedelta(days=7)
    entry = AuditEntry.objects.get(action="questionnaire.sent")
    assert entry.patient_id == clinic.on_team.pk and entry.actor == clinic.staff["prescriber"]
    assert token not in str(entry.after) + entry.summary


def test_each_link_gets_its_own_token(clinic):
    tokens = {
        send_questionnaires(by=clinic.staff["nurse"], patient=clinic.on_team, instruments=["gad7"])[
            1
        ]
        for _ in range(3)
    }
    assert len(tokens) == 3


@pytest.mark.parametrize(
    ("instruments", "valid_for", "field"),
    [
        ([], dt.timedelta(days=7), "instruments"),
        (["phq9", "nope"], dt.timedelta(days=7), "instruments"),
        (["madrs"], dt.timedelta(days=7), "instruments"),
        (["gad7", "gad7"], dt.timedelta(days=7), "instruments"),
        (["gad7"], dt.timedelta(0), "valid_for"),
        (["gad7"], dt.timedelta(days=31), "valid_for"),
    ],
)
def test_bad_sends_are_refused_and_write_nothing(clinic, instruments, valid_for, field):
    audit_rows = AuditEntry.objects.count()
    with pytest.raises(InputError) as caught:
        send_questionnaires(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            instruments=instruments,
            valid_for=valid_for,
        )
    assert set(caught.value.errors) == {field}
    assert not QuestionnaireSet.objects.exists()
    assert AuditEntry.objects.count() == audit_rows


def test_madrs_refusal_says_why(clinic):
    with pytest.raises(InputError) as caught:
        send_questionnaires(
            by=clinic.staff["prescriber"], patient=clinic.on_team, instruments=["madrs"]
        )
    assert "clinician" in caught.value.errors["instruments"][0]


def test_a_valid_link_opens_its_set(sent):
    questionnaire_set, token = sent
    assert open_link(token=token, now=timezone.now()) == questionnaire_set


def refusal(token, now) -> str:
    with pytest.raises(InputError) as caught:
        open_link(token=token, now=now)
    return caught.value.errors["token"][0]


def test_unknown_expired_and_used_links_are_refused_with_the_same_message(sent, clinic):
    questionnaire_set, token = sent
    now = timezone.now()
    unknown = refusal(token[:-1] + ("A" if token[-1] != "A" else "B"), now)
    expired = refusal(token, questionnaire_set.expires_at)
    still_open = open_link(token=token, now=questionnaire_set.expires_at - dt.timedelta(seconds=1))
    assert still_open == questionnaire_set
    # A link whose every questionnaire has been submitted is used up.
    save_answers(questionnaire_set=questionnaire_set, instrument="phq9", answers=PHQ9_MODERATE)
    submit(questionnaire_set=questionnaire_set, instrument="phq9")
    assert open_link(token=token, now=now) == questionnaire_set  # GAD-7 still to do
    save_answers(
        questionnaire_set=questionnaire_set,
        instrument="gad7",
        answers={str(i): 0 for i in range(1, 8)},
    )
    submit(questionnaire_set=questionnaire_set, instrument="gad7")
    used = refusal(token, now)
    empty = refusal("", now)
    huge = refusal("x" * 5000, now)
    assert unknown == expired == used == empty == huge == LINK_REFUSED


def test_answers_are_saved_as_the_patient_goes_and_resume_at_the_first_unanswered(sent):
    questionnaire_set, _ = sent
    phq9 = INSTRUMENTS["phq9"]
    save_answers(questionnaire_set=questionnaire_set, instrument="phq9", answers={"1": 2})
    save_answers(questionnaire_set=questionnaire_set, instrument="phq9", answers={"2": 1, "3": 0})
    response = response_for(questionnaire_set, "phq9")
    assert response.answers == {"1": 2, "2": 1, "3": 0}
    assert response.status == ResponseStatus.IN_PROGRESS and response.total is None
    assert response.started_at is not None
    resume = flow.resume_item(phq9, response.answers)
    assert resume is not None and resume.id == "4"
    save_answers(questionnaire_set=questionnaire_set, instrument="phq9", answers={"2": 3})
    assert response_for(questionnaire_set, "phq9").answers == {"1": 2, "2": 3, "3": 0}
    entry = AuditEntry.objects.filter(action="questionnaire.answers_saved").latest("seq")
    assert entry.before == {"2": 1} and entry.after == {"2": 3}
    assert entry.actor is None and entry.patient_id == questionnaire_set.patient_id


@pytest.mark.parametrize(
    ("answers", "item", "words"),
    [
        ({"3": 4}, "3", "accepts an integer 0-3"),
        ({"3": -1}, "3", "accepts an integer 0-3"),
        ({"3": True}, "3", "accepts an integer 0-3"),
        ({"3": "2"}, "3", "accepts an integer 0-3"),
        ({"11": 1}, "11", "has no question 11"),
    ],
)
def test_answers_outside_an_items_options_are_refused_naming_the_item(sent, answers, item, words):
    questionnaire_set, _ = sent
    save_answers(questionnaire_set=questionnaire_set, instrument="phq9", answers={"1": 1})
    with pytest.raises(InputError) as caught:
        save_answers(
            questionnaire_set=questionnaire_set, instrument="phq9", answers={"2": 1, **answers}
        )
    assert list(caught.value.errors) == [item]
    message = caught.value.errors[item][0]
    assert words in message and f"question {item}" in message.lower()
    assert response_for(questionnaire_set, "phq9").answers == {"1": 1}


def test_skip_logic_refuses_unasked_items_and_clears_answers_a_change_no_longer_asks(clinic):
    questionnaire_set, _ = send_questionnaires(
        by=clinic.staff["therapist"], patient=clinic.on_team, instruments=["cssrs_screen"]
    )
    with pytest.raises(InputError) as caught:
        save_answers(
            questionnaire_set=questionnaire_set,
            instrument="cssrs_screen",
            answers={"1": False, "2": False, "3": True},
        )
    assert list(caught.value.errors) == ["3"]
    save_answers(
        questionnaire_set=questionnaire_set,
        instrument="cssrs_screen",
        answers={"1": True, "2": True, "3": True, "4": False, "5": False},
    )
    save_answers(
        questionnaire_set=questionnaire_set, instrument="cssrs_screen", answers={"2": False}
    )
    assert response_for(questionnaire_set, "cssrs_screen").answers == {"1": True, "2": False}


def test_submitting_with_answers_missing_is_refused_per_item_and_keeps_the_saved_answers(sent):
    questionnaire_set, _ = sent
    partial = {"1": 2, "2": 1, "3": 0, "4": 1, "5": 0, "6": 0, "7": 0}
    save_answers(questionnaire_set=questionnaire_set, instrument="phq9", answers=partial)
    with pytest.raises(InputError) as caught:
        submit(questionnaire_set=questionnaire_set, instrument="phq9")
    assert set(caught.value.errors) == {"8", "9"}
    assert "Question 9" in caught.value.errors["9"][0]
    assert "missing" in caught.value.errors["9"][0]
    response = response_for(questionnaire_set, "phq9")
    assert response.answers == partial and response.status == ResponseStatus.IN_PROGRESS
    # With 1-9 answered, item 10 is required because items 1-9 total more than 0.
    save_answers(questionnaire_set=questionnaire_set, instrument="phq9", answers={"8": 0, "9": 0})
    with pytest.raises(InputError) as caught:
        submit(questionnaire_set=questionnaire_set, instrument="phq9")
    assert set(caught.value.errors) == {"10"}
    assert "total more than 0" in caught.value.errors["10"][0]
    assert response_for(questionnaire_set, "phq9").answers == {**partial, "8": 0, "9": 0}


def test_submission_stores_the_cores_score_with_every_item_answer_and_the_versions(sent):
    questionnaire_set, _ = sent
    save_answers(questionnaire_set=questionnaire_set, instrument="phq9", answers=PHQ9_MODERATE)
    policy = ScoringPolicy(version="clinic-test-1")
    returned = submit(questionnaire_set=questionnaire_set, instrument="phq9", policy=policy)
    stored = response_for(questionnaire_set, "phq9")
    assert returned == stored
    assert stored.status == ResponseStatus.SUBMITTED and stored.submitted_at is not None
    assert stored.total == 10 and stored.severity == "moderate"
    assert stored.flags == ["other_depressive_syndrome"]
    assert stored.answers == PHQ9_MODERATE
    assert stored.instrument_version == INSTRUMENTS["phq9"].version
    assert stored.policy_version == "clinic-test-1"
    questionnaire_set.refresh_from_db()
    assert questionnaire_set.submitted_at is None  # GAD-7 is still open
    entry = AuditEntry.objects.get(action="questionnaire.submitted")
    assert entry.after["total"] == 10 and entry.after["policy_version"] == "clinic-test-1"


def test_item_9_raises_the_suicide_risk_flag_in_the_stored_result(sent):
    questionnaire_set, _ = sent
    save_answers(
        questionnaire_set=questionnaire_set, instrument="phq9", answers={**PHQ9_MODERATE, "9": 1}
    )
    stored = submit(questionnaire_set=questionnaire_set, instrument="phq9")
    assert "suicide_risk" in stored.flags and stored.total == 11


def test_a_submitted_response_cannot_be_changed(sent):
    questionnaire_set, _ = sent
    save_answers(questionnaire_set=questionnaire_set, instrument="phq9", answers=PHQ9_MODERATE)
    submit(questionnaire_set=questionnaire_set, instrument="phq9")
    for attempt in (
        lambda: save_answers(
            questionnaire_set=questionnaire_set, instrument="phq9", answers={"1": 0}
        ),
        lambda: submit(questionnaire_set=questionnaire_set, instrument="phq9"),
    ):
        with pytest.raises(InputError) as caught:
            attempt()
        assert "already been submitted" in caught.value.errors["instrument"][0]
    stored = response_for(questionnaire_set, "phq9")
    assert stored.answers == PHQ9_MODERATE and stored.total == 10


def test_the_database_refuses_a_submitted_response_without_its_scoring_record(sent):
    questionnaire_set, _ = sent
    with pytest.raises(IntegrityError), transaction.atomic():
        QuestionnaireResponse.objects.filter(questionnaire_set=questionnaire_set).update(
            status=ResponseStatus.SUBMITTED
        )


def test_expired_links_cannot_save_or_submit(sent):
    questionnaire_set, _ = sent
    QuestionnaireSet.objects.filter(pk=questionnaire_set.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1),
        sent_at=timezone.now() - dt.timedelta(days=8),
    )
    with pytest.raises(InputError) as caught:
        save_answers(questionnaire_set=questionnaire_set, instrument="phq9", answers={"1": 1})
    assert caught.value.errors == {"token": [LINK_REFUSED]}
    assert response_for(questionnaire_set, "phq9").answers == {}


def test_an_instrument_outside_the_set_is_refused(sent):
    questionnaire_set, _ = sent
    with pytest.raises(InputError) as caught:
        save_answers(questionnaire_set=questionnaire_set, instrument="pcl5", answers={"1": 1})
    assert "not part of these questionnaires" in caught.value.errors["instrument"][0]


@pytest.mark.parametrize(
    ("instrument", "shown"),
    [
        ("phq9", "PHQ-9"),
        ("cssrs_screen", "C-SSRS screener"),
        ("madrs", "MADRS"),  # "(MADRS), clinician-rated": the abbreviation, not the trailing note
        ("cadss6", "CADSS-6 short form"),  # its parenthesis lists items, it is no abbreviation
        ("retired", "retired"),  # no longer in the library: shown as stored
    ],
)
def test_staff_see_each_instrument_by_its_short_name(instrument, shown):
    assert flow.short_name(instrument) == shown
