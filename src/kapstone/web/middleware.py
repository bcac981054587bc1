from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY as AUTH_SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import Resolver404, ResolverMatch, resolve

from kapstone.audit.request_context import new_request_id, reset_request_id, set_request_id


class RequestIdMiddleware:
    """Gives each request an id that its audit rows carry and the response echoes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id()
        setattr(request, "request_id", request_id)  # noqa: B010 (an attribute HttpRequest lacks)
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        return response


class NoStoreMiddleware:
    """Pages with patient data must not linger in a shared tablet's browser cache."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            response.setdefault("Cache-Control", "no-store")
        return response


# Sent by every element that refreshes itself on a timer (hx-headers on the polling element).
POLL_HEADER = "X-Kapstone-Poll"
# Seconds since the epoch of the user's last action (a request without the poll header).
LAST_ACTION = "kapstone_last_action"
# When the stored session's expiry was last pushed forward (it lasts SESSION_COOKIE_AGE from then).
RENEWED = "kapstone_session_renewed"
# {dosing session id (str): epoch seconds}: consoles whose polls keep the session alive until then.
CONSOLE_KEEPALIVE = "kapstone_console_keepalive"


def idle_seconds() -> int:
    return int(settings.SESSION_COOKIE_AGE)


def console_kept_alive(session: SessionBase, now: float | None = None) -> bool:
    """True while an open console of a session in progress may outlive the idle time (locked)."""
    now = time.time() if now is None else now
    return any(until > now for until in session.get(CONSOLE_KEEPALIVE, {}).values())


class IdleTimeoutMiddleware:
    """A session lasts IDLE_MINUTES past the user's last action, not past the last request.

    Pages poll in the background (the alert banner every 30 s, the chair-side alerts every second);
    if those renewed the session, a tablet left open would never sign out. So only requests without
    the poll header count as an action, and SESSION_SAVE_EVERY_REQUEST stays off.

    The one exception is the chair-side console of a session in progress (post-dose checks are 30
    minutes apart): its alerts poll marks the request ``keep_session_alive`` (see
    kapstone.chairside.views), which renews the stored session without counting as an action, at
    most until the session's expected end plus a margin. Past the idle time the console's page locks
    itself and only its polls and the unlock endpoint (``allows_locked``) are served; any other
    request signs the user out here, before the view runs, exactly as an expired session would.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is None or session.is_empty():
            return self.get_response(request)
        if AUTH_SESSION_KEY not in session:
            # A patient's tablet session holds only its questionnaire token and keeps its own
            # shorter expiry: an action renews it, and nothing of the staff lock is stored in it.
            response = self.get_response(request)
            if POLL_HEADER not in request.headers and not session.is_empty():
                session.modified = True
            return response
        now = time.time()
        poll = POLL_HEADER in request.headers
        last = session.get(LAST_ACTION)
        idle = last is not None and now - last > idle_seconds()
        if idle and not (console_kept_alive(session, now) and (poll or _allows_locked(request))):
            session.flush()
            return self.get_response(request)
        response = self.get_response(request)
        if session.is_empty():
            return response
        if AUTH_SESSION_KEY not in session:  # signed out, or handed over to a patient, just now
            if not poll:
                session.modified = True
            return response
        if not poll and not _allows_locked(request):
            # The unlock endpoint renews the session itself, and only when the secret was right.
            session[LAST_ACTION] = session[RENEWED] = now
        elif getattr(request, "keep_session_alive", False) and (
            now - session.get(RENEWED, 0) > idle_seconds() / 3
        ):
            # A console polls every second; writing the session each time would be a write a
            # second per tablet, so renew it only when a third of its lifetime has gone.
            _renew_as_stored(session, now)
        return response


def _renew_as_stored(session: SessionBase, now: float) -> None:
    """Renews the stored session as it is now, not as this poll read it.

    Saving writes the whole session, and a poll runs beside the console's other requests: had it
    read the session before an unlock (or a save) wrote the user's last action, saving its copy
    would put the old, idle one back, and the nurse's next save would sign her out. A poll stores
    nothing of its own in the session, so taking the stored copy loses nothing.
    """
    stored = type(session)(session.session_key).load()
    if AUTH_SESSION_KEY not in stored:
        return  # signed out while this poll ran: nothing to keep alive
    session.clear()
    session.update(stored)
    session[RENEWED] = now


def _allows_locked(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None) or _resolve(request.path_info)
    return match is not None and getattr(match.func, "allows_locked", False)


def _resolve(path: str) -> ResolverMatch | None:
    try:
        return resolve(path)
    except Resolver404:
        return None


def allows_locked[V: Callable[..., HttpResponseBase]](view: V) -> V:
    """Marks a view (the unlock endpoint) as reachable while a kept-alive console is locked."""
    setattr(view, "allows_locked", True)  # noqa: B010 (a function takes attributes only so)
    return view
