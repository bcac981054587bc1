"""The chair-side screen lock on the server (issue 15, point 2): past the idle time a console of a
session in progress keeps its sign-in, locked, through its own polls only; everything else still
signs out; only the same user's password or authenticator code unlocks it, within the lockout."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapstone.audit.models import AuditEntry
from kapstone.chairside import services
from kapstone.dosing.models import DosingSession
from kapstone.web.middleware import LAST_ACTION, RENEWED, IdleTimeoutMiddleware
from tests.conftest import PASSWORD
from tests.shell.chairside_support import past_session, signed_plan_for
from tests.shell.test_sign_in import code_for

POLL = {"HX-Request": "true", "X-Kapstone-Poll": "1"}


@pytest.fixture
def console(clinic, as_role):  # type: ignore[no-untyped-def]
    session = past_session(clinic, began_minutes_ago=20, plan=signed_plan_for(clinic))
    record = services.open_record(by=clinic.staff["nurse"], session=session)
    client = as_role("nurse")
    kwargs = {"patient_id": clinic.on_team.pk, "session_id": session.pk}
    urls = {
        name: reverse(f"chairside:{name}", kwargs=kwargs)
        for name in ("console", "alerts", "unlock", "still_here")
    }
    return client, urls, session, record


def idle_for(client, seconds: float) -> None:  # type: ignore[no-untyped-def]
    """As if the user's last action, and the last renewal of the stored session, were that long ago."""
    stored = client.session
    stored[LAST_ACTION] = stored[RENEWED] = time.time() - seconds
    stored.save()


def signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    return "_auth_user_id" in client.session


