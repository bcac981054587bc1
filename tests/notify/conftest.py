"""Shared by the notification tests: a patient's account, and the in-memory text provider emptied."""

from __future__ import annotations

import datetime as dt

import pytest

from kapstone.notify.providers.sms import MemorySmsProvider
from tests.companion.support import make_account

UTC = dt.UTC
# 10:00 in New York (the sites' default zone), a Monday: outside the default quiet hours.
DAYTIME = dt.datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
# 22:00 in New York: inside them, until 08:00 New York (13:00 UTC) the next morning.
NIGHT = dt.datetime(2026, 12, 8, 3, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _texts(settings):
    settings.SMS_PROVIDER = "memory"
    settings.KAPSTONE_BASE_URL = "https://clinic.example"
    MemorySmsProvider.outbox.clear()
    MemorySmsProvider.failing.clear()
    yield
    MemorySmsProvider.outbox.clear()
    MemorySmsProvider.failing.clear()


@pytest.fixture
def account(clinic):
    return make_account(patient=clinic.on_team, by=clinic.staff["prescriber"])
