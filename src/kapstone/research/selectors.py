"""Reads for the research export: the identified rows the core de-identifies, and the export list.

This module reads Kapstone's tables into the core's ``Source*`` records
(:mod:`kapstone.interop.deidentify`); nothing here decides what leaves. Free-text columns are not
even read (notes, reasons, descriptions), so they cannot reach the core by mistake.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields

from django.db.models import Min, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.assessments.flow import CLINICIAN_RATED
from kapstone.assessments.models import QuestionnaireResponse, QuestionnaireSet, ResponseStatus
from kapstone.chairside.models import (
    AdverseEvent,
    ChairsideRecord,
    DeviceVerdict,
    DissociationRating,
    DoseAdministration,
    VitalReading,
)
from kapstone.clinical.integration_notes import measures
from kapstone.dosing.models import DosingSession
from kapstone.dosing.selectors import dose_time_rows, with_dose_time
from kapstone.integration.models import (
    IntegrationNote,
    IntegrationNoteAddendum,
    IntegrationSession,
)
from kapstone.integration.selectors import stored_structure
from kapstone.interop.deidentify import (
    SourceAdverseEvent,
    SourceDissociation,
    SourceDose,
    SourceDosingSession,
    SourceIntegrationSession,
    SourcePatient,
    SourceScore,
    SourceVital,
    first_contact,
)
from kapstone.ops.db_router import replica_reads
from kapstone.patients.models import Patient
from kapstone.plans.models import TreatmentPlan
from kapstone.research.models import ResearchExport


@dataclass(frozen=True)
class _Chart:
    discharged_at: dt.datetime | None
    doses: tuple[SourceDose, ...]
    vitals: tuple[SourceVital, ...]
    dissociation: tuple[SourceDissociation, ...]
    adverse_events: tuple[SourceAdverseEvent, ...]


@dataclass(frozen=True)
class Population:
    """Every patient an export asks for, and the sites of their dosing sessions that have begun:
    what the core's dataset-wide pass (``plan_export``) needs, and none of their events."""

    patients: list[SourcePatient]
    dosing_sites: set[int]


@dataclass(frozen=True)
class Events:
    """The events of one slice of patients, identified, as the core de-identifies them."""

    scores: list[SourceScore]
    dosing: list[SourceDosingSession]
    integration: list[SourceIntegrationSession]


def exports_for(user: StaffUser) -> QuerySet[ResearchExport]:
    """A requester sees their own exports; the medical director sees every one (oversight)."""
    found = ResearchExport.objects.select_related("requested_by")
    if user.role == "medical_director":
        return found
    return found.filter(requested_by=user)


@replica_reads
def recent_exports_for(user: StaffUser, *, limit: int = 50) -> list[ResearchExport]:
    """The newest exports the user sees (:func:`exports_for`), as the export page lists them."""
    return list(exports_for(user)[:limit])


def export_for_or_404(user: StaffUser, export_id: int) -> ResearchExport:
    """One export the user sees (``Http404`` for another's, so its existence is not given away)."""
    return get_object_or_404(exports_for(user), pk=export_id)


# Patients are read in pages of this many (by key), each page's plans and first questionnaires
# with it; their events a slice of SLICE patients at a time (:func:`slice_sources`).
PAGE = 2000
SLICE = 200


def _signed_plans(keys: list[int]) -> dict[int, tuple[str, str]]:
    """patient id -> (program key, route) of the latest signed plan version."""
    out: dict[int, tuple[str, str]] = {}
    plans = (
        TreatmentPlan.objects.filter(patient_id__in=keys, signature__isnull=False)
        .order_by("patient_id", "-revision")
        .values_list("patient_id", "program__key", "route")
    )
    for patient_id, program, route in plans:
        out.setdefault(patient_id, (program, route))
    return out


def _in_period(contact: dt.datetime, start: dt.date, end: dt.date, zone: dt.tzinfo) -> bool:
    return start <= contact.astimezone(zone).date() <= end


def _patient_pages(site_ids: Sequence[int]) -> Iterator[list[Patient]]:
    found = Patient.objects.order_by("pk")
    if site_ids:
        found = found.filter(home_site_id__in=list(site_ids))
    last = 0
    while page := list(found.filter(pk__gt=last)[:PAGE]):
        yield page
        if len(page) < PAGE:
            return  # the last page: no need to ask for the next
        last = page[-1].pk


