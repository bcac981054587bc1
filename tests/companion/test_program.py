"""The patient's program pages: sessions (next first, past greyed, the site's time and address,
the plan's fasting and ride-home words), questionnaires due started from the app, and progress."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.assessments.models import QuestionnaireResponse, QuestionnaireSet
from kapstone.assessments.services import open_link, save_answers, send_questionnaires, submit
from kapstone.audit.models import AuditEntry
from kapstone.clinical.instruments import INSTRUMENTS
from kapstone.clinical.preparation import FASTING
from kapstone.companion import program
from kapstone.errors import InputError
from kapstone.preparation.checklist import DRINKS_BEFORE, FOOD_BEFORE
from tests.companion.program_support import booked_patient
from tests.companion.support import make_account, patient_client

pytestmark = pytest.mark.django_db


def test_sessions_come_next_first_then_the_past_ones_in_the_sites_time(clinic):
    booked = booked_patient(clinic)
    shown = program.sessions(clinic.on_team, timezone.now())
    assert [(s.kind, s.pk) for s in shown] == [
        ("dosing", booked.next.pk),
        ("integration", booked.integration.pk),
        ("dosing", booked.later.pk),
        ("dosing", booked.past.pk),
    ]
    assert [s.past for s in shown] == [False, False, False, True]
    first = shown[0]
    assert first.starts_at.hour == 10 and first.starts_at.tzinfo is None  # the site's wall clock
    assert first.time_zone == "America/New_York"
    assert first.site_address == "12 River Road, Springfield"
    # The test plan keeps the clinic default's fasting words, so the times are the default's.
    assert first.fasting == FASTING.text
    assert first.no_food_from == first.starts_at - FOOD_BEFORE
    assert first.no_drinks_from == first.starts_at - DRINKS_BEFORE
    assert "Sam" in first.ride_home
    assert "EMDR" in str(shown[1].modality)


def test_fasting_times_are_the_clinic_defaults_own_numbers():
    assert "2 hours" in FASTING.text and dt.timedelta(hours=2) == FOOD_BEFORE
    assert "30 minutes" in FASTING.text and dt.timedelta(minutes=30) == DRINKS_BEFORE


def test_a_plan_with_other_fasting_words_shows_only_its_words():
    from kapstone.preparation.checklist import fasting_times

    start = timezone.now()
    assert fasting_times(start, "Nothing after midnight.") is None
    assert fasting_times(start, FASTING.text) == (start - FOOD_BEFORE, start - DRINKS_BEFORE)


def test_the_sessions_page_is_the_patients_own_and_audited_as_theirs(clinic, client):
    booked = booked_patient(clinic)
    page = patient_client(client, booked.account).get(reverse("companion:sessions"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "12 River Road, Springfield" in text
    assert "Do not eat after 08:00. Do not drink after 09:30." in text
    assert "Partner (Sam, 555-0100)" in text
    assert "c-past" in text
    entry = AuditEntry.objects.filter(action="companion.sessions.viewed").get()
    assert entry.actor_id is None and entry.actor_label == booked.account.audit_label
    assert entry.patient_id == clinic.on_team.pk


def test_another_patient_sees_none_of_these_sessions(clinic, client):
    booked_patient(clinic)
    other = make_account(patient=clinic.elsewhere, by=clinic.staff["intake_coordinator"])
    page = patient_client(client, other).get(reverse("companion:sessions"))
    assert "12 River Road" not in page.content.decode()
    assert program.sessions(clinic.elsewhere, timezone.now()) == []


def test_the_home_page_shows_the_next_session_the_checklist_and_questionnaires_due(clinic, client):
    booked = booked_patient(clinic)
    send_questionnaires(by=clinic.staff["prescriber"], patient=clinic.on_team, instruments=["phq9"])
    text = patient_client(client, booked.account).get(reverse("companion:home")).content.decode()
    assert "Your next session" in text and "12 River Road" in text
    assert "0 of 6 ready" in text
    assert "You have 1 set of questionnaires to answer." in text
    assert reverse("messaging:home") in text and reverse("journal:home") in text


# --- questionnaires -------------------------------------------------------------------------------


def test_only_the_patients_own_open_link_sets_are_due(clinic):
    prescriber = clinic.staff["prescriber"]
    mine, _ = send_questionnaires(
        by=prescriber, patient=clinic.on_team, instruments=["phq9", "gad7"]
    )
    send_questionnaires(by=prescriber, patient=clinic.on_team, instruments=["gad7"], kiosk=True)
    send_questionnaires(by=prescriber, patient=clinic.elsewhere, instruments=["phq9"])
    due = program.questionnaires_due(clinic.on_team, timezone.now())
    assert [(d.pk, d.names, d.answered) for d in due] == [(mine.pk, ("PHQ-9", "GAD-7"), 0)]


def test_starting_from_the_app_goes_on_in_the_existing_flow_where_the_patient_left_off(
    clinic, client
):
    prescriber = clinic.staff["prescriber"]
    qset, emailed = send_questionnaires(by=prescriber, patient=clinic.on_team, instruments=["phq9"])
    save_answers(questionnaire_set=qset, instrument="phq9", answers={"1": 2, "2": 1})
    account = make_account(patient=clinic.on_team, by=clinic.staff["intake_coordinator"])
    c = patient_client(client, account)
    response = c.post(reverse("companion:questionnaires"), {"set": qset.pk})
    assert response.status_code == 302
    token = response["Location"].removeprefix("/q/").rstrip("/")
    assert response["Location"] == reverse("assessments:link", kwargs={"token": token})
    assert open_link(token=token, now=timezone.now()).pk == qset.pk
    with pytest.raises(InputError):  # one link per set: the e-mailed one is replaced
        open_link(token=emailed, now=timezone.now())
    kept = QuestionnaireResponse.objects.get(questionnaire_set=qset)
    assert kept.answers == {"1": 2, "2": 1} and not kept.is_submitted
    assert c.get(response["Location"]).status_code == 200
    entry = AuditEntry.objects.filter(action="questionnaire.link_reissued").get()
    assert entry.actor_label == account.audit_label


def test_another_patients_or_a_tablets_set_cannot_be_started(clinic, client):
    prescriber = clinic.staff["prescriber"]
    theirs, _ = send_questionnaires(by=prescriber, patient=clinic.elsewhere, instruments=["phq9"])
    tablet, _ = send_questionnaires(
        by=prescriber, patient=clinic.on_team, instruments=["gad7"], kiosk=True
    )
    account = make_account(patient=clinic.on_team, by=clinic.staff["intake_coordinator"])
    c = patient_client(client, account)
    for qset in (theirs, tablet):
        before = QuestionnaireSet.objects.get(pk=qset.pk).token_hash
        assert c.post(reverse("companion:questionnaires"), {"set": qset.pk}).status_code == 404
        assert QuestionnaireSet.objects.get(pk=qset.pk).token_hash == before
    assert c.post(reverse("companion:questionnaires"), {"set": "x"}).status_code == 404


# --- progress -------------------------------------------------------------------------------------


def _phq9(total: int) -> dict[str, int]:
    answers = {str(i): min(3, max(0, total - 3 * (i - 1))) for i in range(1, 9)}
    return {**answers, "9": 0, "10": 1}


def scored(patient, by, total: int, when: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    qset, _ = send_questionnaires(by=by, patient=patient, instruments=["phq9"])
    save_answers(questionnaire_set=qset, instrument="phq9", answers=_phq9(total))
    response = submit(questionnaire_set=qset, instrument="phq9")
    QuestionnaireResponse.objects.filter(pk=response.pk).update(submitted_at=when, started_at=when)


def test_progress_says_in_words_how_the_score_moved_with_the_instruments_bands(clinic, client):
    patient, by = clinic.on_team, clinic.staff["prescriber"]
    tz = timezone.get_current_timezone()
    scored(patient, by, 18, dt.datetime(2026, 3, 3, 12, tzinfo=tz))
    scored(patient, by, 9, dt.datetime(2026, 4, 2, 12, tzinfo=tz))
    shown = program.progress(patient, timezone.now())
    assert [i.name for i in shown] == ["PHQ-9"]
    phq9 = shown[0]
    definition = INSTRUMENTS["phq9"]
    assert phq9.bands == tuple(
        (b.low, b.high, b.word.replace("_", " "), b.source.key) for b in definition.bands
    )
    assert (phq9.first.total, phq9.first.band) == (18, "moderately severe")
    assert (phq9.last.total, phq9.last.band) == (9, "mild")
    assert phq9.chart_svg.lstrip().startswith("<svg")
    account = make_account(patient=patient, by=clinic.staff["intake_coordinator"])
    text = patient_client(client, account).get(reverse("companion:progress")).content.decode()
    assert (
        "Your PHQ-9 score went from 18 (moderately severe) on 3 March to 9 (mild) on 2 April."
        in text
    )
    assert "<script" not in text.split("<main")[1]


def test_no_scores_yet_says_so(clinic, client):
    account = make_account(patient=clinic.on_team, by=clinic.staff["intake_coordinator"])
    text = patient_client(client, account).get(reverse("companion:progress")).content.decode()
    assert "No scores yet." in text


def test_a_closed_set_gets_no_new_link(clinic):
    from kapstone.assessments.services import reissue_link

    qset, _ = send_questionnaires(
        by=clinic.staff["prescriber"], patient=clinic.on_team, instruments=["phq9"]
    )
    before = qset.token_hash
    with pytest.raises(InputError):
        reissue_link(questionnaire_set=qset, actor_label="patient-account:1", now=qset.expires_at)
    assert QuestionnaireSet.objects.get(pk=qset.pk).token_hash == before
    assert program.own_open_set(clinic.on_team, qset.pk, qset.expires_at) is None
