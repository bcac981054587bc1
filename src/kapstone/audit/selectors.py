"""Reads of the audit trail for the administrators' and the medical director's browser."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from kapstone.accounts.models import StaffUser
from kapstone.audit.models import AuditEntry
from kapstone.patients.identifiers import normalise_mrn


def audit_entries(
    *,
    actor: StaffUser | None = None,
    action: str = "",
    mrn: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[AuditEntry]:
    """The trail, newest first, narrowed by whichever filters are given: who acted, an action's
    beginning (``chart`` finds every ``chart.*``), one patient's MRN, and the days from and to."""
    entries = AuditEntry.objects.select_related("actor", "patient")
    if actor is not None:
        entries = entries.filter(actor=actor)
    if action.strip():
        entries = entries.filter(action__startswith=action.strip())
    if mrn:
        entries = entries.filter(patient__mrn__iexact=normalise_mrn(mrn))
    if since is not None:
        entries = entries.filter(at__date__gte=since)
    if until is not None:
        entries = entries.filter(at__date__lte=until)
    return entries
