"""Charge lines proposed as an encounter is signed: a chair-side record (the dose) or an
integration note (the psychotherapy). The rules are the core's (kapstone.clinical.billing.charges);
this module loads the signed encounter, hands it to them and writes the lines they propose, for a
biller to review.

A proposal never stands in the way of a signature: it runs in a savepoint inside the signature's
transaction, and when it cannot be made (no rule fits, no fee, an unexpected error) a "needs coding"
line says why, for the biller to code by hand.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.billing.models import ChargeLine
from kapstone.billing.services._common import unit_price
from kapstone.chairside.models import ChairsideRecord
from kapstone.integration.models import IntegrationNote

logger = logging.getLogger(__name__)
OFFICE = "11"  # place of service: office (CMS place-of-service code set)


@dataclass(frozen=True)
class Proposed:
    """One line as the rules propose it (before its fee)."""

    code: str
    units: int
    description: str
    modifiers: tuple[str, ...]
    diagnoses: tuple[str, ...]
    pointers: tuple[int, ...]
    rule: str


class NeedsCoding(Exception):
    """The rules could not propose a line; the message says why, for the biller."""


def _write(
    *,
    by: StaffUser | None,
    patient_id: int,
    site_id: int,
    service_date: dt.date,
    rendering_id: int | None,
    proposed: list[Proposed],
    now: dt.datetime,
    source: dict[str, int],
) -> list[ChargeLine]:
    from kapstone.accounts.models import Site

    site = Site.objects.get(pk=site_id)
    lines: list[ChargeLine] = []
    for line in proposed:
        price = unit_price(site=site, payer=None, code=line.code, on=service_date)
        if price is None:
            raise NeedsCoding(f"The fee schedule of {site.name} has no price for {line.code}.")
        lines.append(
            ChargeLine(
                patient_id=patient_id,
                site_id=site_id,
                code=line.code,
                description=line.description,
                units=line.units,
                modifiers=list(line.modifiers),
                diagnoses=list(line.diagnoses),
                diagnosis_pointers=list(line.pointers),
                rendering_id=rendering_id,
                place_of_service=OFFICE,
                service_date=service_date,
                fee_cents=price * line.units,
                rule=line.rule[:200],
                proposed_at=now,
                proposed_by=by,
                **source,
            )
        )
    if not lines:
        raise NeedsCoding("The rules proposed no line for this encounter.")
    for written in lines:
        written.save()
    return lines


def _needs_coding(
    *,
    by: StaffUser | None,
    patient_id: int,
    site_id: int,
    service_date: dt.date,
    rendering_id: int | None,
    why: str,
    now: dt.datetime,
    source: dict[str, int],
) -> list[ChargeLine]:
    line = ChargeLine.objects.create(
        patient_id=patient_id,
        site_id=site_id,
        units=1,
        rendering_id=rendering_id,
        place_of_service=OFFICE,
        service_date=service_date,
        needs_coding=why[:1000],
        proposed_at=now,
        proposed_by=by,
        **source,
    )
    return [line]


def _propose(
    *,
    by: StaffUser | None,
    patient_id: int,
    site_id: int,
    service_date: dt.date,
    rendering_id: int | None,
    rules: object,
    now: dt.datetime,
    source: dict[str, int],
    what: str,
) -> list[ChargeLine]:
    """Runs the rules (a callable returning the proposed lines, or raising NeedsCoding) and writes
    their lines, or a needs-coding line; never raises."""
    common = {
        "by": by,
        "patient_id": patient_id,
        "site_id": site_id,
        "service_date": service_date,
        "rendering_id": rendering_id,
        "now": now,
        "source": source,
    }
    try:
        with transaction.atomic():
            assert callable(rules)
            lines = _write(proposed=rules(), **common)  # type: ignore[arg-type]
    except NeedsCoding as why:
        lines = _needs_coding(why=str(why), **common)  # type: ignore[arg-type]
    except Exception:
        logger.exception("Charges not proposed for %s", what)
        lines = _needs_coding(
            why="The charge rules failed on this encounter (the error is in the server log): "
            "code it by hand.",
            **common,  # type: ignore[arg-type]
        )
    record(
        actor=by,
        action="billing.charges_proposed",
        patient=lines[0].patient,
        obj=lines[0],
        summary=f"{len(lines)} charge line(s) proposed from the signed {what}"
        if not lines[0].needs_coding
        else f"Signed {what} needs coding: {lines[0].needs_coding}",
        after={"lines": [line.pk for line in lines], "codes": [line.code for line in lines]},
    )
    return lines


def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def propose_charges_for_chairside_record(
    *, record: ChairsideRecord, by: StaffUser | None, now: dt.datetime | None = None
) -> list[ChargeLine]:
    """Called by the chair-side signature, inside its transaction."""
    from kapstone.billing.encounters import chairside_rules

    now = now or timezone.now()
    session = record.session
    patient = session.patient
    return _propose(
        by=by,
        patient_id=patient.pk,
        site_id=session.site_id,
        service_date=_local_date(session.starts_at),
        rendering_id=patient.prescriber_id,
        rules=lambda: chairside_rules(record),
        now=now,
        source={"chairside_record_id": record.pk},
        what="chair-side record",
    )


def propose_charges_for_integration_note(
    *, note: IntegrationNote, by: StaffUser | None, now: dt.datetime | None = None
) -> list[ChargeLine]:
    """Called by the integration note's signature, inside its transaction."""
    from kapstone.billing.encounters import integration_rules

    now = now or timezone.now()
    session = note.session
    return _propose(
        by=by,
        patient_id=note.patient_id,
        site_id=session.site_id,
        service_date=_local_date(note.held_at),
        rendering_id=note.author_id,
        rules=lambda: integration_rules(note),
        now=now,
        source={"integration_note_id": note.pk},
        what="integration note",
    )
