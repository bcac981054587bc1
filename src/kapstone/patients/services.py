"""Writes to the patient registry: each in one transaction, with its audit row."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import changed_fields, record, snapshot
from kapstone.clinical.access import Role
from kapstone.clinical.plausibility import HEIGHT_RANGE_CM, WEIGHT_RANGE_KG, clinical_date_problem
from kapstone.errors import InputError
from kapstone.names import name_errors
from kapstone.patients.duplicates import possible_duplicates
from kapstone.patients.identifiers import MrnScheme, mrn_problem, normalise_mrn
from kapstone.patients.models import BodyMeasurement, Patient
from kapstone.patients.phones import PHONE_FIELDS, normalise_phone

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
# The core's one definition of plausible weight and height (kapstone.clinical.plausibility).
MIN_WEIGHT_KG, MAX_WEIGHT_KG = WEIGHT_RANGE_KG.low, WEIGHT_RANGE_KG.high
MIN_HEIGHT_CM, MAX_HEIGHT_CM = HEIGHT_RANGE_CM.low, HEIGHT_RANGE_CM.high
OLDEST_BIRTH_YEAR = 1900


NAME_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "emergency_contact_name",
    "referrer_name",
)


MRN_ATTEMPTS = 5  # two registrations taking the same next MRN at once: the later one takes the next
MAX_REASON_LENGTH = 500


def mrn_scheme() -> MrnScheme:
    return MrnScheme(
        prefix=settings.MRN_PREFIX, digits=settings.MRN_DIGITS, first=settings.MRN_FIRST_NUMBER
    )


def next_mrn() -> str:
    """The next MRN of the clinic's scheme: one after the highest of its shape already given."""
    scheme = mrn_scheme()
    highest = (
        Patient.objects.filter(mrn__regex=rf"^{re.escape(scheme.normal_prefix)}[0-9]+$")
        .annotate(length=Length("mrn"))
        .order_by("-length", "-mrn")
        .values_list("mrn", flat=True)
        .first()
    )
    return scheme.following(highest)


