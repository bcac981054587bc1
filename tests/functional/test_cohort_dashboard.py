"""The medical director opens the cohort dashboard on the demo clinic, filters by program and
integration modality, and downloads a table as CSV, which is read back and checked against the
page and the selector."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import timezone

from kapstone.clinical.access import Modality
from kapstone.cohorts.dashboard import cohort_dashboard
from kapstone.cohorts.forms import default_period
from kapstone.cohorts.selectors import programs
from kapstone.demo.generator import DEMO_PASSWORD, build_demo_clinic
from kapstone.measures.selectors import current_care_plan
from kapstone.plans import services as plan_services
from kapstone.safety.models import DosingHold
from tests.functional.conftest import assert_accessible
from tests.shell.intake_support import signed_eligibility_for
from tests.shell.plans_support import ready_to_sign

pytestmark = pytest.mark.functional


def _sign_plans(patients, count: int) -> str:
    """Signed IV induction plans for ``count`` demo patients on standard induction (amending the
    plans the demo signed); returns the modality the therapist confirmed for the first."""
    chosen = [
        p
        for p in patients
        if (plan := current_care_plan(p)) is not None
        and plan.plan == "standard-induction"
        and p.dosing_sessions.exists()
        and not DosingHold.objects.filter(patient=p).exists()
    ][:count]
    assert len(chosen) == count, "the demo clinic has too few patients on standard induction"
    modality = ""
    for patient in chosen:
        signed_eligibility_for(patient, patient.prescriber)
        # The demo's history patients hold a signed plan already: this one amends it.
        amends = patient.treatment_plans.exists()
        reasons = (
            {"change_reason": "Moved to standard IV induction", "dose_change_reason": "New plan"}
            if amends
            else {}
        )
        plan = ready_to_sign(patient, patient.prescriber, patient.therapist, **reasons)
        plan_services.sign_plan(by=patient.prescriber, plan=plan)
        modality = modality or plan.modalities[0]
    return modality


def test_director_filters_by_program_and_modality_and_downloads_a_csv(
    live_server, page, settings, tmp_path
):
    settings.DEMO_MODE = True  # the demo clinic's accounts sign in without a second factor
    now = timezone.now()
    clinic = build_demo_clinic(
        patients=14, seed=2026, today=timezone.localdate(now), history_until=now
    )
    modality = _sign_plans(clinic.patients, 2)
    program_name = programs()["standard_iv_induction"].name
    start, end = default_period(timezone.localdate())
    expected = cohort_dashboard(
        start=start,
        end=end,
        program="standard_iv_induction",
        modality=modality,
        now=timezone.now(),
    )
    assert expected.started >= 1

    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("director")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Cohort outcomes").click()
    page.get_by_role("heading", name="Cohort dashboard").wait_for()
    everyone = int(page.locator("#started").inner_text())
    assert everyone > expected.started  # the whole demo clinic, before filtering
    assert_accessible(page)

    page.get_by_label("Program").select_option(label=program_name)
    page.get_by_label("Integration modality").select_option(label=Modality(modality).label)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**program=standard_iv_induction**")
    assert int(page.locator("#started").inner_text()) == expected.started
    assert f"program {program_name}" in page.locator("main").inner_text()
    assert page.locator("svg.kapstone-chart").count() >= 1
    assert_accessible(page)

    with page.expect_download() as info:
        page.get_by_role("link", name="Download response and remission by time point (CSV)").click()
    download = info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert path.name.startswith("cohort-time_points-")
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [r["Time point"] for r in rows] == [t.time_point.label for t in expected.time_points]
    for row, result in zip(rows, expected.time_points, strict=True):
        assert int(row["Started"]) == expected.started
        assert (int(row["Measured"]), int(row["Missing"])) == (result.measured, result.missing)
        assert f"program {program_name}" in row["Filters"]
        assert Modality(modality).label.lower() in row["Filters"].lower()
    # Aggregates only: no demo patient's name or MRN is in the file.
    text = path.read_text(encoding="utf-8")
    for patient in clinic.patients:
        assert patient.mrn not in text and patient.family_name not in text
