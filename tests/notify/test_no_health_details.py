"""Issue 20: a notification carries a link and the clinic's name, never a health detail.

A patient with a name nobody else has, a diagnosis, ketamine medicines and questionnaire scores on
record is sent every kind of notification, by every channel, in every language, at any hour; no
subject or body may hold any of it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from kapstone.assessments.services import save_answers, send_questionnaires, submit
from kapstone.companion.models import Language
from kapstone.dosing.services import book_dosing_session
from kapstone.notify.models import Channel, Kind, Notification
from kapstone.notify.providers.sms import MemorySmsProvider
from kapstone.notify.reminders import send_reminders
from kapstone.notify.services import deliver, notify_each, update_preferences
from tests.companion.support import make_account
from tests.conftest import make_patient

pytestmark = pytest.mark.django_db

GIVEN, FAMILY, PREFERRED = "Perpetua", "Quillfeather", "Petal"
SCORES = (23, 17)  # her PHQ-9 and GAD-7 totals
FORBIDDEN_WORDS = [
    GIVEN,
    FAMILY,
    PREFERRED,
    "ketamine",
    "esketamine",
    "Spravato",
    "depress",  # depression, depressive
    "anxiety",
    "treatment-resistant",
    "PHQ",
    "GAD",
    "dose",
    "fasting",
    "mg",
]


def leaks(text: str) -> list[str]:
    found = [w for w in FORBIDDEN_WORDS if w.lower() in text.lower()]
    found += [str(n) for n in SCORES if re.search(rf"(?<![\d.]){n}(?![\d.])", text)]
    found += re.findall(r"\b\d{1,2}:\d{2}\b", text)  # a time of day
    return found


@pytest.fixture
def patient_on_record(clinic, settings):
    settings.SITE_NAME = "Harbourview Clinic"
    by = clinic.staff["prescriber"]
    patient = make_patient(
        by=by,
        mrn="MRN-7777",
        site=clinic.sites[0],
        given_name=GIVEN,
        family_name=FAMILY,
        preferred_name=PREFERRED,
        referrer_name="Treatment-resistant depression, anxiety; esketamine (Spravato) before",
        prescriber=by,
    )
    account = make_account(patient=patient, by=by, email="petal@example.invalid")
    update_preferences(
        account=account,
        by_email=True,
        by_sms=True,
        mobile="207 555 0143",
        quiet_start=dt.time(0, 0),
        quiet_end=dt.time(0, 0),  # no quiet hours: every notification goes at once
        sessions=True,
        questionnaires=True,
        messages=True,
    )
    now = timezone.now()
    book_dosing_session(
        by=by,
        patient=patient,
        starts_at=now + dt.timedelta(days=1),
        route="im",
        now=now,
    )
    # Her scores on record: PHQ-9 23 and GAD-7 17, submitted; then a request still open.
    answered, _ = send_questionnaires(by=by, patient=patient, instruments=["phq9", "gad7"])
    phq9 = {**{str(i): min(3, max(0, 23 - 3 * (i - 1))) for i in range(1, 9)}, "9": 0, "10": 1}
    gad7 = {str(i): min(3, max(0, 17 - 3 * (i - 1))) for i in range(1, 8)}
    for instrument, answers in (("phq9", phq9), ("gad7", gad7)):
        save_answers(questionnaire_set=answered, instrument=instrument, answers=answers)
        assert submit(questionnaire_set=answered, instrument=instrument).total in SCORES
    send_questionnaires(by=by, patient=patient, instruments=["phq9", "gad7"])
    return account


def test_reminders_found_on_record_say_nothing_of_health(patient_on_record):
    # Today and tomorrow, at any hour one of them is due: the reminders are built from her record.
    start = timezone.now()
    for hours in range(0, 30, 3):
        send_reminders(now=start + dt.timedelta(hours=hours))
    notes = Notification.objects.filter(account=patient_on_record)
    assert {Kind.QUESTIONNAIRE_DUE, Kind.SESSION_DAY_BEFORE} <= set(
        notes.values_list("kind", flat=True)
    )
    for note in notes:
        deliver(note_id=note.pk, now=note.created_at)
        assert leaks(note.subject + "\n" + note.body) == [], note.kind
    sent = [m.subject + "\n" + m.body for m in mail.outbox] + [
        t.body for t in MemorySmsProvider.outbox
    ]
    assert sent and all(leaks(text) == [] for text in sent)


@given(
    kind=st.sampled_from(list(Kind)),
    language=st.sampled_from([code for code, _ in Language.choices]),
    hour=st.integers(0, 23),
)
@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_no_kind_by_any_channel_says_anything_of_health(patient_on_record, kind, language, hour):
    account = patient_on_record
    account.language = language
    now = timezone.now().replace(hour=hour)
    notes = notify_each(account=account, kind=kind, url="https://clinic.example/me/", now=now)
    channels = {note.channel for note in notes}
    expected = {Channel.EMAIL} if kind in (Kind.INVITATION, Kind.SIGN_IN_LINK) else set(Channel)
    assert channels == expected
    for note in notes:
        assert "Harbourview Clinic" in note.body and "https://clinic.example/me/" in note.body
        assert leaks(note.subject + "\n" + note.body) == [], (kind, note.channel)


def test_the_check_finds_what_it_looks_for():
    # The checks above can fail: each forbidden thing is caught when present.
    assert leaks("See you, Petal: ketamine at 10:30, PHQ-9 was 23") == [
        "Petal",
        "ketamine",
        "PHQ",
        "23",
        "10:30",
    ]
