"""The synthetic clinic network (kapstone.demo.network): counts, references and determinism on a
small network built on the test database with its triggers in force."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count

from kapstone.accounts.models import Site, StaffUser
from kapstone.assessments.models import QuestionnaireResponse
from kapstone.chairside.models import (
    ChairsideRecord,
    DischargeSignoff,
    DissociationRating,
    DoseAdministration,
    VitalReading,
)
from kapstone.clinical.instruments import score
from kapstone.demo.network import COURSE_DAYS, MRN_PREFIX, build_network, non_demo_patients
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.intake.models import EligibilityReview, EligibilitySignature, IntakeVersion
from kapstone.patients.models import Patient
from kapstone.plans.models import PlanSignature, TreatmentPlan

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)
PATIENTS = 50


def _build(seed: int = 11):
    return build_network(patients=PATIENTS, seed=seed, now=NOW, sites=3, chunk=20)


def _snapshot() -> dict[str, list[tuple]]:
    """The network's rows by what they say (no database ids), in a stable order."""
    return {
        "patients": list(
            Patient.objects.order_by("mrn").values_list(
                "mrn",
                "given_name",
                "family_name",
                "date_of_birth",
                "home_site__name",
                "prescriber__username",
                "registered_at",
            )
        ),
        "plans": list(
            TreatmentPlan.objects.order_by("patient__mrn", "revision").values_list(
                "patient__mrn", "revision", "program__key", "route", "modalities", "dose_steps"
            )
        ),
        "sessions": list(
            DosingSession.objects.order_by("patient__mrn", "starts_at", "status").values_list(
                "patient__mrn", "starts_at", "status", "route", "room__name", "nurse__username"
            )
        ),
        "responses": list(
            QuestionnaireResponse.objects.order_by(
                "questionnaire_set__patient__mrn", "submitted_at", "position"
            ).values_list(
                "questionnaire_set__patient__mrn", "instrument", "submitted_at", "total", "answers"
            )
        ),
        "vitals": list(
            VitalReading.objects.order_by("record__session__patient__mrn", "taken_at").values_list(
                "record__session__patient__mrn", "taken_at", "systolic", "diastolic", "heart_rate"
            )
        ),
        "doses": list(
            DoseAdministration.objects.order_by("record__session__starts_at").values_list(
                "record__session__patient__mrn", "dose_mg", "route"
            )
        ),
    }


@pytest.mark.django_db
def test_a_small_network_has_the_rows_each_patient_needs():
    result = _build()

    patients = Patient.objects.filter(mrn__startswith=MRN_PREFIX)
    assert patients.count() == PATIENTS == result.rows["patients_patient"]
    assert Site.objects.count() == 3
    # The rows reported are the rows written.
    assert result.rows["dosing_dosingsession"] == DosingSession.objects.count()
    assert result.rows["chairside_vitalreading"] == VitalReading.objects.count()
    assert result.rows["assessments_questionnaireresponse"] == QuestionnaireResponse.objects.count()

    for patient in patients.select_related("home_site", "prescriber", "therapist", "nurse"):
        # The care team works at the patient's home site.
        for member in (patient.prescriber, patient.therapist, patient.nurse):
            assert member is not None
            assert patient.home_site in member.sites.all()
        assert patient.registered_by.email.endswith("demo.kapstone.invalid")
        # A complete intake, screened and signed with the core's decision.
        intake = IntakeVersion.objects.get(patient=patient)
        assert intake.complete and intake.facts["presenting_conditions"]
        review = EligibilityReview.objects.get(patient=patient, intake=intake)
        assert isinstance(review.derived["treatment_resistant_depression"], bool)
        signature = EligibilitySignature.objects.get(review=review)
        assert signature.final_decision == review.screened_decision
        # A signed first plan; its sessions name it and the patient's home site.
        plan = TreatmentPlan.objects.get(patient=patient, revision=1)
        assert PlanSignature.objects.get(plan=plan).eligibility_review_id == review.pk
        course = DosingSession.objects.filter(patient=patient, plan=plan).exclude(
            status=SessionStatus.CANCELLED
        )
        assert 4 <= course.count() <= len(COURSE_DAYS[plan.program.key])
        assert set(course.values_list("site_id", flat=True)) == {patient.home_site_id}
        # A baseline PHQ-9 before the first dose.
        first = course.order_by("starts_at").first()
        assert QuestionnaireResponse.objects.filter(
            questionnaire_set__patient=patient, instrument="phq9", submitted_at__lt=first.starts_at
        ).exists()

    # Every session held, and only those, has one signed chair-side record with its rows.
    held = DosingSession.objects.filter(status=SessionStatus.COMPLETED)
    assert held.exists() and DosingSession.objects.filter(status=SessionStatus.BOOKED).exists()
    assert not held.filter(ends_at__gt=NOW).exists()
    records = ChairsideRecord.objects.all()
    assert records.count() == held.count()
    assert set(records.values_list("session_id", flat=True)) == set(
        held.values_list("pk", flat=True)
    )
    assert not records.filter(signed_at__isnull=True).exists()
    readings = records.annotate(n=Count("vitals")).values_list("n", flat=True)
    assert min(readings) >= 8 and max(readings) <= 12
    assert VitalReading.objects.filter(is_baseline=True).count() == records.count()
    assert DoseAdministration.objects.count() == records.count()
    assert DissociationRating.objects.count() == records.count()
    assert DischargeSignoff.objects.count() == records.count()
    # A record's route is its session's, and the dose was the plan's route too.
    for record in records.select_related("session"):
        assert record.route == record.session.route

    # Every stored score is the core's score of the stored answers.
    for response in QuestionnaireResponse.objects.all()[:300]:
        scored = score(response.instrument, response.answers)
        assert (response.total, response.severity) == (scored.total, scored.severity)
        assert response.submitted_at <= NOW


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_rows_and_another_seed_others():
    def built(seed: int) -> dict[str, list[tuple]]:
        with transaction.atomic():
            _build(seed)
            rows = _snapshot()
            transaction.set_rollback(True)
        return rows

    first = built(11)
    assert all(first.values())
    again = built(11)
    assert json.dumps(again, default=str) == json.dumps(first, default=str)
    other = built(12)
    assert other["patients"] != first["patients"]
    assert other["responses"] != first["responses"]


@pytest.mark.django_db
def test_refused_beside_real_patients(clinic):
    assert non_demo_patients() == Patient.objects.count() > 0
    with pytest.raises(RuntimeError, match="real"):
        _build()
    with pytest.raises(CommandError, match="real"):
        call_command("demo_network", "--patients", "5", "--now", NOW.isoformat())
    assert not Patient.objects.filter(mrn__startswith=MRN_PREFIX).exists()
    assert not StaffUser.objects.filter(username__startswith="net-").exists()


@pytest.mark.django_db
def test_the_command_builds_once():
    from kapstone.cohorts import summaries

    # The dashboard was opened before: its (empty) summaries must not pass for current after.
    summaries.bring_up_to_date(instrument="phq9", now=NOW)
    call_command("demo_network", "--patients", "6", "--sites", "2", "--now", NOW.isoformat())
    assert Patient.objects.filter(mrn__startswith=MRN_PREFIX).count() == 6
    assert not summaries.is_current(instrument="phq9", now=NOW)
    assert summaries.bring_up_to_date(instrument="phq9", now=NOW).patients == 6
    assert non_demo_patients() == 0
    with pytest.raises(CommandError, match="already loaded"):
        call_command("demo_network", "--patients", "6", "--now", NOW.isoformat())
