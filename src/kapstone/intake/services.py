"""Writes for the intake and its eligibility sign-off.

Each write checks its input first (raising InputError keyed by field, nothing written), then runs in
one transaction with its audit row. Every table is append-only: saving a section adds an intake
version, screening adds a review superseding the last one, and signing adds rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.clinical.access import Permission, may
from kapstone.clinical.eligibility import (
    Decision,
    EligibilityPolicyError,
    IntakeFactsError,
    assess,
)
from kapstone.errors import InputError
from kapstone.intake import document, signoff
from kapstone.intake.models import (
    EligibilityCosignature,
    EligibilityReview,
    EligibilitySignature,
    FindingOverride,
    IntakeVersion,
    decision_label,
)
from kapstone.intake.questionnaire_facts import latest_results, merge
from kapstone.intake.sections import SECTIONS_BY_KEY
from kapstone.intake.selectors import current_policy, missing_sections
from kapstone.patients.models import Patient


def _refuse_unless(by: StaffUser, patient: Patient, permission: Permission, what: str) -> None:
    on_team = by.pk in patient.care_team_ids()
    if not may(by.staff_role, permission, on_care_team=on_team):
        raise InputError.single("", f"Your role ({by.staff_role.label}) cannot {what} here.")


def _facts_errors(exc: IntakeFactsError) -> InputError:
    return InputError.from_problems(exc.problems, say=document.problem_text)


# ---------------------------------------------------------------------------------------------
# Intake


def save_intake_section(
    *,
    by: StaffUser,
    patient: Patient,
    section: str,
    value: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> IntakeVersion:
    """Adds an intake version with ``section`` replaced by ``value`` (facts-format JSON; for the
    presentation section, the profile's JSON). Errors are keyed by facts path."""
    now = now or timezone.now()
    if section not in SECTIONS_BY_KEY:
        known = ", ".join(SECTIONS_BY_KEY)
        raise InputError.single(
            "", f"{section!r} is not an intake section; the sections are {known}."
        )
    _refuse_unless(by, patient, Permission.EDIT_PATIENT, "edit the intake")
    today = timezone.localdate(now)
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        previous = locked.intake_versions.order_by("-pk").first()
        try:
            checked = document.merged(
                facts=previous.facts if previous else {},
                presentation=previous.presentation if previous else {},
                sections_done=previous.sections_done if previous else [],
                section=section,
                value=value,
                recorded_on=today,
                age_years=locked.age_on(today),
            )
        except IntakeFactsError as exc:
            raise _facts_errors(exc) from None
        version = IntakeVersion.objects.create(
            patient=locked,
            facts=checked.facts,
            presentation=checked.presentation,
            sections_done=checked.sections_done,
            section_saved=section,
            complete=checked.complete,
            problems=checked.problems,
            supersedes=previous,
            saved_by=by,
            saved_at=now,
        )
        title = SECTIONS_BY_KEY[section].title
        record(
            actor=by,
            action="intake.section_saved",
            patient=locked,
            obj=version,
            summary=f"Intake: {title} saved" + ("" if checked.complete else " (intake incomplete)"),
            before={"section": section, "value": _section_value(previous, section)}
            if previous
            else None,
            after={"section": section, "value": _section_value(version, section)},
        )
    return version


def _section_value(version: IntakeVersion | None, section: str) -> Any:
    if version is None:
        return None
    if section == "presentation":
        return version.presentation
    return {k: version.facts.get(k) for k in SECTIONS_BY_KEY[section].facts_keys}


# ---------------------------------------------------------------------------------------------
# Screening


def screen(*, by: StaffUser, patient: Patient, now: dt.datetime | None = None) -> EligibilityReview:
    """Screens the intake in force (with the latest questionnaire results) as of today; the new
    review supersedes the patient's last one, signed or not."""
    now = now or timezone.now()
    _refuse_unless(by, patient, Permission.EDIT_PATIENT, "screen eligibility")
    today = timezone.localdate(now)
    policy = current_policy()
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        intake = locked.intake_versions.order_by("-pk").first()
        if intake is None:
            raise InputError.single("", "There is no intake to screen yet.")
        if not intake.complete:
            raise InputError.single("", incomplete_message(intake))
        facts, sources = merge(intake.facts, latest_results(locked, policy=policy))
        try:
            decision = assess(document.screenable(facts), on=today, policy=policy)
        except IntakeFactsError as exc:
            raise InputError.single(
                "",
                "The intake cannot be screened: "
                + "; ".join(f"{p.path}: {document.problem_text(p)}" for p in exc.problems),
            ) from None
        except EligibilityPolicyError as exc:
            raise InputError.single(
                "", f"The clinic's eligibility policy is invalid: {exc}"
            ) from None
        result = decision.as_json()
        previous = locked.eligibility_reviews.order_by("-pk").first()
        review = EligibilityReview.objects.create(
            patient=locked,
            intake=intake,
            facts=facts,
            questionnaire_sources=sources,
            screened_decision=decision.decision.value,
            findings=result["findings"],
            derived=result["derived"],
            assessed_on=decision.assessed_on,
            rule_set_version=decision.rule_set_version,
            policy_version=decision.policy_version,
            supersedes=previous,
            screened_by=by,
            screened_at=now,
        )
        record(
            actor=by,
            action="eligibility.screened",
            patient=locked,
            obj=review,
            summary=f"Eligibility screened: {decision_label(review.screened_decision)}"
            + (f" ({', '.join(decision.finding_ids)})" if decision.findings else "")
            + (f"; supersedes review {previous.pk}" if previous else ""),
            after={
                "intake_version": intake.pk,
                "decision": review.screened_decision,
                "findings": list(decision.finding_ids),
                "rule_set_version": review.rule_set_version,
                "policy_version": review.policy_version,
            },
        )
    return review


def incomplete_message(intake: IntakeVersion) -> str:
    missing = [s.title for s in missing_sections(intake)]
    if missing:
        return "The intake is incomplete: save " + "; ".join(missing) + " before screening."
    return "The intake cannot be screened yet: " + "; ".join(
        f"{p['path']}: {p['message']}" for p in intake.problems
    )


# ---------------------------------------------------------------------------------------------
# Sign-off


def _current_review(patient: Patient, review: EligibilityReview) -> EligibilityReview:
    """The review, locked with its patient; refused unless it is the patient's latest."""
    locked_patient = Patient.objects.select_for_update().get(pk=patient.pk)
    latest = locked_patient.eligibility_reviews.order_by("-pk").first()
    if review.patient_id != patient.pk or latest is None:
        raise InputError.single("", "This review does not belong to this patient.")
    if latest.pk != review.pk:
        raise InputError.single(
            "",
            f"A newer screening (review {latest.pk}) supersedes this one: sign that one instead.",
        )
    return latest


def sign(
    *,
    by: StaffUser,
    patient: Patient,
    review: EligibilityReview,
    final_decision: str,
    reasons: Mapping[str, str],
    note: str = "",
    now: dt.datetime | None = None,
) -> EligibilitySignature:
    """The prescriber signs the decision they accept, with a reason for each finding it goes
    against. Overriding an absolute finding counts only once the medical director co-signs."""
    now = now or timezone.now()
    _refuse_unless(by, patient, Permission.SIGN_ELIGIBILITY, "sign an eligibility decision")
    try:
        final = Decision(final_decision)
    except ValueError:
        accepted = ", ".join(d.value for d in Decision)
        raise InputError.single(
            "final_decision", f"{final_decision!r} is not a decision; accepted: {accepted}."
        ) from None
    errors = signoff.problems(
        screened=Decision(review.screened_decision),
        findings=review.findings,
        final=final,
        reasons=reasons,
        note=note,
    )
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        current = _current_review(patient, review)
        if EligibilitySignature.objects.filter(review=current).exists():
            raise InputError.single("", "This review is already signed; screen again to amend it.")
        against = signoff.overridden(current.findings, final)
        cosign = signoff.needs_cosign(current.findings, final)
        try:
            with transaction.atomic():
                signature = EligibilitySignature.objects.create(
                    review=current,
                    final_decision=final.value,
                    note=note.strip(),
                    needs_cosign=cosign,
                    signed_by=by,
                    signed_at=now,
                )
        except IntegrityError:
            raise InputError.single(
                "", "This review was signed a moment ago; screen again to amend it."
            ) from None
        overrides = [
            FindingOverride.objects.create(
                signature=signature,
                rule_id=f["rule_id"],
                kind=f["kind"],
                reason=reasons[f["rule_id"]].strip(),
            )
            for f in against
        ]
        record(
            actor=by,
            action="eligibility.signed",
            patient=current.patient,
            obj=signature,
            summary=f"Eligibility signed: {decision_label(final.value)}"
            + (f", overriding {', '.join(o.rule_id for o in overrides)}" if overrides else "")
            + ("; awaits the medical director's co-signature" if cosign else ""),
            after={
                "review": current.pk,
                "screened_decision": current.screened_decision,
                "final_decision": final.value,
                "overrides": {o.rule_id: o.reason for o in overrides},
                "needs_cosign": cosign,
                "note": signature.note,
            },
        )
    return signature


def cosign(
    *,
    by: StaffUser,
    patient: Patient,
    review: EligibilityReview,
    approve: bool,
    reason: str,
    now: dt.datetime | None = None,
) -> EligibilityCosignature:
    """The medical director's second sign-off on overriding an absolute finding (or its refusal,
    after which the patient is screened again)."""
    now = now or timezone.now()
    _refuse_unless(by, patient, Permission.COSIGN_ELIGIBILITY, "co-sign an eligibility decision")
    if not reason.strip():
        raise InputError.single(
            "reason",
            "Give your own reason: why the override is acceptable, or why it is not.",
        )
    with transaction.atomic():
        current = _current_review(patient, review)
        signature = EligibilitySignature.objects.filter(review=current).first()
        if signature is None:
            raise InputError.single("", "The prescriber has not signed this review yet.")
        if not signature.needs_cosign:
            raise InputError.single(
                "", "This sign-off overrides no absolute finding: no co-signature is needed."
            )
        if signature.signed_by_id == by.pk:
            raise InputError.single(
                "", "You signed this decision: the second sign-off must come from someone else."
            )
        if EligibilityCosignature.objects.filter(signature=signature).exists():
            raise InputError.single("", "This decision has already been co-signed or refused.")
        try:
            with transaction.atomic():
                cosignature = EligibilityCosignature.objects.create(
                    signature=signature,
                    approved=approve,
                    reason=reason.strip(),
                    cosigned_by=by,
                    cosigned_at=now,
                )
        except IntegrityError:
            raise InputError.single("", "This decision was co-signed a moment ago.") from None
        absolute = [o.rule_id for o in signature.overrides.all() if o.kind == "absolute"]
        record(
            actor=by,
            action="eligibility.cosigned" if approve else "eligibility.cosign_refused",
            patient=current.patient,
            obj=cosignature,
            summary=(
                f"Medical director co-signed {decision_label(signature.final_decision)}"
                if approve
                else f"Medical director refused {decision_label(signature.final_decision)}"
            )
            + f" overriding {', '.join(absolute)}",
            after={"review": current.pk, "approved": approve, "reason": cosignature.reason},
        )
    return cosignature
