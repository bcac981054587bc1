"""The screening rules as data (clinical-reference.md §1.6 and §1.7).

Rule ids follow the reference's table (C1 ... C20) with a suffix where one row became several
rules; medication rules are ``M-*``. Each rule says what it checks, how much it weighs, where it
comes from, what to tell the clinician and what the clinician must do; its predicate is a pure
function of the screening context. Changing any rule means bumping ``RULE_SET_VERSION``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from kapstone.clinical.eligibility.facts import (
    CNS_DEPRESSANTS,
    ChildPugh,
    ConditionStatus,
    IntakeFacts,
    InteractionClass,
    MedicalCondition,
    PresentingCondition,
    QuestionnaireFlag,
    SubstanceUseStatus,
)
from kapstone.clinical.eligibility.policy import EligibilityPolicy
from kapstone.clinical.eligibility.trd import TreatmentResistance
from kapstone.clinical.instruments.policy import CssrsRisk
from kapstone.clinical.pregnancy import PregnancyStatus
from kapstone.clinical.provenance import Evidence, Source, Verification

RULE_SET_VERSION = "eligibility-rules-2026-11.1"


class RuleKind(StrEnum):
    """ABSOLUTE blocks (override needs the medical director's second sign-off); RELATIVE needs a
    documented clinician judgement; INFORMATIONAL never changes the decision."""

    ABSOLUTE = "absolute"
    RELATIVE = "relative"
    INFORMATIONAL = "informational"


class Pathway(StrEnum):
    """A route out of the ordinary screen that a finding opens, whatever its kind."""

    URGENT_SAFETY_REVIEW = "urgent_safety_review"
    SPECIALIST_PROTOCOL = "specialist_protocol"


@dataclass(frozen=True, slots=True)
class ScreeningContext:
    facts: IntakeFacts
    policy: EligibilityPolicy
    on: date
    trd: TreatmentResistance


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    checks: str
    kind: RuleKind
    source: Source
    message: str
    required_action: str
    applies: Callable[[ScreeningContext], bool]
    pathway: Pathway | None = None


CURRENT = (ConditionStatus.ACTIVE, ConditionStatus.CONTROLLED)

_US_LABEL = "esketamine label; applying it to racemic ketamine is a clinical extrapolation"


def _label(key: str, note: str, verification: Verification = Verification.VERIFIED) -> Source:
    return Source(key, verification, Evidence.LABEL, note)


def _recent_cv_event(c: ScreeningContext, recent: bool) -> bool:
    for item in c.facts.history_of(
        MedicalCondition.MYOCARDIAL_INFARCTION, MedicalCondition.CARDIOVASCULAR_EVENT
    ):
        if item.since is None:
            # Parsing refuses undated events; an undated one here is treated as recent (safer).
            if recent:
                return True
            continue
        within = (c.on - item.since).days <= c.policy.recent_cardiovascular_event_days
        if within == recent:
            return True
    return False


def _bp_precaution_limits(c: ScreeningContext) -> tuple[int, int]:
    p = c.policy
    if c.facts.age_years >= p.older_adult_age_years:
        return (
            p.older_adult_bp_precaution_systolic_mmhg,
            p.older_adult_bp_precaution_diastolic_mmhg,
        )
    return p.bp_precaution_systolic_mmhg, p.bp_precaution_diastolic_mmhg


def _bp_at_hold(c: ScreeningContext) -> bool:
    v = c.facts.baseline_vitals
    return v is not None and (
        v.systolic_mmhg >= c.policy.bp_hold_systolic_mmhg
        or v.diastolic_mmhg >= c.policy.bp_hold_diastolic_mmhg
    )


def _bp_elevated(c: ScreeningContext) -> bool:
    v = c.facts.baseline_vitals
    if v is None or _bp_at_hold(c):
        return False
    systolic, diastolic = _bp_precaution_limits(c)
    return v.systolic_mmhg > systolic or v.diastolic_mmhg > diastolic


def _substance_use(c: ScreeningContext, recent: bool) -> bool:
    for use in c.facts.substance_use:
        is_recent = (
            use.status is SubstanceUseStatus.ACTIVE
            or use.last_use_on is None
            or (c.on - use.last_use_on).days <= c.policy.recent_substance_use_days
        )
        if is_recent == recent:
            return True
    return False


def _sleep_apnoea_with_obesity(c: ScreeningContext) -> bool:
    if not c.facts.has(MedicalCondition.SLEEP_APNOEA, *CURRENT):
        return False
    bmi = c.facts.baseline_vitals.bmi if c.facts.baseline_vitals else None
    # Without a BMI the obesity half of the warning cannot be ruled out.
    return bmi is None or bmi >= c.policy.obesity_bmi


def _hepatic(c: ScreeningContext, severe: bool) -> bool:
    for item in c.facts.history_of(MedicalCondition.HEPATIC_IMPAIRMENT):
        if item.status is ConditionStatus.PAST:
            continue
        if severe and item.child_pugh is ChildPugh.C:
            return True
        if not severe and item.child_pugh in (ChildPugh.B, None):
            return True
    return False


def _bipolar(c: ScreeningContext) -> bool:
    return c.facts.has(MedicalCondition.BIPOLAR_DISORDER) or c.facts.has(MedicalCondition.MANIA)


RULES: tuple[Rule, ...] = (
    Rule(
        id="C1",
        checks="aneurysmal vascular disease (aorta, intracranial or peripheral arteries)",
        kind=RuleKind.ABSOLUTE,
        source=_label("SPRAVATO-US", f"contraindication; {_US_LABEL}"),
        message="Aneurysmal vascular disease: a rise in blood pressure poses a serious risk.",
        required_action="Do not treat. An override needs the medical director's second sign-off.",
        applies=lambda c: c.facts.has(MedicalCondition.ANEURYSMAL_VASCULAR_DISEASE),
    ),
    Rule(
        id="C2",
        checks="arteriovenous malformation",
        kind=RuleKind.ABSOLUTE,
        source=_label("SPRAVATO-US", f"contraindication; {_US_LABEL}"),
        message="Arteriovenous malformation: a rise in blood pressure poses a serious risk.",
        required_action="Do not treat. An override needs the medical director's second sign-off.",
        applies=lambda c: c.facts.has(MedicalCondition.ARTERIOVENOUS_MALFORMATION),
    ),
    Rule(
        id="C3",
        checks="history of intracerebral haemorrhage",
        kind=RuleKind.ABSOLUTE,
        source=_label("SPRAVATO-US", f"contraindication; {_US_LABEL}"),
        message="History of intracerebral haemorrhage.",
        required_action="Do not treat. An override needs the medical director's second sign-off.",
        applies=lambda c: c.facts.has(MedicalCondition.INTRACEREBRAL_HAEMORRHAGE),
    ),
    Rule(
        id="C4",
        checks="hypersensitivity to ketamine, esketamine or an excipient",
        kind=RuleKind.ABSOLUTE,
        source=_label("SPRAVATO-US", "contraindication"),
        message="Hypersensitivity to ketamine, esketamine or an excipient.",
        required_action="Do not treat with ketamine or esketamine.",
        applies=lambda c: c.facts.has(MedicalCondition.KETAMINE_HYPERSENSITIVITY),
    ),
    Rule(
        id="C5",
        checks="myocardial infarction or other cardiovascular event within the policy window "
        "(6 weeks by default)",
        kind=RuleKind.ABSOLUTE,
        source=_label("SPRAVATO-EU", "PIL: heart attack within 6 weeks (SmPC wording SECONDARY)"),
        message="Recent myocardial infarction or cardiovascular event.",
        required_action="Do not treat now; rescreen once the window has passed, with cardiology "
        "input.",
        applies=lambda c: _recent_cv_event(c, recent=True),
    ),
    Rule(
        id="C5-HX",
        checks="myocardial infarction or other cardiovascular event before the policy window",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-US", "W&P: cardiovascular conditions may be at increased risk"),
        message="Past myocardial infarction or cardiovascular event: higher risk from BP rises.",
        required_action="Document the cardiovascular risk-benefit judgement; consider cardiology "
        "clearance; closer BP monitoring.",
        applies=lambda c: _recent_cv_event(c, recent=False),
    ),
    Rule(
        id="C6-HOLD",
        checks="baseline BP at or above the policy hold threshold",
        kind=RuleKind.ABSOLUTE,
        source=Source(
            "§2.1",
            Verification.UNVERIFIED,
            Evidence.CLINIC_POLICY,
            "hard hold number is clinic policy; no ketamine guideline number confirmed",
        ),
        message="Baseline blood pressure at or above the clinic's hold threshold.",
        required_action="Not eligible until hypertension is controlled; refer for BP management "
        "and rescreen.",
        applies=_bp_at_hold,
    ),
    Rule(
        id="C6-BP",
        checks="baseline BP above the precaution guide (age-adjusted per policy), below the hold",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-EU", "'>140/90 as a general guide' (truncated); §2.1"),
        message="Baseline blood pressure above the precaution guide.",
        required_action="Weigh the short-term BP rise against benefit and document it; recheck "
        "BP before every dose.",
        applies=_bp_elevated,
    ),
    Rule(
        id="C6-HX",
        checks="hypertension recorded as uncontrolled",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-EU", "warning: uncontrolled heart problems incl. hypertension"),
        message="Uncontrolled hypertension.",
        required_action="Optimise BP control before starting; document the judgement.",
        applies=lambda c: c.facts.has(MedicalCondition.HYPERTENSION, ConditionStatus.ACTIVE),
    ),
    Rule(
        id="C6-MISSING",
        checks="baseline blood pressure recorded",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-US", "BP must be monitored before administration; §2.1"),
        message="No baseline blood pressure recorded.",
        required_action="Record baseline vitals and rescreen.",
        applies=lambda c: c.facts.baseline_vitals is None,
    ),
    Rule(
        id="C7",
        checks="heart failure, valvular heart disease or symptomatic arrhythmia (current)",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-EU", "warning: uncontrolled heart problems"),
        message="Current cardiac disease: higher risk from ketamine's BP and heart-rate rise.",
        required_action="Obtain cardiology clearance and document the risk-benefit judgement.",
        applies=lambda c: any(
            c.facts.has(condition, *CURRENT)
            for condition in (
                MedicalCondition.HEART_FAILURE,
                MedicalCondition.VALVULAR_HEART_DISEASE,
                MedicalCondition.SYMPTOMATIC_ARRHYTHMIA,
            )
        ),
    ),
    Rule(
        id="C7-UA",
        checks="unstable angina (current)",
        kind=RuleKind.RELATIVE,
        source=_label(
            "SPRAVATO-EU",
            "warning lists angina; 'unstable angina is absolute' is seed-only (UNVERIFIED) — "
            "the medical director may escalate this rule",
        ),
        message="Unstable angina.",
        required_action="Obtain cardiology clearance before any session; document the judgement.",
        applies=lambda c: c.facts.has(MedicalCondition.UNSTABLE_ANGINA, *CURRENT),
    ),
    Rule(
        id="C8",
        checks="prior stroke, raised intracranial pressure, or past brain injury",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-EU", "warning: prior stroke; US patient information SECONDARY"),
        message="Prior stroke, raised intracranial pressure or brain injury.",
        required_action="Document the neurological risk-benefit judgement; closer BP monitoring.",
        applies=lambda c: (
            c.facts.has(MedicalCondition.STROKE)
            or c.facts.has(MedicalCondition.RAISED_INTRACRANIAL_PRESSURE)
            or c.facts.has(MedicalCondition.BRAIN_INJURY, ConditionStatus.PAST)
        ),
    ),
    Rule(
        id="C9",
        checks="active psychosis",
        kind=RuleKind.ABSOLUTE,
        source=Source(
            "§1.5",
            Verification.VERIFIED,
            Evidence.PUBLISHED_PRACTICE,
            "clinic exclusion list (not a guideline); SPRAVATO warnings as precaution",
        ),
        message="Active psychosis: ketamine can worsen psychotic symptoms.",
        required_action="Do not treat. Refer for treatment of the psychosis.",
        applies=lambda c: c.facts.has(MedicalCondition.PSYCHOSIS, ConditionStatus.ACTIVE),
    ),
    Rule(
        id="C9-HX",
        checks="history of psychosis (not active)",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-EU", "warning: history of psychosis"),
        message="History of psychosis.",
        required_action="Psychiatric review of relapse risk; document the judgement; monitor for "
        "emergent psychotic symptoms.",
        applies=lambda c: c.facts.has(
            MedicalCondition.PSYCHOSIS, ConditionStatus.CONTROLLED, ConditionStatus.PAST
        ),
    ),
    Rule(
        id="C9-FAM",
        checks="first-degree relative with schizophrenia or psychosis",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-US", "patient information list", Verification.SECONDARY),
        message="First-degree relative with schizophrenia or psychosis.",
        required_action="Document the judgement; monitor for emergent psychotic symptoms.",
        applies=lambda c: c.facts.has(MedicalCondition.FIRST_DEGREE_RELATIVE_PSYCHOSIS),
    ),
    Rule(
        id="C10",
        checks="active or recent (policy window) substance use disorder, alcohol included",
        kind=RuleKind.RELATIVE,
        source=_label(
            "SPRAVATO-US", "abuse and misuse: 'careful consideration'; exclusion is clinic policy"
        ),
        message="Active or recent substance use disorder: higher risk of ketamine misuse.",
        required_action="Addiction assessment and a documented judgement; misuse monitoring. The "
        "medical director may make this absolute.",
        applies=lambda c: _substance_use(c, recent=True),
    ),
    Rule(
        id="C10-HX",
        checks="substance use disorder in remission beyond the policy window",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-US", "history of drug abuse or dependence: greater risk"),
        message="History of substance use disorder.",
        required_action="Document the judgement; misuse monitoring; no take-home doses without "
        "review.",
        applies=lambda c: _substance_use(c, recent=False),
    ),
    Rule(
        id="C10-SCREEN",
        checks="positive AUDIT or DAST screen",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-US", "abuse and misuse warning; screens in §4.8 and §4.9"),
        message="Positive alcohol or drug use screen.",
        required_action="Assess for a substance use disorder and record the outcome in the "
        "substance use history.",
        applies=lambda c: bool(
            c.facts.questionnaire_flags
            & {QuestionnaireFlag.AUDIT_POSITIVE, QuestionnaireFlag.DAST_POSITIVE}
        ),
    ),
    Rule(
        id="C11",
        checks="bipolar disorder or history of mania",
        kind=RuleKind.RELATIVE,
        pathway=Pathway.SPECIALIST_PROTOCOL,
        source=_label("SPRAVATO-EU", "warning: bipolar disorder or symptoms of mania"),
        message="Bipolar disorder or history of mania: risk of treatment-emergent mania.",
        required_action="Use the bipolar protocol: mood stabiliser on board, MDQ on file, mania "
        "monitoring at every session.",
        applies=_bipolar,
    ),
    Rule(
        id="C11-MDQ",
        # Fires even with a recorded diagnosis, so that recording one can never relax the screen.
        checks="positive MDQ screen",
        kind=RuleKind.RELATIVE,
        pathway=Pathway.SPECIALIST_PROTOCOL,
        source=Source(
            "§4.5",
            Verification.SECONDARY,
            Evidence.INSTRUMENT_MANUAL,
            "positive MDQ routes to the bipolar protocol (C11)",
        ),
        message="Positive Mood Disorder Questionnaire.",
        required_action="Diagnostic assessment for bipolar disorder unless already diagnosed; "
        "treat under the bipolar protocol unless it is excluded.",
        applies=lambda c: QuestionnaireFlag.MDQ_POSITIVE in c.facts.questionnaire_flags,
    ),
    Rule(
        id="C12",
        checks="pregnancy",
        kind=RuleKind.ABSOLUTE,
        source=_label("SPRAVATO-US", "embryo-fetal toxicity; HARD by default per §1.6"),
        message="Pregnancy: ketamine may cause fetal harm.",
        required_action="Do not treat. Pregnancy registry: 1-844-405-6185.",
        applies=lambda c: c.facts.reproductive.pregnancy is PregnancyStatus.PREGNANT,
    ),
    Rule(
        id="C12-STATUS",
        checks="pregnancy status known for a person of reproductive potential",
        kind=RuleKind.RELATIVE,
        source=_label(
            "SPRAVATO-US", "embryo-fetal toxicity; requiring a test is policy (UNVERIFIED)"
        ),
        message="Pregnancy status unknown for a person of reproductive potential.",
        required_action="Establish pregnancy status (test per clinic policy) and rescreen.",
        applies=lambda c: (
            c.facts.reproductive.reproductive_potential
            and c.facts.reproductive.pregnancy is PregnancyStatus.UNKNOWN
        ),
    ),
    Rule(
        id="C13",
        checks="breastfeeding",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-US", "lactation: breastfeeding not recommended"),
        message="Breastfeeding is not recommended during treatment.",
        required_action="Discuss stopping or pausing breastfeeding; document the decision. The "
        "medical director may make this absolute.",
        applies=lambda c: c.facts.reproductive.breastfeeding,
    ),
    Rule(
        id="C14",
        checks="neurocognitive disorder, or symptomatic brain injury",
        kind=RuleKind.RELATIVE,
        source=Source(
            "§1.5",
            Verification.VERIFIED,
            Evidence.PUBLISHED_PRACTICE,
            "clinic exclusion list (not a guideline)",
        ),
        message="Neurocognitive disorder or symptomatic brain injury.",
        required_action="Assess capacity to consent; document the judgement.",
        applies=lambda c: (
            c.facts.has(MedicalCondition.NEUROCOGNITIVE_DISORDER, *CURRENT)
            or c.facts.has(MedicalCondition.BRAIN_INJURY, *CURRENT)
        ),
    ),
    Rule(
        id="C15",
        checks="inadequately treated hyperthyroidism",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-EU", "warning: inadequately treated hyperthyroidism"),
        message="Inadequately treated hyperthyroidism.",
        required_action="Treat the hyperthyroidism first or document the judgement.",
        applies=lambda c: c.facts.has(MedicalCondition.HYPERTHYROIDISM, ConditionStatus.ACTIVE),
    ),
    Rule(
        id="C16",
        checks="pulmonary insufficiency including COPD (current)",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-EU", "warning: pulmonary insufficiency incl. COPD"),
        message="Pulmonary insufficiency: risk from sedation.",
        required_action="Continuous pulse oximetry; document the judgement.",
        applies=lambda c: c.facts.has(MedicalCondition.PULMONARY_INSUFFICIENCY, *CURRENT),
    ),
    Rule(
        id="C16-OSA",
        checks="sleep apnoea with obesity (BMI at or above policy, or BMI unknown)",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-EU", "warning: sleep apnoea with overweight"),
        message="Sleep apnoea with obesity: risk from sedation.",
        required_action="Continuous pulse oximetry; airway plan; document the judgement.",
        applies=_sleep_apnoea_with_obesity,
    ),
    Rule(
        id="C17",
        checks="hepatic impairment, Child-Pugh B or class unrecorded",
        kind=RuleKind.RELATIVE,
        source=_label(
            "SPRAVATO-US", "moderate impairment: longer monitoring", Verification.SECONDARY
        ),
        message="Hepatic impairment: higher exposure, longer effects.",
        required_action="Extend post-dose monitoring; record the Child-Pugh class.",
        applies=lambda c: _hepatic(c, severe=False),
    ),
    Rule(
        id="C17-C",
        checks="severe hepatic impairment (Child-Pugh C)",
        kind=RuleKind.RELATIVE,
        source=_label(
            "SPRAVATO-US",
            "severe impairment not studied / not recommended",
            Verification.UNVERIFIED,
        ),
        message="Severe hepatic impairment: not studied, use not recommended.",
        required_action="Avoid unless the medical director documents an exceptional rationale.",
        applies=lambda c: _hepatic(c, severe=True),
    ),
    Rule(
        id="C18",
        checks="age under 18",
        kind=RuleKind.ABSOLUTE,
        source=_label("SPRAVATO-US", "not approved under 18 years"),
        message="Under 18: not approved.",
        required_action="Do not treat in this program.",
        applies=lambda c: c.facts.age_years < 18,
    ),
    Rule(
        id="C19",
        checks="ulcerative or interstitial cystitis",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-US", "adverse-reaction section header", Verification.UNVERIFIED),
        message="History of ulcerative or interstitial cystitis.",
        required_action="Ask about urinary symptoms at every session; document the judgement.",
        applies=lambda c: c.facts.has(MedicalCondition.CYSTITIS),
    ),
    Rule(
        id="C20",
        checks="C-SSRS screener risk level high",
        kind=RuleKind.RELATIVE,
        pathway=Pathway.URGENT_SAFETY_REVIEW,
        source=Source(
            "CSSRS-TRIAGE",
            Verification.VERIFIED,
            Evidence.INSTRUMENT_MANUAL,
            "Q4/Q5 past month or behaviour past 3 months: safety precautions until evaluated",
        ),
        message="High suicide risk on the C-SSRS screener.",
        required_action="Start the safety pathway now: keep the patient safe until a mental health "
        "professional evaluates them for possible hospitalisation; no outpatient or retreat "
        "session before a level-of-care review.",
        applies=lambda c: c.facts.cssrs_risk is CssrsRisk.HIGH,
    ),
    Rule(
        id="C20-MOD",
        checks="C-SSRS screener risk level moderate",
        kind=RuleKind.RELATIVE,
        source=Source(
            "§4.4",
            Verification.UNVERIFIED,
            Evidence.INSTRUMENT_MANUAL,
            "moderate tier from common implementations; not checked against the official chart",
        ),
        message="Moderate suicide risk on the C-SSRS screener.",
        required_action="Clinician suicide risk assessment and a written safety plan before "
        "dosing.",
        applies=lambda c: c.facts.cssrs_risk is CssrsRisk.MODERATE,
    ),
    Rule(
        id="C20-MISSING",
        checks="C-SSRS screener recorded",
        kind=RuleKind.RELATIVE,
        source=Source(
            "§2.1",
            Verification.UNVERIFIED,
            Evidence.CLINIC_POLICY,
            "baseline C-SSRS is a measurement-based-care design choice",
        ),
        message="No C-SSRS screener on file.",
        required_action="Administer the C-SSRS screener and rescreen.",
        applies=lambda c: c.facts.cssrs_risk is None,
    ),
    Rule(
        id="TRD",
        checks="major depression without treatment resistance (fewer than 2 adequate failed "
        "trials in the current episode)",
        kind=RuleKind.RELATIVE,
        source=Source(
            "CANMAT2021",
            Verification.VERIFIED,
            Evidence.GUIDELINE,
            "IV ketamine is a third-line option for TRD",
        ),
        message="Depression does not meet the treatment-resistance definition.",
        required_action="Document why ketamine is offered before two adequate antidepressant "
        "trials, or complete the trial history.",
        applies=lambda c: (
            PresentingCondition.MAJOR_DEPRESSION in c.facts.presenting_conditions
            and not c.trd.treatment_resistant
        ),
    ),
    Rule(
        id="M-BZD",
        checks="daily benzodiazepine dose above the policy diazepam-equivalent limit",
        kind=RuleKind.RELATIVE,
        source=Source(
            "ANDRASHKO2020",
            Verification.VERIFIED,
            Evidence.PUBLISHED_PRACTICE,
            "abstract: > 8 mg diazepam-equivalent separated non-responders",
        ),
        message="Benzodiazepine dose may dampen the antidepressant response.",
        required_action="Review benzodiazepine dose and timing with the prescriber (holding doses "
        "is a clinical choice).",
        applies=lambda c: (
            c.facts.daily_benzodiazepine_diazepam_equivalent_mg
            > c.policy.benzodiazepine_diazepam_equivalent_mg
        ),
    ),
    Rule(
        id="M-CNS",
        checks="concomitant CNS depressant (benzodiazepine, opioid or other)",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-US", "W&P: sedation with concomitant CNS depressants"),
        message="CNS depressant on board: additive sedation.",
        required_action="Closer sedation monitoring at every session.",
        applies=lambda c: bool(c.facts.taking(*CNS_DEPRESSANTS)),
    ),
    Rule(
        id="M-STIM",
        checks="concomitant psychostimulant",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-US", "Medication Guide names psychostimulants"),
        message="Psychostimulant on board: higher risk of BP rise.",
        required_action="Closer BP monitoring at every session.",
        applies=lambda c: bool(c.facts.taking(InteractionClass.STIMULANT)),
    ),
    Rule(
        id="M-MAOI",
        checks="concomitant MAOI",
        kind=RuleKind.RELATIVE,
        source=_label("SPRAVATO-US", "Medication Guide names MAOIs"),
        message="MAOI on board: higher risk of BP rise.",
        required_action="Closer BP monitoring at every session.",
        applies=lambda c: bool(c.facts.taking(InteractionClass.MAOI)),
    ),
    Rule(
        id="M-LAMO",
        checks="concomitant lamotrigine",
        kind=RuleKind.INFORMATIONAL,
        source=Source(
            "ANDRADE2017-DDI",
            Verification.VERIFIED,
            Evidence.PUBLISHED_PRACTICE,
            "attenuates dissociative effects; effect on antidepressant action unknown",
        ),
        message="Lamotrigine may attenuate ketamine's dissociative effects; its effect on the "
        "antidepressant response is not known.",
        required_action="None required; note it when reviewing session experience.",
        applies=lambda c: bool(c.facts.taking(InteractionClass.LAMOTRIGINE)),
    ),
    Rule(
        id="M-GLU",
        checks="concomitant glutamate-modulating drug (e.g. memantine)",
        kind=RuleKind.INFORMATIONAL,
        source=Source(
            "ANDRADE2017-DDI", Verification.VERIFIED, Evidence.PUBLISHED_PRACTICE, "class statement"
        ),
        message="Glutamate-modulating drug may reduce adverse effects; antidepressant interaction "
        "unknown.",
        required_action="None required.",
        applies=lambda c: bool(c.facts.taking(InteractionClass.GLUTAMATE_MODULATOR)),
    ),
    Rule(
        id="M-CYP",
        checks="concomitant CYP2B6/CYP3A4 inducer or inhibitor",
        kind=RuleKind.INFORMATIONAL,
        source=Source(
            "ANDRADE2017-DDI",
            Verification.VERIFIED,
            Evidence.PUBLISHED_PRACTICE,
            "inducers reduce, inhibitors increase ketamine exposure",
        ),
        message="CYP inducer or inhibitor: ketamine exposure may be lower or higher than usual.",
        required_action="Titrate doses with care.",
        applies=lambda c: bool(
            c.facts.taking(InteractionClass.CYP_INDUCER, InteractionClass.CYP_INHIBITOR)
        ),
    ),
    Rule(
        id="M-SSRI",
        checks="concomitant SSRI",
        kind=RuleKind.INFORMATIONAL,
        source=Source(
            "§1.7",
            Verification.VERIFIED,
            Evidence.PUBLISHED_PRACTICE,
            "Szarmach 2020: higher BP peaks during IV ketamine in one cohort (abstract)",
        ),
        message="SSRI on board: one cohort saw higher BP peaks during IV ketamine.",
        required_action="None required; BP monitoring per protocol.",
        applies=lambda c: bool(c.facts.taking(InteractionClass.SSRI)),
    ),
    Rule(
        id="I-HTN",
        checks="hypertension recorded as controlled or past",
        kind=RuleKind.INFORMATIONAL,
        source=_label("SPRAVATO-US", "W&P: cardiovascular risk factors may be at increased risk"),
        message="Controlled hypertension: a cardiovascular risk factor.",
        required_action="BP monitoring per protocol.",
        applies=lambda c: c.facts.has(
            MedicalCondition.HYPERTENSION, ConditionStatus.CONTROLLED, ConditionStatus.PAST
        ),
    ),
    Rule(
        id="I-AGE65",
        checks="age 65 or over",
        kind=RuleKind.INFORMATIONAL,
        source=_label("SPRAVATO-EU", "Table 2: adults >= 65 start esketamine at 28 mg"),
        message="Age 65 or over: esketamine starts at 28 mg.",
        required_action="Use the older-adult esketamine schedule if esketamine is chosen.",
        applies=lambda c: c.facts.age_years >= 65,
    ),
    Rule(
        id="I-REPRO",
        checks="reproductive potential, not pregnant",
        kind=RuleKind.INFORMATIONAL,
        source=_label("SPRAVATO-US", "consider pregnancy planning and prevention"),
        message="Reproductive potential: ketamine may cause fetal harm.",
        required_action="Counsel on pregnancy planning and prevention during treatment.",
        applies=lambda c: (
            c.facts.reproductive.reproductive_potential
            and c.facts.reproductive.pregnancy is PregnancyStatus.NOT_PREGNANT
        ),
    ),
)

RULES_BY_ID: MappingProxyType[str, Rule] = MappingProxyType({rule.id: rule for rule in RULES})
