"""Recording a patient's coverage and esketamine prior authorisations, each with its audit row.

Every check comes first (the core's :func:`authorisation_problems` for the authorisation), then one
transaction writes the row and its audit entry.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.billing.models import Payer
from kapstone.clinical.billing.prior_auth import Authorisation, Benefit, authorisation_problems
from kapstone.coverage.models import Coverage, PriorAuthorisation
from kapstone.errors import InputError
from kapstone.patients.models import Patient

_AUTH_FIELDS = {"start": "starts_on", "end": "ends_on"}


def add_coverage(
    *,
    by: StaffUser,
    patient: Patient,
    payer: Payer | None,
    member_id: str,
    benefit: str,
    group_number: str = "",
    now: dt.datetime | None = None,
) -> Coverage:
    """Records that ``patient`` is insured by ``payer`` under ``member_id`` (medical or pharmacy)."""
    now = now or timezone.now()
    member_id, group_number = member_id.strip(), group_number.strip()
    errors: dict[str, list[str]] = {}
    if payer is None or not payer.is_active:
        errors["payer"] = ["Choose the payer."]
    if not member_id:
        errors["member_id"] = ["The member ID is required."]
    if benefit not in {b.value for b in Benefit}:
        errors["benefit"] = ["Choose the medical or the pharmacy benefit."]
    if (
        not errors
        and Coverage.objects.filter(
            patient=patient, payer=payer, member_id=member_id, benefit=benefit
        ).exists()
    ):
        errors[""] = ["This coverage is already recorded."]
    if errors:
        raise InputError(errors)
    assert payer is not None  # checked above
    with transaction.atomic():
        coverage = Coverage.objects.create(
            patient=patient,
            payer=payer,
            member_id=member_id,
            group_number=group_number,
            benefit=benefit,
            recorded_at=now,
            recorded_by=by,
        )
        record(
            actor=by,
            action="coverage.added",
            patient=patient,
            obj=coverage,
            summary=f"Coverage with {payer.name} ({coverage.get_benefit_display().lower()})",
            after={"payer": payer.name, "benefit": benefit},
        )
    return coverage


def record_authorisation(
    *,
    by: StaffUser,
    coverage: Coverage | None,
    number: str,
    approved_units: int | None,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    now: dt.datetime | None = None,
) -> PriorAuthorisation:
    """Records a payer's esketamine prior authorisation under ``coverage``."""
    now = now or timezone.now()
    number = number.strip()
    errors: dict[str, list[str]] = {}
    if coverage is None:
        errors["coverage"] = ["Choose the coverage the authorisation is under."]
    if approved_units is None:
        errors["approved_units"] = ["How many sessions were approved?"]
    if starts_on is None:
        errors["starts_on"] = ["The first day is required."]
    if ends_on is None:
        errors["ends_on"] = ["The last day is required."]
    if errors:
        raise InputError(errors)
    assert coverage is not None and approved_units is not None
    assert starts_on is not None and ends_on is not None
    core = Authorisation(
        coverage.payer.name, number, approved_units, starts_on, ends_on, Benefit(coverage.benefit)
    )
    problems = authorisation_problems(core)
    if problems:
        raise InputError.from_problems(problems, fields=_AUTH_FIELDS)
    if coverage.authorisations.filter(number=number).exists():
        raise InputError.single("number", "This authorisation number is already recorded.")
    with transaction.atomic():
        auth = PriorAuthorisation.objects.create(
            coverage=coverage,
            number=number,
            approved_units=approved_units,
            starts_on=starts_on,
            ends_on=ends_on,
            recorded_at=now,
            recorded_by=by,
        )
        record(
            actor=by,
            action="coverage.authorisation_recorded",
            patient=coverage.patient,
            obj=auth,
            summary=f"Prior authorisation {number}: {approved_units} sessions, "
            f"{starts_on:%d %b %Y} to {ends_on:%d %b %Y}",
            after={
                "number": number,
                "approved_units": approved_units,
                "starts_on": starts_on,
                "ends_on": ends_on,
            },
        )
    return auth


def withdraw_authorisation(
    *,
    by: StaffUser,
    authorisation: PriorAuthorisation,
    reason: str,
    now: dt.datetime | None = None,
) -> PriorAuthorisation:
    """Withdraws an authorisation recorded by mistake or revoked by the payer (kept, not deleted)."""
    now = now or timezone.now()
    reason = reason.strip()
    if authorisation.withdrawn_at is not None:
        raise InputError.single("", "This authorisation is already withdrawn.")
    if not reason:
        raise InputError.single("reason", "Say why the authorisation is withdrawn.")
    with transaction.atomic():
        authorisation.withdrawn_at = now
        authorisation.withdrawn_by = by
        authorisation.withdrawn_reason = reason[:200]
        authorisation.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_reason"])
        record(
            actor=by,
            action="coverage.authorisation_withdrawn",
            patient=authorisation.coverage.patient,
            obj=authorisation,
            summary=f"Prior authorisation {authorisation.number} withdrawn: {reason[:120]}",
            after={"withdrawn_reason": reason[:200]},
        )
    return authorisation
