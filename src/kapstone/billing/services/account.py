"""Payments, adjustments and refunds on a patient's account, and reversing one. Entries are never
changed: a mistake is undone by a reversal entry naming it, and posted again."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.billing.ledger import core_ledger
from kapstone.billing.models import AccountEntry, Claim, EntryKind, Payer
from kapstone.billing.services._common import refused_role
from kapstone.billing.services.setup import MAX_CENTS
from kapstone.clinical.access import Permission
from kapstone.clinical.billing import account as core
from kapstone.clinical.plausibility import text_problem
from kapstone.errors import InputError, problem_errors
from kapstone.patients.models import Patient

POSTED_BY_HAND = (EntryKind.PAYMENT, EntryKind.ADJUSTMENT, EntryKind.REFUND)
METHODS = ("cash", "card", "check", "bank transfer", "insurer", "other")


def post_entry(
    *,
    by: StaffUser,
    patient: Patient,
    kind: str,
    cents: int,
    effective_on: dt.date,
    payer: Payer | None = None,
    claim: Claim | None = None,
    method: str = "",
    reference: str = "",
    memo: str = "",
    now: dt.datetime | None = None,
) -> AccountEntry:
    """A payment (from the patient, or the payer named), an adjustment (a write-off the clinic
    decides) or a refund, in integer cents."""
    now = now or timezone.now()
    errors = refused_role(by, Permission.POST_PAYMENTS, "post payments")
    if kind not in POSTED_BY_HAND:
        errors["kind"] = ["Post a payment, an adjustment or a refund."]
    if not isinstance(cents, int) or not 1 <= cents <= MAX_CENTS:
        errors["amount"] = ["Give an amount from $0.01 to $100,000.00."]
    if effective_on > timezone.localdate(now):
        errors["effective_on"] = ["The date cannot be in the future."]
    if kind == EntryKind.PAYMENT and method and method not in METHODS:
        errors["method"] = [f"One of: {', '.join(METHODS)}."]
    if kind == EntryKind.ADJUSTMENT and not memo.strip():
        errors["memo"] = ["Say why the balance is adjusted."]
    if claim is not None and claim.patient_id != patient.pk:
        errors["claim"] = ["That claim is another patient's."]
    for field, text in (("memo", memo), ("reference", reference)):
        if (problem := text_problem(text, "The text")) is not None:
            errors[field] = [problem]
    if not errors:
        # The core's rules for a posting (a refund never returns more than was paid ...).
        errors = _core_errors(
            patient,
            core.AccountEntry(
                entry_id="new",
                kind=core.EntryKind(kind),
                amount_cents=cents,
                posted_on=effective_on,
            ),
        )
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        entry = AccountEntry.objects.create(
            patient=patient,
            kind=kind,
            cents=cents,
            payer=payer if payer is not None else (claim.payer if claim else None),
            claim=claim,
            method=method,
            reference=reference.strip()[:60],
            memo=memo.strip()[:200],
            effective_on=effective_on,
            posted_by=by,
            posted_at=now,
        )
        record(
            actor=by,
            action=f"billing.{kind}_posted",
            patient=patient,
            obj=entry,
            summary=f"{EntryKind(kind).label} of ${cents / 100:,.2f} posted"
            + (f" from {entry.payer.name}" if entry.payer else ""),
            after={"kind": kind, "cents": cents, "effective_on": effective_on.isoformat()},
        )
    return entry


def _core_errors(patient: Patient, entry: core.AccountEntry) -> dict[str, list[str]]:
    ledger = core_ledger(list(AccountEntry.objects.filter(patient=patient)))
    return problem_errors(
        core.entry_problems(ledger, entry), fields={"amount_cents": "amount"}, default=""
    )


def reverse_entry(
    *, by: StaffUser, entry: AccountEntry, reason: str, now: dt.datetime | None = None
) -> AccountEntry:
    """Undoes a payment, adjustment or refund posted in error (a charge is reversed with its line)."""
    now = now or timezone.now()
    errors = refused_role(by, Permission.POST_PAYMENTS, "reverse entries")
    if entry.kind not in POSTED_BY_HAND:
        errors[""] = ["A charge is reversed from its line; a reversal is not reversed."]
    elif AccountEntry.objects.filter(reverses=entry).exists():
        errors[""] = ["This entry was reversed already."]
    if not reason.strip():
        errors["reason"] = ["Say why."]
    if not errors:
        errors = _core_errors(
            entry.patient,
            core.AccountEntry(
                entry_id="new",
                kind=core.EntryKind.REVERSAL,
                amount_cents=entry.cents,
                posted_on=timezone.localdate(now),
                reverses=str(entry.pk),
            ),
        )
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        reversal = AccountEntry.objects.create(
            patient_id=entry.patient_id,
            kind=EntryKind.REVERSAL,
            cents=entry.cents,
            reverses=entry,
            payer=entry.payer,
            claim=entry.claim,
            memo=f"Reversal: {reason.strip()}"[:200],
            effective_on=timezone.localdate(now),
            posted_by=by,
            posted_at=now,
        )
        record(
            actor=by,
            action="billing.entry_reversed",
            patient=reversal.patient,
            obj=reversal,
            summary=f"{EntryKind(entry.kind).label} of ${entry.cents / 100:,.2f} reversed: {reason.strip()}",
            after={"reverses": entry.pk, "reason": reason.strip()},
        )
    return reversal
