"""On a tablet: the therapist writes an EMDR integration note after a dose, is refused an
out-of-range VOC, saves, signs (a late session asks for the reason first), sees the trend on the
Integration tab, and keeps a process note the medical director cannot open."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kapstone.accounts.models import ModalityCredential, Site
from kapstone.clinical.access import Role
from kapstone.integration.models import IntegrationNote, IntegrationStatus, ProcessNote
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible
from tests.functional.test_ledger import sign_in
from tests.functional.test_suicide_risk_alert import staff_member
from tests.shell.integration_support import EMDR, held_dose, session_after

pytestmark = pytest.mark.functional


def test_therapist_writes_signs_and_trends_an_emdr_note(live_server, page):
    base = live_server.url
    site = Site.objects.create(name="Riverside Clinic")
    prescriber, _ = staff_member("drreyes", Role.PRESCRIBER, site, "Daniel", "Reyes")
    nurse, _ = staff_member("glind", Role.NURSE, site, "Grace", "Lindqvist")
    therapist, secret = staff_member("emarkovic", Role.THERAPIST, site, "Elena", "Markovic")
    _director, director_secret = staff_member(
        "drokafor", Role.MEDICAL_DIRECTOR, site, "Miriam", "Okafor"
    )
    ModalityCredential.objects.create(therapist=therapist, modality="emdr")
    patient = make_patient(
        by=prescriber,
        mrn="KAP-8101",
        site=site,
        prescriber=prescriber,
        therapist=therapist,
        nurse=nurse,
    )
    dose = held_dose(patient, at=timezone.now() - dt.timedelta(hours=40))
    session = session_after(dose, hours=30)  # 30 h after the dose: outside the 24 h window

    sign_in(page, base, "emarkovic", secret)
    page.goto(f"{base}/patients/{patient.pk}/integration/{session.pk}/note/")
    # The session was booked for EMDR: ticked, and its fields open, already.
    expect(page.get_by_label("EMDR").first).to_be_checked()
    for name, value in EMDR.items():
        page.locator(f"[name=emdr__{name}]").fill(value)
    page.locator("[name=emdr__voc_after]").fill("9")
    page.get_by_label("Homework").fill("Container exercise each evening")
    page.get_by_label("Session narrative").fill("Worked on the accident memory.")
    # The browser's own range check would stop "9": the server's answer is what we test here.
    page.locator("form").last.evaluate("f => f.noValidate = true")
    page.get_by_role("button", name="Save the draft").click()
    expect(
        page.get_by_text("9 is out of range; accepts a whole number from 1 to 7")
    ).to_be_visible()
    assert not IntegrationNote.objects.exists()
    page.locator("[name=emdr__voc_after]").fill("5")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("Draft version 1 saved")).to_be_visible()
    expect(page.get_by_text("Signing needs a reason")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Held 30 h after the dose"))).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Sign version 1").click()
    expect(page.get_by_text(re.compile("Say why you sign despite"))).to_be_visible()
    page.get_by_label("Reason for signing despite the warnings").fill(
        "Patient too drowsy the same day; seen the next afternoon"
    )
    page.get_by_role("button", name="Sign version 1").click()
    expect(page.get_by_text("Note signed; the session is completed.")).to_be_visible()
    session.refresh_from_db()
    assert session.status == IntegrationStatus.COMPLETED
    assert_accessible(page)

    page.get_by_role("link", name="Integration", exact=True).click()
    table = page.locator("table.integration-trend")
    expect(table).to_contain_text("8 → 3")
    expect(table).to_contain_text("2 → 5")
    expect(page.locator("figure.integration-chart svg").first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Process notes").click()
    page.get_by_role("link", name="Write a process note").click()
    page.get_by_label("Process note").fill("Felt protective of the patient; bring to supervision.")
    page.get_by_role("button", name="Save the process note").click()
    expect(page.get_by_text("Process note saved.")).to_be_visible()
    assert_accessible(page)
    note = ProcessNote.objects.get()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, base, "drokafor", director_secret)
    response = page.goto(f"{base}/patients/{patient.pk}/integration/process-notes/{note.pk}/")
    assert response is not None and response.status == 404
    expect(page.get_by_text("bring to supervision")).to_have_count(0)
