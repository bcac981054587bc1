"""The patient's messages pages and the chart's Messages tab, through the test client."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.timezone import localtime

from kapstone.audit.models import AuditEntry
from kapstone.messaging.models import Message, ReadReceipt, Thread
from kapstone.safety.models import SafetyAlert
from tests.companion.samples import SAMPLES
from tests.companion.support import patient_client
from tests.conftest import verified_client
from tests.shell.messaging_support import account_of

pytestmark = pytest.mark.django_db

HOME = "/me/messages/"


@pytest.fixture
def account(clinic):
    return account_of(clinic.on_team)


def test_the_messages_page_says_it_is_not_watched_around_the_clock(client, account, settings):
    settings.CLINIC_HOURS = "Mon-Fri 8:30-16:30"
    assert reverse("messaging:home") == HOME
    page = patient_client(client, account).get(HOME).content.decode()
    assert "Messages are not for emergencies" in page
    assert "Mon-Fri 8:30-16:30" in page
    assert "988" in page  # the clinic's crisis resources
    assert "You have no messages yet." in page


def test_a_patient_sends_a_message_and_sees_it(client, account):
    c = patient_client(client, account)
    response = c.post(HOME, {"subject": "Thursday", "body": "Can we move it?"})
    thread = Thread.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{HOME}{thread.pk}/"
    page = c.get(response["Location"]).content.decode()
    assert "Can we move it?" in page and "Not read yet" in page
    assert 'class="crisis crisis-urgent"' not in page
    assert "Thursday" in c.get(HOME).content.decode()


def test_a_rejected_message_keeps_what_was_typed(client, account):
    response = patient_client(client, account).post(HOME, {"subject": "s" * 130, "body": "kept"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Keep the subject to 120 characters." in page and ">kept</textarea>" in page
    assert not Message.objects.exists()


def test_an_urgent_message_puts_the_crisis_resources_first(client, account, clinic):
    c = patient_client(client, account)
    response = c.post(HOME, {"subject": "", "body": "I want to END MY LIFE"}, follow=True)
    page = response.content.decode()
    crisis = page.index('class="crisis crisis-urgent"')
    assert crisis < page.index("<h1>")  # before anything else on the page
    assert SafetyAlert.objects.filter(patient=clinic.on_team).count() == 1
    # Until the care team answers, the resources stay first; after the reply they go back down.
    thread = Thread.objects.get()
    staff = verified_client(type(client)(), clinic.staff["therapist"])
    staff.post(
        reverse("chart_messages:reply", args=[clinic.on_team.pk, thread.pk]), {"body": "Calling"}
    )
    assert 'crisis-urgent"' not in c.get(f"{HOME}{thread.pk}/").content.decode()


def test_another_patients_thread_is_not_found(client, clinic, account):
    other_thread = SAMPLES["messaging:thread"](account_of(clinic.elsewhere))["thread_id"]
    own_thread = SAMPLES["messaging:thread"](account)["thread_id"]
    c = patient_client(client, account)
    assert c.get(reverse("messaging:thread", kwargs={"thread_id": own_thread})).status_code == 200
    url = reverse("messaging:thread", kwargs={"thread_id": other_thread})
    assert c.get(url).status_code == 404
    assert c.post(url, {"body": "hello"}).status_code == 404
    assert Message.objects.filter(thread_id=other_thread).count() == 1


def test_staff_read_reply_and_the_patient_sees_the_receipt(client, clinic, account):
    c = patient_client(client, account)
    c.post(HOME, {"subject": "Sleep", "body": "I slept badly"})
    thread = Thread.objects.get()
    staff = verified_client(type(client)(), clinic.staff["nurse"])
    tab = staff.get(reverse("chart_messages:chart_tab", args=[clinic.on_team.pk])).content.decode()
    assert "Sleep" in tab and "Awaiting a reply" in tab
    board = staff.get(reverse("today:board")).content.decode()
    assert "Messages awaiting a reply" in board and "Ada Lovelace" in board
    page = staff.get(reverse("chart_messages:thread", args=[clinic.on_team.pk, thread.pk]))
    assert "I slept badly" in page.content.decode()
    assert AuditEntry.objects.filter(action="messaging.viewed", actor=clinic.staff["nurse"]).count()
    receipt = ReadReceipt.objects.get(message__thread=thread)
    response = staff.post(
        reverse("chart_messages:reply", args=[clinic.on_team.pk, thread.pk]), {"body": "Try this"}
    )
    assert response.status_code == 302
    assert "Messages awaiting a reply" not in staff.get(reverse("today:board")).content.decode()
    mine = c.get(f"{HOME}{thread.pk}/").content.decode()
    assert "Try this" in mine
    assert f"Read {localtime(receipt.read_at).strftime('%H:%M')}" in mine


def test_an_empty_staff_reply_is_refused_and_kept(client, clinic, account):
    thread = SAMPLES["messaging:thread"](account)["thread_id"]
    staff = verified_client(client, clinic.staff["prescriber"])
    response = staff.post(
        reverse("chart_messages:reply", args=[clinic.on_team.pk, thread]), {"body": "   "}
    )
    assert response.status_code == 400
    assert "Write the reply before sending it." in response.content.decode()


def test_the_front_desk_does_not_read_messages(client, clinic, account):
    thread = SAMPLES["messaging:thread"](account)["thread_id"]
    desk = verified_client(client, clinic.staff["intake_coordinator"])
    assert desk.get(reverse("chart_messages:chart_tab", args=[clinic.on_team.pk])).status_code == (
        403
    )
    chart = desk.get(reverse("patients:chart", args=[clinic.on_team.pk])).content.decode()
    assert reverse("chart_messages:chart_tab", args=[clinic.on_team.pk]) not in chart
    url = reverse("chart_messages:thread", args=[clinic.on_team.pk, thread])
    assert desk.get(url).status_code == 403


def test_a_patient_page_is_in_the_patients_language(client, clinic):
    from tests.companion.support import make_account

    account = make_account(patient=clinic.on_team, by=clinic.staff["prescriber"], language="es")
    response = patient_client(client, account).get(HOME)
    assert response["Content-Language"] == "es"
