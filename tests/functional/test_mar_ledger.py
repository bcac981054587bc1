"""One entry for each dose, as a nurse meets it on the chair-side tablet: the console sends her to
draw from the safe first, the dose she charts appears on the ledger as given from that draw, the
signature is refused while the rest of the draw is open (saying what is missing and linking to
where to record it), she records the waste with a colleague witnessing on the same screen, and the
record signs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from kapstone.accounts.models import Site
from kapstone.chairside import services
from kapstone.chairside.models import ChairsideRecord
from kapstone.clinical.access import Role
from kapstone.clinical.ledger_entries import micrograms
from kapstone.ledger.models import DrawAccount, LedgerEntry
from kapstone.ledger.verify import verify_doses
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible
from tests.functional.test_intake_to_plan import sign_in
from tests.functional.test_suicide_risk_alert import PASSWORD, staff_member
from tests.shell.chairside_support import at, past_session, signed_plan_for, vitals
from tests.shell.ledger_support import receive_vials

pytestmark = pytest.mark.functional


def local(session, minutes: int) -> str:
    return timezone.localtime(session.starts_at + dt.timedelta(minutes=minutes)).strftime(
        "%Y-%m-%dT%H:%M"
    )


def test_the_dose_charted_is_the_dose_on_the_ledger_and_an_open_draw_stops_the_signature(
    live_server, page
):
    site = Site.objects.create(name="Riverside Clinic")
    nurse, nurse_secret = staff_member("nokafor", Role.NURSE, site, "Ngozi", "Okafor")
    prescriber, _ = staff_member("drreyes", Role.PRESCRIBER, site, "Daniel", "Reyes")
    therapist, _ = staff_member("emarkovic", Role.THERAPIST, site, "Elena", "Markovic")
    patient = make_patient(
        by=prescriber,
        mrn="KAP-7401",
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
    plan = signed_plan_for(clinic)  # IV 0.5 mg/kg, 70 kg: 35 mg
    session = past_session(clinic, began_minutes_ago=150, plan=plan)
    receive_vials(by=nurse, witness=prescriber, site=site)  # ketamine 50 mg/mL in the safe
    # Checklist and baseline done (their own tests walk them in the browser).
    record = services.open_record(by=nurse, session=session)
    services.answer_checklist(
        by=nurse,
        record=record,
        identity_confirmed=True,
        fasting_confirmed=True,
        escort_confirmed=True,
        pregnancy_status="not_pregnant",
        weight_kg=Decimal("70.0"),
    )
    vitals(record, nurse, at(session, 5))
    base = live_server.url
    console_url = f"{base}/patients/{patient.pk}/dosing/{session.pk}/console/"

    sign_in(page, base, "nokafor", nurse_secret)
    page.goto(console_url)
    mar = page.locator("#mar")
    # Nothing drawn yet: the console says so and links to the draw, with the session chosen.
    mar.get_by_text("No open ledger draw for this session").wait_for()
    mar.get_by_role("link", name="draw the dose from the safe").click()
    page.get_by_role("heading", name="Draw for a dose").wait_for()
    page.get_by_label("From").select_option(index=1)
    page.get_by_label("Amount").fill("40")
    page.get_by_role("button", name="Draw").click()
    page.get_by_text("40 mg still to record").wait_for()
    draw = LedgerEntry.objects.get(kind="draw")
    assert draw.dosing_session == session
    # The ledger takes no typed 'given' amount: that comes from the chart.
    assert page.get_by_label("Given (mg)").count() == 0

    page.get_by_role("link", name="chair-side record", exact=True).click()
    mar = page.locator("#mar")
    mar.get_by_label("Dose (mg)").fill("35")
    mar.get_by_label("Started at").fill(local(session, 15))
    mar.get_by_role("button", name="Chart the dose").click()
    page.get_by_text("Dose of 35 mg charted.").wait_for()

    # The ledger shows the charted amount given from that draw.
    page.locator("#mar").get_by_role("link", name=f"given from draw #{draw.seq}").click()
    page.get_by_role("heading", name=f"Draw #{draw.seq} for Noor Haddad").wait_for()
    pairs = page.locator("dl.pairs")
    assert pairs.locator("dt:text-is('Given') + dd").inner_text() == "35 mg"
    pairs.get_by_text("Open: 5 mg still to record").wait_for()

    # Discharge, then the signature: refused while 5 mg of the draw is unaccounted for.
    page.goto(console_url)
    discharge = page.locator("#discharge")
    discharge.get_by_label(
        "Reason to discharge while something still blocks (leave empty otherwise)"
    ).fill("Observation complete on paper; escort waiting.")
    discharge.get_by_role("button", name="Discharge").click()
    page.get_by_text("Patient discharged.").wait_for()
    page.get_by_role("button", name="Sign and lock the record").click()
    refusal = page.locator("#sign [role=alert]")
    refusal.get_by_text(
        f"Draw #{draw.seq}: 0.1 mL (5 mg) drawn is not yet given, wasted or returned: "
        "record waste or return with a witness."
    ).wait_for()
    assert not ChairsideRecord.objects.get(pk=record.pk).is_signed
    assert_accessible(page)

    # The link goes where the waste is recorded; the colleague witnesses on the same screen.
    page.get_by_role("link", name=f"record waste or return for draw #{draw.seq}").click()
    page.get_by_label("Wasted (mg)").fill("5")
    page.get_by_label("Witness's username").fill("drreyes")
    page.get_by_label("Witness's password or authenticator code").fill(PASSWORD)
    page.get_by_role("button", name="Record on the ledger").click()
    page.get_by_text("Closed: every amount accounted for").wait_for()
    assert_accessible(page)

    page.get_by_role("link", name="Open the chair-side record").click()
    page.get_by_role("button", name="Sign and lock the record").click()
    page.get_by_text("Record signed and locked.").wait_for()

    account = DrawAccount.objects.get(draw=draw)
    assert (account.given, account.wasted, account.closed) == (micrograms(35), micrograms(5), True)
    waste = LedgerEntry.objects.get(kind="waste")
    assert waste.witness == prescriber
    assert ChairsideRecord.objects.get(pk=record.pk).is_signed
    assert verify_doses() is None
