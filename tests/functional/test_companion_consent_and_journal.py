"""On a phone, a patient reads and signs the consent of their treatment plan, reads their
relapse-prevention plan, and writes a journal entry ticking their homework, shared with their
therapist; on a tablet, the therapist sees it beside the next integration note."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kapstone.accounts.models import Site
from kapstone.clinical.access import Role
from kapstone.consents.models import ConsentSignature
from kapstone.consents.services import ensure_first_document
from kapstone.journal.models import JournalEntry
from kapstone.plans import services as plan_services
from tests.companion.plan_support import HOMEWORK, signed_homework_note
from tests.companion.support import make_account, patient_cookie
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible
from tests.functional.test_ledger import sign_in
from tests.functional.test_questionnaire_link import PHONE, fits_the_screen, watched_page
from tests.functional.test_suicide_risk_alert import staff_member
from tests.shell.intake_support import signed_eligibility_for
from tests.shell.integration_support import held_dose, session_after
from tests.shell.plans_support import RELAPSE, ready_to_sign

pytestmark = pytest.mark.functional
REFLECTION = "The calm place helped on Tuesday; Sam noticed I laughed more."


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield context
    context.close()


def test_consent_plan_and_journal_on_a_phone_then_the_therapist_reads_it(live_server, phone, page):
    base = live_server.url
    site = Site.objects.create(name="Riverside Clinic")
    prescriber, _ = staff_member("drreyes", Role.PRESCRIBER, site, "Daniel", "Reyes")
    nurse, _ = staff_member("glind", Role.NURSE, site, "Grace", "Lindqvist")
    therapist, secret = staff_member("emarkovic", Role.THERAPIST, site, "Elena", "Markovic")
    patient = make_patient(
        by=prescriber,
        mrn="KAP-9201",
        site=site,
        prescriber=prescriber,
        therapist=therapist,
        nurse=nurse,
    )
    signed_eligibility_for(patient, prescriber)
    plan_services.sign_plan(by=prescriber, plan=ready_to_sign(patient, prescriber, therapist))
    ensure_first_document(at=timezone.now())  # the live server's database was flushed
    signed_homework_note(patient)
    account = make_account(patient=patient, by=prescriber)
    phone.add_cookies([patient_cookie(account, base)])
    mobile = watched_page(phone)

    # Consent: the text, then a signature by typed name and a tick.
    mobile.goto(f"{base}/me/consent/")
    mobile.get_by_role("heading", name="Consent to your treatment").wait_for()
    expect(
        mobile.get_by_text("What ketamine is and why it is offered", exact=False)
    ).to_be_visible()
    assert_accessible(mobile)
    assert fits_the_screen(mobile)
    mobile.get_by_role("button", name="Sign my consent").click()
    expect(mobile.get_by_text("Type your full name to sign.")).to_be_visible()
    assert_accessible(mobile)
    mobile.get_by_label("Your full name").fill("Ada Lovelace")
    mobile.get_by_label("I have read and understood this consent").check()
    mobile.get_by_role("button", name="Sign my consent").click()
    mobile.get_by_role("heading", name="You have signed this consent").wait_for()
    assert ConsentSignature.objects.get().typed_name == "Ada Lovelace"
    assert_accessible(mobile)

    # The relapse-prevention plan, read-only, with the crisis lines first.
    mobile.get_by_role("link", name="My plan", exact=True).click()
    mobile.get_by_role("heading", name="My plan for staying well").wait_for()
    expect(mobile.get_by_text(RELAPSE.actions)).to_be_visible()
    assert_accessible(mobile)
    assert fits_the_screen(mobile)

    # The journal: an entry with a homework tick, shared with the therapist.
    mobile.get_by_role("link", name="Journal", exact=True).click()
    mobile.get_by_role("heading", name="My journal").wait_for()
    assert_accessible(mobile)
    mobile.get_by_role("link", name="Write a new entry").click()
    mobile.get_by_role("heading", name="New journal entry").wait_for()
    mobile.get_by_label("What is on your mind?").fill(REFLECTION)
    mobile.get_by_label("How is your mood today?", exact=False).select_option("7")
    first = mobile.get_by_role("group", name=HOMEWORK[0])
    first.get_by_label("Done", exact=True).check()
    first.get_by_label("A note about it (optional)").fill("Five mornings out of seven")
    mobile.get_by_label("Let my therapist read this entry").check()
    assert_accessible(mobile)
    assert fits_the_screen(mobile)
    mobile.get_by_role("button", name="Save entry").click()
    expect(mobile.get_by_text("Saved. Your therapist can read this entry.")).to_be_visible()
    expect(mobile.get_by_text("Shared with my therapist")).to_be_visible()
    assert_accessible(mobile)
    entry = JournalEntry.objects.get()
    assert entry.shared_with_therapist and entry.homework[0]["done"] is True

    # The therapist, on a tablet, opens the next integration note: the entry is beside it.
    dose = held_dose(patient, at=timezone.now() - dt.timedelta(hours=3))
    next_session = session_after(dose, hours=1)
    sign_in(page, base, "emarkovic", secret)
    page.goto(f"{base}/patients/{patient.pk}/integration/{next_session.pk}/note/")
    panel = page.get_by_role("region", name="From the patient's journal (shared with you)")
    expect(panel.get_by_text(REFLECTION)).to_be_visible()
    expect(panel.get_by_text("Five mornings out of seven", exact=False)).to_be_visible()
    assert_accessible(page)
