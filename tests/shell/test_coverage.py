"""Coverage and esketamine prior authorisations (issue 21): recording them, units used counted from
signed chair-side records, and the warnings on the patient's calendar and the day board before the
session that would exceed an authorisation or fall after it ends."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.clinical.billing.prior_auth import WarningKind
from kapstone.coverage import selectors
from kapstone.coverage.models import Coverage, PriorAuthorisation
from kapstone.coverage.services import add_coverage, record_authorisation, withdraw_authorisation
from kapstone.dosing.services import cancel_dosing_session
from kapstone.errors import InputError
from tests.shell.coverage_support import esketamine_session, payer, signed_session

DAY = dt.timedelta(days=1)


@pytest.fixture
def desk(clinic):  # type: ignore[no-untyped-def]
    return clinic.staff["intake_coordinator"]


@pytest.fixture
def covered(clinic, desk):  # type: ignore[no-untyped-def]
    return add_coverage(
        by=desk, patient=clinic.on_team, payer=payer(), member_id="M-55", benefit="medical"
    )


def authorise(coverage, by, *, units=3, first=-30, last=30, number="PA-77"):  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    return record_authorisation(
        by=by,
        coverage=coverage,
        number=number,
        approved_units=units,
        starts_on=today + first * DAY,
        ends_on=today + last * DAY,
    )


# --- services --------------------------------------------------------------------------------------


def test_coverage_is_recorded_with_its_audit_row_and_checked_first(clinic, desk, covered):
    entry = AuditEntry.objects.get(action="coverage.added")
    assert entry.patient_id == clinic.on_team.pk and entry.actor_id == desk.pk
    with pytest.raises(InputError) as refused:
        add_coverage(by=desk, patient=clinic.on_team, payer=None, member_id=" ", benefit="dental")
    assert set(refused.value.errors) == {"payer", "member_id", "benefit"}
    with pytest.raises(InputError, match="already recorded"):
        add_coverage(
            by=desk, patient=clinic.on_team, payer=payer(), member_id="M-55", benefit="medical"
        )
    assert Coverage.objects.count() == 1


def test_an_authorisation_is_checked_by_the_core_before_it_is_written(desk, covered):
    today = timezone.localdate()
    with pytest.raises(InputError) as refused:
        record_authorisation(
            by=desk,
            coverage=covered,
            number=" ",
            approved_units=0,
            starts_on=today,
            ends_on=today - DAY,
        )
    assert {"number", "approved_units", "ends_on"} <= set(refused.value.errors)
    assert PriorAuthorisation.objects.count() == 0
    authorise(covered, desk)
    with pytest.raises(InputError, match="already recorded"):
        authorise(covered, desk)
    assert AuditEntry.objects.filter(action="coverage.authorisation_recorded").count() == 1


def test_units_used_are_the_signed_esketamine_sessions_in_its_dates(clinic, desk, covered):
    nurse, patient = clinic.staff["nurse"], clinic.on_team
    authorise(covered, desk, units=3, first=-10)
    signed_session(patient, nurse=nurse, days_from_today=-5)
    signed_session(patient, nurse=nurse, days_from_today=-3)
    signed_session(patient, nurse=nurse, days_from_today=-2, sign=False)  # not signed: not used
    signed_session(patient, nurse=nurse, days_from_today=-1, route="iv")  # not esketamine
    signed_session(patient, nurse=nurse, days_from_today=-20)  # before the authorisation
    status = selectors.status_of(patient)
    assert status is not None
    [row] = status.authorisations
    assert (row.units_used, row.units_left) == (2, 1)


def test_a_withdrawn_authorisation_counts_no_more(clinic, desk, covered):
    auth = authorise(covered, desk)
    with pytest.raises(InputError):
        withdraw_authorisation(by=desk, authorisation=auth, reason=" ")
    withdraw_authorisation(by=desk, authorisation=auth, reason="entered twice")
    assert selectors.status_of(clinic.on_team) is None
    with pytest.raises(InputError, match="already withdrawn"):
        withdraw_authorisation(by=desk, authorisation=auth, reason="again")


# --- acceptance: the schedule warns before the session that would exceed it -----------------------


def test_the_calendar_warns_before_the_session_that_would_exceed_the_authorisation(
    clinic, desk, covered, as_role
):
    patient, nurse = clinic.on_team, clinic.staff["nurse"]
    authorise(covered, desk, units=3, first=-10, last=20)
    signed_session(patient, nurse=nurse, days_from_today=-4)
    signed_session(patient, nurse=nurse, days_from_today=-1)
    fits = esketamine_session(patient, days_from_today=3)  # the third and last approved unit
    exceeds = esketamine_session(patient, days_from_today=6)
    after = esketamine_session(patient, days_from_today=25)  # after the authorisation ends

    page = as_role("prescriber").get(reverse("timetable:patient_calendar", args=[patient.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-session="{exceeds.pk}"' in html
    assert "would exceed the 3 approved units of authorisation PA-77" in html
    assert f'data-session="{after.pk}"' in html and "is after authorisation PA-77 ends" in html
    assert f'data-session="{fits.pk}"' not in html

    # Cancelling the session that fits moves the warning on: the next one now fits.
    cancel_dosing_session(by=desk, session=fits, reason="patient unwell")
    status = selectors.status_of(patient)
    assert status is not None
    assert status.for_session(exceeds.pk) == []
    assert [w.kind for w in status.for_session(after.pk)] == [WarningKind.AFTER_EXPIRY]


def test_no_warning_without_an_authorisation(clinic, as_role):
    esketamine_session(clinic.on_team, days_from_today=3)
    page = as_role("prescriber").get(
        reverse("timetable:patient_calendar", args=[clinic.on_team.pk])
    )
    assert "Prior authorisation" not in page.content.decode()


def test_the_day_board_warns_of_tomorrows_session_and_the_expiry(clinic, desk, covered, as_role):
    patient, nurse = clinic.on_team, clinic.staff["nurse"]
    authorise(covered, desk, units=1, first=-10, last=5)
    signed_session(patient, nurse=nurse, days_from_today=-2)
    tomorrow = esketamine_session(patient, days_from_today=1)

    found = selectors.day_board_warnings(user=nurse)
    assert [(w.session, w.warning.kind) for w in found] == [
        (None, WarningKind.EXPIRES_SOON),
        (None, WarningKind.USED_UP),
        (tomorrow, WarningKind.EXCEEDS_UNITS),
    ]
    html = as_role("nurse").get(reverse("today:board")).content.decode()
    assert "authorisation PA-77 expires in 5 days" in html
    assert 'data-coverage-warning="session_exceeds_units"' in html


# --- pages -------------------------------------------------------------------------------------------


def test_the_front_desk_records_coverage_and_an_authorisation_on_the_page(clinic, as_role):
    client = as_role("intake_coordinator")
    url = reverse("coverage:patient", args=[clinic.on_team.pk])
    acme = payer()
    response = client.post(
        url,
        {
            "form": "coverage",
            "cov-payer": acme.pk,
            "cov-member_id": "M-9",
            "cov-benefit": "pharmacy",
        },
    )
    assert response.status_code == 302
    coverage = Coverage.objects.get()
    today = timezone.localdate()
    bad = client.post(
        url,
        {
            "form": "authorisation",
            "auth-coverage": coverage.pk,
            "auth-number": "PA-1",
            "auth-approved_units": "8",
            "auth-starts_on": today.isoformat(),
            "auth-ends_on": (today - DAY).isoformat(),
        },
    )
    assert bad.status_code == 200 and "ends before it starts" in bad.content.decode()
    good = client.post(
        url,
        {
            "form": "authorisation",
            "auth-coverage": coverage.pk,
            "auth-number": "PA-1",
            "auth-approved_units": "8",
            "auth-starts_on": today.isoformat(),
            "auth-ends_on": (today + 90 * DAY).isoformat(),
        },
    )
    assert good.status_code == 302
    page = client.get(url).content.decode()
    assert "PA-1" in page and "0 of 8" in page
    board = client.get(reverse("coverage:board")).content.decode()
    assert "PA-1" in board and clinic.on_team.display_name in board


def test_the_biller_sees_every_patients_coverage_and_a_nurse_none(clinic, as_role):
    url = reverse("coverage:patient", args=[clinic.elsewhere.pk])
    assert as_role("biller").get(url).status_code == 200
    assert as_role("nurse").get(url).status_code == 403
    assert as_role("nurse").get(reverse("coverage:board")).status_code == 403


def test_the_board_lists_esketamine_booked_without_an_authorisation(clinic, desk, as_role):
    esketamine_session(clinic.elsewhere, days_from_today=2)
    esketamine_session(clinic.on_team, days_from_today=2)
    coverage = add_coverage(
        by=desk, patient=clinic.on_team, payer=payer(), member_id="M-1", benefit="medical"
    )
    authorise(coverage, desk)
    assert selectors.esketamine_without_authorisation() == [clinic.elsewhere]
    page = as_role("biller").get(reverse("coverage:board")).content.decode()
    assert reverse("coverage:patient", args=[clinic.elsewhere.pk]) in page
