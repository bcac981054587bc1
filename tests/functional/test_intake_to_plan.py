"""On tablets: the intake coordinator enters Maya's intake page by page (a mistyped blood pressure is
refused, then corrected) and screens it; the prescriber signs the decision, proceeding despite the
raised blood pressure only once a reason is written; the prescriber drafts the plan with the dose
computed from her weight, the therapist confirms the proposed modalities, the prescriber signs it,
and the printed plan and consent is opened and read.

A second walk overrides an absolute contraindication: it counts only after the medical director's
co-signature."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from kapstone.accounts.models import ModalityCredential, Site
from kapstone.clinical.access import Modality, Role
from kapstone.intake import selectors as intake_selectors
from kapstone.patients.services import record_body_measurement
from kapstone.plans import selectors as plan_selectors
from kapstone.plans import services as plan_services
from kapstone.plans.sections import CONSENT_TOPICS
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible, signed_in
from tests.functional.test_questionnaire_link import watched_page
from tests.functional.test_suicide_risk_alert import staff_member
from tests.shell.intake_support import complete_intake

pytestmark = pytest.mark.functional
TABLET = {"width": 1024, "height": 1366}

RELAPSE_SIGNS = "Lying awake at 4 a.m. replaying the accident; skipping choir two weeks running."
RELAPSE_ACTIONS = "Text Jonas, book an integration session, go back to the morning swim."
RELAPSE_SUPPORTS = "Jonas (brother, 555-0142); choir friends; the clinic on 555-0199."
RELAPSE_MAINTENANCE = "If two PHQ-9s in a row, a week apart, climb back above 10."
OVERRIDE_REASON = (
    "148/92 at intake on amlodipine; GP confirms home readings under 135/85. Benefit outweighs "
    "the short BP rise; BP checked before and every 15 minutes during each infusion."
)


def sign_in(page, base: str, username: str, secret: str) -> None:
    """On the home page, signed in with the authenticator ``secret``: the form and the code are
    walked where signing in is the subject (test_first_sign_in_and_registry, test_kiosk)."""
    signed_in(page, base, username, secret)


def tablet(browser):
    """Another member of staff on their own tablet."""
    return browser.new_context(viewport=TABLET)


def heading(page, name: str, level: int = 2) -> None:
    page.get_by_role("heading", name=name, exact=True, level=level).wait_for()


def open_section(page, title: str) -> None:
    page.get_by_role("link", name=f"Fill in {title}").click()
    heading(page, title)


def save_section(page, title: str, *, complete: bool = False) -> None:
    page.get_by_role("button", name=f"Save {title.lower()}").click()
    state = "The intake is complete." if complete else "The intake is not complete yet."
    page.get_by_text(f"{title} saved. {state}").wait_for()
    heading(page, "Intake")


def pdf_text(path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    # Lines wrap where the page or a narrow cell ends ("mg/ kg"): compare on single spaces.
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))
    return text.replace("/ ", "/")


def fill_intake(page) -> None:
    """Every section the screen needs, through the section pages."""
    open_section(page, "Presenting conditions")
    assert_accessible(page)
    page.get_by_label("Major depression", exact=True).check()
    page.get_by_label("PTSD", exact=True).check()
    save_section(page, "Presenting conditions")

    open_section(page, "Depressive episode and antidepressant trials")
    page.get_by_label("Current depressive episode started on").fill("2025-03-01")
    for number, (drug, dose, weeks, outcome) in enumerate(
        (("sertraline", "150", "10", "No response"), ("venlafaxine", "225", "8", "No response")),
        start=1,
    ):
        trial = page.get_by_role("group", name=f"Trial {number}")
        trial.get_by_label("Antidepressant").fill(drug)
        trial.get_by_label("Daily dose (mg)").fill(dose)
        trial.get_by_label("Weeks at that dose").fill(weeks)
        trial.get_by_label("Dose adequate for this drug?").select_option(label="Adequate")
        trial.get_by_label("Outcome").select_option(label=outcome)
    assert_accessible(page)
    save_section(page, "Depressive episode and antidepressant trials")

    open_section(page, "Psychotherapy, ECT/TMS and prior ketamine")
    course = page.get_by_role("group", name="Course 1").first  # the psychotherapy rows come first
    course.get_by_label("Psychotherapy").select_option(label="CBT")
    course.get_by_label("Sessions").fill("16")
    course.get_by_label("Did it help?").select_option(label="No")
    save_section(page, "Psychotherapy, ECT/TMS and prior ketamine")

    open_section(page, "Medical and psychiatric history")
    page.get_by_label("Status: Hypertension", exact=True).select_option(
        label="Controlled on treatment"
    )
    page.get_by_label("Since: Hypertension", exact=True).fill("2019-05-01")
    assert_accessible(page)
    save_section(page, "Medical and psychiatric history")

    open_section(page, "Substance use")
    save_section(page, "Substance use")  # none: an answer too

    open_section(page, "Pregnancy, breastfeeding and reproductive potential")
    page.get_by_label("Reproductive potential?").select_option(label="Yes")
    page.get_by_label("Pregnancy").select_option(label="Not pregnant")
    page.get_by_label("Breastfeeding?").select_option(label="No")
    save_section(page, "Pregnancy, breastfeeding and reproductive potential")

    open_section(page, "Current medications")
    first = page.get_by_role("group", name="Medication 1")
    first.get_by_label("Medication").fill("amlodipine")
    first.get_by_label("Daily dose (mg)").fill("5")
    second = page.get_by_role("group", name="Medication 2")
    second.get_by_label("Medication").fill("venlafaxine")
    second.get_by_label("Other antidepressant").check()
    second.get_by_label("Daily dose (mg)").fill("225")
    save_section(page, "Current medications")

    # A mistyped systolic pressure is refused with what is accepted, and nothing is saved.
    open_section(page, "Baseline vital signs")
    page.get_by_text("Latest weight on the chart: 82.0 kg").wait_for()
    page.get_by_label("Measured on").fill(timezone.localdate().isoformat())
    page.get_by_label("Systolic (mmHg)").fill("14")
    page.get_by_label("Diastolic (mmHg)").fill("92")
    page.get_by_label("Heart rate (bpm)").fill("78")
    page.get_by_label("Weight (kg)").fill("82")
    page.get_by_label("Height (cm)").fill("168")
    page.get_by_role("button", name="Save baseline vital signs").click()
    page.get_by_role("alert").filter(
        has_text="Enter a whole number from 50 to 300 (this was 14)."
    ).wait_for()
    assert page.get_by_label("Diastolic (mmHg)").input_value() == "92"  # what was typed stays
    assert_accessible(page)
    page.get_by_label("Systolic (mmHg)").fill("148")
    save_section(page, "Baseline vital signs")

    open_section(page, "Questionnaire results")
    page.get_by_label("C-SSRS screener risk (recorded elsewhere)").select_option(label="Low")
    save_section(page, "Questionnaire results")

    open_section(page, "Presentation profile")
    page.get_by_label("Trauma-rooted memories").check()
    page.get_by_label("Rumination, rigid thinking").check()
    assert_accessible(page)
    save_section(page, "Presentation profile", complete=True)


def test_intake_screening_override_plan_and_its_pdf(live_server, browser, page, tmp_path):
    base = live_server.url
    plan_services.ensure_default_templates()  # the live server's database starts empty
    site = Site.objects.create(name="Riverside Clinic")
    prescriber, prescriber_secret = staff_member(
        "drreyes", Role.PRESCRIBER, site, "Daniel", "Reyes"
    )
    therapist, therapist_secret = staff_member(
        "emarkovic", Role.THERAPIST, site, "Elena", "Markovic"
    )
    for modality in (Modality.EMDR, Modality.CBT):
        ModalityCredential.objects.create(therapist=therapist, modality=modality)
    _, coordinator_secret = staff_member("jpark", Role.INTAKE_COORDINATOR, site, "Jun", "Park")
    patient = make_patient(
        by=prescriber,
        mrn="KAP-7301",
        site=site,
        given_name="Maya",
        family_name="Lindqvist",
        prescriber=prescriber,
        therapist=therapist,
    )
    record_body_measurement(
        by=prescriber,
        patient=patient,
        measured_on=timezone.localdate(),
        weight_kg=Decimal("82.0"),
        height_cm=Decimal("168.0"),
    )

    # The intake coordinator, on the clinic's tablet.
    sign_in(page, base, "jpark", coordinator_secret)
    page.goto(base + reverse("patients:chart", args=[patient.pk]))
    page.get_by_role("navigation", name="Chart sections").get_by_role("link", name="Intake").click()
    heading(page, "Intake")
    page.get_by_text("No intake yet.").wait_for()
    assert_accessible(page)
    fill_intake(page)
    page.get_by_text("Intake complete.").wait_for()
    assert_accessible(page)

    # Screening: the decision, and the finding behind it with its source.
    page.get_by_role("button", name="Screen", exact=True).click()
    page.get_by_text("Screened: Eligible with precautions.").wait_for()
    review = intake_selectors.current_review(patient)
    heading(page, f"Eligibility review {review.pk}")
    heading(page, "Screen: Eligible with precautions", level=3)
    findings = page.get_by_role("table", name="Findings of the screen")
    raised = findings.get_by_role("row").filter(has_text="C6-BP")
    for expected in (
        "Relative",
        "Baseline blood pressure above the precaution guide.",
        "recheck BP before every dose",
        "SPRAVATO-EU: Verified",
    ):
        assert expected in raised.inner_text(), expected
    assert "Informational" in findings.get_by_role("row").filter(has_text="I-HTN").inner_text()
    assert [f["rule_id"] for f in review.findings if f["kind"] != "informational"] == ["C6-BP"]
    page.get_by_text("Yes: 2 adequate failed trials in the current episode counted").wait_for()
    page.get_by_text("Not signed.").wait_for()
    assert page.get_by_role("link", name="Review and sign").count() == 0  # not the coordinator's
    assert_accessible(page)

    # The prescriber, on their own tablet, signs: proceeding needs a reason for the finding.
    prescribing = tablet(browser)
    therapy = tablet(browser)
    try:
        doctor = watched_page(prescribing)
        sign_in(doctor, base, "drreyes", prescriber_secret)
        doctor.goto(base + reverse("intake:chart_tab", args=[patient.pk]))
        doctor.get_by_role("link", name="Open the review and sign it").click()
        doctor.get_by_role("link", name="Review and sign").click()
        heading(doctor, f"Sign eligibility review {review.pk}")
        assert doctor.get_by_label("Eligible with precautions", exact=True).is_checked()
        reason = doctor.get_by_label("Reason for proceeding despite C6-BP (relative)")
        assert doctor.get_by_label("Reason for proceeding despite I-HTN").count() == 0
        assert_accessible(doctor)
        doctor.get_by_role("button", name="Sign the decision").click()
        doctor.get_by_text(
            "Proceeding despite C6-BP (a relative finding) needs your written reason."
        ).wait_for()
        assert intake_selectors.signed_eligibility(patient) is None
        assert_accessible(doctor)
        reason.fill(OVERRIDE_REASON)
        doctor.get_by_role("button", name="Sign the decision").click()
        doctor.get_by_text("Signed: Eligible with precautions.").wait_for()
        heading(doctor, f"Eligibility review {review.pk}")
        doctor.get_by_text("Override of C6-BP (relative)").wait_for()
        doctor.get_by_text(OVERRIDE_REASON).wait_for()
        assert_accessible(doctor)

        # The plan: program, route and the dose from today's weight.
        doctor.get_by_role("navigation", name="Chart sections").get_by_role(
            "link", name="Plan"
        ).click()
        heading(doctor, "Treatment plan")
        doctor.get_by_text("Eligibility: Eligible with precautions, signed").wait_for()
        doctor.get_by_role("link", name="Draft the plan").click()
        heading(doctor, "Draft the treatment plan")
        doctor.get_by_text("82.0 kg, measured").wait_for()
        doctor.get_by_label("Standard IV induction").check()
        doctor.get_by_label("Intravenous infusion (racemic ketamine)").check()
        doctor.get_by_label("Dose per session").fill("0.5")
        doctor.get_by_label("Stock concentration (mg/mL)").fill("10")
        doctor.get_by_label("Infusion duration (minutes)").fill("40")
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        doctor.get_by_label("Preparation session held on").fill(yesterday.isoformat())
        doctor.get_by_label("Held by").select_option(label="Elena Markovic (Therapist)")
        doctor.get_by_label("Expectations").fill("Hopes the nights get easier; knows it may not.")
        doctor.get_by_label("Intentions").fill("To sing again and stop replaying the accident.")
        doctor.get_by_label("Fears").fill("Losing control; the therapist stays in the room.")
        doctor.get_by_label("What dissociation feels like").fill(
            "Floating, far from the body, time stretching; it passes within the hour."
        )
        doctor.get_by_label("Ride home").fill("Jonas (brother) drives her home every time.")
        doctor.get_by_label("The room's light").select_option(label="Dimmed")
        doctor.get_by_label("Music").fill("Her own choral playlist, low volume.")
        for key, text in CONSENT_TOPICS:
            if key != "esketamine_rems":
                doctor.get_by_label(text, exact=True).check()
        doctor.get_by_label("Consent form version").fill("KAP-consent-2026-11")
        doctor.get_by_label("Consent given by").fill("Maya Lindqvist")
        doctor.get_by_label("Witnessed by").select_option(label="Elena Markovic (Therapist)")
        consented = timezone.localtime(timezone.now() - dt.timedelta(hours=1))
        doctor.get_by_label("Consent given at").fill(consented.strftime("%Y-%m-%dT%H:%M"))
        doctor.get_by_label("Questions asked and answers given").fill(
            "Asked whether she can drive after; answered: not until the next day."
        )
        doctor.get_by_label("Early warning signs").fill(RELAPSE_SIGNS)
        doctor.get_by_label("What to do").fill(RELAPSE_ACTIONS)
        doctor.get_by_label("Supports").fill(RELAPSE_SUPPORTS)
        doctor.get_by_label("When maintenance is considered").fill(RELAPSE_MAINTENANCE)
        assert_accessible(doctor)
        doctor.get_by_role("button", name="Save the draft").click()
        doctor.get_by_text("Plan version 1 saved as a draft.").wait_for()
        heading(doctor, "Treatment plan")
        doses = doctor.get_by_role("table", name=re.compile("Dose per session"))
        assert "41 mg" in doses.inner_text()
        doctor.get_by_text("Not yet confirmed by the therapist").wait_for()
        proposals = doctor.get_by_role("table", name=re.compile("Proposed from the intake"))
        assert "EMDR" in proposals.inner_text() and "CBT" in proposals.inner_text()
        assert "Elena Markovic" in proposals.inner_text()
        doctor.get_by_text(
            "the therapist's confirmation of the integration modalities"
        ).first.wait_for()
        assert_accessible(doctor)

        # The therapist, on her tablet, confirms the proposed modalities.
        counsellor = watched_page(therapy)
        sign_in(counsellor, base, "emarkovic", therapist_secret)
        counsellor.goto(base + reverse("plans:chart_tab", args=[patient.pk]))
        counsellor.get_by_role("link", name="Confirm or change the modalities").click()
        heading(counsellor, "Integration modalities (plan version 1)")
        assert counsellor.get_by_label("EMDR", exact=True).is_checked()
        assert counsellor.get_by_label("CBT", exact=True).is_checked()
        assert_accessible(counsellor)
        counsellor.get_by_role("button", name="Save the modalities").click()
        counsellor.get_by_text("Integration modalities saved (plan version 2).").wait_for()
        counsellor.get_by_text("Confirmed by Elena Markovic").wait_for()

        # The prescriber signs the plan.
        doctor.reload()
        heading(doctor, "Treatment plan")
        doctor.get_by_text("Confirmed by Elena Markovic").wait_for()
        doctor.get_by_role("link", name="Sign the plan").click()
        heading(doctor, "Sign the treatment plan (version 2)")
        doctor.get_by_text("Eligibility: Eligible with precautions, signed").wait_for()
        assert doctor.get_by_text("Before it can be signed").count() == 0
        assert_accessible(doctor)
        doctor.get_by_label("I have reviewed this plan").check()
        doctor.get_by_role("button", name="Sign the plan").click()
        doctor.get_by_text("Plan version 2 signed.").wait_for()
        doctor.get_by_text("Signed by Daniel Reyes").wait_for()
        assert_accessible(doctor)

        # The printable plan and consent, downloaded through its link and read.
        with doctor.expect_download() as downloading:
            doctor.get_by_role("link", name="Plan and consent (PDF)").click()
        download = downloading.value
        assert re.fullmatch(
            r"treatment-plan-v2-\d{4}-\d\d-\d\d-[0-9a-f]{10}\.pdf", download.suggested_filename
        )
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
    finally:
        prescribing.close()
        therapy.close()

    text = pdf_text(saved)
    for expected in (
        "Treatment plan and consent",
        "Maya Lindqvist",
        "MRN KAP-7301",
        "Eligibility Eligible with precautions, signed",
        "Standard IV induction, version",
        "Intravenous infusion (racemic ketamine)",
        "Weight used: 82",
        "0.5 mg/kg over 40 minutes",
        "41 mg",
        "4.1 mL at 10 mg/mL",
        "6.15 mL/h (1.025 mg/min) over 40 minutes",
        "Chosen: EMDR, CBT. Confirmed by Elena Markovic",
        "EMDR reprocesses the past experiences",
        RELAPSE_SIGNS,
        RELAPSE_ACTIONS,
        RELAPSE_SUPPORTS,
        RELAPSE_MAINTENANCE,
        "Consent form version KAP-consent-2026-11",
        "Consent given by Maya Lindqvist (the patient)",
        "witnessed by Elena Markovic",
        "Signed by Daniel Reyes",
    ):
        assert expected in text, expected
    assert "DRAFT" not in text and "NOT explained" not in text
    plan = plan_selectors.plan_in_force(patient)
    assert plan.revision == 2 and plan.signature.eligibility_review_id == review.pk
    signed = intake_selectors.signed_eligibility(patient)
    assert signed.pk == review.pk
    assert signed.signature.overrides.get().reason == OVERRIDE_REASON


def test_an_absolute_override_counts_once_the_medical_director_co_signs(live_server, browser, page):
    base = live_server.url
    site = Site.objects.create(name="Riverside Clinic")
    prescriber, prescriber_secret = staff_member(
        "drreyes", Role.PRESCRIBER, site, "Daniel", "Reyes"
    )
    _, director_secret = staff_member("drpatel", Role.MEDICAL_DIRECTOR, site, "Asha", "Patel")
    patient = make_patient(
        by=prescriber,
        mrn="KAP-7302",
        site=site,
        given_name="Tomas",
        family_name="Berg",
        prescriber=prescriber,
    )
    # Set up through the services: the first walk enters an intake page by page.
    complete_intake(
        patient,
        prescriber,
        history={
            "medical_history": [
                {
                    "condition": "aneurysmal_vascular_disease",
                    "status": "past",
                    "since": "2019-04-02",
                    "note": "abdominal aortic aneurysm, endovascular repair",
                }
            ]
        },
    )

    sign_in(page, base, "drreyes", prescriber_secret)
    page.goto(base + reverse("intake:chart_tab", args=[patient.pk]))
    heading(page, "Intake")
    page.get_by_role("button", name="Screen", exact=True).click()
    page.get_by_text("Screened: Not eligible.").wait_for()
    row = page.get_by_role("table", name="Findings of the screen").get_by_role("row")
    assert "Absolute" in row.filter(has_text="C1").inner_text()
    review = intake_selectors.current_review(patient)

    page.get_by_role("link", name="Review and sign").click()
    heading(page, f"Sign eligibility review {review.pk}")
    page.get_by_label("Eligible with precautions", exact=True).check()
    page.get_by_label("Reason for proceeding despite C1 (absolute)").fill(
        "Repaired in 2019; the vascular surgeon's 2026 scan shows no residual aneurysm."
    )
    page.get_by_label("Note").fill("Proceeding with BP checks every 5 minutes during infusions.")
    page.get_by_role("button", name="Sign the decision").click()
    page.get_by_text(
        "Overriding an absolute finding counts only once the medical director"
    ).first.wait_for()
    page.get_by_text("Awaiting the medical director's co-signature.").wait_for()
    assert_accessible(page)
    assert intake_selectors.signed_eligibility(patient) is None
    page.get_by_role("navigation", name="Chart sections").get_by_role("link", name="Plan").click()
    page.get_by_text("The eligibility decision is not signed yet").wait_for()

    directing = tablet(browser)
    try:
        director = watched_page(directing)
        sign_in(director, base, "drpatel", director_secret)
        director.goto(base + reverse("intake:review", args=[patient.pk, review.pk]))
        director.get_by_role("link", name="Co-sign or refuse the override").click()
        heading(director, f"Co-sign eligibility review {review.pk}")
        director.get_by_text("Override of C1 (absolute)").wait_for()
        director.get_by_label("Co-sign: the override may stand").check()
        director.get_by_role("button", name="Record my decision").click()
        director.get_by_text(
            "Give your own reason: why the override is acceptable, or why it is not."
        ).wait_for()
        assert_accessible(director)
        director.get_by_label("Your reason").fill(
            "Read the surgeon's letter and scan: no aneurysm remains. Co-signed."
        )
        director.get_by_role("button", name="Record my decision").click()
        director.get_by_text("Co-signed: the decision is signed.").wait_for()
        director.get_by_text("Signed: Eligible with precautions").first.wait_for()
        assert_accessible(director)
    finally:
        directing.close()

    page.reload()
    page.get_by_text("Eligibility: Eligible with precautions, signed").wait_for()
    assert intake_selectors.signed_eligibility(patient).pk == review.pk
