"""Issue 15, points 5 and 6, as a new nurse meets them on the chair-side tablet.

Point 5: a dose charted before its booked start shows as delivered at once on the Outcomes tab
(today it said "No dosing session has taken place yet" until the booked 17:40 came).
Point 6: a late esketamine session's discharge time reads in the clinic's local time on the
console, before and after discharge (today "ends at 2026-12-06T03:15:00+00:00", the wrong day).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from kapstone.accounts.models import Site
from kapstone.chairside import services
from kapstone.chairside.models import ChairsideRecord
from kapstone.clinical.access import Role
from kapstone.clinical.discharge import DischargeChecklist
from tests.conftest import make_patient
from tests.functional.test_intake_to_plan import sign_in
from tests.functional.test_suicide_risk_alert import staff_member
from tests.shell.chairside_support import (
    draw_for,
    esketamine_overrides,
    past_session,
    signed_plan_for,
    vitals,
)

pytestmark = pytest.mark.functional

ISO_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _clinic(mrn: str):  # type: ignore[no-untyped-def]
    site = Site.objects.create(name="Riverside Clinic")
    nurse, secret = staff_member("nokafor", Role.NURSE, site, "Ngozi", "Okafor")
    prescriber, _ = staff_member("drreyes", Role.PRESCRIBER, site, "Daniel", "Reyes")
    therapist, _ = staff_member("emarkovic", Role.THERAPIST, site, "Elena", "Markovic")
    patient = make_patient(
        by=prescriber,
        mrn=mrn,
        site=site,
        given_name="Noor",
        family_name="Haddad",
        prescriber=prescriber,
        therapist=therapist,
        nurse=nurse,
    )
    clinic = SimpleNamespace(
        on_team=patient, staff={"prescriber": prescriber, "therapist": therapist, "nurse": nurse}
    )
    return clinic, secret


def _typed(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_dose_charted_before_its_booked_time_is_delivered_at_once(live_server, page):
    clinic, secret = _clinic("KAP-7501")
    patient = clinic.on_team
    plan = signed_plan_for(clinic)  # IV 35 mg over 40 minutes
    session = past_session(clinic, began_minutes_ago=-12, plan=plan)  # booked 12 minutes ahead
    now = timezone.now()
    base = live_server.url

    sign_in(page, base, "nokafor", secret)
    page.goto(f"{base}/patients/{patient.pk}/dosing/")
    page.get_by_role("link", name="Chair-side record").click()
    page.get_by_role("button", name="Open the chair-side record").click()
    checklist = page.locator("#checklist")
    checklist.get_by_label("Identity confirmed: name and date of birth match the chart").check()
    checklist.get_by_label("Fasted as advised").check()
    checklist.get_by_label("Escort present or arranged, and a ride home (not driving)").check()
    checklist.get_by_label("Pregnancy status").select_option(label="Not pregnant")
    checklist.get_by_label("Weight today (kg)").fill("70.0")
    checklist.get_by_role("button", name="Save the checklist").click()
    page.get_by_text("Checklist saved.").wait_for()
    form = page.locator("#vitals form.vitals-form")
    form.get_by_label("Taken at").fill(_typed(now - dt.timedelta(minutes=3)))
    form.get_by_label("Systolic (mmHg)").fill("124")
    form.get_by_label("Diastolic (mmHg)").fill("78")
    form.get_by_label("Heart rate (bpm)").fill("72")
    form.get_by_label("SpO2 (%)").fill("98")
    form.get_by_label("Respiratory rate (/min)").fill("14")
    form.get_by_role("button", name="Save the reading").click()
    page.locator("tr[data-reading]").first.wait_for()

    # The dose was drawn from the safe (the ledger's own walk is tested elsewhere).
    draw_for(ChairsideRecord.objects.get(session=session), mg=35)
    page.reload()
    # The patient is in the chair early: the nurse starts the dose now, before the booked time.
    started = now - dt.timedelta(minutes=1)
    mar = page.locator("#mar")
    mar.get_by_label("Started at").fill(_typed(started))
    mar.get_by_label("Witnessed by").select_option(label="Daniel Reyes")
    mar.get_by_role("button", name="Chart the dose").click()
    page.get_by_text("Dose of 35 mg charted.").wait_for()
    assert timezone.now() < session.starts_at  # the booked start has not come yet

    page.get_by_role("link", name="Outcomes").click()
    shown = timezone.localtime(started).strftime("%-d %b %Y %H:%M")
    page.get_by_text(
        f"Dosing sessions so far: 1, the first on {shown} (charted at the chair)."
    ).wait_for()
    assert page.get_by_text("No dosing session has taken place yet").count() == 0


def test_a_late_sessions_discharge_time_reads_in_local_time(live_server, page):
    clinic, secret = _clinic("KAP-7502")
    patient = clinic.on_team
    nurse = clinic.staff["nurse"]
    plan = signed_plan_for(clinic, **esketamine_overrides())
    session = past_session(clinic, began_minutes_ago=20, route=plan.route, plan=plan)
    # Charted through the services: this test is about what the nurse then reads.
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
    now = timezone.now().replace(second=0, microsecond=0)
    vitals(record, nurse, now - dt.timedelta(minutes=15))
    draw_for(record, devices=2)
    services.give_dose(
        by=nurse,
        record=record,
        dose_mg=Decimal(56),
        devices=2,
        started_at=now - dt.timedelta(minutes=10),
        witnessed_by=clinic.staff["prescriber"],
    )
    vitals(record, nurse, now - dt.timedelta(minutes=2))
    readiness = services.discharge_readiness(
        record, DischargeChecklist(True, True, True, True, True), timezone.now()
    )
    ends = readiness.earliest_discharge_at
    assert ends is not None
    ends_local = timezone.localtime(ends).strftime("%H:%M")
    base = live_server.url

    sign_in(page, base, "nokafor", secret)
    page.goto(f"{base}/patients/{patient.pk}/dosing/")
    page.get_by_role("link", name="Chair-side record").click()
    discharge = page.locator("#discharge")
    discharge.get_by_text(f"ends at {ends_local}", exact=False).wait_for()
    assert not ISO_STAMP.search(discharge.inner_text())

    # The patient must leave early (a family emergency): discharged with the reason, signed.
    for label in (
        "Alert and oriented",
        "Dissociation resolved (clinician's judgement)",
        "Tolerating oral fluids, no more than minimal nausea",
        "Responsible adult present to go home with",
        "Written instructions given (no driving or decisions until after a night's sleep)",
    ):
        discharge.get_by_label(label).check()
    discharge.get_by_label(
        "Reason to discharge while something still blocks (leave empty otherwise)"
    ).fill("Family emergency; prescriber informed, leaves with her husband.")
    discharge.get_by_role("button", name="Discharge").click()
    page.get_by_text("Patient discharged.").wait_for()
    signed = page.locator("#discharge")
    signed.get_by_text(f"ends at {ends_local}", exact=False).wait_for()
    assert not ISO_STAMP.search(signed.inner_text())
    assert ChairsideRecord.objects.get(session=session).discharged_at is not None
    assert not ISO_STAMP.search(page.locator("main").inner_text())
