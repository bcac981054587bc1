"""The chair-side console of a session in progress locks instead of signing out (issue 15, point 2).

Post-dose checks are 30 minutes apart and sign-ins idle out after 15 minutes; here the idle time is
shortened to a few seconds. The nurse types a reading and walks away: the console covers itself, and
the typed values are still there after she unlocks with her password, and they save. A colleague at
the locked tablet can only sign out; every other page still ends in the sign-in page.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from kapstone.accounts.models import Site
from kapstone.audit.models import AuditEntry
from kapstone.chairside import services
from kapstone.chairside.models import ChairsideRecord
from kapstone.clinical.access import Role
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible
from tests.functional.test_chairside_session import local
from tests.functional.test_intake_to_plan import TABLET, sign_in
from tests.functional.test_questionnaire_link import watched_page
from tests.functional.test_suicide_risk_alert import PASSWORD, staff_member
from tests.shell.chairside_support import past_session, signed_plan_for

pytestmark = pytest.mark.functional

# Seconds, instead of 15 minutes. The nurse's steps between unlocking and saving must fit in it:
# at 6 s, on a fully loaded two-core machine, they once did not (the save found her signed out).
IDLE = 10


@pytest.fixture
def clinic(settings):  # type: ignore[no-untyped-def]
    settings.SESSION_COOKIE_AGE = IDLE
    site = Site.objects.create(name="Riverside Clinic")
    nurse, nurse_secret = staff_member("nokafor", Role.NURSE, site, "Ngozi", "Okafor")
    prescriber, _ = staff_member("drreyes", Role.PRESCRIBER, site, "Daniel", "Reyes")
    therapist, _ = staff_member("emarkovic", Role.THERAPIST, site, "Elena", "Markovic")
    patient = make_patient(
        by=prescriber,
        mrn="KAP-7302",
        site=site,
        given_name="Noor",
        family_name="Haddad",
        prescriber=prescriber,
        therapist=therapist,
        nurse=nurse,
    )
    team = SimpleNamespace(
        on_team=patient, staff={"prescriber": prescriber, "therapist": therapist}
    )
    session = past_session(team, began_minutes_ago=20, plan=signed_plan_for(team))
    services.open_record(by=nurse, session=session)
    return SimpleNamespace(
        nurse=nurse, secret=nurse_secret, patient=patient, session=session, site=site
    )


def idle_out(page) -> None:  # type: ignore[no-untyped-def]
    """Leaves the tablet alone until the server's idle time has certainly passed."""
    page.wait_for_timeout((IDLE + 3) * 1000)


def test_a_console_in_progress_locks_and_keeps_what_was_typed(live_server, page, clinic):
    c = clinic
    base = live_server.url
    sign_in(page, base, "nokafor", c.secret)
    console = f"{base}/patients/{c.patient.pk}/dosing/{c.session.pk}/console/"
    page.goto(console)
    form = page.locator("#vitals form.vitals-form")
    form.get_by_label("Taken at").fill(local(c.session, 18))
    form.get_by_label("Systolic (mmHg)").fill("128")
    form.get_by_label("Diastolic (mmHg)").fill("82")
    form.get_by_label("Heart rate (bpm)").fill("76")
    form.get_by_label("SpO2 (%)").fill("97")
    form.get_by_label("Respiratory rate (/min)").fill("14")

    # Nobody touches the tablet: the console locks and hides the patient, but stays on the page.
    lock = page.get_by_role("dialog", name="Console locked")
    lock.wait_for(timeout=(IDLE + 5) * 1000)
    expect(page.get_by_text("Systolic (mmHg)")).to_be_hidden()
    expect(page.get_by_text("Haddad").first).to_be_hidden()
    assert_accessible(page)
    idle_out(page)  # well past the server's idle time: its polls kept the sign-in, locked
    assert page.url == console

    # A wrong password is refused, counted and audited; her own password unlocks.
    lock.get_by_label("Your password or authenticator code").fill("not-my-password-at-all")
    lock.get_by_role("button", name="Unlock").click()
    lock.get_by_text(
        "That is not Ngozi Okafor's password or current authenticator code."
    ).wait_for()
    lock.get_by_label("Your password or authenticator code").fill(PASSWORD)
    lock.get_by_role("button", name="Unlock").click()
    expect(lock).to_be_hidden()
    assert form.get_by_label("Systolic (mmHg)").input_value() == "128"
    assert form.get_by_label("Respiratory rate (/min)").input_value() == "14"
    form.get_by_role("button", name="Save the reading").click()
    page.get_by_text("Vitals saved.").wait_for()
    expect(page.locator("tr[data-reading]")).to_have_count(1)
    assert ChairsideRecord.objects.get(session=c.session).vitals.get().systolic == 128
    actions = list(
        AuditEntry.objects.filter(action__startswith="auth.console_unlock")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["auth.console_unlock_refused", "auth.console_unlocked"]


def test_at_a_locked_console_a_colleague_signs_out_and_other_pages_still_idle_out(
    live_server, browser, page, clinic
):
    c = clinic
    base = live_server.url
    sign_in(page, base, "nokafor", c.secret)
    page.goto(f"{base}/patients/{c.patient.pk}/dosing/{c.session.pk}/console/")
    # The same nurse also signed in on the front desk's computer, where she left the chart open.
    desk = browser.new_context(viewport=TABLET)
    other = watched_page(desk)
    sign_in(other, base, "nokafor", c.secret)
    other.goto(f"{base}/patients/{c.patient.pk}/")

    lock = page.get_by_role("dialog", name="Console locked")
    lock.wait_for(timeout=(IDLE + 5) * 1000)
    idle_out(page)
    other.reload()
    expect(other).to_have_url(re.compile(r"/accounts/sign-in/"))
    other.get_by_label("Username").wait_for()

    # A colleague at the locked console cannot unlock it; they sign out and sign in themselves.
    lock.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/"))
    page.get_by_text("You are signed out.").wait_for()
    desk.close()
