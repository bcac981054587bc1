"""With DEBUG on, debug pages only for the developer's machine; no report ever shows a patient's data."""

from __future__ import annotations

import sys

import pytest
from django.test import Client, RequestFactory
from django.views.debug import get_exception_reporter_class

from tests.shell.debug_urls import ChartFailed, failing_chart

pytestmark = pytest.mark.urls("tests.shell.debug_urls")

# Details of patient A (conftest's clinic) that must never appear in a report.
PATIENT_DATA = ("Lovelace", "Ada", "1985-12-10", "1985, 12, 10", "MRN-1001")


@pytest.fixture
def debug_client(settings):
    settings.DEBUG = True
    return Client(raise_request_exception=False)


def fail(client: Client, clinic, *, address: str):
    client.cookies["remember_patient"] = "Lovelace"
    return client.post(
        f"/test-failing-chart/{clinic.on_team.pk}/?q=Lovelace",
        {"family_name": "Lovelace"},
        REMOTE_ADDR=address,
        HTTP_REFERER="http://clinic.example/patients/?q=Ada+Lovelace",
        HTTP_ACCEPT="text/html",
    )


@pytest.mark.parametrize("address", ["10.0.0.9", "192.168.1.20", "2001:db8::5"])
def test_someone_elses_machine_gets_the_plain_500_page(clinic, debug_client, address):
    response = fail(debug_client, clinic, address=address)
    assert response.status_code == 500
    page = response.content.decode()
    assert "Traceback" not in page
    assert "ChartFailed" not in page
    assert "Server Error (500)" in page


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.1.1", "::1"])
def test_the_developers_machine_gets_the_debug_page_without_the_patient(
    clinic, debug_client, address
):
    response = fail(debug_client, clinic, address=address)
    assert response.status_code == 500
    page = response.content.decode()
    assert "ChartFailed" in page and "Traceback" in page  # the debug page, with its frames
    assert "&lt;Patient: value hidden&gt;" in page  # the local is named, its value is not shown
    assert "family_name" in page and "remember_patient" in page  # what was sent, by name only
    for detail in PATIENT_DATA:
        assert detail not in page, detail


def test_error_emails_carry_the_cleansed_report(clinic):
    request = RequestFactory().post(
        f"/test-failing-chart/{clinic.on_team.pk}/?q=Lovelace",
        {"family_name": "Lovelace"},
        REMOTE_ADDR="10.0.0.9",
    )
    try:
        failing_chart(request, clinic.on_team.pk)
    except ChartFailed:
        exc_info = sys.exc_info()
    reporter = get_exception_reporter_class(request)(request, *exc_info, is_email=True)
    html = reporter.get_traceback_html()
    assert "&lt;Patient: value hidden&gt;" in html  # the HTML part lists each frame's locals
    for report in (reporter.get_traceback_text(), html):
        assert "ChartFailed" in report  # the full report, though the request was not local
        for detail in PATIENT_DATA:
            assert detail not in report, detail


def test_the_debug_404_page_is_for_the_developers_machine_only(db, debug_client):
    elsewhere = debug_client.get("/no-such-page/", REMOTE_ADDR="10.0.0.9")
    assert elsewhere.status_code == 404
    assert "URLconf" not in elsewhere.content.decode()
    local = debug_client.get("/no-such-page/", REMOTE_ADDR="127.0.0.1")
    assert local.status_code == 404
    assert "URLconf" in local.content.decode()


def test_without_debug_everyone_gets_the_plain_page(clinic, settings):
    settings.DEBUG = False
    response = fail(Client(raise_request_exception=False), clinic, address="127.0.0.1")
    assert response.status_code == 500
    assert "Traceback" not in response.content.decode()
