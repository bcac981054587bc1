"""A researcher on the clinic tablet requests a de-identified export, watches its row move from
queued to ready (htmx polling) while the worker builds it, and downloads the zip once."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest
from django.utils import timezone

from kapstone.accounts.models import Site
from kapstone.clinical.access import Role
from kapstone.patients.models import Patient
from kapstone.research.models import ExportStatus, ResearchExport
from kapstone.research.tasks import run_research_export
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible
from tests.functional.test_first_sign_in_and_registry import authenticator_code
from tests.functional.test_suicide_risk_alert import PASSWORD, staff_member

pytestmark = pytest.mark.functional


def test_a_researcher_requests_watches_and_downloads_an_export(
    live_server, page, settings, tmp_path
):
    settings.RESEARCH_EXPORT_DIR = tmp_path / "exports"
    site = Site.objects.create(name="Riverside Clinic")
    coordinator, _ = staff_member("front", Role.INTAKE_COORDINATOR, site, "Fran", "Front")
    staff_member("rlee", Role.RESEARCHER, site, "Robin", "Lee")
    _, secret = staff_member("rlee2", Role.RESEARCHER, site, "Rowan", "Lee")
    for n in range(3):
        make_patient(by=coordinator, mrn=f"KAP-81{n}", site=site, given_name=f"Mirela{n}")
    Patient.objects.update(registered_at=timezone.now() - dt.timedelta(days=30))

    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("rlee2")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill(authenticator_code(secret))
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("link", name="Research exports").click()
    assert_accessible(page)

    today = timezone.localdate()
    page.get_by_label("First contact from").fill((today - dt.timedelta(days=365)).isoformat())
    page.get_by_label("First contact to").fill(today.isoformat())
    page.get_by_role("button", name="Request export").click()
    page.get_by_text("Export requested").wait_for()
    export = ResearchExport.objects.get()
    row = page.locator(f"#export-{export.pk}")
    assert "Queued" in row.inner_text()
    assert_accessible(page)

    # The worker builds it; the row polls and turns into a download button by itself.
    run_research_export.call(export.pk)
    download_button = row.get_by_role("button", name="Download")
    download_button.wait_for(timeout=10_000)
    assert "3 patients · k = 3" in row.inner_text()
    assert_accessible(page)
    with page.expect_download() as caught:
        download_button.click()
    saved = tmp_path / "got.zip"
    caught.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        names = set(archive.namelist())
        assert {"csv/patients.csv", "parquet/patients.parquet", "fhir/Patient.ndjson"} <= names
        assert "Mirela" not in archive.read("csv/patients.csv").decode()
    export.refresh_from_db()
    assert export.status == ExportStatus.DOWNLOADED

    page.reload()
    assert "downloaded" in page.locator(f"#export-{export.pk}").inner_text()
    assert page.locator(f"#export-{export.pk}").get_by_role("button", name="Download").count() == 0
