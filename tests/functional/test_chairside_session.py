"""A dosing session at the chair side, on two tablets at once: the nurse walks the checklist, the
prescriber documents the decision to proceed on a raised pre-dose BP, the dose and vitals are
charted over simulated time (the session began 2.5 hours ago and every time is typed as the nurse
would from the monitor), an alert raised on the nurse's tablet appears on the prescriber's without a
reload and is acknowledged there, then discharge, signature, a strike-through and an addendum."""

from __future__ import annotations

import datetime as dt
import time
from types import SimpleNamespace

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kapstone.accounts.models import Site
from kapstone.chairside.models import ChairsideRecord, SessionAlert
from kapstone.clinical.access import Role
from kapstone.dosing.models import SessionStatus
from kapstone.ledger.services import draw_for_session
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible
from tests.functional.test_intake_to_plan import TABLET, sign_in
from tests.functional.test_questionnaire_link import watched_page
from tests.functional.test_suicide_risk_alert import staff_member
from tests.shell.chairside_support import past_session, signed_plan_for
from tests.shell.ledger_support import receive_vials

pytestmark = pytest.mark.functional


def local(session, minutes: int) -> str:
    return timezone.localtime(session.starts_at + dt.timedelta(minutes=minutes)).strftime(
        "%Y-%m-%dT%H:%M"
    )


def reading(page, session, minutes, sys, dia, hr="74", spo2="98", rr="14", sedation=None):  # type: ignore[no-untyped-def]
    """Types a reading; returns once the page shows it in the table (or shows the refusal)."""
    rows = page.locator("tr[data-reading]").count()
    form = page.locator("#vitals form.vitals-form")
    form.get_by_label("Taken at").fill(local(session, minutes))
    form.get_by_label("Systolic (mmHg)").fill(str(sys))
    form.get_by_label("Diastolic (mmHg)").fill(str(dia))
    form.get_by_label("Heart rate (bpm)").fill(hr)
    form.get_by_label("SpO2 (%)").fill(spo2)
    form.get_by_label("Respiratory rate (/min)").fill(rr)
    if sedation:
        form.get_by_label("Sedation").select_option(label=sedation)
    form.get_by_role("button", name="Save the reading").click()
    if str(sys).isdigit():
        expect(page.locator("tr[data-reading]")).to_have_count(rows + 1)
    settled(page)


def settled(page) -> None:  # type: ignore[no-untyped-def]
    """Waits until the page a form post led to has finished loading, not just shown its message.

    The message is near the top and can be found while the rest of the console is still loading:
    its styles, htmx and its polls, and the browser's scroll to the #fragment the redirect names.
    A tap aimed before that can land where a button was, not where it is (the likeliest reading of
    "Sign and lock the record" not pressed after discharge, once in 4 runs on a loaded machine).
    """
    page.wait_for_load_state("load")


