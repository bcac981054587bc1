"""Which integration modalities fit a patient's presentation, and who at the clinic can offer them.

The mapping (EMDR for trauma-rooted memories, ART for intrusive imagery, IFS for self-criticism and
protective parts, CBT for rumination, somatic work for body symptoms, exposure for panic and
avoidance, behavioural activation for withdrawal) is the seed program's; the reference holds no
source for it, so it is clinic policy awaiting a clinician (§10) and the therapist confirms or
changes every proposal with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from kapstone.clinical.access import Modality
from kapstone.clinical.provenance import Evidence, Source, Verification


class AnxietyPresentation(StrEnum):
    """What the anxiety mainly is, as assessed at intake (seed: this guides the modalities)."""

    COGNITIVE = "cognitive"  # worry and rumination
    SOMATIC = "somatic"  # physical symptoms
    BEHAVIOURAL = "behavioural"  # avoidance patterns


class PresentationFeature(StrEnum):
    TRAUMA_ROOTED_MEMORIES = "trauma_rooted_memories"
    INTRUSIVE_IMAGERY = "intrusive_imagery"
    HARSH_SELF_CRITICISM = "harsh_self_criticism"
    RUMINATION = "rumination"
    BODY_SYMPTOMS = "body_symptoms"
    PANIC_AND_AVOIDANCE = "panic_and_avoidance"
    WITHDRAWAL = "withdrawal"
    ANXIETY_MAINLY_COGNITIVE = "anxiety_mainly_cognitive"
    ANXIETY_MAINLY_SOMATIC = "anxiety_mainly_somatic"
    ANXIETY_MAINLY_BEHAVIOURAL = "anxiety_mainly_behavioural"


_ANXIETY_FEATURE = {
    AnxietyPresentation.COGNITIVE: PresentationFeature.ANXIETY_MAINLY_COGNITIVE,
    AnxietyPresentation.SOMATIC: PresentationFeature.ANXIETY_MAINLY_SOMATIC,
    AnxietyPresentation.BEHAVIOURAL: PresentationFeature.ANXIETY_MAINLY_BEHAVIOURAL,
}


@dataclass(frozen=True, slots=True)
class PresentationProfile:
    """The part of the intake the plan needs (issue 4 item 1)."""

    anxiety_mainly: AnxietyPresentation | None = None
    trauma_rooted_memories: bool = False
    intrusive_imagery: bool = False
    harsh_self_criticism: bool = False  # including protective parts
    rumination: bool = False  # including rigid thinking
    body_symptoms: bool = False
    panic_and_avoidance: bool = False
    withdrawal: bool = False

    def features(self) -> frozenset[PresentationFeature]:
        present = {
            feature
            for feature in PresentationFeature
            if feature.value in _BOOLEAN_FEATURES and getattr(self, feature.value)
        }
        if self.anxiety_mainly is not None:
            present.add(_ANXIETY_FEATURE[self.anxiety_mainly])
        return frozenset(present)


_BOOLEAN_FEATURES = frozenset(
    {
        "trauma_rooted_memories",
        "intrusive_imagery",
        "harsh_self_criticism",
        "rumination",
        "body_symptoms",
        "panic_and_avoidance",
        "withdrawal",
    }
)


@dataclass(frozen=True, slots=True)
class MatchingRule:
    feature: PresentationFeature
    modality: Modality
    reason: str  # in the clinic's words, shown to the therapist
    source: Source


def _seed(article: str, claim: str) -> Source:
    return Source(
        "§10",
        Verification.UNVERIFIED,
        Evidence.CLINIC_POLICY,
        f"seed article '{article}': {claim}",
    )


_ANXIETY_SEED = "Healing the Fearful Brain"
_DEPRESSION_SEED = "Restoring Neural Pathways"
_F = PresentationFeature

DEFAULT_RULES: tuple[MatchingRule, ...] = (
    MatchingRule(
        _F.TRAUMA_ROOTED_MEMORIES,
        Modality.EMDR,
        "EMDR reprocesses the past experiences the symptoms are rooted in.",
        _seed(_ANXIETY_SEED, "EMDR for anxiety with clear origins in past negative experiences"),
    ),
    MatchingRule(
        _F.INTRUSIVE_IMAGERY,
        Modality.ART,
        "Accelerated Resolution Therapy replaces intrusive, distressing images.",
        _seed(_ANXIETY_SEED, "ART for intrusive mental images, by voluntary image replacement"),
    ),
    MatchingRule(
        _F.HARSH_SELF_CRITICISM,
        Modality.IFS,
        "Internal Family Systems works with the critical and protective parts, toward "
        "self-compassion.",
        _seed(_DEPRESSION_SEED, "IFS where harsh self-criticism is a prominent feature"),
    ),
    MatchingRule(
        _F.RUMINATION,
        Modality.CBT,
        "CBT in the window after dosing targets rumination and rigid thought patterns.",
        _seed(_ANXIETY_SEED, "rigid thought patterns respond to ketamine plus cognitive therapy"),
    ),
    MatchingRule(
        _F.BODY_SYMPTOMS,
        Modality.SOMATIC,
        "Somatic work (breathwork, progressive relaxation) retrains a body stuck in arousal.",
        _seed(_ANXIETY_SEED, "strong somatic components: body-based integration work"),
    ),
    MatchingRule(
        _F.PANIC_AND_AVOIDANCE,
        Modality.EXPOSURE,
        "Exposure work re-engages with the situations panic has made the patient avoid.",
        _seed(_ANXIETY_SEED, "ketamine sessions as preparation for exposure work in panic"),
    ),
    MatchingRule(
        _F.WITHDRAWAL,
        Modality.BEHAVIOURAL_ACTIVATION,
        "Behavioural activation counters depressive withdrawal.",
        _seed(_DEPRESSION_SEED, "behavioural activation strategies to combat withdrawal"),
    ),
    MatchingRule(
        _F.ANXIETY_MAINLY_COGNITIVE,
        Modality.CBT,
        "The anxiety is mainly cognitive (worry, rumination): cognitive restructuring.",
        _seed(_ANXIETY_SEED, "cognitive anxiety: cognitive work on anxiety-provoking beliefs"),
    ),
    MatchingRule(
        _F.ANXIETY_MAINLY_SOMATIC,
        Modality.SOMATIC,
        "The anxiety is mainly somatic: practices that calm the nervous system.",
        _seed(_ANXIETY_SEED, "somatic anxiety: somatic practices to regulate activation"),
    ),
    MatchingRule(
        _F.ANXIETY_MAINLY_BEHAVIOURAL,
        Modality.EXPOSURE,
        "The anxiety is mainly behavioural (avoidance): graded behavioural experiments.",
        _seed(_ANXIETY_SEED, "behavioural experiments with previously avoided situations"),
    ),
)


@dataclass(frozen=True, slots=True)
class ModalityMatchingPolicy:
    """The clinic's matching rules, in priority order (earlier rules break ranking ties)."""

    version: str = "default-2026-11"
    rules: tuple[MatchingRule, ...] = field(default_factory=lambda: DEFAULT_RULES)


