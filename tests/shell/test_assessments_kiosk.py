"""Kiosk mode: staff hand the clinic's tablet to the patient, who answers the same one-question pages
with the token in the session (never in an address), then hands the tablet back."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from kapstone.assessments.models import QuestionnaireResponse, QuestionnaireSet
from kapstone.assessments.services import (
    KIOSK_VALIDITY,
    LINK_REFUSED,
    save_answers,
    send_questionnaires,
)
from kapstone.assessments.views import KIOSK_IDLE_SECONDS, KIOSK_SESSION_KEY
from kapstone.audit.models import AuditEntry
from tests.conftest import verified_client


def kiosk(instrument=None, item=None, review=False) -> str:
    if instrument is None:
        return reverse("assessments:kiosk")
    if review:
        return reverse("assessments:kiosk_review", kwargs={"instrument": instrument})
    if item is None:
        return reverse("assessments:kiosk_resume", kwargs={"instrument": instrument})
    return reverse("assessments:kiosk_question", kwargs={"instrument": instrument, "item": item})


def hand_over(client, clinic, instruments=("gad7",), role="nurse"):
    """Staff pick the questionnaires and hand this browser (the tablet) to the patient."""
    verified_client(client, clinic.staff[role])
    url = reverse("assessments:send", args=[clinic.on_team.pk])
    response = client.post(url, {"instruments": list(instruments), "hand_over": "1"})
    assert response.status_code == 302 and response["Location"] == kiosk()
    return QuestionnaireSet.objects.get(kiosk=True)


def tablet_token(client) -> str:
    return client.session[KIOSK_SESSION_KEY]


def answer_gad7(client, value="1"):
    for item in map(str, range(1, 8)):
        response = client.post(kiosk("gad7", item), {"answer": value})
        assert response.status_code == 302, response.content.decode()[:500]
    return client.post(kiosk("gad7", review=True))


def test_the_send_page_offers_to_hand_the_tablet_over(client, clinic):
    c = verified_client(client, clinic.staff["nurse"])
    page = c.get(reverse("assessments:send", args=[clinic.on_team.pk])).content.decode()
    assert re.search(r'<button type="submit" name="hand_over"[^>]*>Hand this tablet', page)


def test_hand_over_signs_the_staff_member_out_and_keeps_only_the_token(client, clinic):
    verified_client(client, clinic.staff["nurse"])
    staff_session = client.session.session_key
    questionnaire_set = hand_over(client, clinic)
    assert not Session.objects.filter(session_key=staff_session).exists()
    assert client.session.session_key != staff_session
    assert questionnaire_set.site == clinic.on_team.home_site
    assert questionnaire_set.sent_by == clinic.staff["nurse"]
    assert questionnaire_set.expires_at - questionnaire_set.sent_at == KIOSK_VALIDITY
    session = client.session
    # No staff user, no MFA device: only the token and the idle time.
    assert set(session.keys()) == {KIOSK_SESSION_KEY, "_session_expiry"}
    chart = client.get(reverse("patients:chart", args=[clinic.on_team.pk]))
    assert chart.status_code == 302 and chart["Location"].startswith("/accounts/sign-in/")
    tab = client.get(reverse("assessments:chart_tab", args=[clinic.on_team.pk]))
    assert tab["Location"].startswith("/accounts/sign-in/")


def test_hand_over_is_audited_with_the_staff_member_and_the_site(client, clinic):
    questionnaire_set = hand_over(client, clinic)
    sent = AuditEntry.objects.get(action="questionnaire.sent")
    assert sent.actor == clinic.staff["nurse"] and sent.patient_id == clinic.on_team.pk
    assert sent.object_id == str(questionnaire_set.pk)
    assert "clinic tablet" in sent.summary and str(clinic.on_team.home_site) in sent.summary
    assert sent.after["kiosk"] is True
    assert tablet_token(client) not in str(sent.after) + sent.summary
    signed_out = AuditEntry.objects.filter(action="auth.signed_out").latest("seq")
    assert signed_out.actor == clinic.staff["nurse"]


def test_the_tablet_shows_the_questionnaires_without_staff_navigation_or_names(client, clinic):
    hand_over(client, clinic, instruments=("phq9", "gad7"))
    response = client.get(kiosk())
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "Patient Health Questionnaire-9 (PHQ-9)" in page
    assert "hand the tablet back" in page
    assert f'href="{kiosk("phq9", "1")}"' in page
    for leak in ("Lovelace", "MRN-1001", "Hopper", "Sign out", 'aria-label="Main"', "/patients/"):
        assert leak not in page, leak
    assert tablet_token(client) not in page


def test_the_patient_answers_and_submits_on_the_tablet(client, clinic):
    questionnaire_set = hand_over(client, clinic, instruments=("phq9", "gad7"))
    question = client.get(kiosk("phq9", "3")).content.decode()
    assert "Question 3 of 10" in question and f'href="{kiosk("phq9", "2")}"' in question
    for item in map(str, range(1, 11)):
        client.post(kiosk("phq9", item), {"answer": "0"})
    first = client.post(kiosk("phq9", review=True))
    assert first["Location"] == kiosk()  # one more to go
    assert "Done." in client.get(kiosk()).content.decode()
    last = answer_gad7(client, "2")
    assert last["Location"] == reverse("assessments:kiosk_thank_you")
    thanks = client.get(last["Location"]).content.decode()
    assert "Please hand the tablet back to the clinic staff." in thanks
    phq9, gad7 = QuestionnaireResponse.objects.filter(questionnaire_set=questionnaire_set)
    assert (phq9.total, gad7.total, gad7.severity) == (0, 14, "moderate")
    saved = AuditEntry.objects.filter(action="questionnaire.answers_saved").latest("seq")
    assert saved.actor is None and "from the clinic tablet" in saved.summary
    submitted = AuditEntry.objects.filter(action="questionnaire.submitted", patient=clinic.on_team)
    assert submitted.count() == 2


def test_after_the_last_submission_the_tablet_is_emptied_and_back_is_refused(client, clinic):
    hand_over(client, clinic)
    answer_gad7(client)
    assert KIOSK_SESSION_KEY not in client.session
    for url in (kiosk(), kiosk("gad7", review=True), kiosk("gad7", "7"), kiosk("gad7")):
        refused = client.get(url)
        assert refused.status_code == 404, url
        page = refused.content.decode()
        assert LINK_REFUSED in page and "Several days" not in page
        assert "no-store" in refused["Cache-Control"]


def test_a_kiosk_token_does_not_open_as_a_link(client, clinic):
    hand_over(client, clinic)
    token = tablet_token(client)
    for url in (
        reverse("assessments:link", kwargs={"token": token}),
        reverse("assessments:question", kwargs={"token": token, "instrument": "gad7", "item": "1"}),
    ):
        refused = client.get(url)
        assert refused.status_code == 404 and LINK_REFUSED in refused.content.decode()


def test_a_link_token_is_refused_on_the_tablet(client, clinic):
    _, token = send_questionnaires(
        by=clinic.staff["nurse"], patient=clinic.on_team, instruments=["gad7"]
    )
    session = client.session
    session[KIOSK_SESSION_KEY] = token
    session.save()
    for url in (kiosk(), kiosk("gad7", "1")):
        refused = client.get(url)
        assert refused.status_code == 404 and LINK_REFUSED in refused.content.decode()
    assert client.post(kiosk("gad7", "1"), {"answer": "1"}).status_code == 404
    assert QuestionnaireResponse.objects.get().answers == {}


def test_without_a_hand_over_the_kiosk_refuses(client, clinic):
    refused = client.get(kiosk())
    assert refused.status_code == 404 and LINK_REFUSED in refused.content.decode()


def test_a_staff_session_never_shows_the_kiosk_pages(client, clinic):
    """A tablet signed in again must not show staff navigation next to a patient's questions."""
    hand_over(client, clinic)
    token = tablet_token(client)
    verified_client(client, clinic.staff["nurse"])
    session = client.session
    session[KIOSK_SESSION_KEY] = token
    session.save()
    assert client.get(kiosk()).status_code == 404


