"""Error reports that never carry a patient's data, and debug pages only for the developer's machine.

With ``DEBUG`` on (``make run``), Django answers an error with a page showing every frame's local
variables and the request's parameters, cookies and headers: a patient's name, date of birth or
notes, to whoever sent the request. Here:

* the debug pages (500 and 404) are shown only to a request from a loopback address (the developer's
  own browser); anyone else gets the plain error page production shows;
* every report (debug page, error e-mail, log) shows local variables by type only, and the request's
  GET, POST, cookie and header values cleansed (names kept, so the developer still sees what was
  sent).

The address is REMOTE_ADDR as the server saw it; behind a reverse proxy every request looks local,
which is one reason production refuses DEBUG altogether.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, get_resolver
from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter
from django.views.defaults import server_error

from kapstone.web.errors import not_found

CLEANSED = "********************"
# Headers that say how the request was made, never what it was about.
SAFE_META = frozenset(
    {
        "REQUEST_METHOD",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "SERVER_SOFTWARE",
        "SCRIPT_NAME",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "REMOTE_ADDR",
        "HTTP_HOST",
        "HTTP_USER_AGENT",
        "HTTP_ACCEPT",
        "HTTP_ACCEPT_ENCODING",
        "HTTP_ACCEPT_LANGUAGE",
        "HTTP_CONNECTION",
        "HTTP_X_REQUEST_ID",
        "wsgi.url_scheme",
        "wsgi.version",
        "wsgi.multithread",
        "wsgi.multiprocess",
        "wsgi.run_once",
    }
)


def from_loopback(request: HttpRequest | None) -> bool:
    address = (request.META.get("REMOTE_ADDR") or "") if request is not None else ""
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


class _Hidden:
    """Stands in for a value in a report: its type, which helps debugging, and nothing of it."""

    def __init__(self, value: object) -> None:
        self.kind = type(value).__qualname__

    def __repr__(self) -> str:
        return f"<{self.kind}: value hidden>"


def hide(value: Any) -> Any:
    # None, booleans and whole numbers (flags, counts, database ids) carry no one's details.
    if value is None or isinstance(value, bool | int):
        return value
    return _Hidden(value)


class PatientSafeReporterFilter(SafeExceptionReporterFilter):
    """Cleanses every local variable and every request value, DEBUG or not."""

    def is_active(self, request: HttpRequest | None) -> bool:
        return True

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        return [(name, hide(value)) for name, value in tb_frame.f_locals.items()]

    def get_post_parameters(self, request: HttpRequest | None) -> dict[str, str]:
        if request is None:
            return {}
        return dict.fromkeys(request.POST, CLEANSED)

    def get_safe_cookies(self, request: HttpRequest) -> dict[str, str]:
        return dict.fromkeys(getattr(request, "COOKIES", {}), CLEANSED)

    def get_safe_request_meta(self, request: HttpRequest) -> dict[str, Any]:
        if not hasattr(request, "META"):
            return {}
        return {
            key: (self.cleanse_setting(key, value) if key in SAFE_META else CLEANSED)
            for key, value in request.META.items()
        }


class LoopbackOnlyExceptionReporter(ExceptionReporter):
    """Django's debug page for the developer's machine; the plain 500 page for anyone else.

    Error e-mails (``is_email``) always get the full, cleansed report.
    """

    def _for_someone_else(self) -> bool:
        return not self.is_email and self.request is not None and not from_loopback(self.request)

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if self.request is not None:
            # Query strings and uploaded file names are the request's contents too.
            data["request_GET_items"] = [(key, CLEANSED) for key in self.request.GET]
            data["request_FILES_items"] = [(key, CLEANSED) for key in self.request.FILES]
            data["request_insecure_uri"] = data["request_insecure_uri"].split("?", 1)[0]
        return data

    def get_traceback_html(self) -> SafeString:
        if self._for_someone_else():
            assert self.request is not None
            return mark_safe(server_error(self.request).content.decode())  # noqa: S308 - our own page
        return super().get_traceback_html()

    def get_traceback_text(self) -> SafeString:
        if self._for_someone_else():
            return SafeString("Server Error (500)")
        return super().get_traceback_text()


class LoopbackOnlyDebug404Middleware:
    """With DEBUG on, Django's 404 page lists every URL pattern; only the developer's machine sees it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.DEBUG and not from_loopback(request):
            try:
                get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
            except Resolver404:
                return self._not_found(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if settings.DEBUG and isinstance(exception, Http404) and not from_loopback(request):
            return self._not_found(request)
        return None

    def _not_found(self, request: HttpRequest) -> HttpResponse:
        return not_found(request, Http404())