def test_a_session_charted_on_two_tablets(live_server, browser, page):
    site = Site.objects.create(name="Riverside Clinic")
    nurse, nurse_secret = staff_member("nokafor", Role.NURSE, site, "Ngozi", "Okafor")
    prescriber, dr_secret = staff_member("drreyes", Role.PRESCRIBER, site, "Daniel", "Reyes")
    therapist, _ = staff_member("emarkovic", Role.THERAPIST, site, "Elena", "Markovic")
    patient = make_patient(
        by=prescriber,
        mrn="KAP-7301",
        site=site,
        given_name="Noor",
        family_name="Haddad",
        prescriber=prescriber,
        therapist=therapist,
        nurse=nurse,
    )
    clinic = SimpleNamespace(
        on_team=patient, staff={"prescriber": prescriber, "therapist": therapist}
    )
    plan = signed_plan_for(clinic)  # IV 0.5 mg/kg over 40 min, 70 kg: 35 mg
    session = past_session(clinic, began_minutes_ago=150, plan=plan)
    base = live_server.url

    # The nurse, on the chair-side tablet, from the patient's dosing tab.
    sign_in(page, base, "nokafor", nurse_secret)
    page.goto(f"{base}/patients/{patient.pk}/dosing/")
    page.get_by_role("link", name="Chair-side record").click()
    page.get_by_role("button", name="Open the chair-side record").click()
    checklist = page.locator("#checklist")
    checklist.get_by_text("Dosing is blocked").wait_for()
    assert_accessible(page)
    checklist.get_by_label("Identity confirmed: name and date of birth match the chart").check()
    checklist.get_by_label("Fasted as advised").check()
    checklist.get_by_label("Escort present or arranged, and a ride home (not driving)").check()
    checklist.get_by_label("Pregnancy status").select_option(label="Not pregnant")
    checklist.get_by_label("Weight today (kg)").fill("70.0")
    checklist.get_by_role("button", name="Save the checklist").click()
    page.get_by_text("Checklist saved.").wait_for()

    # A mistyped reading is refused with the reason, and nothing typed is lost.
    reading(page, session, 5, "15o", 95)
    page.get_by_text("Systolic must be a whole number, got '15o'.").wait_for()
    form = page.locator("#vitals form.vitals-form")
    assert form.get_by_label("Diastolic (mmHg)").input_value() == "95"
    assert form.get_by_label("Taken at").input_value() == local(session, 5)
    assert_accessible(page)
    reading(page, session, 5, 150, 95)
    page.get_by_text("the prescriber's documented decision is needed").first.wait_for()
    assert page.get_by_role("button", name="Chart the dose").count() == 0

    # The prescriber, on a second tablet, documents the decision to proceed.
    second = browser.new_context(viewport=TABLET)
    dr = watched_page(second)
    sign_in(dr, base, "drreyes", dr_secret)
    console_url = f"{base}/patients/{patient.pk}/dosing/{session.pk}/console/"
    dr.goto(console_url)
    dr.get_by_role("link", name="Document the decision").click()
    dr.get_by_text("Pre-dose BP 150/95 mmHg is above 140/90").wait_for()
    assert_accessible(dr)
    dr.get_by_label("Rationale").fill("Anxious on arrival; 138/88 at home this week. Proceed.")
    dr.get_by_role("button", name="Document the decision to proceed").click()
    dr.get_by_text("Decision to proceed documented.").wait_for()

    # The nurse charts the dose from the plan, drawn from the safe on the ledger (its own test
    # walks the draw), and vitals on the protocol's cadence.
    stocked = receive_vials(by=nurse, witness=prescriber, site=site)
    draw_for_session(
        by=nurse, session=session, location=stocked.location, lot=stocked.lot, quantity=35_000
    )
    page.reload()
    mar = page.locator("#mar")
    assert mar.get_by_label("Dose (mg)").input_value() == "35"
    mar.get_by_label("Started at").fill(local(session, 15))
    mar.get_by_label("Witnessed by").select_option(label="Daniel Reyes")
    mar.get_by_role("button", name="Chart the dose").click()
    page.get_by_text("Dose of 35 mg charted.").wait_for()
    # The console's sections are numbered in order.
    numbered = [
        h for h in page.locator("main h2").all_inner_texts() if h[:1].isdigit() and ". " in h
    ]
    assert [h.split(". ", 1)[0] for h in numbered] == [str(n) for n in range(1, 8)], numbered
    # The dose form is not offered pre-filled again: one more tap must not chart a second dose.
    assert mar.get_by_role("button", name="Chart the dose").count() == 0
    mar.get_by_text("Chart another dose").click()
    mar.get_by_text("A dose was already charted for this session").wait_for()
    assert mar.get_by_label("Dose (mg)").input_value() == ""
    page.locator("#schedule").get_by_text("every 10 min during the infusion").wait_for()
    reading(page, session, 25, 148, 92)

    # The prescriber's page is open and left alone, scrolled down: the alert arrives by polling.
    dr.evaluate("window.__notReloaded = true")
    dr.locator("#discharge").scroll_into_view_if_needed()
    saved_at = time.monotonic()
    reading(page, session, 35, 192, 96, hr="96")
    # On the nurse's tablet: not a green flash, but the alert in its grade's colour, in view.
    mine = page.get_by_role("alert").filter(has_text="Pause or slow the infusion")
    mine.wait_for()
    seen_here = time.monotonic()
    expect(mine).to_be_in_viewport()
    assert "grade-pause_or_slow_infusion" in (mine.get_attribute("class") or "")
    assert page.locator(".msg-success").count() == 0
    # ...with the reading that raised it highlighted in the table.
    expect(page.locator("tr.alerting")).to_have_count(1)
    assert "192/96" in page.locator("tr.alerting").inner_text()
    # The recommendation is short; the rules, in clinic words, are behind a disclosure.
    assert "sbp.rise.pause" not in page.locator("main").inner_text()
    mine.get_by_text("Why:").click()
    mine.get_by_text("Systolic rose 42 mmHg from the pre-dose baseline of 150 mmHg").wait_for()
    # The second tablet shows it within 3 seconds, without a reload, where the prescriber is looking.
    on_dr = dr.get_by_role("alert").filter(has_text="Pause or slow the infusion")
    on_dr.wait_for(timeout=10_000)
    latency = time.monotonic() - seen_here
    print(
        f"Second tablet: alert {latency:.2f} s after the nurse's tablet showed it, "
        f"{time.monotonic() - saved_at:.2f} s after she pressed Save"
    )
    # Measured, not asserted (speed belongs to bench/): 0.14-0.36 s on a quiet machine, 1 s polls.
    assert dr.evaluate("window.__notReloaded") is True
    expect(on_dr).to_be_in_viewport()
    assert_accessible(dr)
    on_dr.get_by_label("Action taken").select_option(label="Slowed the infusion")
    on_dr.get_by_label("Note").fill("Rate halved; recheck in 5 minutes.")
    on_dr.get_by_role("button", name="Acknowledge").click()
    dr.get_by_text("Alert acknowledged.").wait_for()
    # ...and leaves the nurse's screen, again without a reload.
    page.get_by_role("alert").filter(has_text="Pause or slow the infusion").wait_for(
        state="detached", timeout=10_000
    )
    alert = SessionAlert.objects.get()
    assert (
        alert.acknowledgement.by == prescriber and alert.acknowledgement.action == "infusion_slowed"
    )

    reading(page, session, 40, 150, 90)
    stop = page.locator("#mar form").filter(
        has=page.get_by_role("button", name="Stop the infusion")
    )
    stop.get_by_label("Stopped at").fill(local(session, 55))
    stop.get_by_role("button", name="Stop the infusion").click()
    page.get_by_text("Infusion stopped.").wait_for()
    diss = page.locator("#dissociation")
    diss.get_by_label("Scale").select_option(label="CADSS-6")
    diss.get_by_label("Total score").fill("8")
    diss.get_by_label("Rated at").fill(local(session, 55))
    diss.get_by_role("button", name="Save the rating").click()
    page.get_by_text("Rating saved.").wait_for()
    for minutes in (70, 85, 100, 115, 140):
        reading(page, session, minutes, 128, 80, sedation="0 Awake and alert")

    # Discharge: nothing else blocks; the nurse confirms and signs it, then signs the record.
    discharge = page.locator("#discharge")
    discharge.get_by_text("Nothing else blocks discharge").wait_for()
    assert_accessible(page)
    for label in (
        "Alert and oriented",
        "Dissociation resolved (clinician's judgement)",
        "Tolerating oral fluids, no more than minimal nausea",
        "Responsible adult present to go home with",
        "Written instructions given (no driving or decisions until after a night's sleep)",
    ):
        discharge.get_by_label(label).check()
    discharge.get_by_role("button", name="Discharge").click()
    page.get_by_text("Patient discharged.").wait_for()
    settled(page)
    page.locator("#sign").get_by_role("button", name="Sign and lock the record").click()
    page.get_by_text("Record signed and locked.").wait_for()
    assert page.get_by_role("button", name="Save the reading").count() == 0

    # After signing: a wrong reading is struck through, and a correction is an addendum.
    row = page.locator("tr[data-reading]").nth(1)
    row.get_by_text("Strike through").click()
    row.get_by_label("Why is this reading wrong?").fill("Cuff too small; repeated at 40 min")
    row.get_by_role("button", name="Strike").click()
    page.get_by_text("Reading struck through.").wait_for()
    assert page.locator("tr.struck del").count() > 0
    sign = page.locator("#sign")
    sign.get_by_label("Reason for the addendum").fill("Late entry")
    sign.get_by_label("Addendum text").fill(
        "Patient reported mild nausea in the car park; settled."
    )
    sign.get_by_role("button", name="Add the addendum").click()
    page.get_by_text("Addendum added.").wait_for()
    sign.get_by_text("Patient reported mild nausea in the car park").wait_for()
    assert_accessible(page)

    record = ChairsideRecord.objects.get(session=session)
    session.refresh_from_db()
    assert record.is_signed and record.signed_by == nurse
    assert session.status == SessionStatus.COMPLETED
    assert record.vitals.count() == 9 and record.vitals.filter(strike__isnull=False).count() == 1
    second.close()