def test_the_tablet_idles_out(client, clinic):
    hand_over(client, clinic)
    assert client.session.get_expiry_age() == KIOSK_IDLE_SECONDS
    assert client.get(kiosk()).status_code == 200
    # Untouched for longer than the idle time: the server has forgotten the session.
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    refused = client.get(kiosk())
    assert refused.status_code == 404 and LINK_REFUSED in refused.content.decode()


def test_each_page_renews_the_idle_time(client, clinic):
    hand_over(client, clinic)
    key = client.session.session_key
    soon = timezone.now() + dt.timedelta(seconds=30)
    Session.objects.filter(session_key=key).update(expire_date=soon)
    client.get(kiosk("gad7", "1"))
    renewed = Session.objects.get(session_key=key).expire_date
    assert renewed > soon + dt.timedelta(seconds=KIOSK_IDLE_SECONDS - 60)


def test_an_expired_or_used_kiosk_set_gives_the_same_refusal(client, clinic):
    questionnaire_set = hand_over(client, clinic)
    QuestionnaireSet.objects.filter(pk=questionnaire_set.pk).update(
        sent_at=timezone.now() - dt.timedelta(hours=3),
        expires_at=timezone.now() - dt.timedelta(hours=1),
    )
    expired = client.get(kiosk())
    assert expired.status_code == 404 and LINK_REFUSED in expired.content.decode()


