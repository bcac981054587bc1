"""The dashboard page, its CSV tables and the program report PDF on the hand-built cohort; the
outcome letter PDF; who may open them; every export audited; no identifier in any aggregate."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from kapstone.audit.models import AuditEntry
from tests.shell import cohort_support


@pytest.fixture(scope="module")
def _kept(django_db_setup, django_db_blocker):
    with cohort_support.kept_cohort(django_db_blocker) as kept:
        yield kept


@pytest.fixture
def clinic(_kept, db):
    return cohort_support.fresh_clinic(_kept)


@pytest.fixture
def cohort(_kept, clinic):
    return _kept[1]


def _query(cohort, **extra) -> dict[str, str]:
    return {
        "start": (cohort.start - dt.timedelta(days=5)).isoformat(),
        "end": (cohort.start + dt.timedelta(days=5)).isoformat(),
        **extra,
    }


def _pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    # Narrow cells wrap after a dash ("75 % (30–" / "95)"): compare on single spaces, none after it.
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    return text.replace("– ", "–")


def _identifiers(cohort) -> list[str]:
    out = []
    for p in cohort.patients.values():
        out += [p.mrn, p.given_name, p.family_name]
    return out


def test_the_page_shows_the_counts_charts_and_definitions(cohort, as_role):
    response = as_role("researcher").get(reverse("cohorts:dashboard"), _query(cohort, by="program"))
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'id="started">7<', html) and re.search(r'id="completed">6<', html)
    assert "75 % (30–95)" in html  # end-of-course response, 3 of 4
    assert "HAN2016 (verified)" in html  # the published 24-h figure with its citation key
    assert html.count("<svg") == 2  # trajectory and durability, server-rendered
    assert "the last score from -1 day to 7 days after the last induction dose" in html
    for identifier in _identifiers(cohort):
        assert identifier not in html


def test_each_table_downloads_as_csv_audited_without_identifiers(cohort, as_role):
    client = as_role("prescriber")
    for table in ("time_points", "breakdowns", "trajectory", "durability", "references"):
        response = client.get(reverse("cohorts:csv", args=[table]), _query(cohort))
        assert response.status_code == 200, table
        assert response["Content-Type"].startswith("text/csv")
        body = response.content.decode()
        for identifier in _identifiers(cohort):
            assert identifier not in body
        rows = list(csv.DictReader(io.StringIO(body)))
        assert rows and all(r["Cohort policy"] == "default-2026-12-06" for r in rows)
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(
                    reverse("cohorts:csv", args=["time_points"]), _query(cohort)
                ).content.decode()
            )
        )
    )
    end = next(r for r in rows if r["Time point"] == "End of course")
    assert (end["Measured"], end["Missing"], end["Course not completed"]) == ("4", "1", "1")
    exports = AuditEntry.objects.filter(action="cohort.exported")
    assert exports.count() == 6
    assert all(e.patient_id is None for e in exports)
    assert client.get(reverse("cohorts:csv", args=["nonsense"]), _query(cohort)).status_code == 404


def test_program_report_pdf_holds_the_figures(cohort, as_role):
    response = as_role("medical_director").get(reverse("cohorts:report"), _query(cohort))
    assert response.status_code == 200
    text = _pdf_text(response)
    for expected in ("Program report", "Started: 7", "Completed the course: 6", "75 % (30–95)"):
        assert expected in text, expected
    assert AuditEntry.objects.filter(
        action="cohort.exported", summary__contains="program-report.pdf"
    ).exists()


def test_the_dashboard_is_refused_to_clinicians_without_the_grant(cohort, as_role):
    for role in ("nurse", "therapist", "intake_coordinator", "administrator"):
        assert as_role(role).get(reverse("cohorts:dashboard")).status_code == 403, role


def test_an_invalid_period_is_refused_on_the_form(cohort, as_role):
    response = as_role("prescriber").get(
        reverse("cohorts:dashboard"), {"start": "2026-05-01", "end": "2026-04-01"}
    )
    assert "The end of the period must not be before its start." in response.content.decode()


def test_outcome_letter_to_a_payer_and_to_the_patient(cohort, clinic, as_role):
    p1 = cohort.patients["P1"]
    client = as_role("prescriber")
    url = reverse("cohorts:letter", args=[p1.pk])
    tab = client.get(reverse("outcomes:chart_tab", args=[p1.pk])).content.decode()
    assert url in tab  # offered on the chart's Outcomes tab
    form = client.get(url)
    assert form.status_code == 200 and "Address the letter to" in form.content.decode()
    assert 'method="post"' in form.content.decode()
    refused = client.post(url, {"to": "payer"})
    assert refused.status_code == 400
    assert "Name the payer the letter goes to." in refused.content.decode()
    # Payer details in the address are not taken: the form is shown again, nothing printed.
    in_address = client.get(url, {"to": "payer", "payer_name": "Acme Health Plan"})
    assert in_address["Content-Type"].startswith("text/html")
    assert not AuditEntry.objects.filter(action="outcome_letter.printed").exists()

    text = _pdf_text(
        client.post(
            url,
            {
                "to": "payer",
                "payer_name": "Acme Health Plan",
                "payer_address": "1 Claims Way\nHartford, CT",
                "reference": "CLM-42",
            },
        )
    )
    for expected in (
        "Acme Health Plan",
        "1 Claims Way",
        "Reference: CLM-42",
        "Re: Cohort1 Lovelace",
        "MRN COH-001",
        "received 6 ketamine dosing sessions",
        "PHQ-9",
        "20 (",  # baseline
        "16 (",  # latest
        "-4 (-20 %)",
        "To whom it may concern",
    ):
        assert expected in text, expected
    letter = client.post(url, {"to": "patient"})
    assert re.fullmatch(
        r'attachment; filename="outcome-letter-\d{4}-\d\d-\d\d-[0-9a-f]{10}\.pdf"',
        letter["Content-Disposition"],
    )
    assert "COH-001" not in letter["Content-Disposition"]
    patient_letter = _pdf_text(letter)
    assert "Dear Cohort1 Lovelace," in patient_letter
    printed = AuditEntry.objects.filter(action="outcome_letter.printed", patient_id=p1.pk)
    assert [e.summary for e in printed.order_by("seq")] == [
        "Outcome letter printed for the payer",
        "Outcome letter printed for the patient",
    ]
    # The payer's details are in the letter only: not in the audit trail.
    assert not any("Acme" in f"{e.summary} {e.after}" for e in AuditEntry.objects.all())
    # Not on the care team: refused, and the refusal is audited.
    other = as_role("prescriber")
    other.logout()
    from tests.conftest import verified_client

    verified_client(other, clinic.others["prescriber"])
    assert other.post(url, {"to": "patient"}).status_code == 403
    assert as_role("nurse").get(url).status_code == 403


def test_a_refresh_too_large_for_the_page_goes_to_the_worker_once(cohort, as_role, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    from kapstone.cohorts import summaries
    from kapstone.cohorts.tasks import refresh_course_summaries

    monkeypatch.setattr(summaries, "INLINE_LIMIT", 3)  # the cohort's 8 patients are "too many"
    researcher = as_role("researcher")
    page = researcher.get(reverse("cohorts:dashboard"), _query(cohort))
    assert page.status_code == 200
    html = page.content.decode()
    assert "The figures are being prepared." in html and 'id="started"' not in html
    assert 'hx-trigger="every 10s"' in html and "X-Kapstone-Poll" in html
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "kapstone.cohorts.tasks.refresh_course_summaries"
    assert queued.args_kwargs["args"] == ["phq9"]
    # Polling again does not queue it twice; a CSV meanwhile is refused, not computed slowly.
    researcher.get(reverse("cohorts:dashboard"), _query(cohort))
    assert DBTaskResult.objects.count() == 1
    csv_meanwhile = researcher.get(reverse("cohorts:csv", args=["time_points"]), _query(cohort))
    assert csv_meanwhile.status_code == 503

    assert refresh_course_summaries.call("phq9") == {
        "instrument": "phq9",
        "rebuilt": True,
        "patients": 8,
    }
    ready = researcher.get(reverse("cohorts:dashboard"), _query(cohort)).content.decode()
    assert re.search(r'id="started">7<', ready) and "being prepared" not in ready
