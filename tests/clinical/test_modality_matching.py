"""Modality matching: each presentation feature proposes its modality; uncovered ones flagged."""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.access import Modality
from kapstone.clinical.modality_matching import (
    DEFAULT_MATCHING_POLICY,
    AnxietyPresentation,
    CredentialedTherapist,
    ModalityMatchingPolicy,
    PresentationFeature,
    PresentationProfile,
    match_modalities,
)
from kapstone.clinical.provenance import Verification
from tests.reference import REFERENCE

EVERYONE = (CredentialedTherapist("t-all", frozenset(Modality)),)
EXPECTED = {
    "trauma_rooted_memories": Modality.EMDR,
    "intrusive_imagery": Modality.ART,
    "harsh_self_criticism": Modality.IFS,
    "rumination": Modality.CBT,
    "body_symptoms": Modality.SOMATIC,
    "panic_and_avoidance": Modality.EXPOSURE,
    "withdrawal": Modality.BEHAVIOURAL_ACTIVATION,
}
ANXIETY = {
    AnxietyPresentation.COGNITIVE: Modality.CBT,
    AnxietyPresentation.SOMATIC: Modality.SOMATIC,
    AnxietyPresentation.BEHAVIOURAL: Modality.EXPOSURE,
}


@pytest.mark.parametrize(("feature", "modality"), sorted(EXPECTED.items()))
def test_each_feature_maps_to_its_modality(feature, modality):
    match = match_modalities(PresentationProfile(**{feature: True}), EVERYONE)
    assert match.modalities == (modality,)
    (proposal,) = match.proposals
    assert proposal.rank == 1
    assert proposal.reasons[0].feature.value == feature
    assert proposal.reasons[0].reason
    assert proposal.therapist_ids == ("t-all",)
    assert proposal.flag is None


@pytest.mark.parametrize(("mainly", "modality"), sorted(ANXIETY.items()))
def test_anxiety_type_maps_to_its_modality(mainly, modality):
    match = match_modalities(PresentationProfile(anxiety_mainly=mainly), EVERYONE)
    assert match.modalities == (modality,)


def test_no_features_no_proposals():
    match = match_modalities(PresentationProfile(), EVERYONE)
    assert match.proposals == ()
    assert match.flags == ()
    assert match.policy_version == "default-2026-11"


def test_missing_credential_is_flagged_in_clinic_words():
    staff = (
        CredentialedTherapist("t-ifs", frozenset({Modality.IFS})),
        CredentialedTherapist("t-cbt", frozenset({Modality.CBT, Modality.IFS})),
    )
    profile = PresentationProfile(trauma_rooted_memories=True, harsh_self_criticism=True)
    match = match_modalities(profile, staff)
    emdr, ifs = match.proposals
    assert emdr.modality is Modality.EMDR
    assert not emdr.available
    assert emdr.flag == "no therapist credentialed in EMDR at this clinic"
    assert ifs.therapist_ids == ("t-cbt", "t-ifs")
    assert match.flags == ("no therapist credentialed in EMDR at this clinic",)


def test_no_therapists_flags_everything():
    profile = PresentationProfile(intrusive_imagery=True, withdrawal=True)
    match = match_modalities(profile, ())
    assert len(match.flags) == 2


def test_ranking_by_support_then_policy_order():
    # Somatic is supported twice (body symptoms + mainly somatic anxiety), so it outranks EMDR,
    # which otherwise comes first in the policy's order.
    profile = PresentationProfile(
        trauma_rooted_memories=True,
        body_symptoms=True,
        anxiety_mainly=AnxietyPresentation.SOMATIC,
        withdrawal=True,
    )
    match = match_modalities(profile, EVERYONE)
    assert match.modalities == (Modality.SOMATIC, Modality.EMDR, Modality.BEHAVIOURAL_ACTIVATION)
    assert [p.rank for p in match.proposals] == [1, 2, 3]
    assert len(match.proposals[0].reasons) == 2


def test_policy_order_breaks_ties_and_is_editable():
    profile = PresentationProfile(rumination=True, panic_and_avoidance=True)
    assert match_modalities(profile, EVERYONE).modalities == (Modality.CBT, Modality.EXPOSURE)
    reversed_policy = ModalityMatchingPolicy(
        version="md-2027-01", rules=tuple(reversed(DEFAULT_MATCHING_POLICY.rules))
    )
    match = match_modalities(profile, EVERYONE, reversed_policy)
    assert match.modalities == (Modality.EXPOSURE, Modality.CBT)
    assert match.policy_version == "md-2027-01"


def test_availability_does_not_change_the_ranking():
    profile = PresentationProfile(trauma_rooted_memories=True, rumination=True)
    with_emdr = match_modalities(profile, EVERYONE)
    without = match_modalities(
        profile, (CredentialedTherapist("t-cbt", frozenset({Modality.CBT})),)
    )
    assert with_emdr.modalities == without.modalities == (Modality.EMDR, Modality.CBT)


def test_every_rule_has_a_reason_and_a_source_in_the_reference():
    text = REFERENCE.read_text(encoding="utf-8")
    sections = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", text, flags=re.MULTILINE))
    for rule in DEFAULT_MATCHING_POLICY.rules:
        assert rule.reason
        assert rule.source.key[1:] in sections
        assert rule.source.verification is Verification.UNVERIFIED
        assert rule.source.is_clinic_policy
    covered = {rule.feature for rule in DEFAULT_MATCHING_POLICY.rules}
    assert covered == set(PresentationFeature)


profiles = st.builds(
    PresentationProfile,
    anxiety_mainly=st.none() | st.sampled_from(AnxietyPresentation),
    **{name: st.booleans() for name in EXPECTED},
)
staffs = st.lists(
    st.builds(
        CredentialedTherapist,
        therapist_id=st.text(alphabet="abc123", min_size=1, max_size=4),
        modalities=st.frozensets(st.sampled_from(Modality)),
    ),
    max_size=4,
)


@settings(max_examples=200, deadline=None)
@given(profile=profiles, staff=staffs)
def test_matching_is_deterministic_complete_and_flags_exactly_the_uncovered(profile, staff):
    match = match_modalities(profile, staff)
    assert match == match_modalities(profile, list(reversed(staff)))
    expected = {EXPECTED[name] for name in EXPECTED if getattr(profile, name)}
    if profile.anxiety_mainly is not None:
        expected.add(ANXIETY[profile.anxiety_mainly])
    assert set(match.modalities) == expected
    assert len(match.modalities) == len(expected)
    offered = {m for t in staff for m in t.modalities}
    flagged = {p.modality for p in match.proposals if p.flag is not None}
    assert flagged == expected - offered
    supports = [len(p.reasons) for p in match.proposals]
    assert supports == sorted(supports, reverse=True)


def test_profile_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PresentationProfile().withdrawal = True  # type: ignore[misc]
