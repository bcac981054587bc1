"""Booking by hand offers the signed plan in force, so the session carries its plan and route and
opens at the chair side (before, the form had no such field and the session had neither)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from kapstone.chairside import services as chairside
from kapstone.dosing.models import DosingSession
from tests.shell.chairside_support import signed_plan_for


def _starts() -> dt.datetime:
    return timezone.localtime(timezone.now() + dt.timedelta(days=5)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )


def test_the_form_offers_the_signed_plan_and_books_with_its_route(clinic, as_role):
    plan = signed_plan_for(clinic)
    client = as_role("prescriber")
    url = reverse("dosing:book", args=[clinic.on_team.pk])
    page = client.get(url).content.decode()
    assert "Treatment plan and route" in page and "Intravenous" in page
    starts = _starts()
    response = client.post(
        url,
        {
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 120,
            "plan": plan.pk,
        },
    )
    assert response.status_code == 302
    session = DosingSession.objects.get()
    assert session.plan == plan and session.route == "iv"
    record = chairside.open_record(by=clinic.staff["nurse"], session=session)
    assert record.route == "iv"


def test_another_patients_plan_is_refused_and_nothing_is_booked(clinic, as_role):
    signed_plan_for(clinic)
    client = as_role("prescriber")
    from kapstone.plans.models import TreatmentPlan

    other = TreatmentPlan.objects.exclude(patient=clinic.on_team).first()
    response = client.post(
        reverse("dosing:book", args=[clinic.on_team.pk]),
        {
            "starts_at": _starts().strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 120,
            "plan": other.pk if other else 999_999,
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not DosingSession.objects.exists()


def test_without_a_signed_plan_the_form_says_so_and_still_books(clinic, as_role):
    client = as_role("prescriber")
    url = reverse("dosing:book", args=[clinic.on_team.pk])
    assert "No signed plan yet" in client.get(url).content.decode()
    response = client.post(
        url, {"starts_at": _starts().strftime("%Y-%m-%dT%H:%M"), "duration_minutes": 120}
    )
    assert response.status_code == 302 and DosingSession.objects.get().plan is None
