"""On a tablet: a nurse opens the REMS queue, prepares the form of a signed esketamine session with
the button, reads what Kapstone could not fill, downloads the PDF and records the filing with the
portal's confirmation number; an older unfiled form stays highlighted as overdue."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from kapstone.accounts.models import Site
from kapstone.clinical.access import Role
from kapstone.rems.models import RemsFiling
from kapstone.rems.services import prepare_form
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible
from tests.functional.test_ledger import sign_in
from tests.functional.test_suicide_risk_alert import staff_member
from tests.shell.rems_support import NEW_YORK, signed_esketamine_session

pytestmark = pytest.mark.functional


def test_prepare_read_download_and_file_a_rems_form(live_server, page):
    base = live_server.url
    site = Site.objects.create(name="Riverside Clinic", address="120 River Road, Portland, ME")
    nurse, secret = staff_member("glindqvist", Role.NURSE, site, "Grace", "Lindqvist")
    prescriber, _ = staff_member("drreyes", Role.PRESCRIBER, site, "Daniel", "Reyes")
    patient = make_patient(
        by=prescriber,
        mrn="KAP-7301",
        site=site,
        given_name="Noor",
        family_name="Haddad",
        prescriber=prescriber,
        nurse=nurse,
    )
    # An older session whose form is already overdue, and the session signed this morning.
    old = signed_esketamine_session(
        patient,
        nurse=nurse,
        prescriber=prescriber,
        start=dt.datetime(2026, 11, 1, 9, 5, tzinfo=NEW_YORK),
    )
    prepare_form(session=old.session, by=nurse)
    signed_esketamine_session(patient, nurse=nurse, prescriber=prescriber)

    sign_in(page, base, "glindqvist", secret)
    page.get_by_role("link", name="REMS forms").first.click()
    page.get_by_role("heading", name="Spravato REMS monitoring forms").wait_for()
    overdue = page.locator("tr.rems-overdue")
    assert "Noor Haddad" in overdue.inner_text()
    assert "Overdue" in overdue.inner_text()
    assert_accessible(page)

    page.get_by_role("button", name="Prepare 1 form").click()
    page.get_by_text("1 REMS monitoring form(s) prepared.").wait_for()
    page.get_by_role("link", name="Open the form of Noor Haddad, 20 Nov 2026").click()
    page.get_by_role("heading", name="To complete on the portal").wait_for()
    text = page.locator("main").inner_text()
    for expected in ("56 mg (2 devices)", "152/94", "128/82", "126/80", "ESK-24A117"):
        assert expected in text, expected
    assert "REMS patient enrolment is not recorded in Kapstone" in text
    assert_accessible(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PDF").click()
    assert re.fullmatch(r"rems-pmf-2026-11-20-[0-9a-f]{10}\.pdf", download.value.suggested_filename)

    page.get_by_role("link", name="Record as filed").click()
    assert_accessible(page)
    page.get_by_role("button", name="Record as filed").click()
    page.get_by_text("Give the REMS confirmation number").wait_for()
    page.get_by_label("REMS confirmation number").fill("PMF-552310")
    page.get_by_role("button", name="Record as filed").click()
    page.get_by_text("Recorded as filed.").wait_for()
    assert "confirmation number PMF-552310" in page.locator("main").inner_text()
    filing = RemsFiling.objects.get()
    assert (filing.confirmation_number, filing.recorded_by) == ("PMF-552310", nurse)
