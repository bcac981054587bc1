"""Writes to the patient registry: each in one transaction, with its audit row."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import changed_fields, record, snapshot
from kapstone.clinical.access import Role
from kapstone.clinical.plausibility import clinical_date_problem
from kapstone.errors import InputError
from kapstone.names import name_errors
from kapstone.patients.identifiers import mrn_problem, normalise_mrn
from kapstone.patients.models import BodyMeasurement, Patient

DETAIL_FIELDS = (
    "mrn",
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "sex_at_birth",
    "gender_identity",
    "pronouns",
    "phone",
    "email",
    "address",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
    "referral_source",
    "referrer_name",
    "home_site",
)
CARE_TEAM_ROLES = {
    "prescriber": frozenset({Role.PRESCRIBER, Role.MEDICAL_DIRECTOR}),
    "therapist": frozenset({Role.THERAPIST}),
    "nurse": frozenset({Role.NURSE}),
}
MIN_WEIGHT_KG, MAX_WEIGHT_KG = Decimal(30), Decimal(300)
MIN_HEIGHT_CM, MAX_HEIGHT_CM = Decimal(100), Decimal(250)
OLDEST_BIRTH_YEAR = 1900


NAME_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "emergency_contact_name",
    "referrer_name",
)


def _check_details(details: dict[str, Any], *, today: dt.date, patient: Patient | None) -> dict:
    errors: dict[str, list[str]] = {}
    mrn = normalise_mrn(details.get("mrn", ""))
    problem = mrn_problem(mrn)
    if problem is not None:
        errors["mrn"] = [problem]
    else:
        clash = Patient.objects.filter(mrn=mrn)
        if patient is not None:
            clash = clash.exclude(pk=patient.pk)
        if clash.exists():
            errors["mrn"] = [f"MRN {mrn} already belongs to another patient."]
    born = details.get("date_of_birth")
    if born is None:
        errors["date_of_birth"] = ["Enter the date of birth."]
    elif born > today:
        errors["date_of_birth"] = [f"The date of birth {born:%d %b %Y} is in the future."]
    elif born.year < OLDEST_BIRTH_YEAR:
        errors["date_of_birth"] = [f"A date of birth before {OLDEST_BIRTH_YEAR} is not possible."]
    errors |= name_errors(details, NAME_FIELDS)
    for name in ("given_name", "family_name"):
        if not str(details.get(name, "")).strip():
            errors[name] = ["This name is required."]
    return errors


def _check_measurement(
    *,
    weight_kg: Decimal | None,
    height_cm: Decimal | None,
    measured_on: dt.date | None,
    today: dt.date,
    born: dt.date | None = None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if weight_kg is None:
        errors["weight_kg"] = ["Enter the weight in kg: dose calculations need it."]
    elif not MIN_WEIGHT_KG <= weight_kg <= MAX_WEIGHT_KG:
        errors["weight_kg"] = [
            f"{weight_kg} kg is outside 30–300 kg; check the unit (kg, not lb) and the value."
        ]
    if height_cm is not None and not MIN_HEIGHT_CM <= height_cm <= MAX_HEIGHT_CM:
        errors["height_cm"] = [f"{height_cm} cm is outside 100–250 cm; check the unit (cm)."]
    if measured_on is None:
        errors["measured_on"] = ["Enter the date the weight was measured."]
    elif measured_on > today:
        errors["measured_on"] = ["The measurement date is in the future."]
    elif (
        problem := clinical_date_problem(
            measured_on, today=today, born=born, what="The measurement date"
        )
    ) is not None:
        errors["measured_on"] = [problem]
    return errors


def _check_care_team(team: dict[str, StaffUser | None]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for slot, member in team.items():
        if member is not None and member.staff_role not in CARE_TEAM_ROLES[slot]:
            allowed = " or ".join(r.label.lower() for r in sorted(CARE_TEAM_ROLES[slot]))
            errors[slot] = [f"{member.display_name} is not a {allowed}."]
    return errors


def register_patient(
    *,
    by: StaffUser,
    details: dict[str, Any],
    care_team: dict[str, StaffUser | None],
    weight_kg: Decimal | None,
    height_cm: Decimal | None,
    measured_on: dt.date | None,
) -> Patient:
    """Registers a patient with their first weight; all or nothing."""
    today = timezone.localdate()
    errors = _check_details(details, today=today, patient=None)
    born = details.get("date_of_birth")
    errors |= _check_measurement(
        weight_kg=weight_kg,
        height_cm=height_cm,
        measured_on=measured_on,
        today=today,
        born=born if isinstance(born, dt.date) else None,
    )
    errors |= _check_care_team(care_team)
    if errors:
        raise InputError(errors)
    now = timezone.now()
    clean = {**details, "mrn": normalise_mrn(details["mrn"])}
    try:
        with transaction.atomic():
            patient = Patient.objects.create(
                **clean, **care_team, registered_at=now, registered_by=by
            )
            measurement = BodyMeasurement.objects.create(
                patient=patient,
                measured_on=measured_on,
                weight_kg=weight_kg,
                height_cm=height_cm,
                recorded_at=now,
                recorded_by=by,
            )
            record(
                actor=by,
                action="patient.registered",
                patient=patient,
                obj=patient,
                summary=f"Registered MRN {patient.mrn}",
                after=snapshot(patient, (*DETAIL_FIELDS, "prescriber", "therapist", "nurse"))
                | {"weight_kg": str(measurement.weight_kg)},
            )
    except IntegrityError as exc:
        # Two coordinators registering the same MRN at once: the unique index decides.
        if Patient.objects.filter(mrn=clean["mrn"]).exists():
            raise InputError.single(
                "mrn", f"MRN {clean['mrn']} already belongs to another patient."
            ) from exc
        raise
    return patient


def update_patient_details(*, by: StaffUser, patient: Patient, details: dict[str, Any]) -> Patient:
    """Changes some or all of the details; the result as a whole must pass the same checks."""
    unknown = set(details) - set(DETAIL_FIELDS)
    if unknown:
        raise InputError({name: ["This is not a patient detail."] for name in sorted(unknown)})
    merged = {name: getattr(patient, name) for name in DETAIL_FIELDS} | details
    errors = _check_details(merged, today=timezone.localdate(), patient=patient)
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        before = snapshot(locked, DETAIL_FIELDS)
        for name, value in details.items():
            setattr(locked, name, normalise_mrn(value) if name == "mrn" else value)
        after = snapshot(locked, DETAIL_FIELDS)
        old, new = changed_fields(before, after)
        if not new:
            return locked
        locked.save(update_fields=list(new))
        record(
            actor=by,
            action="patient.details_changed",
            patient=locked,
            obj=locked,
            summary="Changed " + ", ".join(sorted(new)),
            before=old,
            after=new,
        )
    return locked


def change_care_team(
    *, by: StaffUser, patient: Patient, care_team: dict[str, StaffUser | None]
) -> Patient:
    errors = _check_care_team(care_team)
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        fields = tuple(care_team)
        before = snapshot(locked, fields)
        for slot, member in care_team.items():
            setattr(locked, slot, member)
        old, new = changed_fields(before, snapshot(locked, fields))
        if not new:
            return locked
        locked.save(update_fields=list(new))
        record(
            actor=by,
            action="patient.care_team_changed",
            patient=locked,
            obj=locked,
            summary="Care team changed",
            before=old,
            after=new,
        )
    return locked


def record_body_measurement(
    *,
    by: StaffUser,
    patient: Patient,
    measured_on: dt.date | None,
    weight_kg: Decimal | None,
    height_cm: Decimal | None = None,
) -> BodyMeasurement:
    errors = _check_measurement(
        weight_kg=weight_kg,
        height_cm=height_cm,
        measured_on=measured_on,
        today=timezone.localdate(),
        born=patient.date_of_birth,
    )
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        measurement = BodyMeasurement.objects.create(
            patient=patient,
            measured_on=measured_on,
            weight_kg=weight_kg,
            height_cm=height_cm,
            recorded_at=timezone.now(),
            recorded_by=by,
        )
        record(
            actor=by,
            action="patient.measurement_recorded",
            patient=patient,
            obj=measurement,
            summary=f"Weight {weight_kg} kg on {measured_on:%Y-%m-%d}",
            after=snapshot(measurement, ("measured_on", "weight_kg", "height_cm")),
        )
    return measurement
