"""A signed encounter as the core's charge rules read it (kapstone.clinical.billing.charges), and
their proposal as lines to write.

Loading is the shell's; every rule (which code, how many units, which pointers, the code in force on
the service date) is the core's. The diagnoses are the patient's latest diagnoses for claims
(:class:`~kapstone.billing.models.PatientDiagnoses`): none on file, and the encounter needs coding.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from kapstone.billing import selectors
from kapstone.billing.services.proposals import NeedsCoding, Proposed
from kapstone.chairside.models import ChairsideRecord
from kapstone.clinical.billing.charges import (
    ChargeProposal,
    EncounterKind,
    PlaceOfService,
    SignedEncounter,
    kind_for_route,
    propose_charges,
)
from kapstone.clinical.billing.codes import DEFAULT_CODE_TABLE
from kapstone.clinical.problems import Refused
from kapstone.clinical.routes import Route
from kapstone.errors import sentence
from kapstone.integration.models import IntegrationNote

POINTERS = "ABCDEFGHIJKL"


def _minutes(moment: dt.datetime, origin: dt.datetime) -> int:
    return int((moment - origin).total_seconds() // 60)


def chairside_encounter(record: ChairsideRecord, diagnoses: tuple[str, ...]) -> SignedEncounter:
    session = record.session
    route = Route(record.route)
    doses = list(record.doses.order_by("started_at", "pk"))
    start = min((d.started_at for d in doses), default=None)
    stops = [d.stopped_at for d in doses if d.stopped_at is not None]
    kind = kind_for_route(route)
    infusion = kind is EncounterKind.IV_INFUSION and start is not None and stops
    devices = sum(d.devices or 0 for d in doses) or None
    return SignedEncounter(
        encounter_id=f"chairside:{record.pk}",
        kind=kind,
        service_date=timezone.localtime(session.starts_at).date(),
        rendering_clinician_id=str(session.patient.prescriber_id or ""),
        place_of_service=PlaceOfService.OFFICE,
        diagnoses=diagnoses,
        route=route,
        infusion_start_minute=_minutes(start, session.starts_at) if infusion and start else None,
        infusion_stop_minute=_minutes(max(stops), session.starts_at) if infusion else None,
        dose_mg=sum((d.dose_mg for d in doses), Decimal(0)) or None,
        esketamine_devices=devices if route == Route.INTRANASAL_ESKETAMINE else None,
    )


def integration_encounter(note: IntegrationNote, diagnoses: tuple[str, ...]) -> SignedEncounter:
    return SignedEncounter(
        encounter_id=f"integration:{note.pk}",
        kind=EncounterKind.INTEGRATION_PSYCHOTHERAPY,
        service_date=timezone.localtime(note.held_at).date(),
        rendering_clinician_id=str(note.author_id),
        place_of_service=PlaceOfService.OFFICE,
        diagnoses=diagnoses,
        psychotherapy_minutes=note.minutes,
    )


def as_proposed(encounter: SignedEncounter) -> list[Proposed]:
    """The core's lines for the encounter; NeedsCoding with the core's reasons when it refuses or
    proposes nothing."""
    if not encounter.diagnoses:
        raise NeedsCoding(
            "No diagnosis for claims is on file for this patient: add the ICD-10-CM diagnoses on "
            "the patient's account, then code this encounter."
        )
    try:
        proposal: ChargeProposal = propose_charges(encounter)
    except Refused as refused:
        raise NeedsCoding(" ".join(sentence(p) for p in refused.problems)) from refused
    if not proposal.lines:
        raise NeedsCoding("; ".join(proposal.notes) or "Nothing billable was recorded.")
    notes = f" ({'; '.join(proposal.notes)})" if proposal.notes else ""
    return [
        Proposed(
            code=line.code,
            units=line.units,
            description=DEFAULT_CODE_TABLE.on(line.code, line.service_date).description[:120],
            modifiers=line.modifiers,
            diagnoses=encounter.diagnoses,
            pointers=tuple(POINTERS.index(p) + 1 for p in line.diagnosis_pointers),
            rule=f"{line.rule} [{line.source.cite()}]{notes}",
        )
        for line in proposal.lines
    ]


def chairside_rules(record: ChairsideRecord) -> list[Proposed]:
    return as_proposed(
        chairside_encounter(record, tuple(selectors.diagnoses_of(record.session.patient)))
    )


def integration_rules(note: IntegrationNote) -> list[Proposed]:
    return as_proposed(integration_encounter(note, tuple(selectors.diagnoses_of(note.patient))))
