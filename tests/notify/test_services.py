"""notify() follows the patient's choices; deliver() records every outcome and retries with growing
waits until it gives up; send_notifications is the backstop when no worker runs."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from django.core import mail
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from kapstone.audit.models import AuditEntry
from kapstone.errors import InputError
from kapstone.notify.models import Channel, Kind, Notification, Preferences, Status
from kapstone.notify.providers.sms import MemorySmsProvider
from kapstone.notify.services import (
    deliver,
    notify,
    notify_each,
    open_preferences,
    preferences_of,
    send_due,
    update_preferences,
)
from tests.notify.conftest import DAYTIME, NIGHT, UTC

pytestmark = pytest.mark.django_db
MORNING_AFTER_NIGHT = dt.datetime(2026, 12, 8, 13, 0, tzinfo=UTC)  # 08:00 New York
URL = "https://clinic.example/me/messages/"


def choose(account, **changes):
    values = {
        "by_email": True,
        "by_sms": False,
        "mobile": "",
        "quiet_start": dt.time(21, 0),
        "quiet_end": dt.time(8, 0),
        "sessions": True,
        "questionnaires": True,
        "messages": True,
    }
    values.update(changes)
    return update_preferences(account=account, **values)


# -- Preferences ---------------------------------------------------------------------------------


def test_preferences_are_made_with_defaults_on_first_use(account):
    assert not Preferences.objects.filter(account=account).exists()
    preferences = preferences_of(account=account)
    assert (preferences.by_email, preferences.by_sms) == (True, False)
    assert (preferences.quiet_start, preferences.quiet_end) == (dt.time(21, 0), dt.time(8, 0))
    assert preferences.sessions and preferences.questionnaires and preferences.messages
    assert preferences_of(account=account).pk == preferences.pk


def test_a_change_is_audited_as_the_patients(account):
    choose(account, by_sms=True, mobile="(207) 555-0143", quiet_start=dt.time(22, 30))
    preferences = preferences_of(account=account)
    assert preferences.mobile == "+1 207-555-0143"
    entry = AuditEntry.objects.filter(action="notify.preferences_changed").get()
    assert entry.actor_id is None and entry.actor_label == account.audit_label
    assert entry.patient_id == account.patient_id
    assert entry.after == {"by_sms": True, "mobile": "+1 207-555-0143", "quiet_start": "22:30"}
    assert entry.before == {"by_sms": False, "mobile": "", "quiet_start": "21:00"}


def test_opening_the_preferences_is_a_read_in_the_trail(account):
    open_preferences(account=account)
    entry = AuditEntry.objects.filter(action="notify.preferences.viewed").get()
    assert entry.actor_label == account.audit_label


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"by_sms": True, "mobile": "12"}, "mobile", "not a valid phone number"),
        ({"by_sms": True, "mobile": "call me"}, "mobile", "not a phone number"),
        ({"by_sms": True, "mobile": ""}, "mobile", "give your mobile number"),
        ({"quiet_start": None}, "quiet_start", "quiet hours start"),
    ],
)
def test_bad_choices_are_refused_naming_the_field(account, changes, field, words):
    with pytest.raises(InputError) as caught:
        choose(account, **changes)
    assert words in " ".join(caught.value.errors[field])
    assert not AuditEntry.objects.filter(action="notify.preferences_changed").exists()
    assert preferences_of(account=account).by_sms is False


def test_texts_cannot_be_chosen_where_the_clinic_sends_none(account, settings):
    settings.SMS_PROVIDER = ""
    with pytest.raises(InputError) as caught:
        choose(account, by_sms=True, mobile="207 555 0143")
    assert "by_sms" in caught.value.errors


# -- notify() ------------------------------------------------------------------------------------


def test_by_default_one_email_goes_through_the_worker(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        note = notify(account=account, kind=Kind.NEW_MESSAGE, url=URL, now=DAYTIME)
    assert note.channel == Channel.EMAIL and note.to == account.email
    assert note.status == Status.QUEUED and note.not_before is None
    assert Notification.objects.count() == 1
    task = DBTaskResult.objects.get()
    assert task.task_path == "kapstone.notify.tasks.deliver_notification"
    assert task.args_kwargs["kwargs"] == {"note_id": note.pk}
    assert mail.outbox == []  # the worker sends it


def test_one_row_per_chosen_channel(account):
    choose(account, by_sms=True, mobile="207 555 0143")
    notes = notify_each(account=account, kind=Kind.NEW_MESSAGE, url=URL, now=DAYTIME)
    assert [(n.channel, n.to) for n in notes] == [
        (Channel.EMAIL, account.email),
        (Channel.SMS, "+12075550143"),
    ]
    assert notes[1].subject == "" and URL in notes[1].body


def test_texts_only(account):
    choose(account, by_email=False, by_sms=True, mobile="207 555 0143")
    notes = notify_each(account=account, kind=Kind.NEW_MESSAGE, url=URL, now=DAYTIME)
    assert [n.channel for n in notes] == [Channel.SMS]


@pytest.mark.parametrize(
    ("turned_off", "kind"),
    [
        ("sessions", Kind.SESSION_DAY_BEFORE),
        ("sessions", Kind.SESSION_MORNING),
        ("questionnaires", Kind.QUESTIONNAIRE_DUE),
        ("messages", Kind.NEW_MESSAGE),
    ],
)
def test_a_kind_the_patient_turned_off_is_not_sent(account, turned_off, kind):
    choose(account, **{turned_off: False})
    assert notify(account=account, kind=kind, url=URL, now=DAYTIME) is None
    assert not Notification.objects.exists()


def test_an_inactive_account_gets_no_reminders(account):
    account.is_active = False
    account.save()
    assert notify(account=account, kind=Kind.NEW_MESSAGE, url=URL, now=DAYTIME) is None


def test_in_quiet_hours_a_reminder_waits_for_their_end(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        note = notify(account=account, kind=Kind.SESSION_MORNING, url=URL, now=NIGHT)
    assert note.status == Status.QUEUED and note.not_before == MORNING_AFTER_NIGHT
    assert DBTaskResult.objects.get().run_after == MORNING_AFTER_NIGHT
    # The worker (or the backstop) running early sends nothing.
    assert deliver(note_id=note.pk, now=MORNING_AFTER_NIGHT - dt.timedelta(seconds=1)).attempts == 0
    assert send_due(now=MORNING_AFTER_NIGHT - dt.timedelta(seconds=1)) == {}
    assert mail.outbox == []
    assert deliver(note_id=note.pk, now=MORNING_AFTER_NIGHT).status == Status.SENT
    assert len(mail.outbox) == 1


def test_quiet_hours_follow_the_patients_site(account):
    site = account.patient.home_site
    site.time_zone = "Europe/London"
    site.save()
    # 03:00 UTC is 03:00 in London: quiet until 08:00 London.
    note = notify(account=account, kind=Kind.NEW_MESSAGE, url=URL, now=NIGHT)
    assert note.not_before == dt.datetime(2026, 12, 8, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("kind", [Kind.SIGN_IN_LINK, Kind.INVITATION])
def test_sign_in_links_go_at_once_by_email_whatever_the_choices(
    account, kind, django_capture_on_commit_callbacks
):
    choose(account, by_email=False, by_sms=True, mobile="207 555 0143", messages=False)
    with django_capture_on_commit_callbacks(execute=True):
        notes = notify_each(account=account, kind=kind, url=URL, now=NIGHT)
    assert [(n.channel, n.not_before) for n in notes] == [(Channel.EMAIL, None)]
    assert Notification.objects.get().status == Status.SENT
    assert [m.to for m in mail.outbox] == [[account.email]]
    assert MemorySmsProvider.outbox == []


# -- deliver(): outcomes, retries, giving up ---------------------------------------------------


def test_a_sent_text_keeps_the_providers_id(account):
    choose(account, by_email=False, by_sms=True, mobile="207 555 0143")
    note = notify(account=account, kind=Kind.NEW_MESSAGE, url=URL, now=DAYTIME)
    sent = deliver(note_id=note.pk, now=DAYTIME)
    assert sent.status == Status.SENT and sent.attempts == 1 and sent.sent_at == DAYTIME
    assert sent.provider_id == MemorySmsProvider.outbox[0].provider_id
    assert MemorySmsProvider.outbox[0].to == "+12075550143"
    # A second delivery (the worker and the backstop both) sends nothing more.
    assert deliver(note_id=note.pk, now=DAYTIME).attempts == 1
    assert len(MemorySmsProvider.outbox) == 1


def test_an_esps_message_id_is_kept(account, settings):
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    note = notify(account=account, kind=Kind.NEW_MESSAGE, url=URL, now=DAYTIME)
    sent = deliver(note_id=note.pk, now=DAYTIME)
    # Anymail's test backend numbers messages by their place in the outbox.
    assert (sent.status, sent.provider_id) == (Status.SENT, "0")
    assert mail.outbox[0].anymail_status.status == {"sent"}


def test_failures_are_retried_with_growing_waits_then_given_up(
    account, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFY_MAX_ATTEMPTS = 4
    choose(account, by_email=False, by_sms=True, mobile="207 555 0143", quiet_start=dt.time(8, 0))
    MemorySmsProvider.failing["+12075550143"] = True
    note = notify(account=account, kind=Kind.NEW_MESSAGE, url=URL, now=DAYTIME)
    now, waits = DAYTIME, []
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            failed = deliver(note_id=note.pk, now=now)
        assert failed.status == Status.FAILED
        assert failed.last_error == "SendError:MemoryFailure"
        waits.append(failed.not_before - now)
        # Not due yet: nothing is tried.
        assert deliver(
            note_id=note.pk, now=failed.not_before - dt.timedelta(seconds=1)
        ).attempts == (failed.attempts)
        now = failed.not_before
    assert waits == [dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30)]
    assert [t.run_after for t in DBTaskResult.objects.order_by("enqueued_at", "pk")] == [
        DAYTIME + dt.timedelta(minutes=1),
        DAYTIME + dt.timedelta(minutes=6),
        DAYTIME + dt.timedelta(minutes=36),
    ]
    given_up = deliver(note_id=note.pk, now=now)
    assert (given_up.status, given_up.attempts, given_up.not_before) == (Status.GAVE_UP, 4, None)
    assert deliver(note_id=note.pk, now=now + dt.timedelta(days=1)).attempts == 4
    assert MemorySmsProvider.outbox == []


def test_a_permanent_failure_is_given_up_at_once(account):
    choose(account, by_email=False, by_sms=True, mobile="207 555 0143")
    MemorySmsProvider.failing["+12075550143"] = False
    note = notify(account=account, kind=Kind.NEW_MESSAGE, url=URL, now=DAYTIME)
    assert deliver(note_id=note.pk, now=DAYTIME).status == Status.GAVE_UP


def test_a_retry_that_would_fall_in_quiet_hours_waits_for_their_end(account):
    choose(account, by_email=False, by_sms=True, mobile="207 555 0143")
    MemorySmsProvider.failing["+12075550143"] = True
    evening = dt.datetime(2026, 12, 8, 1, 59, 30, tzinfo=UTC)  # 20:59:30 New York
    note = notify(account=account, kind=Kind.NEW_MESSAGE, url=URL, now=evening)
    assert deliver(note_id=note.pk, now=evening).not_before == MORNING_AFTER_NIGHT


def test_an_unreachable_mail_server_is_retried(account, settings):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2},
        }
    }
    note = notify(account=account, kind=Kind.NEW_MESSAGE, url=URL, now=DAYTIME)
    failed = deliver(note_id=note.pk, now=DAYTIME)
    assert failed.status == Status.FAILED
    assert failed.last_error == "SendError:ConnectionRefusedError"


def test_the_backstop_command_sends_what_is_due(account, capsys):
    due = notify(account=account, kind=Kind.NEW_MESSAGE, url=URL, now=DAYTIME)
    later = notify(account=account, kind=Kind.NEW_MESSAGE, url=URL, now=NIGHT)
    call_command("send_notifications", "--now", DAYTIME.isoformat())
    assert capsys.readouterr().out.strip() == "sent=1"
    assert Notification.objects.get(pk=due.pk).status == Status.SENT
    assert Notification.objects.get(pk=later.pk).status == Status.QUEUED
    call_command("send_notifications", "--now", DAYTIME.isoformat())
    assert capsys.readouterr().out.strip() == "nothing due"