def test_a_used_kiosk_set_is_refused_even_with_its_token_put_back(client, clinic):
    hand_over(client, clinic)
    token = tablet_token(client)
    answer_gad7(client)
    session = client.session
    session[KIOSK_SESSION_KEY] = token
    session.save()
    refused = client.get(kiosk())
    assert refused.status_code == 404 and LINK_REFUSED in refused.content.decode()


def test_hand_over_refuses_bad_choices_keeps_the_staff_session_and_writes_nothing(client, clinic):
    c = verified_client(client, clinic.staff["nurse"])
    url = reverse("assessments:send", args=[clinic.on_team.pk])
    for data in ({"hand_over": "1"}, {"instruments": ["madrs"], "hand_over": "1"}):
        assert c.post(url, data).status_code == 200
    assert not QuestionnaireSet.objects.exists()
    assert KIOSK_SESSION_KEY not in c.session
    assert c.get(reverse("assessments:chart_tab", args=[clinic.on_team.pk])).status_code == 200


def test_the_link_days_do_not_matter_for_a_hand_over(client, clinic):
    c = verified_client(client, clinic.staff["nurse"])
    url = reverse("assessments:send", args=[clinic.on_team.pk])
    response = c.post(url, {"instruments": ["gad7"], "valid_days": "45", "hand_over": "1"})
    assert response.status_code == 302
    assert QuestionnaireSet.objects.get().expires_at - timezone.now() <= KIOSK_VALIDITY


def test_a_link_still_needs_its_days(client, clinic):
    c = verified_client(client, clinic.staff["nurse"])
    url = reverse("assessments:send", args=[clinic.on_team.pk])
    page = c.post(url, {"instruments": ["gad7"], "valid_days": ""}).content.decode()
    assert "Say for how many days the link stays valid" in page
    assert not QuestionnaireSet.objects.exists()


def test_kiosk_answers_are_kept_as_the_patient_goes(client, clinic):
    questionnaire_set = hand_over(client, clinic)
    client.post(kiosk("gad7", "1"), {"answer": "3"})
    assert QuestionnaireResponse.objects.get(questionnaire_set=questionnaire_set).answers == {
        "1": 3
    }
    assert client.get(kiosk("gad7"))["Location"] == kiosk("gad7", "2")


def test_the_chart_shows_a_tablet_set_as_handed_over(client, clinic):
    questionnaire_set = hand_over(client, clinic)
    save_answers(questionnaire_set=questionnaire_set, instrument="gad7", answers={"1": 1})
    c = verified_client(client, clinic.staff["therapist"])
    tab = c.get(reverse("assessments:chart_tab", args=[clinic.on_team.pk])).content.decode()
    assert "Handed over on the clinic tablet" in tab and "Open on the tablet until" in tab


@pytest.mark.parametrize("role", ["intake_coordinator", "nurse"])
def test_any_sender_on_the_team_can_hand_over(client, clinic, role):
    hand_over(client, clinic, role=role)