def source_patients(
    *, start: dt.date, end: dt.date, site_ids: Sequence[int], programs: Sequence[str]
) -> list[SourcePatient]:
    """Patients whose first contact falls in the period, at the sites and on the programs asked.

    Read a page at a time (three queries a page), so only the page's rows are models at once."""
    zone = timezone.get_current_timezone()
    out: list[SourcePatient] = []
    for rows in _patient_pages(site_ids):
        keys = [p.pk for p in rows]
        first_sent = dict(
            QuestionnaireSet.objects.filter(patient_id__in=keys)
            .values("patient_id")
            .annotate(first=Min("sent_at"))
            .values_list("patient_id", "first")
        )
        plans = _signed_plans(keys)
        for p in rows:
            contact = first_contact(p.registered_at, first_sent.get(p.pk))
            if not _in_period(contact.at, start, end, zone):
                continue
            program, route = plans.get(p.pk, ("", ""))
            if programs and program not in programs:
                continue
            out.append(
                SourcePatient(
                    key=p.pk,
                    mrn=p.mrn,
                    given_name=p.given_name,
                    family_name=p.family_name,
                    preferred_name=p.preferred_name,
                    date_of_birth=p.date_of_birth,
                    sex_at_birth=p.sex_at_birth,
                    gender_identity=p.gender_identity,
                    pronouns=p.pronouns,
                    phone=p.phone,
                    email=p.email,
                    address=p.address,
                    emergency_contact_name=p.emergency_contact_name,
                    emergency_contact_relationship=p.emergency_contact_relationship,
                    emergency_contact_phone=p.emergency_contact_phone,
                    referral_source=p.referral_source,
                    referrer_name=p.referrer_name,
                    site_key=p.home_site_id,
                    registered_at=p.registered_at,
                    first_questionnaire_at=first_sent.get(p.pk),
                    program=program,
                    route=route,
                )
            )
    return out


def dosing_sites(*, keys: Iterable[int], site_ids: Sequence[int], now: dt.datetime) -> set[int]:
    """The sites of the patients' dosing sessions that have begun by ``now`` (the core's
    ``has_begun``: booked to start by then, or a dose charted by then on a session booked later),
    without reading the sessions: two queries, whatever the number of patients."""
    asked = set(keys)
    sessions = DosingSession.objects.all()
    if site_ids:
        sessions = sessions.filter(patient__home_site_id__in=list(site_ids))
    pairs = set(sessions.filter(starts_at__lte=now).values_list("patient_id", "site_id").distinct())
    pairs |= set(
        with_dose_time(sessions.filter(starts_at__gt=now))
        .filter(dose_charted=True, given_at__lte=now)
        .values_list("patient_id", "site_id")
        .distinct()
    )
    return {site for patient, site in pairs if patient in asked}


def _answer(value: object) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    return None  # nothing else is a valid answer; never pass text on


def source_scores(keys: Sequence[int]) -> list[SourceScore]:
    responses = (
        QuestionnaireResponse.objects.filter(
            questionnaire_set__patient_id__in=list(keys), status=ResponseStatus.SUBMITTED
        )
        .select_related("questionnaire_set")
        .order_by("pk")
    )
    out: list[SourceScore] = []
    for r in responses:
        assert r.submitted_at is not None  # a submitted response has its time (DB constraint)
        answers = tuple(
            (str(item), value)
            for item, raw in sorted(r.answers.items())
            if (value := _answer(raw)) is not None
        )
        out.append(
            SourceScore(
                patient_key=r.questionnaire_set.patient_id,
                response_key=r.pk,
                at=r.submitted_at,
                instrument=r.instrument,
                instrument_version=r.instrument_version,
                total=r.total,
                severity=r.severity,
                clinician_rated=r.instrument in CLINICIAN_RATED,
                policy_version=r.policy_version,
                answers=answers,
            )
        )
    return out


def _chairside(session_ids: list[int]) -> dict[int, _Chart]:
    """session id -> what its chair-side record holds (numbers and codes only)."""
    records = {
        r.pk: r for r in ChairsideRecord.objects.filter(session_id__in=session_ids).order_by("pk")
    }
    ids = list(records)
    doses: dict[int, list[SourceDose]] = defaultdict(list)
    vitals: dict[int, list[SourceVital]] = defaultdict(list)
    ratings: dict[int, list[SourceDissociation]] = defaultdict(list)
    events: dict[int, list[SourceAdverseEvent]] = defaultdict(list)
    for d in DoseAdministration.objects.filter(record_id__in=ids).order_by("started_at", "pk"):
        doses[d.record_id].append(
            SourceDose(
                started_at=d.started_at,
                stopped_at=d.stopped_at,
                dose_mg=float(d.dose_mg),
                route=d.route,
                planned_dose_mg=None if d.planned_dose_mg is None else float(d.planned_dose_mg),
                devices=d.devices,
            )
        )
    # A struck reading was wrong: it stays on the chart, not in the data; so does a monitor
    # reading held as a possible artifact (the confirming one after it is in). Monitor and typed
    # readings are otherwise alike here: the export summarises per session, not per reading.
    readings = VitalReading.objects.filter(record_id__in=ids, strike__isnull=True).exclude(
        device_verdict=DeviceVerdict.HELD
    )
    # Read as plain values, not models: a chart holds dozens of readings a session.
    for (
        record_id,
        taken_at,
        baseline,
        systolic,
        diastolic,
        heart,
        spo2,
        breaths,
        sedation,
    ) in readings.order_by("taken_at", "pk").values_list(
        "record_id",
        "taken_at",
        "is_baseline",
        "systolic",
        "diastolic",
        "heart_rate",
        "spo2",
        "respiratory_rate",
        "sedation",
    ):
        vitals[record_id].append(
            SourceVital(taken_at, baseline, systolic, diastolic, heart, spo2, breaths, sedation)
        )
    for r in DissociationRating.objects.filter(record_id__in=ids).order_by("taken_at", "pk"):
        ratings[r.record_id].append(SourceDissociation(r.taken_at, r.scale, r.score, r.is_baseline))
    for e in AdverseEvent.objects.filter(record_id__in=ids).order_by("onset_at", "pk"):
        # The kind and severity only: the description of an 'other' event is free text.
        events[e.record_id].append(SourceAdverseEvent(e.onset_at, e.kind, e.severity))
    return {
        record.session_id: _Chart(
            discharged_at=record.discharged_at,
            doses=tuple(doses[pk]),
            vitals=tuple(vitals[pk]),
            dissociation=tuple(ratings[pk]),
            adverse_events=tuple(events[pk]),
        )
        for pk, record in records.items()
    }


