"""Building blocks for the treatment-plan tests (and the URL walker's sample ids): a draft plan with
every section written, through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from kapstone.clinical.access import Modality
from kapstone.clinical.routes import Route
from kapstone.plans import selectors, services
from kapstone.plans.sections import (
    CONSENT_TOPICS,
    Consent,
    Preparation,
    RelapsePrevention,
)


def program(key: str):  # type: ignore[no-untyped-def]
    """The version in force of a program (seeding the defaults if a flush removed them)."""
    services.ensure_default_templates()
    return selectors.current_templates().get(key=key)


def preparation(held_by) -> Preparation:  # type: ignore[no-untyped-def]
    return Preparation(
        held_on=timezone.localdate() - dt.timedelta(days=1),
        held_by_id=held_by.pk,
        expectations="Hopes for relief within the first week; knows not everyone responds.",
        intentions="To reconnect with friends and stop the 3 a.m. rumination.",
        fears="Losing control; was told the therapist stays in the room throughout.",
        dissociation="Floating, distance from the body, time stretching; temporary and safe.",
        fasting="No food for 2 hours and no drinks for 30 minutes before each session.",
        ride_home="Partner (Sam, 555-0100) drives home after every session.",
        room_light="dimmed",
        music="Ambient instrumental playlist, low volume.",
    )


def consent(witness, *, given_at: dt.datetime | None = None) -> Consent:  # type: ignore[no-untyped-def]
    return Consent(
        explained=tuple(key for key, _ in CONSENT_TOPICS),
        notes="Asked about driving; answered: not until the next day.",
        form_version="KAP-consent-2026-11",
        given_by="Ada Lovelace",
        relationship="",
        witness_id=witness.pk,
        given_at=given_at or timezone.now() - dt.timedelta(hours=1),
    )


RELAPSE = RelapsePrevention(
    warning_signs="Sleeping past noon, cancelling plans, the old thought 'what is the point'.",
    actions="Tell my partner, book a session with my therapist, restart the morning walk.",
    supports="Sam (partner); my sister; the clinic on 555-0199 on weekdays.",
    maintenance_when="If two questionnaires in a row, a week apart, show low mood coming back.",
)


def draft_plan(patient, by, *, key: str = "standard_iv_induction", **overrides):  # type: ignore[no-untyped-def]
    """A draft with every section written: IV 0.5 mg/kg over 40 minutes at 10 mg/mL by default."""
    nurse = patient.nurse or by
    kwargs = {
        "by": by,
        "patient": patient,
        "program": program(key),
        "route": Route.IV,
        "dose_basis": "mg_per_kg",
        "dose_steps": (Decimal("0.5"),),
        "concentration_mg_per_ml": Decimal("10"),
        "infusion_minutes": Decimal("40"),
        "preparation": preparation(patient.therapist or by),
        "consent": consent(nurse),
        "relapse_prevention": RELAPSE,
    }
    kwargs.update(overrides)
    return services.save_draft(**kwargs)


def ready_to_sign(patient, prescriber, therapist, **overrides):  # type: ignore[no-untyped-def]
    """A complete draft whose modalities the therapist confirmed (credentialing them as needed)."""
    from kapstone.accounts.models import ModalityCredential

    plan = draft_plan(patient, prescriber, **overrides)
    chosen = [Modality(m) for m in plan.modalities] or [Modality.EMDR]
    for modality in chosen:
        ModalityCredential.objects.get_or_create(therapist=therapist, modality=modality.value)
    from kapstone.plans.selectors import proposed_modalities

    proposed = set(proposed_modalities(plan))
    reason = "" if {m.value for m in chosen} == proposed else "No profile: EMDR for trauma"
    return services.confirm_modalities(by=therapist, plan=plan, modalities=chosen, reason=reason)


def sample_plan(patient):  # type: ignore[no-untyped-def]
    """For the URL walker: the walked patient's latest plan version, drafted if there is none."""
    return selectors.latest_plan(patient) or draft_plan(patient, patient.prescriber)
