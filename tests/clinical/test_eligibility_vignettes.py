"""Patient vignettes written from clinical-reference.md §1, with the decision and findings expected.

Each vignette is a whole intake, not a one-field change, so the rules are seen working together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from kapstone.clinical.eligibility import Decision, EligibilityPolicy, assess, facts_from_json

ON = date(2026, 11, 2)


def patient(**facts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "recorded_on": "2026-11-02",
        "age_years": 45,
        "presenting_conditions": ["major_depression"],
        "reproductive": {
            "reproductive_potential": False,
            "pregnancy": "not_pregnant",
            "breastfeeding": False,
        },
        "current_episode": {
            "started_on": "2025-06-01",
            "antidepressant_trials": [
                {
                    "drug": "escitalopram",
                    "daily_dose_mg": 20,
                    "weeks": 8,
                    "adequate_dose": True,
                    "outcome": "no_response",
                },
                {
                    "drug": "duloxetine",
                    "daily_dose_mg": 60,
                    "weeks": 10,
                    "adequate_dose": True,
                    "outcome": "partial_response",
                },
            ],
        },
        "baseline_vitals": {
            "measured_on": "2026-11-02",
            "systolic_mmhg": 124,
            "diastolic_mmhg": 80,
            "weight_kg": 72,
            "height_cm": 175,
        },
        "cssrs_risk": "low",
    }
    base.update(facts)
    return base


@dataclass(frozen=True)
class Vignette:
    name: str
    story: str
    facts: dict[str, Any]
    decision: Decision
    findings: tuple[str, ...]
    policy: EligibilityPolicy = field(default_factory=EligibilityPolicy)


VIGNETTES = [
    Vignette(
        "trd-clean",
        "45-year-old with MDD, two adequate failed trials this episode (TRD, SPRAVATO-EU 4.1), "
        "normotensive, low C-SSRS risk, no interacting medicines.",
        patient(),
        Decision.ELIGIBLE,
        (),
    ),
    Vignette(
        "older-adult-on-ssri",
        "68-year-old with TRD on sertraline; BP 146/88 is under the older-adult guide (policy "
        "150/90); esketamine would start at 28 mg (SPRAVATO-EU Table 2).",
        patient(
            age_years=68,
            medications=[{"name": "sertraline", "interaction_classes": ["ssri"]}],
            baseline_vitals={
                "measured_on": "2026-11-01",
                "systolic_mmhg": 146,
                "diastolic_mmhg": 88,
            },
        ),
        Decision.ELIGIBLE,
        ("M-SSRI", "I-AGE65"),
    ),
    Vignette(
        "anxiety-on-clonazepam",
        "32-year-old with social anxiety and panic, clonazepam 1 mg twice daily (about 40 mg "
        "diazepam-equivalent): BZD > 8 mg may dampen response (ANDRASHKO2020) and adds sedation "
        "(SPRAVATO-US); of reproductive potential, not pregnant.",
        patient(
            age_years=32,
            presenting_conditions=["social_anxiety", "panic_agoraphobia"],
            current_episode=None,
            reproductive={
                "reproductive_potential": True,
                "pregnancy": "not_pregnant",
                "breastfeeding": False,
            },
            medications=[
                {
                    "name": "clonazepam",
                    "interaction_classes": ["benzodiazepine"],
                    "daily_dose_mg": 2,
                    "diazepam_equivalent_mg_per_day": 40,
                }
            ],
        ),
        Decision.ELIGIBLE_WITH_PRECAUTIONS,
        ("M-BZD", "M-CNS", "I-REPRO"),
    ),
    Vignette(
        "depression-before-two-trials-with-adhd",
        "27-year-old with MDD after one failed trial, on lisdexamfetamine: not yet TRD "
        "(CANMAT2021 third-line) and the stimulant raises BP (SPRAVATO-US Medication Guide).",
        patient(
            age_years=27,
            current_episode={
                "started_on": "2026-03-01",
                "antidepressant_trials": [
                    {
                        "drug": "fluoxetine",
                        "weeks": 8,
                        "adequate_dose": True,
                        "outcome": "no_response",
                    },
                    {"drug": "bupropion", "weeks": 3, "adequate_dose": True, "outcome": "ongoing"},
                ],
            },
            medications=[{"name": "lisdexamfetamine", "interaction_classes": ["stimulant"]}],
        ),
        Decision.ELIGIBLE_WITH_PRECAUTIONS,
        ("TRD", "M-STIM"),
    ),
    Vignette(
        "bipolar-ii-on-lithium",
        "39-year-old with bipolar II depression on lithium (SPRAVATO-EU warning; specialised "
        "protocol per §1.6 C11) and a positive MDQ.",
        patient(
            age_years=39,
            medical_history=[
                {"condition": "bipolar_disorder", "status": "controlled", "since": "2016-01-01"}
            ],
            medications=[{"name": "lithium", "interaction_classes": ["mood_stabiliser"]}],
            questionnaire_flags=["mdq_positive"],
        ),
        Decision.SPECIALIST_PROTOCOL,
        ("C11", "C11-MDQ"),
    ),
    Vignette(
        "bipolar-with-uncontrolled-hypertension",
        "Bipolar disorder plus uncontrolled hypertension at 156/96: the specialist pathway still "
        "carries the BP precautions.",
        patient(
            medical_history=[
                {"condition": "bipolar_disorder", "status": "controlled"},
                {"condition": "hypertension", "status": "active"},
            ],
            baseline_vitals={
                "measured_on": "2026-11-02",
                "systolic_mmhg": 156,
                "diastolic_mmhg": 96,
            },
        ),
        Decision.SPECIALIST_PROTOCOL,
        ("C6-BP", "C6-HX", "C11"),
    ),
    Vignette(
        "abdominal-aortic-aneurysm",
        "61-year-old with a known abdominal aortic aneurysm under surveillance (SPRAVATO-US "
        "contraindication).",
        patient(
            age_years=61,
            medical_history=[
                {
                    "condition": "aneurysmal_vascular_disease",
                    "status": "controlled",
                    "note": "AAA 4.2 cm, surveillance",
                },
            ],
        ),
        Decision.NOT_ELIGIBLE,
        ("C1",),
    ),
    Vignette(
        "recent-heart-attack",
        "58-year-old, myocardial infarction four weeks ago (SPRAVATO-EU: within 6 weeks), "
        "controlled hypertension.",
        patient(
            age_years=58,
            medical_history=[
                {"condition": "myocardial_infarction", "status": "past", "since": "2026-10-05"},
                {"condition": "hypertension", "status": "controlled"},
            ],
        ),
        Decision.NOT_ELIGIBLE,
        ("C5", "I-HTN"),
    ),
    Vignette(
        "pregnant",
        "30-year-old, 10 weeks pregnant (SPRAVATO-US embryo-fetal toxicity; HARD by default).",
        patient(
            age_years=30,
            reproductive={
                "reproductive_potential": True,
                "pregnancy": "pregnant",
                "breastfeeding": False,
            },
        ),
        Decision.NOT_ELIGIBLE,
        ("C12",),
    ),
    Vignette(
        "hypertensive-at-screening",
        "52-year-old with BP 184/112 at intake: at the clinic's hold threshold (policy).",
        patient(
            age_years=52,
            baseline_vitals={
                "measured_on": "2026-11-02",
                "systolic_mmhg": 184,
                "diastolic_mmhg": 112,
            },
        ),
        Decision.NOT_ELIGIBLE,
        ("C6-HOLD",),
    ),
    Vignette(
        "adolescent",
        "16-year-old with depression (SPRAVATO-US: not approved under 18).",
        patient(age_years=16),
        Decision.NOT_ELIGIBLE,
        ("C18",),
    ),
    Vignette(
        "active-psychosis-and-bipolar",
        "Bipolar I with psychotic features now: the absolute contraindication outranks the "
        "specialist pathway.",
        patient(
            medical_history=[
                {"condition": "bipolar_disorder", "status": "active"},
                {"condition": "psychosis", "status": "active"},
            ]
        ),
        Decision.NOT_ELIGIBLE,
        ("C9", "C11"),
    ),
    Vignette(
        "high-suicide-risk",
        "TRD with suicidal ideation with intent in the past month (C-SSRS Q4 yes: high risk, "
        "CSSRS-TRIAGE).",
        patient(cssrs_risk="high"),
        Decision.URGENT_SAFETY_REVIEW,
        ("C20",),
    ),
    Vignette(
        "high-risk-with-contraindication",
        "High C-SSRS risk and an arteriovenous malformation: safety comes first.",
        patient(
            cssrs_risk="high",
            medical_history=[
                {"condition": "arteriovenous_malformation", "status": "past"},
            ],
        ),
        Decision.URGENT_SAFETY_REVIEW,
        ("C2", "C20"),
    ),
    Vignette(
        "breastfeeding-default-policy",
        "34-year-old breastfeeding mother (SPRAVATO-US: not recommended) under the default policy.",
        patient(
            age_years=34,
            reproductive={
                "reproductive_potential": True,
                "pregnancy": "not_pregnant",
                "breastfeeding": True,
            },
        ),
        Decision.ELIGIBLE_WITH_PRECAUTIONS,
        ("C13", "I-REPRO"),
    ),
    Vignette(
        "breastfeeding-strict-clinic",
        "The same mother at a clinic whose medical director makes breastfeeding absolute.",
        patient(
            age_years=34,
            reproductive={
                "reproductive_potential": True,
                "pregnancy": "not_pregnant",
                "breastfeeding": True,
            },
        ),
        Decision.NOT_ELIGIBLE,
        ("C13", "I-REPRO"),
        EligibilityPolicy(version="clinic-strict-1", escalated_rules=frozenset({"C13"})),
    ),
    Vignette(
        "alcohol-use-disorder-in-early-remission",
        "PTSD with alcohol use disorder, last drink 6 weeks ago (SPRAVATO-US abuse warning; "
        "clinic window 3 months), obstructive sleep apnoea with BMI 33 (SPRAVATO-EU), on "
        "lamotrigine (informational only, ANDRADE2017-DDI).",
        patient(
            presenting_conditions=["ptsd", "major_depression"],
            substance_use=[
                {"substance": "alcohol", "status": "in_remission", "last_use_on": "2026-09-21"}
            ],
            medical_history=[{"condition": "sleep_apnoea", "status": "controlled"}],
            medications=[{"name": "lamotrigine", "interaction_classes": ["lamotrigine"]}],
            baseline_vitals={
                "measured_on": "2026-11-02",
                "systolic_mmhg": 132,
                "diastolic_mmhg": 84,
                "weight_kg": 101,
                "height_cm": 175,
            },
            questionnaire_flags=["audit_positive"],
        ),
        Decision.ELIGIBLE_WITH_PRECAUTIONS,
        ("C10", "C10-SCREEN", "C16-OSA", "M-LAMO"),
    ),
    Vignette(
        "incomplete-intake",
        "Intake without C-SSRS, baseline BP or pregnancy status for a person of reproductive "
        "potential: never 'eligible' on missing safety facts.",
        patient(
            reproductive={
                "reproductive_potential": True,
                "pregnancy": "unknown",
                "breastfeeding": False,
            },
            baseline_vitals=None,
            cssrs_risk=None,
        ),
        Decision.ELIGIBLE_WITH_PRECAUTIONS,
        ("C6-MISSING", "C12-STATUS", "C20-MISSING"),
    ),
]


@pytest.mark.parametrize("vignette", VIGNETTES, ids=[v.name for v in VIGNETTES])
def test_vignette(vignette: Vignette) -> None:
    result = assess(facts_from_json(vignette.facts), policy=vignette.policy, on=ON)
    assert result.decision is vignette.decision, vignette.story
    assert sorted(result.finding_ids) == sorted(vignette.findings), vignette.story
    assert result.policy_version == vignette.policy.version


def test_vignettes_cover_every_decision() -> None:
    assert {v.decision for v in VIGNETTES} == set(Decision)
