"""The day board (/today/): the whole page, the polled board, and checking a patient in."""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from kapstone.clinical.access import Permission
from kapstone.coverage import selectors as coverage
from kapstone.dosing.selectors import session_of
from kapstone.errors import InputError
from kapstone.messaging.selectors import unanswered_for
from kapstone.patients.models import Patient
from kapstone.today import selectors, services
from kapstone.web.actions import show_errors_as_messages
from kapstone.web.authz import requires
from kapstone.web.found import or_404
from kapstone.web.http import AuthenticatedHttpRequest


def _board_html(request: AuthenticatedHttpRequest) -> tuple[str, str]:
    board = selectors.day_board(user=request.user)
    html = render_to_string("today/_board.html", {"board": board}, request=request)
    # The CSRF token in the check-in forms changes per render; it is not part of what changed.
    version = hashlib.sha256(
        "".join(line for line in html.splitlines() if "csrfmiddlewaretoken" not in line).encode()
    ).hexdigest()[:16]
    return html, version


@requires(Permission.SEE_DAY_BOARD)
@require_GET
def board(request: AuthenticatedHttpRequest) -> HttpResponse:
    html, version = _board_html(request)
    return render(
        request,
        "today/board.html",
        {
            "board_html": html,
            "version": version,
            "tomorrow": selectors.tomorrow(user=request.user),
            "coverage_warnings": coverage.day_board_warnings(user=request.user),
            # One query: the signed-in clinician's patients whose last message awaits a reply.
            "unanswered_messages": unanswered_for(user=request.user),
        },
    )


@requires(Permission.SEE_DAY_BOARD)
@require_GET
def board_fragment(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Polled every few seconds; 204 while nothing on the board changed, so nothing flickers."""
    html, version = _board_html(request)
    if request.GET.get("seen") == version:
        return HttpResponse(status=204)
    return render(request, "today/_poller.html", {"board_html": html, "version": version})


@requires(Permission.CHECK_IN_PATIENT, patient_kwarg="patient_id")
@require_POST
def check_in(request: AuthenticatedHttpRequest, patient: Patient, session_id: int) -> HttpResponse:
    session = or_404(session_of(patient, session_id), "No such dosing session for this patient.")
    try:
        services.check_in(by=request.user, session=session)
    except InputError as exc:
        show_errors_as_messages(request, exc)
    else:
        messages.success(request, f"{patient.display_name} is checked in.")
    return redirect("today:board")
