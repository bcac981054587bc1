"""Reads for dosing sessions, and the one answer to "when was this dose given".

A dose was given when the nurse charted it at the chair (the first ``DoseAdministration``'s start),
not when the session was booked: a dose charted at 17:28 for a 17:40 booking was given at 17:28.
A session without a chair-side record (held before charting existed, or not charted yet) counts
from its booked start, and says so (``source``). A chair-side record signed without any dose charted
is a session where no dose was given: it is no dose at all. An open record with no dose yet keeps
its booked start, as a planned dose, until the dose is charted. Outcomes, the measurement schedule,
letters, cohort facts, REMS forms and the research export all read dose times from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypedDict

from django.db.models import DateTimeField, Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.patients.models import Patient

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class DoseTimeFields(TypedDict):
    """What :func:`with_dose_time` adds to each session."""

    given_at: dt.datetime
    dose_charted: bool
    no_dose: bool


class DoseTimeSource(StrEnum):
    CHARTED = "charted"  # the first dose's start as charted at the chair
    BOOKED = "booked"  # no dose charted: the session's booked start

    @property
    def label(self) -> str:
        return "charted at the chair" if self is DoseTimeSource.CHARTED else "booked start"


@dataclass(frozen=True, slots=True)
class DoseTime:
    session_id: int
    at: dt.datetime
    source: DoseTimeSource


def with_dose_time(
    sessions: QuerySet[DosingSession],
) -> QuerySet[WithAnnotations[DosingSession, DoseTimeFields]]:
    """``sessions`` annotated with ``given_at`` (the charted start of its first dose, else the
    booked start) and ``dose_charted``, without cancelled sessions and without sessions whose
    signed record charts no dose. Filter and order on ``given_at`` like on any field."""
    from kapstone.chairside.models import ChairsideRecord, DoseAdministration

    first_dose = (
        DoseAdministration.objects.filter(record__session_id=OuterRef("pk"))
        .order_by("started_at", "pk")
        .values("started_at")[:1]
    )
    signed_without_dose = ChairsideRecord.objects.filter(
        session_id=OuterRef("pk"), signed_at__isnull=False, doses__isnull=True
    )
    return (
        sessions.exclude(status=SessionStatus.CANCELLED)
        .annotate(
            given_at=Coalesce(
                Subquery(first_dose, output_field=DateTimeField()),
                "starts_at",
                output_field=DateTimeField(),
            ),
            dose_charted=Exists(first_dose),
            no_dose=Exists(signed_without_dose),
        )
        .filter(no_dose=False)
    )


def dose_time_rows(sessions: QuerySet[DosingSession]) -> list[DoseTime]:
    return [
        DoseTime(
            session_id=pk,
            at=at,
            source=DoseTimeSource.CHARTED if charted else DoseTimeSource.BOOKED,
        )
        for pk, at, charted in with_dose_time(sessions)
        .order_by("given_at", "pk")
        .values_list("pk", "given_at", "dose_charted")
    ]


def sessions_for_patient(patient: Patient) -> QuerySet[DosingSession]:
    return DosingSession.objects.filter(patient=patient).select_related("site", "booked_by")


def dose_times(patient: Patient | int) -> list[DoseTime]:
    """Every dose of the patient (given, or planned when not charted yet), in order."""
    return dose_time_rows(DosingSession.objects.filter(patient=patient))


def dosing_times(patient: Patient | int) -> list[dt.datetime]:
    """When each dose was given (see the module): what schedules, outcomes and letters count."""
    return [d.at for d in dose_times(patient)]


def dose_time_of(session: DosingSession) -> DoseTime | None:
    """When this one session's dose was given; None when it was cancelled or given no dose."""
    rows = dose_time_rows(DosingSession.objects.filter(pk=session.pk))
    return rows[0] if rows else None


def session_of(patient: Patient, session_id: int) -> DosingSession | None:
    """The patient's dosing session ``session_id`` (with its site and plan), or None when the
    patient has no such session."""
    return (
        DosingSession.objects.select_related("patient", "site", "plan")
        .filter(pk=session_id, patient=patient)
        .first()
    )
