"""Encounter: dosing sessions (``dosing-<pk>``) and integration sessions (``integration-<pk>``),
after US Core Encounter. What was charted in them is served elsewhere (doses, vital signs); an
integration session's notes, and above all the therapist's private process notes, never are."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce

from kapstone.dosing.models import DosingSession
from kapstone.fhirapi.registry import DatePath, Resource, SearchParam, Source, Token, kind
from kapstone.fhirapi.resources.common import (
    ID,
    LAST_UPDATED,
    PATIENT,
    US_CORE,
    instant,
    patient_ref,
    with_meta,
)
from kapstone.integration.models import IntegrationSession

PROFILE = f"{US_CORE}/us-core-encounter"
ENCOUNTER_TYPE = "urn:kapstone:encounter-type"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
STATUS_SYSTEM = "http://hl7.org/fhir/encounter-status"
UPDATED = Coalesce("cancelled_at", "booked_at")
_STATUS = {"booked": "planned", "completed": "finished", "cancelled": "cancelled"}


def _common(
    session: DosingSession | IntegrationSession,
    key: str,
    kind_code: str,
    kind_text: str,
    staff: list[int | None],
) -> Resource:
    resource: Resource = {
        "resourceType": "Encounter",
        "id": f"{key}-{session.pk}",
        "status": _STATUS.get(session.status, "unknown"),
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "type": [{"coding": [{"system": ENCOUNTER_TYPE, "code": kind_code}], "text": kind_text}],
        "subject": patient_ref(session.patient_id),
    }
    participants = [
        {
            "type": [{"coding": [{"system": PARTICIPATION, "code": "PPRF"}]}],
            "individual": {"reference": f"Practitioner/{pk}"},
        }
        for pk in staff
        if pk is not None
    ]
    if participants:
        resource["participant"] = participants
    resource["period"] = {"start": instant(session.starts_at), "end": instant(session.ends_at)}
    location = (
        f"Location/room-{session.room_id}"
        if session.room_id
        else f"Location/site-{session.site_id}"
    )
    resource["location"] = [{"location": {"reference": location}}]
    resource["serviceProvider"] = {"reference": f"Organization/{session.site_id}"}
    return resource


def _dosing() -> QuerySet[DosingSession]:
    return DosingSession.objects.annotate(fhir_updated=UPDATED).order_by("pk")


def build_dosing(session: DosingSession) -> Resource:
    text = "Dosing session"
    resource = _common(
        session, "dosing", "dosing-session", text, [session.prescriber_id, session.nurse_id]
    )
    return with_meta(resource, _updated(session), PROFILE)


def _integration() -> QuerySet[IntegrationSession]:
    return IntegrationSession.objects.annotate(fhir_updated=UPDATED).order_by("pk")


def build_integration(session: IntegrationSession) -> Resource:
    resource = _common(
        session, "integration", "integration-session", "Integration session", [session.therapist_id]
    )
    if session.dosing_session_id is not None:
        resource["partOf"] = {"reference": f"Encounter/dosing-{session.dosing_session_id}"}
    return with_meta(resource, _updated(session), PROFILE)


def _updated(session: DosingSession | IntegrationSession) -> dt.datetime:
    # The latest moment the booking records: its cancellation, else its booking.
    return session.cancelled_at or session.booked_at


def _source(key: str, rows: Any, build: Any, type_code: str) -> Source:
    return Source(
        key=key,
        rows=rows,
        build=build,
        updated="fhir_updated",
        patient="patient_id",
        dates={"date": DatePath("starts_at")},
        tokens={
            "status": _status,
            "type": lambda tokens: any(t.matches(ENCOUNTER_TYPE, type_code) for t in tokens),
        },
    )


def _status(tokens: Sequence[Token]) -> Q | bool:
    wanted = [
        ours
        for ours, fhir in _STATUS.items()
        if any(t.matches(STATUS_SYSTEM, fhir) for t in tokens)
    ]
    return Q(status__in=wanted) if wanted else False


DOSING = _source("dosing", _dosing, build_dosing, "dosing-session")
INTEGRATION = _source("integration", _integration, build_integration, "integration-session")

KIND = kind(
    "Encounter",
    sources=[DOSING, INTEGRATION],
    search_params=[
        ID,
        LAST_UPDATED,
        PATIENT,
        SearchParam(
            "date", "date", "When the session was booked to start (prefixes eq, lt, le, gt, ge)."
        ),
        SearchParam("status", "token", "planned, finished or cancelled."),
        SearchParam(
            "type", "token", "dosing-session or integration-session (urn:kapstone:encounter-type)."
        ),
    ],
    in_patient_compartment=True,
    profile=PROFILE,
    includes=["Encounter:patient"],
    documentation="Dosing and integration sessions (never their notes).",
)
