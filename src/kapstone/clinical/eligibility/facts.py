"""What the intake records about a patient, as far as eligibility screening needs it (issue 4).

Absence means "not present": the intake form records every condition it asked about, so a condition
missing from ``medical_history`` was asked and denied. Facts the screen cannot do without (pregnancy
status for people of reproductive potential, the C-SSRS risk level, baseline blood pressure) are
optional here on purpose: their absence is itself a finding, never a silent "no".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

# One definition each (issue 16): the C-SSRS tier is the screener's own, pregnancy status is shared
# with the pre-dose checklist.
from kapstone.clinical.instruments.policy import CssrsRisk
from kapstone.clinical.pregnancy import PregnancyStatus


class PresentingCondition(StrEnum):
    MAJOR_DEPRESSION = "major_depression"
    GENERALISED_ANXIETY = "generalised_anxiety"
    PANIC_AGORAPHOBIA = "panic_agoraphobia"
    SOCIAL_ANXIETY = "social_anxiety"
    PTSD = "ptsd"


class TrialOutcome(StrEnum):
    NO_RESPONSE = "no_response"
    PARTIAL_RESPONSE = "partial_response"
    RESPONSE = "response"
    REMISSION = "remission"
    # Stopped for side effects: the drug was never given at an adequate dose for long enough.
    INTOLERANCE = "intolerance"
    ONGOING = "ongoing"


@dataclass(frozen=True, slots=True)
class AntidepressantTrial:
    drug: str
    daily_dose_mg: float | None
    weeks: float
    # The prescriber's judgement that the dose was adequate for this drug; None = not yet judged.
    adequate_dose: bool | None
    outcome: TrialOutcome


@dataclass(frozen=True, slots=True)
class DepressiveEpisode:
    started_on: date | None
    antidepressant_trials: tuple[AntidepressantTrial, ...] = ()


class PsychotherapyKind(StrEnum):
    CBT = "cbt"
    IPT = "ipt"
    PSYCHODYNAMIC = "psychodynamic"
    EMDR = "emdr"
    DBT = "dbt"
    ACT = "act"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class PsychotherapyCourse:
    kind: PsychotherapyKind
    sessions: int | None
    helped: bool | None


class NeuromodulationKind(StrEnum):
    ECT = "ect"
    TMS = "tms"


@dataclass(frozen=True, slots=True)
class NeuromodulationCourse:
    kind: NeuromodulationKind
    sessions: int | None
    helped: bool | None


class PriorKetamineOutcome(StrEnum):
    BENEFIT = "benefit"
    NO_BENEFIT = "no_benefit"
    ADVERSE_REACTION = "adverse_reaction"


@dataclass(frozen=True, slots=True)
class PriorKetamine:
    route: str
    outcome: PriorKetamineOutcome
    note: str = ""


class MedicalCondition(StrEnum):
    ANEURYSMAL_VASCULAR_DISEASE = "aneurysmal_vascular_disease"
    ARTERIOVENOUS_MALFORMATION = "arteriovenous_malformation"
    INTRACEREBRAL_HAEMORRHAGE = "intracerebral_haemorrhage"
    KETAMINE_HYPERSENSITIVITY = "ketamine_hypersensitivity"
    MYOCARDIAL_INFARCTION = "myocardial_infarction"
    # Any other acute cardiovascular event (acute coronary syndrome, for example).
    CARDIOVASCULAR_EVENT = "cardiovascular_event"
    HYPERTENSION = "hypertension"
    UNSTABLE_ANGINA = "unstable_angina"
    HEART_FAILURE = "heart_failure"
    VALVULAR_HEART_DISEASE = "valvular_heart_disease"
    SYMPTOMATIC_ARRHYTHMIA = "symptomatic_arrhythmia"
    STROKE = "stroke"
    RAISED_INTRACRANIAL_PRESSURE = "raised_intracranial_pressure"
    BRAIN_INJURY = "brain_injury"
    PSYCHOSIS = "psychosis"
    FIRST_DEGREE_RELATIVE_PSYCHOSIS = "first_degree_relative_psychosis"
    BIPOLAR_DISORDER = "bipolar_disorder"
    MANIA = "mania"
    NEUROCOGNITIVE_DISORDER = "neurocognitive_disorder"
    HYPERTHYROIDISM = "hyperthyroidism"
    PULMONARY_INSUFFICIENCY = "pulmonary_insufficiency"
    SLEEP_APNOEA = "sleep_apnoea"
    HEPATIC_IMPAIRMENT = "hepatic_impairment"
    CYSTITIS = "cystitis"


# Conditions whose rules turn on when the event happened: the intake must give the date.
DATED_CONDITIONS = frozenset(
    {MedicalCondition.MYOCARDIAL_INFARCTION, MedicalCondition.CARDIOVASCULAR_EVENT}
)


class ConditionStatus(StrEnum):
    """``active``: present and not controlled (symptomatic, untreated or inadequately treated);
    ``controlled``: present and stable on treatment; ``past``: history only, resolved."""

    ACTIVE = "active"
    CONTROLLED = "controlled"
    PAST = "past"


class ChildPugh(StrEnum):
    A = "A"
    B = "B"
    C = "C"


@dataclass(frozen=True, slots=True)
class MedicalHistoryItem:
    condition: MedicalCondition
    status: ConditionStatus
    # Diagnosis date, or the most recent event for episodic conditions (myocardial infarction).
    since: date | None = None
    child_pugh: ChildPugh | None = None
    note: str = ""


class SubstanceUseStatus(StrEnum):
    ACTIVE = "active"
    IN_REMISSION = "in_remission"


@dataclass(frozen=True, slots=True)
class SubstanceUse:
    """A substance use disorder (alcohol included), current or in remission."""

    substance: str
    status: SubstanceUseStatus
    last_use_on: date | None = None


class InteractionClass(StrEnum):
    BENZODIAZEPINE = "benzodiazepine"
    OPIOID = "opioid"
    OTHER_CNS_DEPRESSANT = "other_cns_depressant"
    STIMULANT = "stimulant"
    MAOI = "maoi"
    LAMOTRIGINE = "lamotrigine"
    GLUTAMATE_MODULATOR = "glutamate_modulator"
    CYP_INDUCER = "cyp_inducer"
    CYP_INHIBITOR = "cyp_inhibitor"
    SSRI = "ssri"
    OTHER_ANTIDEPRESSANT = "other_antidepressant"
    MOOD_STABILISER = "mood_stabiliser"


CNS_DEPRESSANTS = frozenset(
    {
        InteractionClass.BENZODIAZEPINE,
        InteractionClass.OPIOID,
        InteractionClass.OTHER_CNS_DEPRESSANT,
    }
)


@dataclass(frozen=True, slots=True)
class Medication:
    name: str
    interaction_classes: frozenset[InteractionClass]
    daily_dose_mg: float | None = None
    # Required for benzodiazepines: the daily dose expressed as diazepam-equivalent mg.
    diazepam_equivalent_mg_per_day: float | None = None


@dataclass(frozen=True, slots=True)
class BaselineVitals:
    measured_on: date
    systolic_mmhg: int
    diastolic_mmhg: int
    heart_rate_bpm: int | None = None
    weight_kg: float | None = None
    height_cm: float | None = None

    @property
    def bmi(self) -> float | None:
        if self.weight_kg is None or self.height_cm is None:
            return None
        metres = self.height_cm / 100
        return self.weight_kg / (metres * metres)


@dataclass(frozen=True, slots=True)
class Reproductive:
    reproductive_potential: bool
    pregnancy: PregnancyStatus
    breastfeeding: bool


class QuestionnaireFlag(StrEnum):
    """Flags from the latest questionnaires that the screening rules read."""

    MDQ_POSITIVE = "mdq_positive"
    AUDIT_POSITIVE = "audit_positive"
    DAST_POSITIVE = "dast_positive"


@dataclass(frozen=True, slots=True)
class IntakeFacts:
    recorded_on: date
    age_years: int
    presenting_conditions: frozenset[PresentingCondition]
    reproductive: Reproductive
    current_episode: DepressiveEpisode | None = None
    earlier_antidepressant_trials: tuple[AntidepressantTrial, ...] = ()
    psychotherapy: tuple[PsychotherapyCourse, ...] = ()
    neuromodulation: tuple[NeuromodulationCourse, ...] = ()
    prior_ketamine: tuple[PriorKetamine, ...] = ()
    medical_history: tuple[MedicalHistoryItem, ...] = ()
    substance_use: tuple[SubstanceUse, ...] = ()
    medications: tuple[Medication, ...] = ()
    baseline_vitals: BaselineVitals | None = None
    questionnaire_flags: frozenset[QuestionnaireFlag] = frozenset()
    cssrs_risk: CssrsRisk | None = None

    def history_of(self, *conditions: MedicalCondition) -> tuple[MedicalHistoryItem, ...]:
        return tuple(item for item in self.medical_history if item.condition in conditions)

    def has(self, condition: MedicalCondition, *statuses: ConditionStatus) -> bool:
        """Whether the condition is recorded, in one of ``statuses`` if any are given."""
        return any(not statuses or item.status in statuses for item in self.history_of(condition))

    def taking(self, *classes: InteractionClass) -> tuple[Medication, ...]:
        wanted = frozenset(classes)
        return tuple(m for m in self.medications if m.interaction_classes & wanted)

    @property
    def daily_benzodiazepine_diazepam_equivalent_mg(self) -> float:
        return sum(
            m.diazepam_equivalent_mg_per_day or 0.0
            for m in self.taking(InteractionClass.BENZODIAZEPINE)
        )

    def dated_facts(self) -> tuple[tuple[str, date], ...]:
        """Every date in the facts with its field path, so a screen can refuse future dates."""
        found: list[tuple[str, date]] = [("recorded_on", self.recorded_on)]
        if self.current_episode and self.current_episode.started_on:
            found.append(("current_episode.started_on", self.current_episode.started_on))
        for i, item in enumerate(self.medical_history):
            if item.since:
                found.append((f"medical_history[{i}].since", item.since))
        for i, use in enumerate(self.substance_use):
            if use.last_use_on:
                found.append((f"substance_use[{i}].last_use_on", use.last_use_on))
        if self.baseline_vitals:
            found.append(("baseline_vitals.measured_on", self.baseline_vitals.measured_on))
        return tuple(found)