def _clean_phones(
    details: dict[str, Any], *, patient: Patient | None
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Phone numbers in international format, and the ones refused. A number left as it was stored
    is not checked again (numbers kept before the check must not block other changes)."""
    clean: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for name in PHONE_FIELDS:
        if name not in details:
            continue
        raw = str(details.get(name) or "")
        if patient is not None and raw == getattr(patient, name):
            clean[name] = raw
            continue
        clean[name], problem = normalise_phone(raw, region=settings.PHONE_REGION)
        if problem is not None:
            errors[name] = [problem]
    return clean, errors


def _check_details(
    details: dict[str, Any], *, today: dt.date, patient: Patient | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    mrn = normalise_mrn(details.get("mrn") or "")
    problem = mrn_problem(mrn)
    if not mrn and patient is None:
        pass  # registration assigns the next MRN of the clinic's scheme
    elif problem is not None:
        errors["mrn"] = [problem]
    else:
        clash = Patient.objects.filter(mrn=mrn)
        if patient is not None:
            clash = clash.exclude(pk=patient.pk)
        if clash.exists():
            errors["mrn"] = [
                f"MRN {mrn} already belongs to another patient: leave the MRN empty to have "
                "the next one assigned, or check the number."
            ]
    born = details.get("date_of_birth")
    if born is None:
        errors["date_of_birth"] = ["Enter the date of birth."]
    elif born > today:
        errors["date_of_birth"] = [f"The date of birth {born:%d %b %Y} is in the future."]
    elif born.year < OLDEST_BIRTH_YEAR:
        errors["date_of_birth"] = [f"A date of birth before {OLDEST_BIRTH_YEAR} is not possible."]
    errors |= name_errors(details, NAME_FIELDS)
    for name, what in (("given_name", "given (first) name"), ("family_name", "family name")):
        if not str(details.get(name, "")).strip():
            errors[name] = [f"Enter the patient's {what}."]
    errors |= _clean_phones(details, patient=patient)[1]
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
            f"{weight_kg} kg is outside {MIN_WEIGHT_KG:f}–{MAX_WEIGHT_KG:f} kg; "
            "check the unit (kg, not lb) and the value."
        ]
    if height_cm is not None and not MIN_HEIGHT_CM <= height_cm <= MAX_HEIGHT_CM:
        errors["height_cm"] = [
            f"{height_cm} cm is outside {MIN_HEIGHT_CM:f}–{MAX_HEIGHT_CM:f} cm; check the unit (cm)."
        ]
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


def _duplicate_errors(details: dict[str, Any], *, check: bool, reason: str) -> dict[str, list[str]]:
    given, family = str(details.get("given_name") or ""), str(details.get("family_name") or "")
    born = details.get("date_of_birth")
    if len(reason) > MAX_REASON_LENGTH:
        return {"duplicate_reason": [f"Keep the reason under {MAX_REASON_LENGTH} characters."]}
    if not check or reason.strip() or not isinstance(born, dt.date):
        return {}
    matches = possible_duplicates(given_name=given, family_name=family, date_of_birth=born)
    if not matches:
        return {}
    found = "; ".join(
        f"{m.patient.given_name} {m.patient.family_name}, born {m.patient.date_of_birth:%d %b %Y}, "
        f"MRN {m.patient.mrn} ({m.why})"
        for m in matches
    )
    return {
        "duplicate": [
            f"This person may already be registered: {found}. Open their chart instead, or "
            "confirm this is a different person and say why."
        ]
    }


def registration_problems(
    *,
    details: dict[str, Any],
    care_team: dict[str, StaffUser | None],
    weight_kg: Decimal | None,
    height_cm: Decimal | None,
    measured_on: dt.date | None,
    check_duplicates: bool = True,
    duplicate_reason: str = "",
) -> dict[str, list[str]]:
    """Every reason a registration would be refused, all at once (the form shows them together)."""
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
    errors |= _duplicate_errors(details, check=check_duplicates, reason=duplicate_reason)
    return errors


def register_patient(
    *,
    by: StaffUser,
    details: dict[str, Any],
    care_team: dict[str, StaffUser | None],
    weight_kg: Decimal | None,
    height_cm: Decimal | None,
    measured_on: dt.date | None,
    check_duplicates: bool = True,
    duplicate_reason: str = "",
) -> Patient:
    """Registers a patient with their first weight; all or nothing.

    An empty MRN is assigned from the clinic's scheme. A person who may already be registered is
    refused unless ``duplicate_reason`` says why this is someone else (kept in the audit trail);
    ``check_duplicates=False`` is for callers that are not registering a person at the front desk
    (the synthetic demo clinic, test fixtures)."""
    errors = registration_problems(
        details=details,
        care_team=care_team,
        weight_kg=weight_kg,
        height_cm=height_cm,
        measured_on=measured_on,
        check_duplicates=check_duplicates,
        duplicate_reason=duplicate_reason,
    )
    if errors:
        raise InputError(errors)
    # _check_measurement refused a missing date or weight above.
    assert measured_on is not None and weight_kg is not None
    phones, _ = _clean_phones(details, patient=None)
    typed_mrn = normalise_mrn(details.get("mrn") or "")
    for _attempt in range(MRN_ATTEMPTS):
        now = timezone.now()
        mrn = typed_mrn or next_mrn()
        clean = {**details, **phones, "mrn": mrn}
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
                after = snapshot(patient, (*DETAIL_FIELDS, "prescriber", "therapist", "nurse"))
                after |= {"weight_kg": str(measurement.weight_kg), "mrn_assigned": not typed_mrn}
                if duplicate_reason.strip():
                    after["registered_despite_possible_duplicate"] = duplicate_reason.strip()
                record(
                    actor=by,
                    action="patient.registered",
                    patient=patient,
                    obj=patient,
                    summary=f"Registered MRN {patient.mrn}",
                    after=after,
                )
        except IntegrityError as exc:
            # Two coordinators registering the same MRN at once: the unique index decides.
            if not Patient.objects.filter(mrn=mrn).exists():
                raise
            if typed_mrn:
                raise InputError.single(
                    "mrn", f"MRN {mrn} already belongs to another patient."
                ) from exc
            continue  # the assigned MRN was taken a moment ago: take the next one
        return patient
    raise InputError.single(
        "mrn", "No free MRN could be assigned just now: try again, or type the MRN."
    )


def update_patient_details(*, by: StaffUser, patient: Patient, details: dict[str, Any]) -> Patient:
    """Changes some or all of the details; the result as a whole must pass the same checks."""
    unknown = set(details) - set(DETAIL_FIELDS)
    if unknown:
        raise InputError({name: ["This is not a patient detail."] for name in sorted(unknown)})
    merged = {name: getattr(patient, name) for name in DETAIL_FIELDS} | details
    errors = _check_details(merged, today=timezone.localdate(), patient=patient)
    if errors:
        raise InputError(errors)

    def apply(locked: Patient) -> None:
        phones, _ = _clean_phones(details, patient=locked)
        for name, value in (details | phones).items():
            setattr(locked, name, normalise_mrn(value) if name == "mrn" else value)

    return _change_patient(
        by=by,
        patient=patient,
        fields=DETAIL_FIELDS,
        change=apply,
        action="patient.details_changed",
        summary="Changed {fields}",
    )


def change_care_team(
    *, by: StaffUser, patient: Patient, care_team: dict[str, StaffUser | None]
) -> Patient:
    errors = _check_care_team(care_team)
    if errors:
        raise InputError(errors)

    def apply(locked: Patient) -> None:
        for slot, member in care_team.items():
            setattr(locked, slot, member)

    return _change_patient(
        by=by,
        patient=patient,
        fields=tuple(care_team),
        change=apply,
        action="patient.care_team_changed",
        summary="Care team changed",
    )


def _change_patient(
    *,
    by: StaffUser,
    patient: Patient,
    fields: Sequence[str],
    change: Callable[[Patient], None],
    action: str,
    summary: str,
) -> Patient:
    """Locks the patient, applies ``change`` and saves the fields it changed, with their audit
    row (``{fields}`` in the summary names them); when nothing changed, nothing is written."""
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        before = snapshot(locked, fields)
        change(locked)
        old, new = changed_fields(before, snapshot(locked, fields))
        if not new:
            return locked
        locked.save(update_fields=list(new))
        record(
            actor=by,
            action=action,
            patient=locked,
            obj=locked,
            summary=summary.format(fields=", ".join(sorted(new))),
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
    assert measured_on is not None and weight_kg is not None  # refused above when missing
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
