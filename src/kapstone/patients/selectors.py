"""Reads of the patient registry. Opening a chart is itself audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from kapstone.accounts.models import StaffUser
from kapstone.audit.models import AuditEntry
from kapstone.audit.trail import record
from kapstone.clinical.access import SEES_EVERY_CHART
from kapstone.patients.identifiers import normalise_mrn
from kapstone.patients.models import BodyMeasurement, Patient


def patient_or_404(patient_id: int) -> Patient:
    """The patient a URL names (``Http404`` when there is none); whether the user may see the
    chart is :func:`kapstone.web.authz.requires`'s decision, not this one's."""
    # The chart's header names the site and the care team: read with the patient, not after.
    return get_object_or_404(
        Patient.objects.select_related("home_site", "prescriber", "therapist", "nurse"),
        pk=patient_id,
    )


def as_stored(patient: Patient) -> Patient:
    """The patient as the database holds them now, apart from a copy a form has changed."""
    return Patient.objects.get(pk=patient.pk)


def patients_visible_to(user: StaffUser) -> QuerySet[Patient]:
    """Charts the user may open: the care team's own patients, or every chart for roles that see all."""
    patients = Patient.objects.select_related("home_site")
    if user.staff_role in SEES_EVERY_CHART:
        return patients
    return patients.filter(Q(prescriber=user) | Q(therapist=user) | Q(nurse=user))


def find_patients(
    *, user: StaffUser, text: str = "", date_of_birth: dt.date | None = None, limit: int = 50
) -> list[Patient]:
    """Matches an MRN exactly or every word of the text against the names; narrows by birth date."""
    patients = patients_visible_to(user)
    words = text.split()
    if not words and date_of_birth is None:
        return list(patients.order_by("family_name", "given_name")[:limit])
    if words:
        by_name = Q()
        for word in words:
            by_name &= (
                Q(given_name__icontains=word)
                | Q(family_name__icontains=word)
                | Q(preferred_name__icontains=word)
            )
        # The normal form finds a full-width or lower-case MRN; the raw text still finds any MRN
        # stored before MRNs were normalised.
        by_mrn = Q(mrn=normalise_mrn(text)) | Q(mrn__iexact=text.strip())
        patients = patients.filter(by_name | by_mrn)
    if date_of_birth is not None:
        patients = patients.filter(date_of_birth=date_of_birth)
    return list(patients.order_by("family_name", "given_name")[:limit])


@dataclass(frozen=True)
class Chart:
    patient: Patient
    current_weight: BodyMeasurement | None
    measurements: list[BodyMeasurement]
    recent_activity: list[AuditEntry]


def open_chart(*, user: StaffUser, patient: Patient) -> Chart:
    """Everything the chart's overview shows; records that the user saw it."""
    record(actor=user, action="chart.viewed", patient=patient, obj=patient, summary="Opened chart")
    measurements = list(patient.measurements.all()[:20])
    activity = list(
        AuditEntry.objects.filter(patient=patient)
        .exclude(action="chart.viewed")
        .select_related("actor")[:10]
    )
    return Chart(
        patient=patient,
        current_weight=measurements[0] if measurements else None,
        measurements=measurements,
        recent_activity=activity,
    )


def current_weight(patient: Patient) -> BodyMeasurement | None:
    return patient.measurements.first()
