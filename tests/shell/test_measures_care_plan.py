"""A patient's measurement care plan: set and changed by a service (audited, versions recorded), an
append-only history in which the latest row is in force, and the page that sets it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.clinical.measurement_schedule import DEFAULT_POLICY_VERSION, INTENSIVE_RETREAT_PLAN
from kapstone.dosing.services import book_dosing_session
from kapstone.errors import InputError
from kapstone.measures.models import AppendOnlyError, MeasurementCarePlan
from kapstone.measures.selectors import care_plan_history, current_care_plan
from kapstone.measures.services import set_care_plan

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def test_setting_a_plan_records_its_versions_and_is_audited(clinic):
    therapist = clinic.staff["therapist"]
    care_plan = set_care_plan(
        by=therapist,
        patient=clinic.on_team,
        plan="intensive-retreat",
        intake_at=NOW - dt.timedelta(days=2),
        now=NOW,
    )
    assert care_plan.plan_version == INTENSIVE_RETREAT_PLAN.version
    assert care_plan.policy_version == DEFAULT_POLICY_VERSION
    assert (care_plan.started_by, care_plan.started_at, care_plan.end_of_course) == (
        therapist,
        NOW,
        None,
    )
    entry = AuditEntry.objects.get(action="measures.care_plan_started")
    assert entry.actor == therapist and entry.patient == clinic.on_team
    assert entry.after["plan"] == "intensive-retreat"
    assert entry.after["policy_version"] == DEFAULT_POLICY_VERSION
    assert "Intensive retreat" in entry.summary


def test_changing_the_plan_adds_a_row_that_supersedes_and_keeps_the_old_one(clinic):
    patient = clinic.on_team
    first = set_care_plan(
        by=clinic.staff["prescriber"],
        patient=patient,
        plan="intensive-retreat",
        intake_at=NOW,
        now=NOW,
    )
    second = set_care_plan(
        by=clinic.staff["therapist"],
        patient=patient,
        plan="standard-induction",
        intake_at=NOW,
        end_of_course=NOW + dt.timedelta(days=21),
        now=NOW + dt.timedelta(days=1),
    )
    assert current_care_plan(patient) == second
    assert care_plan_history(patient) == [second, first]
    assert second.supersedes == first
    first.refresh_from_db()
    assert first.plan == "intensive-retreat"  # kept as it was
    entry = AuditEntry.objects.get(action="measures.care_plan_changed")
    assert entry.before["plan"] == "intensive-retreat"
    assert entry.after["plan"] == "standard-induction"
    assert "(was Intensive retreat)" in entry.summary


def test_unknown_plan_and_course_ending_before_intake_are_refused_with_nothing_written(clinic):
    with pytest.raises(InputError) as refused:
        set_care_plan(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            plan="weekend-retreat",
            intake_at=NOW,
            end_of_course=NOW - dt.timedelta(hours=1),
        )
    assert refused.value.errors["plan"] == [
        "'weekend-retreat' is not a measurement plan; the plans are Intensive retreat "
        "(intensive-retreat), Standard induction (standard-induction)."
    ]
    assert refused.value.errors["end_of_course"][0].startswith(
        "The course cannot end before the intake"
    )
    assert not MeasurementCarePlan.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="measures.").exists()


def test_a_course_cannot_end_before_its_first_dosing_session(clinic):
    now = timezone.now()
    book_dosing_session(
        by=clinic.staff["nurse"], patient=clinic.on_team, starts_at=now + dt.timedelta(days=3)
    )
    with pytest.raises(InputError, match="cannot end before its first dosing session"):
        set_care_plan(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            plan="standard-induction",
            intake_at=now - dt.timedelta(days=1),
            end_of_course=now + dt.timedelta(days=1),
        )


def test_saving_the_plan_in_force_again_changes_nothing(clinic):
    kwargs = {"patient": clinic.on_team, "plan": "intensive-retreat", "intake_at": NOW}
    set_care_plan(by=clinic.staff["prescriber"], **kwargs)
    with pytest.raises(InputError, match="already the plan in force"):
        set_care_plan(by=clinic.staff["therapist"], **kwargs)
    assert MeasurementCarePlan.objects.count() == 1


def test_plan_rows_are_append_only(clinic):
    care_plan = set_care_plan(
        by=clinic.staff["prescriber"],
        patient=clinic.on_team,
        plan="intensive-retreat",
        intake_at=NOW,
    )
    care_plan.plan = "standard-induction"
    with pytest.raises(AppendOnlyError):
        care_plan.save()
    with pytest.raises(AppendOnlyError):
        care_plan.delete()
    # The database refuses too, whatever code tries.
    for sql in (
        "UPDATE measures_measurementcareplan SET plan = 'standard-induction'",
        "DELETE FROM measures_measurementcareplan",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)


def test_the_plan_page_sets_the_plan_and_shows_the_history(clinic, as_role):
    client = as_role("therapist")
    url = reverse("measures:plan", args=[clinic.on_team.pk])
    page = client.get(url).content.decode()
    assert "Intensive retreat" in page and "Standard induction" in page
    intake = timezone.localtime(timezone.now()).replace(second=0, microsecond=0)
    response = client.post(
        url, {"plan": "standard-induction", "intake_at": intake.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("measures:chart_tab", args=[clinic.on_team.pk])
    care_plan = MeasurementCarePlan.objects.get()
    assert (care_plan.plan, care_plan.intake_at, care_plan.started_by) == (
        "standard-induction",
        intake,
        clinic.staff["therapist"],
    )
    # Refused input comes back on the form, naming the field.
    response = client.post(
        url,
        {
            "plan": "intensive-retreat",
            "intake_at": intake.strftime("%Y-%m-%dT%H:%M"),
            "end_of_course": (intake - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 200
    assert "The course cannot end before the intake" in response.content.decode()
    tab = client.get(reverse("measures:chart_tab", args=[clinic.on_team.pk])).content.decode()
    assert "Plan history" in tab and "In force" in tab and "Change the plan" in tab


def test_a_nurse_sees_the_measures_but_does_not_set_the_plan(clinic, as_role):
    set_care_plan(
        by=clinic.staff["prescriber"],
        patient=clinic.on_team,
        plan="intensive-retreat",
        intake_at=NOW,
    )
    client = as_role("nurse")
    tab = client.get(reverse("measures:chart_tab", args=[clinic.on_team.pk]))
    assert tab.status_code == 200
    assert "Change the plan" not in tab.content.decode()
    refused = client.post(
        reverse("measures:plan", args=[clinic.on_team.pk]),
        {"plan": "standard-induction", "intake_at": "2026-11-20T09:00"},
    )
    assert refused.status_code == 403
    assert MeasurementCarePlan.objects.count() == 1
