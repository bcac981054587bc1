"""The crisis resources a patient sees are the clinic's own (settings), on every patient page."""

from __future__ import annotations

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_a_refused_link_still_shows_the_default_988_and_911(client):
    page = client.get("/q/not-a-real-token/").content.decode()
    assert "If you are in crisis" in page
    assert 'href="tel:988"' in page and 'href="sms:988"' in page and 'href="tel:911"' in page


@override_settings(
    CRISIS_LINE_NAME="Samaritans",
    CRISIS_LINE_CALL="116 123",
    CRISIS_LINE_TEXT="",
    EMERGENCY_NUMBER="999",
    CRISIS_EXTRA="Our clinic: 01632 960 001, 8am to 6pm.",
)
def test_a_clinic_sets_its_own_crisis_line_and_emergency_number(client):
    page = client.get("/kiosk/").content.decode()
    assert "Samaritans" in page and 'href="tel:116123"' in page and "116 123" in page
    assert "sms:" not in page  # no text line configured, none offered
    assert 'href="tel:999"' in page and "911" not in page and "988" not in page
    assert "Our clinic: 01632 960 001, 8am to 6pm." in page
