"""Reads for the intake and eligibility sign-off; the public interface other apps use.

``current_intake``, ``presentation_profile`` and ``signed_eligibility`` are what the treatment plan
reads: keep their names and results stable.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Model, QuerySet

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.clinical.eligibility import EligibilityPolicy
from kapstone.clinical.modality_matching import PresentationProfile
from kapstone.intake.document import profile_from_json
from kapstone.intake.models import (
    EligibilityReview,
    EligibilitySignature,
    FindingOverride,
    IntakeVersion,
)
from kapstone.intake.sections import SECTIONS, Section
from kapstone.kernel.related import load_related
from kapstone.patients.models import Patient


def current_policy() -> EligibilityPolicy:
    """The eligibility policy in force. One version exists today; every review records the version
    it was screened under."""
    return EligibilityPolicy()


def current_intake(patient: Patient) -> IntakeVersion | None:
    """The intake in force (its latest version), complete or not; ``.facts`` is the facts JSON."""
    return patient.intake_versions.order_by("-pk").first()


def open_intake(*, user: StaffUser, patient: Patient) -> IntakeVersion | None:
    """The intake in force, as the chart's Intake tab shows it; records that the user saw it."""
    intake = current_intake(patient)
    record(
        actor=user,
        action="intake.viewed",
        patient=patient,
        obj=intake,
        summary="Intake and eligibility viewed",
    )
    return intake


def intake_history(patient: Patient) -> QuerySet[IntakeVersion]:
    return patient.intake_versions.select_related("saved_by").order_by("-pk")


def missing_sections(intake: IntakeVersion | None) -> list[Section]:
    done = set(intake.sections_done) if intake else set()
    return [s for s in SECTIONS if s.required and s.key not in done]


def presentation_profile(patient: Patient) -> PresentationProfile | None:
    """The core's presentation profile for modality matching; None until the intake's presentation
    section has been saved (an empty profile would read as "nothing to match")."""
    intake = current_intake(patient)
    if intake is None or "presentation" not in intake.sections_done:
        return None
    return profile_from_json(intake.presentation)


def _reviews(patient: Patient) -> QuerySet[EligibilityReview]:
    """The screenings with their sign-off rows; the staff members those name are read afterwards
    in one query (:func:`_with_staff`), not joined (kapstone.kernel.related says why)."""
    return patient.eligibility_reviews.select_related(
        "intake", "eligibility_signature__cosignature"
    ).order_by("-pk")


def _with_staff(reviews: list[EligibilityReview]) -> list[EligibilityReview]:
    pairs: list[tuple[Model, str]] = []
    for review in reviews:
        pairs.append((review, "screened_by"))
        if (signature := review.signature) is not None:
            pairs.append((signature, "signed_by"))
        if (cosignature := review.cosignature) is not None:
            pairs.append((cosignature, "cosigned_by"))
    load_related(pairs)
    return reviews


def _first(reviews: QuerySet[EligibilityReview]) -> EligibilityReview | None:
    return next(iter(_with_staff(list(reviews[:1]))), None)


def current_review(patient: Patient) -> EligibilityReview | None:
    """The latest screening: the one that counts, signed or not."""
    return _first(_reviews(patient))


def review_history(patient: Patient, *, limit: int) -> list[EligibilityReview]:
    """The latest ``limit`` screenings, newest first."""
    return _with_staff(list(_reviews(patient)[:limit]))


def get_review(patient: Patient, review_id: int) -> EligibilityReview | None:
    return _first(_reviews(patient).filter(pk=review_id))


def open_review(*, user: StaffUser, patient: Patient, review_id: int) -> EligibilityReview | None:
    """One of the patient's eligibility reviews (None: no such review for this patient); records
    that the user saw it."""
    review = get_review(patient, review_id)
    if review is not None:
        record(
            actor=user,
            action="eligibility.viewed",
            patient=patient,
            obj=review,
            summary=f"Eligibility review {review.pk} viewed",
        )
    return review


def overrides_of(signature: EligibilitySignature | None) -> list[FindingOverride]:
    """The absolute or relative findings the signature overrode, with their reasons."""
    return list(signature.overrides.all()) if signature is not None else []


def signed_eligibility(patient: Patient) -> EligibilityReview | None:
    """The latest review if it is fully signed (co-signed where an absolute finding was overridden),
    else None: a newer screening, signed or not, supersedes any earlier signature.

    ``.decision`` is the final decision the prescriber signed (a ``Decision`` value), ``.signed_at``
    when it came to count as signed, ``.pk`` the review's id.
    """
    review = current_review(patient)
    return review if review is not None and review.fully_signed else None


@dataclass(frozen=True)
class Precaution:
    """A finding the prescriber decided to proceed despite, and what it asks of the team."""

    rule_id: str
    kind: str
    message: str
    required_action: str


def precautions(review_id: int | None) -> list[Precaution]:
    """The relative and absolute findings of a screening review (informational ones are not
    precautions): the plan and the chair side carry them so the team acts on them each session."""
    if review_id is None:
        return []
    review = EligibilityReview.objects.filter(pk=review_id).only("findings").first()
    if review is None:
        return []
    return [
        Precaution(f["rule_id"], f["kind"], f["message"], f.get("required_action") or "")
        for f in review.findings
        if f["kind"] != "informational"
    ]
