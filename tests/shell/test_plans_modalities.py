"""Integration modalities: proposed by the core's matching from the intake's presentation profile
and the clinic's credentialed therapists, each with its reason; the therapist confirms them, or
changes them with a reason."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kapstone.accounts.models import ModalityCredential
from kapstone.audit.models import AuditEntry
from kapstone.clinical.access import Modality
from kapstone.errors import InputError
from kapstone.plans import services
from kapstone.plans.models import TreatmentPlan
from tests.shell.intake_support import complete_intake
from tests.shell.plans_support import draft_plan


@pytest.fixture
def profiled(clinic):
    """Ada's intake: harsh self-criticism, rumination and withdrawal; her therapist holds IFS and
    CBT besides EMDR, nobody at the clinic holds behavioural activation."""
    complete_intake(clinic.on_team, clinic.staff["prescriber"])
    for modality in (Modality.IFS, Modality.CBT):
        ModalityCredential.objects.create(therapist=clinic.staff["therapist"], modality=modality)
    return clinic


def test_the_proposal_carries_each_reason_and_who_can_offer_it(profiled):
    clinic = profiled
    plan = draft_plan(clinic.on_team, clinic.staff["prescriber"])
    proposal = {p["modality"]: p for p in plan.modality_proposal}
    assert set(proposal) == {"ifs", "cbt", "behavioural_activation"}
    assert proposal["ifs"]["reasons"][0]["reason"].startswith("Internal Family Systems works")
    assert proposal["ifs"]["reasons"][0]["feature"] == "harsh_self_criticism"
    assert proposal["cbt"]["reasons"][0]["source"] == "§10 (unverified)"
    assert proposal["ifs"]["therapist_ids"] == [str(clinic.staff["therapist"].pk)]
    assert proposal["behavioural_activation"]["therapist_ids"] == []
    assert proposal["behavioural_activation"]["flag"] == (
        "no therapist credentialed in Behavioural activation at this clinic"
    )
    assert plan.presentation["features"] == ["harsh_self_criticism", "rumination", "withdrawal"]
    assert plan.modalities_confirmed_by is None  # proposed, not yet chosen by a therapist


def test_the_therapist_changes_the_proposal_only_with_a_reason(profiled):
    clinic = profiled
    therapist = clinic.staff["therapist"]
    plan = draft_plan(clinic.on_team, clinic.staff["prescriber"])
    with pytest.raises(InputError) as refused:
        services.confirm_modalities(
            by=therapist, plan=plan, modalities=[Modality.IFS, Modality.CBT]
        )
    assert refused.value.errors["reason"] == [
        "The choice differs from the proposal (Internal Family Systems, CBT, Behavioural "
        "activation): give the reason."
    ]
    changed = services.confirm_modalities(
        by=therapist,
        plan=plan,
        modalities=[Modality.IFS, Modality.CBT],
        reason="No behavioural activation here; CBT covers withdrawal with activity scheduling",
    )
    assert changed.revision == plan.revision + 1 and changed.supersedes == plan
    assert changed.modalities == ["ifs", "cbt"]
    assert (changed.modalities_confirmed_by, changed.modalities_reason) == (
        therapist,
        "No behavioural activation here; CBT covers withdrawal with activity scheduling",
    )
    # Everything else is carried over unchanged.
    assert changed.dose_schedule == plan.dose_schedule
    assert changed.relapse_warning_signs == plan.relapse_warning_signs
    entry = AuditEntry.objects.get(action="treatment_plan.modalities_changed")
    assert entry.before["modalities"] == ["ifs", "cbt", "behavioural_activation"]
    assert entry.after["modalities"] == ["ifs", "cbt"]
    assert entry.after["modalities_reason"] == (
        "No behavioural activation here; CBT covers withdrawal with activity scheduling"
    )
    assert entry.object_id == str(changed.pk)
    # The old draft cannot be changed any more.
    with pytest.raises(InputError, match="was replaced by version"):
        services.confirm_modalities(by=therapist, plan=plan, modalities=[Modality.IFS], reason="x")


def test_a_modality_nobody_here_offers_is_refused(profiled):
    clinic = profiled
    plan = draft_plan(clinic.on_team, clinic.staff["prescriber"])
    with pytest.raises(InputError) as refused:
        services.confirm_modalities(
            by=clinic.staff["therapist"],
            plan=plan,
            modalities=[Modality.IFS, Modality.CBT, Modality.BEHAVIOURAL_ACTIVATION],
        )
    assert (
        "No therapist at Riverside is credentialed in Behavioural activation"
        in (refused.value.errors["modalities"][0])
    )


def test_only_a_therapist_or_the_director_confirms(profiled):
    clinic = profiled
    plan = draft_plan(clinic.on_team, clinic.staff["prescriber"])
    with pytest.raises(InputError, match="confirmed by a therapist"):
        services.confirm_modalities(
            by=clinic.staff["prescriber"], plan=plan, modalities=[Modality.IFS], reason="Mine"
        )


def test_a_confirmation_stands_when_the_prescriber_redrafts(profiled):
    clinic = profiled
    plan = draft_plan(clinic.on_team, clinic.staff["prescriber"])
    confirmed = services.confirm_modalities(
        by=clinic.staff["therapist"], plan=plan, modalities=[Modality.IFS], reason="IFS first"
    )
    redrafted = draft_plan(clinic.on_team, clinic.staff["prescriber"], change_reason="Music")
    assert redrafted.modalities == ["ifs"]
    assert redrafted.modalities_confirmed_by == confirmed.modalities_confirmed_by


def test_without_an_intake_there_is_no_proposal_and_any_choice_needs_a_reason(clinic):
    plan = draft_plan(clinic.on_team, clinic.staff["prescriber"])
    assert (plan.modality_proposal, plan.modalities, plan.presentation) == ([], [], None)
    with pytest.raises(InputError) as refused:
        services.confirm_modalities(
            by=clinic.staff["therapist"], plan=plan, modalities=[Modality.EMDR]
        )
    assert "nothing (no presentation profile)" in refused.value.errors["reason"][0]
    with pytest.raises(InputError, match="choose at least one modality"):
        services.confirm_modalities(by=clinic.staff["therapist"], plan=plan, modalities=[])


def test_the_therapist_uses_the_modalities_page(profiled, as_role):
    clinic = profiled
    plan = draft_plan(clinic.on_team, clinic.staff["prescriber"])
    client = as_role("therapist")
    url = reverse("plans:modalities", args=[clinic.on_team.pk, plan.pk])
    page = client.get(url).content.decode()
    assert "Internal Family Systems works with the critical and protective parts" in page
    assert "no therapist credentialed in Behavioural activation at this clinic" in page
    response = client.post(url, {"modalities": ["ifs", "cbt"], "reason": ""})
    assert response.status_code == 200
    assert "The choice differs from the proposal" in response.context["form"].errors["reason"][0]
    response = client.post(url, {"modalities": ["ifs", "cbt"], "reason": "No BA therapist"})
    assert response.status_code == 302
    assert TreatmentPlan.objects.latest("revision").modalities == ["ifs", "cbt"]
    # The tab shows the therapist's choice and reason.
    page = client.get(reverse("plans:chart_tab", args=[clinic.on_team.pk])).content.decode()
    assert "Changed by Therapist Tester" in page and "No BA therapist" in page
