"""The main pages read a patient's history in a fixed number of queries (issue 17).

Two patients on the same care team, each with a dosing session in progress at the chair: ``few``
with N past sessions, N PHQ-9 and N GAD-7 scores and N extra readings, and ``many`` with 3N of
each. A page that reads per session, per score or per reading (an N+1) asks more queries for
``many`` than for ``few``, and the test names the page. The clinic-wide pages (day board, alert
board, patient list, cohort dashboard) are counted before and after ``many`` gains its extra
history. Each page is requested once first, so that one-off reads (the session's renewal, a
refresh of the cohort summaries) are not counted.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from tests.conftest import (
    daytime_zone,
    kept_for_the_module,
    make_patient,
    make_staff,
    verified_client,
)
from tests.shell.chairside_support import at, ready_to_dose, vitals

N = 2


def _phq9(total: int) -> dict[str, int]:
    answers = {str(i): min(3, max(0, total - 3 * (i - 1))) for i in range(1, 9)}
    return {**answers, "9": 0, "10": 1}


def _gad7(total: int) -> dict[str, int]:
    return {str(i): min(3, max(0, total - 3 * (i - 1))) for i in range(1, 8)}


def submitted(patient, by, instrument: str, total: int, when: dt.datetime) -> None:
    """A response submitted through the services, then dated ``when`` (the services stamp now)."""
    from kapstone.assessments.models import QuestionnaireResponse
    from kapstone.assessments.services import save_answers, send_questionnaires, submit

    questionnaire_set, _ = send_questionnaires(by=by, patient=patient, instruments=[instrument])
    answers = (_phq9 if instrument == "phq9" else _gad7)(total)
    save_answers(questionnaire_set=questionnaire_set, instrument=instrument, answers=answers)
    response = submit(questionnaire_set=questionnaire_set, instrument=instrument)
    QuestionnaireResponse.objects.filter(pk=response.pk).update(submitted_at=when, started_at=when)


def dose(patient, by, when: dt.datetime) -> None:
    from kapstone.dosing.services import book_dosing_session

    book_dosing_session(by=by, patient=patient, starts_at=when, now=when - dt.timedelta(days=1))


def _history(patient, staff, record, *, start: int, count: int) -> None:
    """``count`` more past sessions, PHQ-9 and GAD-7 scores, and readings of the session in
    progress (numbered from ``start``, so a second call adds to the first)."""
    prescriber, nurse = staff["prescriber"], staff["nurse"]
    now = timezone.now()
    for n in range(start, start + count):
        when = now - dt.timedelta(days=7 * (n + 2), hours=n)
        dose(patient, prescriber, when)
        submitted(patient, prescriber, "phq9", 18 - n, when - dt.timedelta(hours=2))
        submitted(patient, prescriber, "gad7", 14 - n, when - dt.timedelta(hours=3))
        vitals(record, nurse, at(record.session, 10 + 5 * n))


def _pages(patient, record) -> dict[str, str]:
    return {
        "chart": reverse("patients:chart", args=[patient.pk]),
        "console": reverse("chairside:console", args=[patient.pk, record.session_id]),
        "outcomes tab": reverse("outcomes:chart_tab", args=[patient.pk]),
    }


CLINIC_PAGES = {
    "day board": "today:board",
    "alert board": "safety:board",
    "patient list": "patients:find",
    "cohort dashboard": "cohorts:dashboard",
}


def _count(client: Client, url: str) -> int:
    first = client.get(url)
    assert first.status_code == 200, (url, first.status_code)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


@pytest.fixture(scope="module")
def counted(django_db_setup, django_db_blocker):
    """{page: (queries for few, queries for many)} and the same for the clinic-wide pages."""
    from kapstone.accounts.models import Site
    from kapstone.clinical.access import Role

    # The day board shows today's sessions, and these began up to 90 minutes ago: in a zone where it
    # is daytime they are today's at any hour of the run (a run just after midnight failed here).
    with override_settings(TIME_ZONE=daytime_zone()), kept_for_the_module(django_db_blocker):
        site = Site.objects.create(name="Counted")
        staff = {r.value: make_staff(f"qc-{r.value}", r, [site]) for r in Role}
        patients, records = {}, {}
        for n, name in enumerate(("few", "many")):
            patient = make_patient(
                by=staff["intake_coordinator"],
                mrn=f"QC-{n}",
                site=site,
                prescriber=staff["prescriber"],
                therapist=staff["therapist"],
                nurse=staff["nurse"],
            )
            records[name] = ready_to_dose(SimpleNamespace(on_team=patient, staff=staff))
            patients[name] = patient
            _history(patient, staff, records[name], start=0, count=N)
        client = verified_client(Client(), staff[Role.MEDICAL_DIRECTOR.value])
        before = {name: _count(client, reverse(url)) for name, url in CLINIC_PAGES.items()}
        _history(patients["many"], staff, records["many"], start=N, count=2 * N)
        from kapstone.dosing.models import DosingSession

        sessions = {
            name: DosingSession.objects.filter(patient=p).count() for name, p in patients.items()
        }
        assert sessions["many"] == sessions["few"] + 2 * N  # the history did grow
        after = {name: _count(client, reverse(url)) for name, url in CLINIC_PAGES.items()}
        per_patient = {
            page: (
                _count(client, _pages(patients["few"], records["few"])[page]),
                _count(client, _pages(patients["many"], records["many"])[page]),
            )
            for page in ("chart", "console", "outcomes tab")
        }
        # One more session in progress at the chair: the day board reads every record's doses,
        # readings and ratings at once, not per session (it read 4 more queries a session).
        board = reverse("today:board")
        two = _count(client, board)
        third = make_patient(
            by=staff["intake_coordinator"],
            mrn="QC-2",
            site=site,
            prescriber=staff["prescriber"],
            therapist=staff["therapist"],
            nurse=staff["nurse"],
        )
        record = ready_to_dose(SimpleNamespace(on_team=third, staff=staff))
        console = reverse("chairside:console", args=[third.pk, record.session_id])
        assert console in client.get(board).content.decode()  # the board does show it
        in_progress = (two, _count(client, board))
        yield {
            "patient": per_patient,
            "clinic": {k: (before[k], after[k]) for k in before},
            "in progress": in_progress,
        }


@pytest.mark.parametrize("page", ["chart", "console", "outcomes tab"])
def test_a_patients_page_reads_their_history_in_a_fixed_number_of_queries(counted, db, page):
    few, many = counted["patient"][page]
    assert few == many, f"{page}: {few} queries with {N} sessions and scores, {many} with {3 * N}"
    assert few > 0


@pytest.mark.parametrize("page", list(CLINIC_PAGES))
def test_a_clinic_page_does_not_read_more_when_a_patient_has_more_history(counted, db, page):
    before, after = counted["clinic"][page]
    assert before == after, f"{page}: {before} queries, then {after} after more history"
    assert before > 0


def test_the_day_board_reads_in_a_fixed_number_of_queries_whatever_the_sessions_in_progress(
    counted, db
):
    two, three = counted["in progress"]
    assert two == three, f"day board: {two} queries with 2 sessions in progress, {three} with 3"
