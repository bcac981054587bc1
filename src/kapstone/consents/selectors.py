"""Reading consent: the version in force for a plan, and where the patient's signature stands."""

from __future__ import annotations

from dataclasses import dataclass

from kapstone.consents.models import ConsentDocument, ConsentSignature, SignatureAction
from kapstone.consents.texts import PLAN_CONSENT_KEY as PLAN_CONSENT
from kapstone.patients.models import Patient
from kapstone.plans.models import TreatmentPlan


def document_in_force(
    *, key: str = PLAN_CONSENT, language: str = "en-gb"
) -> ConsentDocument | None:
    """The newest version of the consent text (in the patient's language, else in English)."""
    versions = ConsentDocument.objects.filter(key=key, superseded_by__isnull=True)
    return (
        versions.filter(language=language).order_by("-pk").first()
        or versions.filter(language="en-gb").order_by("-pk").first()
    )


def signatures(*, patient: Patient, plan: TreatmentPlan) -> list[ConsentSignature]:
    """Every signature and withdrawal on this plan, newest first."""
    return list(
        ConsentSignature.objects.filter(patient=patient, plan=plan)
        .select_related("document")
        .order_by("-signed_at", "-pk")
    )


def standing_signature(*, patient: Patient, plan: TreatmentPlan) -> ConsentSignature | None:
    """The signature in force: the newest signing not withdrawn since."""
    return (
        ConsentSignature.objects.filter(
            patient=patient, plan=plan, action=SignatureAction.SIGNED, withdrawn_by__isnull=True
        )
        .select_related("document")
        .order_by("-signed_at", "-pk")
        .first()
    )


@dataclass(frozen=True)
class ConsentStatus:
    """What the plan page and its PDF say about the patient's electronic consent."""

    standing: ConsentSignature | None
    history: list[ConsentSignature]

    @property
    def withdrawn(self) -> ConsentSignature | None:
        latest = self.history[0] if self.history else None
        if latest is not None and latest.action == SignatureAction.WITHDRAWN:
            return latest
        return None


def consent_status(plan: TreatmentPlan) -> ConsentStatus:
    return ConsentStatus(
        standing=standing_signature(patient=plan.patient, plan=plan),
        history=signatures(patient=plan.patient, plan=plan),
    )