def test_other_pages_still_idle_out(clinic, as_role, settings):
    client = as_role("nurse")
    assert client.get(reverse("patients:find")).status_code == 200
    idle_for(client, settings.SESSION_COOKIE_AGE + 1)
    response = client.get(reverse("patients:find"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/sign-in/")
    assert not signed_in(client)


def test_a_console_in_progress_keeps_its_sign_in_through_its_polls_only(console, settings):
    client, urls, _, _ = console
    assert client.get(urls["console"]).status_code == 200
    key = client.session.session_key
    idle_for(client, settings.SESSION_COOKIE_AGE + 60)
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + dt.timedelta(seconds=30)
    )
    poll = client.get(urls["alerts"], {"seen": "x"}, headers=POLL)
    assert poll.status_code == 200 and signed_in(client)
    # The poll renewed the stored session but is not an action: the user is still idle.
    assert Session.objects.get(session_key=key).expire_date > timezone.now() + dt.timedelta(
        minutes=10
    )
    assert time.time() - client.session[LAST_ACTION] > settings.SESSION_COOKIE_AGE
    # Anything else while locked signs out, even the console page itself (a reload).
    response = client.get(urls["console"])
    assert response.status_code == 302 and response["Location"].startswith("/accounts/sign-in/")
    assert not signed_in(client)


def test_a_poll_does_not_renew_the_stored_session_every_second(console):
    client, urls, _, _ = console
    client.get(urls["console"])
    key = client.session.session_key
    before = Session.objects.get(session_key=key).expire_date
    client.get(urls["alerts"], {"seen": "x"}, headers=POLL)
    assert Session.objects.get(session_key=key).expire_date == before


def test_a_poll_that_overlaps_the_unlock_does_not_put_the_idle_time_back(console, settings):
    """The poll read the session before the unlock wrote it and saves after: a save right after
    unlocking must still be an action, not a sign-out (CI saw the nurse signed out so)."""
    client, urls, _, _ = console
    client.get(urls["console"])
    idle_for(client, settings.SESSION_COOKIE_AGE + 60)  # locked, and due for a renewal
    key = client.session.session_key

    def poll_view(request):  # type: ignore[no-untyped-def]
        # The unlock, a request of its own, runs and saves while this poll is being served.
        assert client.post(urls["unlock"], {"secret": PASSWORD}).json() == {"ok": True}
        request.keep_session_alive = True
        return HttpResponse(status=204)

    request = RequestFactory().get(urls["alerts"], headers=POLL)
    request.COOKIES[settings.SESSION_COOKIE_NAME] = key
    SessionMiddleware(IdleTimeoutMiddleware(poll_view))(request)

    assert time.time() - client.session[LAST_ACTION] < 5
    assert client.get(urls["console"]).status_code == 200 and signed_in(client)


def test_the_keepalive_ends_with_the_session(console, clinic, settings):
    client, urls, session, _ = console
    client.get(urls["console"])
    DosingSession.objects.filter(pk=session.pk).update(
        status="cancelled",
        cancelled_by=clinic.staff["nurse"],
        cancelled_at=timezone.now(),
        cancel_reason="Patient felt unwell",
    )
    idle_for(client, settings.SESSION_COOKIE_AGE + 60)
    key = client.session.session_key
    soon = timezone.now() + dt.timedelta(seconds=30)
    Session.objects.filter(session_key=key).update(expire_date=soon)
    client.get(urls["alerts"], {"seen": "x"}, headers=POLL)
    assert Session.objects.get(session_key=key).expire_date == soon


def test_the_keepalive_is_bounded_by_the_booked_end(console, settings):
    client, urls, session, _ = console
    margin = dt.timedelta(minutes=settings.CONSOLE_KEEPALIVE_MARGIN_MINUTES)
    ends = timezone.now() - margin - dt.timedelta(minutes=1)
    DosingSession.objects.filter(pk=session.pk).update(
        starts_at=ends - dt.timedelta(hours=3), ends_at=ends
    )
    client.get(urls["console"])
    idle_for(client, settings.SESSION_COOKIE_AGE + 60)
    response = client.get(urls["alerts"], {"seen": "x"}, headers=POLL)
    assert "HX-Redirect" in response and not signed_in(client)


def test_only_the_same_users_secret_unlocks_and_every_try_is_audited(console, clinic, settings):
    client, urls, _, _ = console
    client.get(urls["console"])
    idle_for(client, settings.SESSION_COOKIE_AGE + 60)
    empty = client.post(urls["unlock"], {"secret": ""})
    assert empty.status_code == 400 and "password" in empty.json()["error"]
    wrong = client.post(urls["unlock"], {"secret": "someone-elses-password"})
    assert wrong.status_code == 403 and wrong.json()["signed_out"] is False
    assert "password or current authenticator code" in wrong.json()["error"]
    idle_for(client, settings.SESSION_COOKIE_AGE + 60)
    assert client.post(urls["unlock"], {"secret": PASSWORD}).json() == {"ok": True}
    assert client.get(urls["console"]).status_code == 200
    # An authenticator code works as well.
    idle_for(client, settings.SESSION_COOKIE_AGE + 60)
    device = TOTPDevice.objects.get(user=clinic.staff["nurse"])
    assert client.post(urls["unlock"], {"secret": code_for(device)}).json() == {"ok": True}
    actions = list(
        AuditEntry.objects.filter(action__startswith="auth.console_unlock")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "auth.console_unlock_refused",
        "auth.console_unlocked",
        "auth.console_unlocked",
    ]


def test_wrong_passwords_at_the_lock_count_toward_the_sign_in_lockout(console, settings):
    client, urls, _, _ = console
    client.get(urls["console"])
    idle_for(client, settings.SESSION_COOKIE_AGE + 60)
    answers = [
        client.post(urls["unlock"], {"secret": f"wrong-password-{n}"})
        for n in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert all(a.status_code == 403 for a in answers)
    assert answers[-1].json()["signed_out"] is True
    assert not signed_in(client)


def test_typing_on_the_console_counts_as_an_action(console, settings):
    client, urls, _, _ = console
    client.get(urls["console"])
    idle_for(client, settings.SESSION_COOKIE_AGE - 30)
    assert client.post(urls["still_here"]).status_code == 204
    assert time.time() - client.session[LAST_ACTION] < 5
