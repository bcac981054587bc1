"""Issue 20's journey, whole, on a phone: the therapist invites Ada from her chart; Ada opens the
e-mailed link and chooses a password, ticks her preparation checklist, signs her consent, answers
the questionnaire due, writes a journal entry shared with her therapist, writes to her care team
and reads the therapist's reply, and opens her relapse-prevention plan. axe checks every page;
nothing may be wider than the phone. (Each step's details and errors are walked in the step's own
browser test: test_companion_accounts, _program, _consent_and_journal, _messages.)"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from kapstone.accounts.models import Site
from kapstone.assessments.services import send_questionnaires
from kapstone.clinical.access import Role
from kapstone.consents.models import ConsentSignature
from kapstone.consents.services import ensure_first_document
from kapstone.dosing.services import book_dosing_session
from kapstone.journal.models import JournalEntry
from kapstone.plans import services as plan_services
from kapstone.preparation.models import PreparationAnswer
from tests.companion.plan_support import HOMEWORK, signed_homework_note
from tests.companion.program_support import next_day_at
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible
from tests.functional.test_intake_to_plan import TABLET
from tests.functional.test_intake_to_plan import sign_in as staff_sign_in
from tests.functional.test_questionnaire_link import PHONE, fits_the_screen, watched_page
from tests.functional.test_suicide_risk_alert import staff_member
from tests.shell.intake_support import signed_eligibility_for
from tests.shell.plans_support import RELAPSE, ready_to_sign

pytestmark = pytest.mark.functional
LINK = re.compile(r"https?://\S+?(/me/sign-in/link/[A-Za-z0-9_-]+/)")
PASSWORD = "lantern-harbour-teacup-42"


def checked(page) -> None:
    assert_accessible(page)
    assert fits_the_screen(page), page.url


def test_from_the_invitation_to_the_relapse_plan_on_a_phone(live_server, browser):
    base = live_server.url
    site = Site.objects.create(name="Riverside Clinic", address="12 River Road, Springfield")
    prescriber, _ = staff_member("drreyes", Role.PRESCRIBER, site, "Daniel", "Reyes")
    nurse, _ = staff_member("glind", Role.NURSE, site, "Grace", "Lindqvist")
    therapist, secret = staff_member("emarkovic", Role.THERAPIST, site, "Elena", "Markovic")
    patient = make_patient(
        by=prescriber,
        mrn="KAP-9401",
        site=site,
        prescriber=prescriber,
        therapist=therapist,
        nurse=nurse,
        email="ada@example.invalid",
    )
    signed_eligibility_for(patient, prescriber)
    plan = ready_to_sign(patient, prescriber, therapist)
    plan_services.sign_plan(by=prescriber, plan=plan)
    ensure_first_document(at=timezone.now())  # the live server's database was flushed
    signed_homework_note(patient)
    session = book_dosing_session(
        by=prescriber, patient=patient, starts_at=next_day_at(10, 2), plan=plan
    )
    send_questionnaires(by=prescriber, patient=patient, instruments=["gad7"])

    # The therapist, on the clinic's tablet, invites Ada from her chart.
    desk = browser.new_context(viewport=TABLET)
    tablet = watched_page(desk)
    tablet.set_default_timeout(60_000)
    staff_sign_in(tablet, base, "emarkovic", secret)
    tablet.goto(f"{base}/patients/{patient.pk}/", timeout=120_000)
    tablet.get_by_role("link", name="Companion", exact=True).click()
    tablet.get_by_role("button", name="Send invitation").click()
    tablet.get_by_text("Invited, not signed in yet").wait_for()
    assert_accessible(tablet)
    found = LINK.search(mail.outbox[-1].body)
    assert found and mail.outbox[-1].to == ["ada@example.invalid"]
    assert "Ada" not in mail.outbox[-1].body and "ketamine" not in mail.outbox[-1].body.lower()

    # Ada, on her phone: the link, then a password of her own.
    phone_context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone = watched_page(phone_context)
    phone.set_default_timeout(60_000)
    phone.goto(base + found.group(1), timeout=120_000)
    phone.get_by_role("button", name="Continue").click()
    phone.get_by_role("heading", name="Welcome to your program").wait_for()
    checked(phone)
    phone.get_by_label("New password").fill(PASSWORD)
    phone.get_by_label("The same password again").fill(PASSWORD)
    phone.get_by_role("button", name="Save password").click()
    phone.get_by_role("heading", name="Hello, Ada").wait_for()
    phone.get_by_role("heading", name="Your next session").wait_for()
    checked(phone)

    # The preparation checklist of her next session.
    phone.get_by_role("link", name="Open your checklist").first.click()
    phone.get_by_role("heading", name="Get ready for your session").wait_for()
    ride = phone.locator(f"#item-{session.pk}-ride_home")
    ride.get_by_label("Who is taking you home? (optional)").fill("Sam, my partner")
    ride.get_by_role("button", name="Yes").click()
    phone.get_by_text("Saved.").wait_for()
    checked(phone)
    assert PreparationAnswer.objects.get().note == "Sam, my partner"

    # Her consent, read and signed.
    phone.get_by_role("link", name="Consent", exact=True).click()
    phone.get_by_role("heading", name="Consent to your treatment").wait_for()
    checked(phone)
    phone.get_by_label("Your full name").fill("Ada Lovelace")
    phone.get_by_label("I have read and understood this consent").check()
    phone.get_by_role("button", name="Sign my consent").click()
    phone.get_by_role("heading", name="You have signed this consent").wait_for()
    checked(phone)
    assert ConsentSignature.objects.get().plan_id == plan.pk

    # The questionnaire due, through the questionnaire pages she would reach from a link.
    phone.get_by_role("link", name="Questionnaires", exact=True).click()
    phone.get_by_role("heading", name="Questionnaires", level=1).wait_for()
    checked(phone)
    phone.get_by_role("button", name="Start").click()
    phone.get_by_role("link", name="Start Generalized Anxiety Disorder-7 (GAD-7)").click()
    for position in range(1, 8):
        phone.get_by_text(f"Question {position} of 7", exact=True).wait_for()
        phone.get_by_label("Several days", exact=True).check()
        phone.get_by_role("button", name="Next").click()
    phone.get_by_role("button", name="Send my answers").click()
    phone.get_by_role("heading", name="Thank you").wait_for()
    checked(phone)

    # A journal entry, with her homework ticked, shared with her therapist.
    phone.goto(f"{base}/me/journal/new/")
    phone.get_by_role("heading", name="New journal entry").wait_for()
    phone.get_by_label("What is on your mind?").fill("The calm place helped on Tuesday.")
    phone.get_by_role("group", name=HOMEWORK[0]).get_by_label("Done", exact=True).check()
    phone.get_by_label("Let my therapist read this entry").check()
    checked(phone)
    phone.get_by_role("button", name="Save entry").click()
    expect(phone.get_by_text("Saved. Your therapist can read this entry.")).to_be_visible()
    checked(phone)
    assert JournalEntry.objects.get().shared_with_therapist

    # A message to the care team; the therapist replies from the chart.
    phone.get_by_role("link", name="Messages", exact=True).click()
    phone.get_by_role("heading", name="Messages are not for emergencies").wait_for()
    phone.get_by_label("Subject (optional)").fill("Thursday")
    phone.get_by_label("Your message").fill("May I bring my own headphones on Thursday?")
    phone.get_by_role("button", name="Send message").click()
    phone.get_by_text("Not read yet").wait_for()
    checked(phone)
    tablet.goto(f"{base}/today/")
    tablet.get_by_role("region", name=re.compile("Messages awaiting a reply")).wait_for()
    tablet.goto(f"{base}/patients/{patient.pk}/")
    tablet.get_by_role("link", name="Messages", exact=True).click()
    tablet.get_by_role("link", name="Thursday").click()
    tablet.get_by_label("Reply to the patient").fill("Yes, please do. See you on Thursday.")
    tablet.get_by_role("button", name="Send reply").click()
    tablet.get_by_text("Reply sent.").wait_for()
    assert_accessible(tablet)
    phone.reload()
    phone.get_by_text("Yes, please do. See you on Thursday.").wait_for()
    checked(phone)

    # Her plan for staying well, with the crisis lines.
    phone.get_by_role("link", name="My plan", exact=True).click()
    phone.get_by_role("heading", name="My plan for staying well").wait_for()
    expect(phone.get_by_text(RELAPSE.actions)).to_be_visible()
    checked(phone)
    assert not phone.csp_violations and not tablet.csp_violations
    phone_context.close()
    desk.close()
