"""Treatment-resistant depression, derived from the current episode's antidepressant trials.

SPRAVATO-EU (SmPC 4.1, VERIFIED): "have not responded to at least two different treatments with
antidepressants in the current moderate to severe depressive episode". What makes a trial adequate
is not in the reference, so its duration is policy; dose adequacy is the prescriber's judgement.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kapstone.clinical.eligibility.facts import (
    AntidepressantTrial,
    DepressiveEpisode,
    TrialOutcome,
)
from kapstone.clinical.eligibility.policy import EligibilityPolicy
from kapstone.clinical.provenance import Evidence, Source, Verification

MIN_FAILED_TRIALS = 2
TRD_SOURCE = Source(
    "SPRAVATO-EU",
    Verification.VERIFIED,
    Evidence.LABEL,
    "SmPC 4.1: not responded to at least two different antidepressants in the current episode",
)


class TrialVerdict(StrEnum):
    COUNTED = "counted"
    RESPONDED = "responded"
    ONGOING = "ongoing"
    INTOLERANCE = "intolerance"
    TOO_SHORT = "too_short"
    DOSE_INADEQUATE = "dose_inadequate"
    DOSE_NOT_JUDGED = "dose_not_judged"
    SAME_DRUG_AS_COUNTED = "same_drug_as_counted"


@dataclass(frozen=True, slots=True)
class TrialAssessment:
    trial: AntidepressantTrial
    verdict: TrialVerdict

    @property
    def counted(self) -> bool:
        return self.verdict is TrialVerdict.COUNTED


@dataclass(frozen=True, slots=True)
class TreatmentResistance:
    treatment_resistant: bool
    trials: tuple[TrialAssessment, ...]
    min_failed_trials: int
    source: Source

    @property
    def counted_trials(self) -> tuple[TrialAssessment, ...]:
        return tuple(t for t in self.trials if t.counted)


def assess_treatment_resistance(
    episode: DepressiveEpisode | None, policy: EligibilityPolicy
) -> TreatmentResistance:
    trials = episode.antidepressant_trials if episode else ()
    counted_drugs: set[str] = set()
    assessments: list[TrialAssessment] = []
    for trial in trials:
        verdict = _verdict(trial, policy)
        drug = trial.drug.strip().casefold()
        if verdict is TrialVerdict.COUNTED:
            # "Two different treatments": a second trial of the same drug does not count again.
            if drug in counted_drugs:
                verdict = TrialVerdict.SAME_DRUG_AS_COUNTED
            counted_drugs.add(drug)
        assessments.append(TrialAssessment(trial, verdict))
    return TreatmentResistance(
        treatment_resistant=len(counted_drugs) >= MIN_FAILED_TRIALS,
        trials=tuple(assessments),
        min_failed_trials=MIN_FAILED_TRIALS,
        source=TRD_SOURCE,
    )


def _verdict(trial: AntidepressantTrial, policy: EligibilityPolicy) -> TrialVerdict:
    failing = {TrialOutcome.NO_RESPONSE}
    if policy.count_partial_response_as_failure:
        failing.add(TrialOutcome.PARTIAL_RESPONSE)
    if trial.outcome is TrialOutcome.ONGOING:
        return TrialVerdict.ONGOING
    if trial.outcome is TrialOutcome.INTOLERANCE:
        return TrialVerdict.INTOLERANCE
    if trial.outcome not in failing:
        return TrialVerdict.RESPONDED
    if trial.weeks < policy.adequate_trial_min_weeks:
        return TrialVerdict.TOO_SHORT
    if trial.adequate_dose is None:
        return TrialVerdict.DOSE_NOT_JUDGED
    if not trial.adequate_dose:
        return TrialVerdict.DOSE_INADEQUATE
    return TrialVerdict.COUNTED
