"""Secure messages through the services, on SQLite and PostgreSQL: one transaction each, urgent
messages raise the suicide-risk alert with them, nothing is ever edited or deleted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.errors import InputError
from kapstone.kernel.append_only import AppendOnlyError
from kapstone.messaging import selectors, services
from kapstone.messaging.models import Message, ReadReceipt, Thread, UrgentMessageAlert
from kapstone.notify.models import Kind, Notification
from kapstone.safety.models import AlertNotice, SafetyAlert
from tests.shell.messaging_support import account_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(clinic):
    return account_of(clinic.on_team)


def test_a_patient_starts_a_thread_audited_as_theirs(clinic, account):
    message = services.start_thread(
        account=account, patient=clinic.on_team, subject=" Sleep ", body=" I slept badly. "
    )
    assert message.thread.subject == "Sleep"
    assert message.body == "I slept badly."
    assert message.from_patient and not message.urgent
    assert message.screening_policy_version == "messages-2026-12"
    entry = AuditEntry.objects.filter(action="messaging.sent_by_patient").get()
    assert entry.actor is None and entry.actor_label == account.audit_label
    assert entry.patient_id == clinic.on_team.pk
    assert "slept" not in entry.summary  # the trail names the message, not its words
    assert not SafetyAlert.objects.exists()


def test_a_rejected_message_says_why_and_stores_nothing(clinic, account):
    with pytest.raises(InputError) as refused:
        services.start_thread(account=account, patient=clinic.on_team, subject="x" * 121, body=" ")
    assert set(refused.value.errors) == {"subject", "body"}
    assert not Thread.objects.exists() and not Message.objects.exists()


def test_an_account_cannot_write_for_another_patient(clinic, account):
    with pytest.raises(InputError):
        services.start_thread(account=account, patient=clinic.elsewhere, subject="", body="hi")
    other = services.start_thread(
        account=account_of(clinic.elsewhere), patient=clinic.elsewhere, subject="", body="hi"
    )
    with pytest.raises(InputError):
        services.patient_writes(account=account, thread=other.thread, body="hello")


def test_an_urgent_message_raises_the_alert_in_its_transaction(clinic, account):
    message = services.start_thread(
        account=account, patient=clinic.on_team, subject="", body="I don’t want to be here anymore"
    )
    assert message.urgent and message.screened_lists == "suicide"
    link = UrgentMessageAlert.objects.get(message=message)
    alert = link.alert
    assert alert.patient_id == clinic.on_team.pk
    assert f"secure message {message.pk}" in alert.reason
    assert "want to be here" not in alert.reason  # the reason names the message, not its text
    notified = set(AlertNotice.objects.filter(alert=alert).values_list("recipient", flat=True))
    assert notified == {clinic.staff["prescriber"].pk, clinic.staff["therapist"].pk}
    assert AuditEntry.objects.filter(action="safety.alert_raised", patient=clinic.on_team).exists()


def _refuse_alerts(connection) -> None:
    """The database itself refuses a new alert (a trigger, dropped with the test's transaction):
    a real failure inside the message's transaction, not a stand-in for our code."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER test_refuse_alert BEFORE INSERT ON safety_safetyalert "
                "BEGIN SELECT RAISE(ABORT, 'alert refused by the test'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION test_refuse_alert() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'alert refused by the test'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER test_refuse_alert BEFORE INSERT ON safety_safetyalert "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse_alert()"
            )


def test_a_failure_leaves_neither_message_nor_alert(clinic, account):
    """If the alert cannot be written, the message is not stored either (one transaction)."""
    from django.db import DatabaseError, connection

    _refuse_alerts(connection)
    with pytest.raises(DatabaseError, match="refused by the test"):
        services.start_thread(account=account, patient=clinic.on_team, subject="", body="suicide")
    assert not Thread.objects.exists()
    assert not Message.objects.exists()
    assert not AuditEntry.objects.filter(action="messaging.sent_by_patient").exists()
    # An ordinary message still goes through: only the alert was refused.
    services.start_thread(account=account, patient=clinic.on_team, subject="", body="hello")


