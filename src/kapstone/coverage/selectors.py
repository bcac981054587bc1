"""Reading coverage and authorisations, and the warnings the core draws from them.

Units used are counted from signed esketamine chair-side records (read here, never written); the
sessions ahead are the booked esketamine dosing sessions not yet signed. Both are bulk reads, one
query each for any number of patients, so the day board and the calendar stay cheap.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.billing.models import Payer
from kapstone.chairside.models import ChairsideRecord
from kapstone.clinical.billing.prior_auth import (
    Authorisation,
    AuthWarning,
    Benefit,
    PlannedSession,
    SessionCover,
    WarningKind,
    patient_warnings,
    with_units_used,
)
from kapstone.clinical.routes import Route
from kapstone.coverage.models import Coverage, PriorAuthorisation
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.patients.models import Patient
from kapstone.today.selectors import sites_for

ESKETAMINE = Route.INTRANASAL_ESKETAMINE.value


def payers() -> list[Payer]:
    return list(Payer.objects.filter(is_active=True).order_by("name", "pk"))


def coverages_of(patient: Patient) -> list[Coverage]:
    return list(patient.coverages.select_related("payer").order_by("ended_on", "pk"))


def coverage_choices(patient: Patient) -> QuerySet[Coverage]:
    """The coverages an authorisation may be recorded under (a form's choices)."""
    return patient.coverages.filter(ended_on__isnull=True).select_related("payer").order_by("pk")


def coverage_of(patient: Patient, coverage_id: int | str | None) -> Coverage | None:
    if not str(coverage_id or "").isdigit():
        return None
    return patient.coverages.filter(pk=int(str(coverage_id))).first()


def authorisation_of(
    patient: Patient, authorisation_id: int | str | None
) -> PriorAuthorisation | None:
    if not str(authorisation_id or "").isdigit():
        return None
    return PriorAuthorisation.objects.filter(
        pk=int(str(authorisation_id)), coverage__patient=patient
    ).first()


def _in_force(patient_ids: Iterable[int]) -> dict[int, list[PriorAuthorisation]]:
    found: dict[int, list[PriorAuthorisation]] = defaultdict(list)
    for auth in (
        PriorAuthorisation.objects.filter(
            coverage__patient_id__in=list(patient_ids), withdrawn_at__isnull=True
        )
        .select_related("coverage__payer")
        .order_by("starts_on", "pk")
    ):
        found[auth.coverage.patient_id].append(auth)
    return found


def _signed_dates(patient_ids: Iterable[int]) -> dict[int, list[dt.date]]:
    """The local dates of each patient's signed esketamine sessions."""
    found: dict[int, list[dt.date]] = defaultdict(list)
    rows = ChairsideRecord.objects.filter(
        session__patient_id__in=list(patient_ids), route=ESKETAMINE, signed_at__isnull=False
    ).values_list("session__patient_id", "session__starts_at")
    for patient_id, starts_at in rows:
        found[patient_id].append(timezone.localdate(starts_at))
    return found


def _planned(patient_ids: Iterable[int], since: dt.datetime) -> dict[int, list[DosingSession]]:
    """Booked esketamine sessions from ``since`` not yet signed, in date order."""
    found: dict[int, list[DosingSession]] = defaultdict(list)
    for session in (
        DosingSession.objects.filter(
            patient_id__in=list(patient_ids), route=ESKETAMINE, ends_at__gte=since
        )
        .exclude(status=SessionStatus.CANCELLED)
        .exclude(chairside__signed_at__isnull=False)
        .order_by("starts_at", "pk")
    ):
        found[session.patient_id].append(session)
    return found


def _core(auth: PriorAuthorisation) -> Authorisation:
    return Authorisation(
        payer=auth.coverage.payer.name,
        number=auth.number,
        approved_units=auth.approved_units,
        start=auth.starts_on,
        end=auth.ends_on,
        benefit=Benefit(auth.coverage.benefit),
    )


@dataclass(frozen=True)
class AuthorisationRow:
    record: PriorAuthorisation
    units_used: int
    units_left: int


@dataclass(frozen=True)
class PatientStatus:
    """One patient's authorisations with units used, the warnings, and each session's cover."""

    patient: Patient
    authorisations: list[AuthorisationRow]
    warnings: tuple[AuthWarning, ...]
    covers: tuple[SessionCover, ...]

    def for_session(self, session_id: int) -> list[AuthWarning]:
        ref = str(session_id)
        return [w for w in self.warnings if w.session_ref == ref]

    @property
    def standing(self) -> list[AuthWarning]:
        return [w for w in self.warnings if w.session_ref is None]


def statuses(
    patients: Sequence[Patient], *, now: dt.datetime | None = None
) -> dict[int, PatientStatus]:
    """The authorisation status of each patient that has at least one authorisation."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    ids = [p.pk for p in patients]
    auths = _in_force(ids)
    if not auths:
        return {}
    with_auths = [pid for pid in ids if auths.get(pid)]
    signed = _signed_dates(with_auths)
    planned = _planned(with_auths, now)
    out: dict[int, PatientStatus] = {}
    for patient in patients:
        records = auths.get(patient.pk)
        if not records:
            continue
        core = [_core(a) for a in records]
        counted = with_units_used(core, signed.get(patient.pk, []))
        sessions = [
            PlannedSession(str(s.pk), timezone.localdate(s.starts_at))
            for s in planned.get(patient.pk, [])
        ]
        found, covers = patient_warnings(
            core, today=today, used_on=signed.get(patient.pk, []), planned_sessions=sessions
        )
        out[patient.pk] = PatientStatus(
            patient=patient,
            authorisations=[
                AuthorisationRow(r, c.units_used, c.units_left)
                for r, c in zip(records, counted, strict=True)
            ],
            warnings=found,
            covers=covers,
        )
    return out


def status_of(patient: Patient, *, now: dt.datetime | None = None) -> PatientStatus | None:
    return statuses([patient], now=now).get(patient.pk)


@dataclass(frozen=True)
class BoardWarning:
    patient: Patient
    session: DosingSession | None
    warning: AuthWarning


def day_board_warnings(*, user: StaffUser, now: dt.datetime | None = None) -> list[BoardWarning]:
    """For the day board: warnings on today's and tomorrow's esketamine sessions at the user's
    sites, and their patients' authorisations running out."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    end = start + dt.timedelta(days=2)
    sessions = list(
        DosingSession.objects.filter(
            site__in=sites_for(user), route=ESKETAMINE, starts_at__gte=start, starts_at__lt=end
        )
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("patient")
        .order_by("starts_at", "pk")
    )
    patients = list({s.patient_id: s.patient for s in sessions}.values())
    found = statuses(patients, now=start)
    out: list[BoardWarning] = []
    for patient in patients:
        status = found.get(patient.pk)
        if status is None:
            continue
        out.extend(BoardWarning(patient, None, w) for w in status.standing)
        for session in (s for s in sessions if s.patient_id == patient.pk):
            out.extend(BoardWarning(patient, session, w) for w in status.for_session(session.pk))
    return out


def schedule_warnings(patient: Patient, *, now: dt.datetime | None = None) -> dict[str, object]:
    """For the patient's calendar: the standing warnings and each session's, by session id."""
    status = status_of(patient, now=now)
    if status is None:
        return {"standing": [], "by_session": {}}
    by_session: dict[int, list[str]] = defaultdict(list)
    for w in status.warnings:
        if w.session_ref is not None:
            by_session[int(w.session_ref)].append(w.message)
    return {"standing": [w.message for w in status.standing], "by_session": dict(by_session)}


def authorisations_board(*, now: dt.datetime | None = None) -> list[PatientStatus]:
    """Every patient with an authorisation not yet ended (or with sessions ahead), most urgent first."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    patient_ids = (
        PriorAuthorisation.objects.filter(withdrawn_at__isnull=True, ends_on__gte=today)
        .values_list("coverage__patient_id", flat=True)
        .distinct()
    )
    patients = list(Patient.objects.filter(pk__in=list(patient_ids)).order_by("family_name", "pk"))
    found = statuses(patients, now=now)
    rank = {WarningKind.EXCEEDS_UNITS: 0, WarningKind.AFTER_EXPIRY: 0, WarningKind.USED_UP: 1}
    return sorted(
        found.values(),
        key=lambda s: (min((rank.get(w.kind, 2) for w in s.warnings), default=3), s.patient.pk),
    )


def esketamine_without_authorisation(*, now: dt.datetime | None = None) -> list[Patient]:
    """Patients with esketamine sessions booked ahead and no authorisation covering any of them
    (self-paying patients among them: the front desk sees whom to ask)."""
    now = now or timezone.now()
    booked = (
        DosingSession.objects.filter(route=ESKETAMINE, starts_at__gte=now)
        .exclude(status=SessionStatus.CANCELLED)
        .values_list("patient_id", flat=True)
        .distinct()
    )
    with_auth = PriorAuthorisation.objects.filter(
        withdrawn_at__isnull=True, ends_on__gte=timezone.localdate(now)
    ).values_list("coverage__patient_id", flat=True)
    return list(
        Patient.objects.filter(pk__in=list(booked))
        .exclude(pk__in=list(with_auth))
        .order_by("family_name", "given_name", "pk")
    )