def source_dosing(keys: Sequence[int]) -> list[SourceDosingSession]:
    sessions = list(DosingSession.objects.filter(patient_id__in=list(keys)).order_by("pk"))
    charts = _chairside([s.pk for s in sessions])
    given = {
        t.session_id: t
        for t in dose_time_rows(DosingSession.objects.filter(patient_id__in=list(keys)))
    }
    out: list[SourceDosingSession] = []
    for s in sessions:
        chart = charts.get(s.pk)
        dose = given.get(s.pk)
        out.append(
            SourceDosingSession(
                patient_key=s.patient_id,
                session_key=s.pk,
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                status=s.status,
                route=s.route,
                site_key=s.site_id,
                charted=chart is not None,
                discharged_at=chart.discharged_at if chart else None,
                dose_time_source=dose.source.value if dose else "none",
                given_at=dose.at if dose else None,
                doses=chart.doses if chart else (),
                vitals=chart.vitals if chart else (),
                dissociation=chart.dissociation if chart else (),
                adverse_events=chart.adverse_events if chart else (),
            )
        )
    return out


def _note_measures(minutes: int, document: dict[str, object]) -> tuple[tuple[str, float], ...]:
    """The numbers of a signed note (its structured part in force), as the core measures them."""
    numbers = measures(stored_structure(document))
    found = [("minutes", float(minutes))]
    found += [
        (f.name, float(value))
        for f in fields(numbers)
        if isinstance(value := getattr(numbers, f.name), int)
    ]
    return tuple(found)


def _signed_measures(session_ids: list[int]) -> dict[int, tuple[tuple[str, float], ...]]:
    """session id -> the numbers of its signed note, the latest structured correction in force
    (as ``integration.selectors.structure_in_force`` reads it); drafts, the narrative and every
    text field stay behind: only the minutes and the structured part are read. Two queries."""
    notes = {
        pk: (session_id, minutes, structured)
        for pk, session_id, minutes, structured in IntegrationNote.objects.filter(
            session_id__in=session_ids, signature__isnull=False
        ).values_list("pk", "session_id", "minutes", "structured")
    }
    corrected: dict[int, dict[str, object]] = {}
    corrections = (
        IntegrationNoteAddendum.objects.filter(note_id__in=list(notes), structured__isnull=False)
        .order_by("note_id", "-created_at", "-pk")
        .values_list("note_id", "structured")
    )
    for note_id, structured in corrections:
        assert structured is not None  # filtered above
        corrected.setdefault(note_id, structured)
    return {
        session_id: _note_measures(minutes, corrected.get(pk, structured))
        for pk, (session_id, minutes, structured) in notes.items()
    }


def source_integration(keys: Sequence[int]) -> list[SourceIntegrationSession]:
    found = list(IntegrationSession.objects.filter(patient_id__in=list(keys)).order_by("pk"))
    numbers = _signed_measures([i.pk for i in found])
    return [
        SourceIntegrationSession(
            patient_key=i.patient_id,
            session_key=i.pk,
            dosing_session_key=i.dosing_session_id,
            starts_at=i.starts_at,
            ends_at=i.ends_at,
            status=i.status,
            modality=i.modality,
            measures=numbers.get(i.pk, ()),
        )
        for i in found
    ]


@replica_reads
def population(
    *,
    start: dt.date,
    end: dt.date,
    site_ids: Sequence[int],
    programs: Sequence[str],
    now: dt.datetime,
) -> Population:
    patients = source_patients(start=start, end=end, site_ids=site_ids, programs=programs)
    sites = dosing_sites(keys=(p.key for p in patients), site_ids=site_ids, now=now)
    return Population(patients, sites)


@replica_reads
def events(keys: Sequence[int]) -> Events:
    """The events of one slice of patients (:data:`SLICE`): a fixed number of queries, however
    many rows they hold."""
    return Events(
        scores=source_scores(keys),
        dosing=source_dosing(keys),
        integration=source_integration(keys),
    )


def site_choices() -> list[tuple[int, str]]:
    from kapstone.accounts.models import Site

    return [(s.pk, s.name) for s in Site.objects.order_by("name")]


def program_choices() -> list[tuple[str, str]]:
    from kapstone.plans.selectors import current_templates

    return [(t.key, t.name) for t in current_templates()]
