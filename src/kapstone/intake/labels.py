"""Words the clinic uses for the facts format's codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kapstone.clinical.eligibility.facts import (
    ChildPugh,
    ConditionStatus,
    InteractionClass,
    MedicalCondition,
    NeuromodulationKind,
    PresentingCondition,
    PriorKetamineOutcome,
    PsychotherapyKind,
    QuestionnaireFlag,
    SubstanceUseStatus,
    TrialOutcome,
)
from kapstone.clinical.instruments.policy import CssrsRisk
from kapstone.clinical.modality_matching import AnxietyPresentation
from kapstone.clinical.pregnancy import PregnancyStatus

PRESENTING = {
    PresentingCondition.MAJOR_DEPRESSION: "Major depression",
    PresentingCondition.GENERALISED_ANXIETY: "Generalised anxiety",
    PresentingCondition.PANIC_AGORAPHOBIA: "Panic disorder / agoraphobia",
    PresentingCondition.SOCIAL_ANXIETY: "Social anxiety",
    PresentingCondition.PTSD: "PTSD",
}
TRIAL_OUTCOMES = {
    TrialOutcome.NO_RESPONSE: "No response",
    TrialOutcome.PARTIAL_RESPONSE: "Partial response",
    TrialOutcome.RESPONSE: "Response",
    TrialOutcome.REMISSION: "Remission",
    TrialOutcome.INTOLERANCE: "Stopped: side effects",
    TrialOutcome.ONGOING: "Ongoing",
}
PSYCHOTHERAPY = {
    PsychotherapyKind.CBT: "CBT",
    PsychotherapyKind.IPT: "Interpersonal therapy",
    PsychotherapyKind.PSYCHODYNAMIC: "Psychodynamic",
    PsychotherapyKind.EMDR: "EMDR",
    PsychotherapyKind.DBT: "DBT",
    PsychotherapyKind.ACT: "ACT",
    PsychotherapyKind.OTHER: "Other",
}
NEUROMODULATION = {NeuromodulationKind.ECT: "ECT", NeuromodulationKind.TMS: "TMS"}
PRIOR_KETAMINE = {
    PriorKetamineOutcome.BENEFIT: "Helped",
    PriorKetamineOutcome.NO_BENEFIT: "Did not help",
    PriorKetamineOutcome.ADVERSE_REACTION: "Adverse reaction",
}
CONDITIONS = {
    MedicalCondition.ANEURYSMAL_VASCULAR_DISEASE: "Aneurysmal vascular disease (aorta, "
    "intracranial or peripheral arteries)",
    MedicalCondition.ARTERIOVENOUS_MALFORMATION: "Arteriovenous malformation (AVM)",
    MedicalCondition.INTRACEREBRAL_HAEMORRHAGE: "Intracerebral haemorrhage",
    MedicalCondition.KETAMINE_HYPERSENSITIVITY: "Hypersensitivity to ketamine or esketamine",
    MedicalCondition.MYOCARDIAL_INFARCTION: "Myocardial infarction (date of the latest)",
    MedicalCondition.CARDIOVASCULAR_EVENT: "Other acute cardiovascular event (date)",
    MedicalCondition.HYPERTENSION: "Hypertension",
    MedicalCondition.UNSTABLE_ANGINA: "Unstable angina",
    MedicalCondition.HEART_FAILURE: "Heart failure",
    MedicalCondition.VALVULAR_HEART_DISEASE: "Valvular heart disease",
    MedicalCondition.SYMPTOMATIC_ARRHYTHMIA: "Symptomatic arrhythmia",
    MedicalCondition.STROKE: "Stroke",
    MedicalCondition.RAISED_INTRACRANIAL_PRESSURE: "Raised intracranial pressure",
    MedicalCondition.BRAIN_INJURY: "Brain injury",
    MedicalCondition.PSYCHOSIS: "Psychosis (personal)",
    MedicalCondition.FIRST_DEGREE_RELATIVE_PSYCHOSIS: "Psychosis or schizophrenia in a "
    "first-degree relative",
    MedicalCondition.BIPOLAR_DISORDER: "Bipolar disorder",
    MedicalCondition.MANIA: "Mania (any episode)",
    MedicalCondition.NEUROCOGNITIVE_DISORDER: "Neurocognitive disorder / dementia",
    MedicalCondition.HYPERTHYROIDISM: "Hyperthyroidism",
    MedicalCondition.PULMONARY_INSUFFICIENCY: "Pulmonary insufficiency, COPD",
    MedicalCondition.SLEEP_APNOEA: "Sleep apnoea",
    MedicalCondition.HEPATIC_IMPAIRMENT: "Hepatic impairment",
    MedicalCondition.CYSTITIS: "Ulcerative or interstitial cystitis",
}
CONDITION_STATUS = {
    ConditionStatus.ACTIVE: "Active / not controlled",
    ConditionStatus.CONTROLLED: "Controlled on treatment",
    ConditionStatus.PAST: "Past, resolved",
}
CHILD_PUGH = {c: f"Child-Pugh {c.value}" for c in ChildPugh}
SUBSTANCE_STATUS = {
    SubstanceUseStatus.ACTIVE: "Active",
    SubstanceUseStatus.IN_REMISSION: "In remission",
}
INTERACTION_CLASSES = {
    InteractionClass.BENZODIAZEPINE: "Benzodiazepine",
    InteractionClass.OPIOID: "Opioid",
    InteractionClass.OTHER_CNS_DEPRESSANT: "Other CNS depressant",
    InteractionClass.STIMULANT: "Stimulant",
    InteractionClass.MAOI: "MAOI",
    InteractionClass.LAMOTRIGINE: "Lamotrigine",
    InteractionClass.GLUTAMATE_MODULATOR: "Glutamate modulator (e.g. memantine)",
    InteractionClass.CYP_INDUCER: "CYP2B6/3A4 inducer",
    InteractionClass.CYP_INHIBITOR: "CYP2B6/3A4 inhibitor",
    InteractionClass.SSRI: "SSRI",
    InteractionClass.OTHER_ANTIDEPRESSANT: "Other antidepressant",
    InteractionClass.MOOD_STABILISER: "Mood stabiliser",
}
PREGNANCY = {
    PregnancyStatus.NOT_PREGNANT: "Not pregnant",
    PregnancyStatus.PREGNANT: "Pregnant",
    PregnancyStatus.UNKNOWN: "Not known",
}
CSSRS = {
    CssrsRisk.NONE: "No risk",
    CssrsRisk.LOW: "Low",
    CssrsRisk.MODERATE: "Moderate",
    CssrsRisk.HIGH: "High",
}
FLAGS = {
    QuestionnaireFlag.MDQ_POSITIVE: "MDQ positive",
    QuestionnaireFlag.AUDIT_POSITIVE: "AUDIT positive",
    QuestionnaireFlag.DAST_POSITIVE: "DAST-10 positive",
}
ANXIETY = {
    AnxietyPresentation.COGNITIVE: "Mainly cognitive (worry, rumination)",
    AnxietyPresentation.SOMATIC: "Mainly somatic (body symptoms)",
    AnxietyPresentation.BEHAVIOURAL: "Mainly behavioural (avoidance)",
}
PRESENTATION_FEATURES = {
    "trauma_rooted_memories": "Trauma-rooted memories",
    "intrusive_imagery": "Intrusive imagery",
    "harsh_self_criticism": "Harsh self-criticism, protective parts",
    "rumination": "Rumination, rigid thinking",
    "body_symptoms": "Body symptoms",
    "panic_and_avoidance": "Panic and avoidance",
    "withdrawal": "Withdrawal",
}
VERIFICATION = {
    "verified": "Verified",
    "secondary": "Secondary source",
    "unverified": "Unverified: clinic policy",
}


def choices(labels: Mapping[Any, str]) -> list[tuple[str, str]]:
    return [
        (str(code.value if hasattr(code, "value") else code), text) for code, text in labels.items()
    ]


def label(labels: Mapping[Any, str], code: object) -> str:
    for key, text in labels.items():
        if str(getattr(key, "value", key)) == str(code):
            return text
    return str(code)