DEFAULT_MATCHING_POLICY = ModalityMatchingPolicy()


@dataclass(frozen=True, slots=True)
class CredentialedTherapist:
    therapist_id: str
    modalities: frozenset[Modality]


@dataclass(frozen=True, slots=True)
class MatchReason:
    feature: PresentationFeature
    reason: str
    source: Source


@dataclass(frozen=True, slots=True)
class ModalityProposal:
    rank: int  # 1 = best fit
    modality: Modality
    reasons: tuple[MatchReason, ...]
    therapist_ids: tuple[str, ...]  # credentialed in this modality, sorted

    @property
    def available(self) -> bool:
        return bool(self.therapist_ids)

    @property
    def flag(self) -> str | None:
        if self.available:
            return None
        return f"no therapist credentialed in {self.modality.label} at this clinic"


@dataclass(frozen=True, slots=True)
class ModalityMatch:
    proposals: tuple[ModalityProposal, ...]
    policy_version: str

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(p.flag for p in self.proposals if p.flag is not None)

    @property
    def modalities(self) -> tuple[Modality, ...]:
        return tuple(p.modality for p in self.proposals)


def match_modalities(
    profile: PresentationProfile,
    therapists: Iterable[CredentialedTherapist],
    policy: ModalityMatchingPolicy = DEFAULT_MATCHING_POLICY,
) -> ModalityMatch:
    """Propose modalities, most-supported first; ties go to the policy's earlier rule.

    Availability does not change the ranking (the patient's need comes first); a proposal no
    therapist can offer carries a flag instead.
    """
    present = profile.features()
    reasons: dict[Modality, list[MatchReason]] = {}
    first_rule: dict[Modality, int] = {}
    for index, rule in enumerate(policy.rules):
        if rule.feature in present:
            reasons.setdefault(rule.modality, []).append(
                MatchReason(rule.feature, rule.reason, rule.source)
            )
            first_rule.setdefault(rule.modality, index)

    staff = tuple(therapists)
    ordered = sorted(reasons, key=lambda m: (-len(reasons[m]), first_rule[m]))
    return ModalityMatch(
        proposals=tuple(
            ModalityProposal(
                rank=rank,
                modality=modality,
                reasons=tuple(reasons[modality]),
                therapist_ids=tuple(
                    sorted({t.therapist_id for t in staff if modality in t.modalities})
                ),
            )
            for rank, modality in enumerate(ordered, start=1)
        ),
        policy_version=policy.version,
    )