def test_staff_reply_notifies_with_a_link_only_and_reads_the_thread(clinic, account):
    first = services.start_thread(
        account=account, patient=clinic.on_team, subject="", body="My private worry"
    )
    therapist = clinic.staff["therapist"]
    reply = services.staff_replies(by=therapist, thread=first.thread, body="Let's talk Thursday")
    assert reply.author == therapist and not reply.from_patient
    note = Notification.objects.get(kind=Kind.NEW_MESSAGE)
    assert note.account == account
    assert f"/me/messages/{first.thread_id}/" in note.body
    assert "Thursday" not in note.body and "worry" not in note.body
    receipt = ReadReceipt.objects.get(message=first)
    assert receipt.reader == therapist
    assert AuditEntry.objects.filter(action="messaging.replied", actor=therapist).exists()


def test_read_receipts_keep_the_first_reading(clinic, account):
    first = services.start_thread(account=account, patient=clinic.on_team, subject="", body="Hi")
    t0 = timezone.now()
    nurse, prescriber = clinic.staff["nurse"], clinic.staff["prescriber"]
    services.staff_reads(by=nurse, thread=first.thread, now=t0)
    services.staff_reads(by=prescriber, thread=first.thread, now=t0 + dt.timedelta(hours=1))
    receipt = ReadReceipt.objects.get(message=first)
    assert (receipt.reader, receipt.read_at) == (nurse, t0)
    reply = services.staff_replies(by=nurse, thread=first.thread, body="Hello")
    assert not ReadReceipt.objects.filter(message=reply).exists()
    services.patient_reads(account=account, thread=first.thread, now=t0 + dt.timedelta(hours=2))
    assert ReadReceipt.objects.get(message=reply).reader is None
    viewed = AuditEntry.objects.filter(action="messaging.viewed", patient=clinic.on_team)
    assert viewed.filter(actor_label=account.audit_label).exists()
    assert viewed.filter(actor=nurse).exists()


def test_messages_are_append_only(clinic, account):
    message = services.start_thread(account=account, patient=clinic.on_team, subject="", body="a")
    message.body = "edited"
    with pytest.raises(AppendOnlyError):
        message.save()
    with pytest.raises(AppendOnlyError):
        message.delete()
    # Past the model too: the database's triggers refuse an UPDATE or DELETE.
    for attempt in (
        lambda: Message.objects.filter(pk=message.pk).update(body="edited"),
        lambda: Message.objects.filter(pk=message.pk).delete(),
        lambda: Thread.objects.filter(pk=message.thread_id).update(subject="x"),
    ):
        with pytest.raises(Exception, match="append-only"), transaction.atomic():
            attempt()
    assert Message.objects.get(pk=message.pk).body == "a"


def test_unanswered_threads_reach_the_care_team_in_one_query(
    clinic, account, django_assert_num_queries
):
    one = services.start_thread(account=account, patient=clinic.on_team, subject="", body="one")
    two = services.start_thread(account=account, patient=clinic.on_team, subject="", body="suicide")
    answered = services.start_thread(account=account, patient=clinic.on_team, subject="", body="3")
    services.staff_replies(by=clinic.staff["nurse"], thread=answered.thread, body="done")
    other = account_of(clinic.elsewhere)
    services.start_thread(account=other, patient=clinic.elsewhere, subject="", body="not yours")
    with django_assert_num_queries(1):
        rows = selectors.unanswered_for(user=clinic.staff["therapist"])
    assert len(rows) == 1
    (row,) = rows
    assert row.patient_id == clinic.on_team.pk
    assert row.threads == 2 and row.urgent
    assert row.thread_id == one.thread_id  # the one waiting longest opens first
    assert two.thread_id != row.thread_id
    assert selectors.unanswered_for(user=clinic.others["therapist"])[0].patient_id == (
        clinic.elsewhere.pk
    )
    # The patient writes again after the reply: the answered thread waits again.
    services.patient_writes(account=account, thread=answered.thread, body="one more thing")
    assert selectors.unanswered_for(user=clinic.staff["nurse"])[0].threads == 3


def test_threads_are_read_within_the_patient(clinic, account):
    message = services.start_thread(account=account, patient=clinic.on_team, subject="", body="a")
    assert selectors.thread_of(clinic.on_team, message.thread_id) == message.thread
    assert selectors.thread_of(clinic.elsewhere, message.thread_id) is None
    (summary,) = selectors.threads_of(clinic.on_team)
    assert summary.awaiting_reply and summary.message_count == 1
