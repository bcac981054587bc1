"""Walks every patient URL (views marked ``kapstone_access == "patient"`` by ``patient_only``) as:

- the patient themselves (A): the page, or a redirect that stays within ``/me/``;
- another patient (B), signed in as themselves: never A's data. A URL that names an object (its
  kwargs come from ``tests/companion/samples.py``, an object of A's) answers B with 404; any other
  URL shows B their own page, without A's name or MRN;
- a member of staff with a verified staff session: sent to the companion's sign-in;
- anyone not signed in: sent to the companion's sign-in.

A view that refuses GET (405) is walked with POST, as its form would send it (no fields).
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse

from kapstone.companion.models import PatientAccount
from tests.companion.samples import SAMPLES
from tests.companion.support import make_account, patient_client
from tests.conftest import verified_client
from tests.shell.test_access_every_url import walk

pytestmark = pytest.mark.django_db
SIGN_IN = "/me/sign-in/"


def patient_urls() -> list[tuple[str, URLPattern]]:
    return [
        (name, pattern)
        for name, pattern in walk(get_resolver())
        if getattr(pattern.callback, "kapstone_access", None) == "patient"
    ]


def _url(name: str, pattern: URLPattern, account: PatientAccount) -> str:
    wanted = set(pattern.pattern.regex.groupindex)
    if not wanted:
        return reverse(name)
    if name not in SAMPLES:
        pytest.fail(
            f"{name} takes {sorted(wanted)}: register a sample for it in "
            "tests/companion/samples.py (SAMPLES[name] = lambda account: {...}, an object that "
            "belongs to the account's patient), so the walker can check that no other patient "
            "reaches it."
        )
    return reverse(name, kwargs=SAMPLES[name](account))


def _visit(client: Client, url: str):
    """GET, or POST (no fields) when the view takes only POST."""
    response = client.get(url)
    if response.status_code == 405:
        return client.post(url), "POST"
    return response, "GET"


def _stays_in_companion(response) -> bool:
    if response.status_code < 300:
        return True
    if response.status_code in {301, 302, 303, 307, 308}:
        return response["Location"].startswith("/me/")
    return False


@pytest.fixture
def accounts(clinic):
    a = make_account(patient=clinic.on_team, by=clinic.staff["nurse"])
    b = make_account(patient=clinic.elsewhere, by=clinic.staff["nurse"])
    return a, b


def test_the_walker_finds_the_patient_pages():
    names = {name for name, _ in patient_urls()}
    assert {"companion:home", "companion:settings", "companion:password"} <= names


def test_the_patient_gets_their_own_pages(accounts):
    a, _ = accounts
    for name, pattern in patient_urls():
        url = _url(name, pattern, a)
        response, method = _visit(patient_client(Client(), a), url)
        # A form posted with no fields may answer 400 (it says what is missing): not a refusal.
        ok = _stays_in_companion(response) or (method == "POST" and response.status_code == 400)
        assert ok, f"patient A {method} {url}: {response.status_code} {response.get('Location')}"
        assert "Content-Security-Policy" in response.headers, url


def test_another_patient_never_sees_the_first_patients_data(accounts):
    a, b = accounts
    patient_a = a.patient
    for name, pattern in patient_urls():
        url = _url(name, pattern, a)
        response, method = _visit(patient_client(Client(), b), url)
        if pattern.pattern.regex.groupindex:
            assert response.status_code == 404, (
                f"patient B {method} {url} (A's object): {response.status_code}"
            )
            continue
        assert _stays_in_companion(response) or response.status_code == 400, (
            f"patient B {method} {url}: {response.status_code}"
        )
        body = response.content.decode(errors="replace")
        for fact in (patient_a.family_name, patient_a.mrn):
            assert fact not in body, f"patient B {method} {url} shows patient A's {fact!r}"


def test_staff_sessions_are_sent_to_the_companion_sign_in(accounts, clinic):
    a, _ = accounts
    staff = verified_client(Client(), clinic.staff["medical_director"])
    for name, pattern in patient_urls():
        url = _url(name, pattern, a)
        response, method = _visit(staff, url)
        assert response.status_code == 302, f"staff {method} {url}: {response.status_code}"
        assert response["Location"].startswith(SIGN_IN), url


def test_anonymous_visitors_are_sent_to_the_companion_sign_in(accounts):
    a, _ = accounts
    for name, pattern in patient_urls():
        url = _url(name, pattern, a)
        response, method = _visit(Client(), url)
        assert response.status_code == 302, f"anonymous {method} {url}: {response.status_code}"
        assert response["Location"].startswith(SIGN_IN), url


def test_a_url_with_arguments_and_no_sample_fails_the_walk(accounts):
    from django.urls import path

    from kapstone.companion.access import patient_only

    @patient_only
    def entry(request, entry_id, *, account, patient):  # pragma: no cover - never served
        raise AssertionError

    pattern = path("journal/<int:entry_id>/", entry, name="entry")
    with pytest.raises(pytest.fail.Exception, match="register a sample"):
        _url("journal:unregistered_entry", pattern, accounts[0])
