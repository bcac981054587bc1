"""The printable plan and consent, and the patient's relapse-prevention plan printed alone: both
PDFs are opened with pypdf and their text checked; reading and exporting are audited."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from kapstone.audit.models import AuditEntry
from kapstone.plans import services
from kapstone.web.downloads import opaque_id
from tests.shell.intake_support import signed_eligibility_for
from tests.shell.plans_support import draft_plan, ready_to_sign


def _text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    # Line breaks fall where the page (or a narrow cell: "mg/ kg") wraps: compare on single spaces.
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    return text.replace("/ ", "/")


@pytest.fixture
def signed(clinic):
    review = signed_eligibility_for(clinic.on_team, clinic.staff["prescriber"])
    plan = ready_to_sign(clinic.on_team, clinic.staff["prescriber"], clinic.staff["therapist"])
    services.sign_plan(by=clinic.staff["prescriber"], plan=plan)
    return plan, review


def test_the_plan_pdf_holds_the_plan_the_consent_and_the_signatures(clinic, signed, as_role):
    plan, _ = signed
    response = as_role("nurse").get(reverse("plans:pdf", args=[clinic.on_team.pk, plan.pk]))
    assert response.status_code == 200
    on = timezone.localdate(plan.created_at)
    assert response["Content-Disposition"] == (
        f'attachment; filename="treatment-plan-v{plan.revision}-{on:%Y-%m-%d}-{opaque_id(plan)}.pdf"'
    )
    assert "MRN" not in response["Content-Disposition"]
    text = _text(response)
    for expected in (
        "Treatment plan and consent",
        "Ada Lovelace",
        "MRN-1001",
        "10 Dec 1985",  # date of birth
        f"Plan version {plan.revision}",
        "Eligibility Eligible, signed",
        "Standard IV induction, version 2026-11-1",
        "Intravenous infusion (racemic ketamine)",
        "Weight used: 70 kg",
        "0.5 mg/kg over 40 minutes",
        "35 mg",
        "3.5 mL at 10 mg/mL",
        "5.25 mL/h (0.875 mg/min) over 40 minutes",
        "Internal Family Systems",
        "Preparation: set and setting",
        "Partner (Sam, 555-0100) drives home after every session.",
        "Dimmed",
        "Ambient instrumental playlist",
        "Relapse-prevention plan",
        "Sleeping past noon, cancelling plans",
        "Consent form version KAP-consent-2026-11",
        "Consent given by Ada Lovelace (the patient)",
        "witnessed by Nurse Tester",
        "Signed by Prescriber Tester",
        "Measurement plan: Standard induction (standard-induction)",
    ):
        assert expected in text, expected
    assert "DRAFT" not in text
    assert "NOT explained" not in text
    entry = AuditEntry.objects.filter(action="treatment_plan.exported").latest("seq")
    assert (entry.actor, entry.patient, entry.object_id) == (
        clinic.staff["nurse"],
        clinic.on_team,
        str(plan.pk),
    )


def test_a_draft_pdf_says_it_is_not_signed(clinic, as_role):
    plan = draft_plan(clinic.on_team, clinic.staff["prescriber"])
    text = _text(as_role("prescriber").get(reverse("plans:pdf", args=[clinic.on_team.pk, plan.pk])))
    assert "DRAFT: not signed" in text
    assert "No signed eligibility decision" in text
    assert "Not yet confirmed by the therapist" in text


def test_the_patient_s_relapse_prevention_plan_prints_alone(clinic, signed, as_role):
    plan, _ = signed
    client = as_role("therapist")
    response = client.get(reverse("plans:relapse_pdf", args=[clinic.on_team.pk, plan.pk]))
    text = _text(response)
    assert "My relapse-prevention plan" in text
    assert "Signs that low mood or anxiety may be coming back" in text
    assert "Sleeping past noon, cancelling plans" in text
    assert "Tell my partner, book a session with my therapist" in text
    assert "Sam (partner); my sister; the clinic on 555-0199" in text
    assert "If two questionnaires in a row, a week apart" in text
    # Only what the patient keeps: no dose, no consent, no eligibility.
    assert "mg/kg" not in text and "Eligib" not in text and "consent" not in text.lower()
    assert AuditEntry.objects.filter(action="treatment_plan.relapse_plan_exported").exists()


def test_the_plan_page_shows_the_patient_s_copy_and_is_audited(clinic, signed, as_role):
    plan, _ = signed
    page = as_role("therapist").get(reverse("plans:chart_tab", args=[clinic.on_team.pk]))
    html = page.content.decode()
    assert 'id="relapse-prevention"' in html
    assert "Relapse-prevention plan (the patient's copy)" in html
    assert reverse("plans:relapse_pdf", args=[clinic.on_team.pk, plan.pk]) in html
    assert 'aria-current="page">Plan</a>' in html
    assert AuditEntry.objects.filter(action="treatment_plan.viewed", patient=clinic.on_team)


def test_a_plan_is_only_reached_through_its_own_patient(clinic, signed, as_role):
    plan, _ = signed
    client = as_role("medical_director")  # sees every chart
    for name in ("plans:detail", "plans:pdf", "plans:relapse_pdf", "plans:sign"):
        response = client.get(reverse(name, args=[clinic.elsewhere.pk, plan.pk]))
        assert response.status_code == 404, name


def test_the_screening_s_precautions_are_on_the_plan_and_its_pdf(clinic, as_role):
    from tests.shell.intake_support import complete_intake, eligible_sections

    vitals = eligible_sections()["vitals"]
    vitals["baseline_vitals"] |= {"systolic_mmhg": 146, "diastolic_mmhg": 88}
    complete_intake(clinic.on_team, clinic.staff["prescriber"], vitals=vitals)
    review = signed_eligibility_for(clinic.on_team, clinic.staff["prescriber"])
    assert review.decision == "eligible_with_precautions"
    plan = ready_to_sign(clinic.on_team, clinic.staff["prescriber"], clinic.staff["therapist"])
    services.sign_plan(by=clinic.staff["prescriber"], plan=plan)
    client = as_role("nurse")
    page = client.get(reverse("plans:detail", args=[clinic.on_team.pk, plan.pk])).content.decode()
    assert "Precautions from screening" in page and "C6-BP" in page
    text = _text(client.get(reverse("plans:pdf", args=[clinic.on_team.pk, plan.pk])))
    assert "Precautions C6-BP" in text


def test_a_plan_without_findings_lists_no_precautions(clinic, signed, as_role):
    plan, _ = signed
    page = (
        as_role("nurse")
        .get(reverse("plans:detail", args=[clinic.on_team.pk, plan.pk]))
        .content.decode()
    )
    assert "Precautions from screening" not in page
