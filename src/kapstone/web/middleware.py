from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from kapstone.audit.request_context import new_request_id, reset_request_id, set_request_id


class RequestIdMiddleware:
    """Gives each request an id that its audit rows carry and the response echoes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
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


class IdleTimeoutMiddleware:
    """A session lasts IDLE_MINUTES past the user's last action, not past the last request.

    Pages poll in the background (the alert banner every 30 s, the chair-side alerts every 3 s);
    if those renewed the session, a tablet left on the console would never sign out. So only
    requests without the poll header push the expiry forward (Django saves a modified session with
    a fresh expiry), and SESSION_SAVE_EVERY_REQUEST stays off.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and POLL_HEADER not in request.headers and not session.is_empty():
            session.modified = True
        return response
