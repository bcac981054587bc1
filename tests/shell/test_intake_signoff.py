"""Sign-off: the prescriber signs the decision they accept; proceeding despite a relative finding
needs a written reason, despite an absolute one also the medical director's co-signature. Signed
decisions are immutable rows; only a new screening replaces them."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from kapstone.audit.models import AuditEntry
from kapstone.errors import InputError
from kapstone.intake import selectors
from kapstone.intake.models import (
    AppendOnlyError,
    EligibilityCosignature,
    EligibilitySignature,
    FindingOverride,
)
from kapstone.intake.services import cosign, screen, sign
from tests.shell.intake_support import complete_intake

BENZODIAZEPINE = {
    "medications": {
        "medications": [
            {
                "name": "clonazepam",
                "interaction_classes": ["benzodiazepine"],
                "daily_dose_mg": 1,
                "diazepam_equivalent_mg_per_day": 20,
            },
        ]
    }
}
ANEURYSM = {
    "history": {
        "medical_history": [{"condition": "aneurysmal_vascular_disease", "status": "controlled"}]
    }
}


def screened(clinic, **sections):
    complete_intake(clinic.on_team, clinic.staff["prescriber"], **sections)
    return screen(by=clinic.staff["prescriber"], patient=clinic.on_team)


def test_proceeding_despite_a_relative_finding_needs_a_reason_for_each(clinic):
    prescriber = clinic.staff["prescriber"]
    review = screened(clinic, **BENZODIAZEPINE)
    assert review.screened_decision == "eligible_with_precautions"
    assert [f["rule_id"] for f in review.findings if f["kind"] == "relative"] == ["M-BZD", "M-CNS"]

    with pytest.raises(InputError) as caught:
        sign(
            by=prescriber,
            patient=clinic.on_team,
            review=review,
            final_decision="eligible_with_precautions",
            reasons={"M-BZD": "  "},
        )
    assert set(caught.value.errors) == {"reason:M-BZD", "reason:M-CNS"}
    assert "needs your written reason" in caught.value.errors["reason:M-CNS"][0]
    with pytest.raises(InputError) as caught:
        sign(
            by=prescriber,
            patient=clinic.on_team,
            review=review,
            final_decision="eligible",
            reasons={"M-BZD": "Dose held the evening before", "M-CNS": "Monitored"},
            note="Fine",
        )
    assert "final_decision" in caught.value.errors
    assert not EligibilitySignature.objects.exists()

    signature = sign(
        by=prescriber,
        patient=clinic.on_team,
        review=review,
        final_decision="eligible_with_precautions",
        reasons={
            "M-BZD": "Clonazepam tapered to 0.5 mg before induction",
            "M-CNS": "Sedation monitored per protocol",
        },
    )
    assert not signature.needs_cosign
    assert {o.rule_id: o.kind for o in signature.overrides.all()} == {
        "M-BZD": "relative",
        "M-CNS": "relative",
    }
    signed = selectors.signed_eligibility(clinic.on_team)
    assert signed.pk == review.pk
    assert signed.decision == "eligible_with_precautions"
    assert signed.signed_at == signature.signed_at
    entry = AuditEntry.objects.get(action="eligibility.signed")
    assert entry.after["overrides"]["M-BZD"] == "Clonazepam tapered to 0.5 mg before induction"


def test_an_absolute_override_counts_only_with_the_directors_cosignature(clinic):
    prescriber, director = clinic.staff["prescriber"], clinic.staff["medical_director"]
    review = screened(clinic, **ANEURYSM)
    assert review.screened_decision == "not_eligible"

    signature = sign(
        by=prescriber,
        patient=clinic.on_team,
        review=review,
        final_decision="eligible_with_precautions",
        reasons={"C1": "Small, stable, surveilled by vascular surgery; BP tightly controlled"},
        note="Benefit judged to outweigh the risk with close BP monitoring",
    )
    assert signature.needs_cosign
    assert (
        selectors.signed_eligibility(clinic.on_team) is None
    )  # the prescriber alone is not enough
    signed_entry = AuditEntry.objects.get(action="eligibility.signed")
    assert signed_entry.object_id == str(signature.pk) and signed_entry.after["needs_cosign"]
    assert signed_entry.after["overrides"] == {
        "C1": "Small, stable, surveilled by vascular surgery; BP tightly controlled"
    }

    with pytest.raises(InputError, match="cannot co-sign"):
        cosign(by=prescriber, patient=clinic.on_team, review=review, approve=True, reason="Yes")
    with pytest.raises(InputError) as caught:
        cosign(by=director, patient=clinic.on_team, review=review, approve=True, reason=" ")
    assert list(caught.value.errors) == ["reason"]
    assert selectors.signed_eligibility(clinic.on_team) is None

    cosignature = cosign(
        by=director,
        patient=clinic.on_team,
        review=review,
        approve=True,
        reason="Reviewed the imaging report with vascular surgery",
    )
    signed = selectors.signed_eligibility(clinic.on_team)
    assert signed.pk == review.pk
    assert signed.decision == "eligible_with_precautions"
    assert signed.signed_at == cosignature.cosigned_at
    entry = AuditEntry.objects.get(action="eligibility.cosigned")
    assert (entry.actor, entry.object_id) == (director, str(cosignature.pk))
    assert entry.after["reason"] == "Reviewed the imaging report with vascular surgery"
    assert "overriding C1" in entry.summary


def test_a_refused_cosignature_leaves_the_decision_unsigned_until_screened_again(clinic):
    review = screened(clinic, **ANEURYSM)
    sign(
        by=clinic.staff["prescriber"],
        patient=clinic.on_team,
        review=review,
        final_decision="eligible_with_precautions",
        reasons={"C1": "Stable"},
        note="Proceed",
    )
    cosign(
        by=clinic.staff["medical_director"],
        patient=clinic.on_team,
        review=review,
        approve=False,
        reason="Needs vascular surgery's opinion first",
    )
    assert selectors.signed_eligibility(clinic.on_team) is None
    refused = AuditEntry.objects.get(action="eligibility.cosign_refused")
    assert refused.after == {
        "review": review.pk,
        "approved": False,
        "reason": "Needs vascular surgery's opinion first",
    }
    with pytest.raises(InputError, match="already signed"):
        sign(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            review=review,
            final_decision="not_eligible",
            reasons={},
        )
    newer = screen(by=clinic.staff["prescriber"], patient=clinic.on_team)
    sign(
        by=clinic.staff["prescriber"],
        patient=clinic.on_team,
        review=newer,
        final_decision="not_eligible",
        reasons={},
    )
    assert selectors.signed_eligibility(clinic.on_team).decision == "not_eligible"


def test_accepting_a_stop_needs_no_cosignature_and_a_different_decision_needs_a_note(clinic):
    review = screened(clinic, **ANEURYSM)
    with pytest.raises(InputError) as caught:
        sign(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            review=review,
            final_decision="urgent_safety_review",
            reasons={},
        )
    assert list(caught.value.errors) == ["note"]
    signature = sign(
        by=clinic.staff["prescriber"],
        patient=clinic.on_team,
        review=review,
        final_decision="not_eligible",
        reasons={},
    )
    assert not signature.needs_cosign and not signature.overrides.exists()
    assert selectors.signed_eligibility(clinic.on_team).decision == "not_eligible"


def test_the_director_cannot_cosign_their_own_override(clinic):
    director = clinic.staff["medical_director"]
    review = screened(clinic, **ANEURYSM)
    sign(
        by=director,
        patient=clinic.on_team,
        review=review,
        final_decision="eligible_with_precautions",
        reasons={"C1": "Stable"},
        note="Proceed",
    )
    with pytest.raises(InputError, match="someone else"):
        cosign(by=director, patient=clinic.on_team, review=review, approve=True, reason="Mine")
    assert not EligibilityCosignature.objects.exists()


def test_a_nurse_cannot_sign(clinic):
    review = screened(clinic)
    with pytest.raises(InputError, match="cannot sign"):
        sign(
            by=clinic.staff["nurse"],
            patient=clinic.on_team,
            review=review,
            final_decision="eligible",
            reasons={},
        )
    assert selectors.signed_eligibility(clinic.on_team) is None


def test_a_superseded_review_cannot_be_signed(clinic):
    older = screened(clinic)
    screen(by=clinic.staff["prescriber"], patient=clinic.on_team)
    with pytest.raises(InputError, match="supersedes this one"):
        sign(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            review=older,
            final_decision="eligible",
            reasons={},
        )


def test_signed_decisions_are_immutable_in_the_database(clinic):
    review = screened(clinic, **ANEURYSM)
    signature = sign(
        by=clinic.staff["prescriber"],
        patient=clinic.on_team,
        review=review,
        final_decision="eligible_with_precautions",
        reasons={"C1": "Stable"},
        note="Proceed",
    )
    cosignature = cosign(
        by=clinic.staff["medical_director"],
        patient=clinic.on_team,
        review=review,
        approve=True,
        reason="Agreed",
    )
    override = FindingOverride.objects.get()
    with pytest.raises(AppendOnlyError):
        signature.save()
    for sql, pk in (
        (
            "UPDATE intake_eligibilityreview SET screened_decision = 'eligible' WHERE id = %s",
            review.pk,
        ),
        (
            "UPDATE intake_eligibilitysignature SET final_decision = 'eligible' WHERE id = %s",
            signature.pk,
        ),
        ("UPDATE intake_findingoverride SET reason = 'edited' WHERE id = %s", override.pk),
        ("UPDATE intake_eligibilitycosignature SET approved = 0 WHERE id = %s", cosignature.pk),
        ("DELETE FROM intake_eligibilitycosignature WHERE id = %s", cosignature.pk),
        ("DELETE FROM intake_eligibilitysignature WHERE id = %s", signature.pk),
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [pk])
    assert selectors.signed_eligibility(clinic.on_team).decision == "eligible_with_precautions"


# ---------------------------------------------------------------------------------------------
# The pages


def url(name, clinic, review):
    return reverse(name, kwargs={"patient_id": clinic.on_team.pk, "review_id": review.pk})


def test_sign_and_cosign_through_the_pages(clinic, as_role):
    review = screened(clinic, **ANEURYSM)
    client = as_role("prescriber")
    page = client.get(url("intake:sign", clinic, review))
    html = page.content.decode()
    assert page.status_code == 200 and html.count("<h1") == 1
    assert "Reason for proceeding despite C1 (absolute)" in html

    refused = client.post(
        url("intake:sign", clinic, review), {"final_decision": "eligible_with_precautions"}
    )
    assert refused.status_code == 400
    assert "Proceeding despite C1 (an absolute finding) needs your written reason" in (
        refused.content.decode()
    )
    signed = client.post(
        url("intake:sign", clinic, review),
        {
            "final_decision": "eligible_with_precautions",
            "reason_c1": "Stable, surveilled",
            "note": "Proceed with BP monitoring",
        },
    )
    assert signed["Location"] == url("intake:review", clinic, review)
    html = client.get(signed["Location"]).content.decode()
    assert "Awaiting the medical director's co-signature" in html
    assert "Override of C1 (absolute)" in html
    # Signed: the sign page no longer offers a form.
    assert client.get(url("intake:sign", clinic, review)).status_code == 302

    director = as_role("medical_director")
    assert (
        "Co-sign or refuse the override"
        in director.get(url("intake:review", clinic, review)).content.decode()
    )
    done = director.post(
        url("intake:cosign", clinic, review), {"approve": "yes", "reason": "Agreed after review"}
    )
    assert done.status_code == 302
    html = director.get(done["Location"]).content.decode()
    assert "Signed: Eligible with precautions" in html
    assert selectors.signed_eligibility(clinic.on_team).pk == review.pk
