"""Properties of the screen over arbitrary intakes and clinic policies.

Permissiveness order (most permissive first): eligible < eligible_with_precautions <
specialist_protocol < not_eligible < urgent_safety_review. Adding a rule trigger to any intake must
never move the decision towards the permissive end, under any policy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.eligibility import (
    RULES,
    Decision,
    EligibilityPolicy,
    IntakeFacts,
    RuleKind,
    assess,
)
from kapstone.clinical.eligibility.facts import (
    AntidepressantTrial,
    BaselineVitals,
    ChildPugh,
    ConditionStatus,
    CssrsRisk,
    DepressiveEpisode,
    InteractionClass,
    MedicalCondition,
    MedicalHistoryItem,
    Medication,
    PregnancyStatus,
    PresentingCondition,
    QuestionnaireFlag,
    Reproductive,
    SubstanceUse,
    SubstanceUseStatus,
    TrialOutcome,
)

ON = date(2026, 11, 2)
RELATIVE_RULES = sorted(r.id for r in RULES if r.kind is RuleKind.RELATIVE)

past_dates = st.integers(min_value=0, max_value=3650).map(lambda n: ON - timedelta(days=n))

history_items = st.builds(
    MedicalHistoryItem,
    condition=st.sampled_from(MedicalCondition),
    status=st.sampled_from(ConditionStatus),
    since=past_dates,
    child_pugh=st.none(),
).map(
    lambda item: (
        dataclasses.replace(item, child_pugh=ChildPugh.B)
        if item.condition is MedicalCondition.HEPATIC_IMPAIRMENT
        else item
    )
)


@st.composite
def medications(draw: st.DrawFn) -> Medication:
    classes = draw(st.frozensets(st.sampled_from(InteractionClass), max_size=2))
    diazepam = (
        draw(st.floats(min_value=0.5, max_value=60))
        if InteractionClass.BENZODIAZEPINE in classes
        else None
    )
    return Medication(draw(st.sampled_from(["a", "b", "c"])), classes, None, diazepam)


trials = st.builds(
    AntidepressantTrial,
    drug=st.sampled_from(["sertraline", "venlafaxine", "bupropion", "mirtazapine"]),
    daily_dose_mg=st.none(),
    weeks=st.floats(min_value=0, max_value=30),
    adequate_dose=st.none() | st.booleans(),
    outcome=st.sampled_from(TrialOutcome),
)


@st.composite
def reproductive(draw: st.DrawFn) -> Reproductive:
    potential = draw(st.booleans())
    statuses = list(PregnancyStatus) if potential else [PregnancyStatus.NOT_PREGNANT]
    return Reproductive(potential, draw(st.sampled_from(statuses)), draw(st.booleans()))


vitals = st.builds(
    BaselineVitals,
    measured_on=st.just(ON),
    systolic_mmhg=st.integers(min_value=95, max_value=200),
    diastolic_mmhg=st.integers(min_value=55, max_value=90),
    weight_kg=st.none() | st.floats(min_value=45, max_value=150),
    height_cm=st.none() | st.floats(min_value=150, max_value=200),
)

# C-SSRS and baseline vitals are always recorded here: replacing a *missing* fact by a value is
# resolving the intake, not adding a contraindication (the missing-fact rules are tested alone).
intakes = st.builds(
    IntakeFacts,
    recorded_on=st.just(ON),
    age_years=st.integers(min_value=16, max_value=90),
    presenting_conditions=st.frozensets(st.sampled_from(PresentingCondition), min_size=1),
    reproductive=reproductive(),
    current_episode=st.none()
    | st.builds(DepressiveEpisode, started_on=past_dates, antidepressant_trials=st.tuples(trials)),
    medical_history=st.lists(history_items, max_size=3).map(tuple),
    substance_use=st.lists(
        st.builds(
            SubstanceUse,
            substance=st.just("alcohol"),
            status=st.sampled_from(SubstanceUseStatus),
            last_use_on=past_dates,
        ),
        max_size=1,
    ).map(tuple),
    medications=st.lists(medications(), max_size=3).map(tuple),
    baseline_vitals=vitals,
    questionnaire_flags=st.frozensets(st.sampled_from(QuestionnaireFlag)),
    cssrs_risk=st.sampled_from(CssrsRisk),
)

policies = st.builds(
    EligibilityPolicy,
    escalated_rules=st.frozensets(st.sampled_from(RELATIVE_RULES), max_size=4),
    benzodiazepine_diazepam_equivalent_mg=st.sampled_from([4.0, 8.0, 15.0]),
    adequate_trial_min_weeks=st.sampled_from([4.0, 6.0, 8.0]),
)

Trigger = Callable[[IntakeFacts], IntakeFacts]


def add_history(condition: MedicalCondition, status: ConditionStatus, days: int = 400) -> Trigger:
    child_pugh = ChildPugh.C if condition is MedicalCondition.HEPATIC_IMPAIRMENT else None
    item = MedicalHistoryItem(condition, status, ON - timedelta(days=days), child_pugh)
    return lambda f: dataclasses.replace(f, medical_history=(*f.medical_history, item))


def add_medication(cls: InteractionClass, diazepam: float | None = None) -> Trigger:
    med = Medication("added", frozenset({cls}), None, diazepam)
    return lambda f: dataclasses.replace(f, medications=(*f.medications, med))


def raise_cssrs(level: CssrsRisk) -> Trigger:
    order = list(CssrsRisk)

    def trigger(f: IntakeFacts) -> IntakeFacts:
        current = f.cssrs_risk or CssrsRisk.NONE
        return dataclasses.replace(f, cssrs_risk=max(current, level, key=order.index))

    return trigger


def raise_bp(systolic: int, diastolic: int) -> Trigger:
    def trigger(f: IntakeFacts) -> IntakeFacts:
        v = f.baseline_vitals
        assert v is not None
        raised = dataclasses.replace(
            v,
            systolic_mmhg=max(v.systolic_mmhg, systolic),
            diastolic_mmhg=max(v.diastolic_mmhg, diastolic),
        )
        return dataclasses.replace(f, baseline_vitals=raised)

    return trigger


def add_flag(flag: QuestionnaireFlag) -> Trigger:
    return lambda f: dataclasses.replace(f, questionnaire_flags=f.questionnaire_flags | {flag})


def become_pregnant(f: IntakeFacts) -> IntakeFacts:
    return dataclasses.replace(
        f, reproductive=Reproductive(True, PregnancyStatus.PREGNANT, f.reproductive.breastfeeding)
    )


def start_breastfeeding(f: IntakeFacts) -> IntakeFacts:
    return dataclasses.replace(
        f, reproductive=dataclasses.replace(f.reproductive, breastfeeding=True)
    )


def add_active_substance_use(f: IntakeFacts) -> IntakeFacts:
    use = SubstanceUse("cocaine", SubstanceUseStatus.ACTIVE, ON)
    return dataclasses.replace(f, substance_use=(*f.substance_use, use))


def make_minor(f: IntakeFacts) -> IntakeFacts:
    return dataclasses.replace(f, age_years=min(f.age_years, 17))


RECENT = 10
TRIGGERS: list[tuple[str, Trigger]] = [
    *(
        (f"{condition}-{status}", add_history(condition, status))
        for condition in MedicalCondition
        for status in ConditionStatus
    ),
    (
        "recent-mi",
        add_history(MedicalCondition.MYOCARDIAL_INFARCTION, ConditionStatus.PAST, RECENT),
    ),
    ("recent-cv", add_history(MedicalCondition.CARDIOVASCULAR_EVENT, ConditionStatus.PAST, RECENT)),
    *((f"med-{cls}", add_medication(cls)) for cls in InteractionClass if cls != "benzodiazepine"),
    ("benzo-high", add_medication(InteractionClass.BENZODIAZEPINE, 20)),
    ("benzo-low", add_medication(InteractionClass.BENZODIAZEPINE, 2)),
    *((f"cssrs-{level}", raise_cssrs(level)) for level in CssrsRisk),
    ("bp-elevated", raise_bp(150, 95)),
    ("bp-hold", raise_bp(185, 112)),
    *((f"flag-{flag}", add_flag(flag)) for flag in QuestionnaireFlag),
    ("pregnant", become_pregnant),
    ("breastfeeding", start_breastfeeding),
    ("substance-use", add_active_substance_use),
    ("minor", make_minor),
]

INFORMATIONAL_TRIGGERS: list[tuple[str, Trigger]] = [
    ("lamotrigine", add_medication(InteractionClass.LAMOTRIGINE)),
    ("memantine", add_medication(InteractionClass.GLUTAMATE_MODULATOR)),
    ("cyp-inducer", add_medication(InteractionClass.CYP_INDUCER)),
    ("cyp-inhibitor", add_medication(InteractionClass.CYP_INHIBITOR)),
    ("ssri", add_medication(InteractionClass.SSRI)),
    ("controlled-htn", add_history(MedicalCondition.HYPERTENSION, ConditionStatus.CONTROLLED)),
]


@settings(max_examples=300, deadline=None)
@given(
    facts=intakes,
    policy=policies,
    trigger=st.sampled_from(TRIGGERS),
)
def test_adding_a_trigger_never_makes_the_decision_more_permissive(
    facts: IntakeFacts, policy: EligibilityPolicy, trigger: tuple[str, Trigger]
) -> None:
    name, add = trigger
    before = assess(facts, policy=policy, on=ON).decision
    after = assess(add(facts), policy=policy, on=ON).decision
    assert after.restrictiveness >= before.restrictiveness, (name, before, after)


@settings(max_examples=150, deadline=None)
@given(facts=intakes, policy=policies, trigger=st.sampled_from(INFORMATIONAL_TRIGGERS))
def test_informational_findings_never_change_the_decision(
    facts: IntakeFacts, policy: EligibilityPolicy, trigger: tuple[str, Trigger]
) -> None:
    before = assess(facts, policy=policy, on=ON)
    after = assess(trigger[1](facts), policy=policy, on=ON)
    assert after.decision is before.decision
    assert set(after.finding_ids) >= set(before.finding_ids)


@settings(max_examples=150, deadline=None)
@given(facts=intakes, policy=policies, data=st.data())
def test_decisions_are_deterministic_and_ignore_list_order(
    facts: IntakeFacts, policy: EligibilityPolicy, data: st.DataObject
) -> None:
    first = assess(facts, policy=policy, on=ON)
    assert assess(facts, policy=policy, on=ON) == first
    shuffled = dataclasses.replace(
        facts,
        medical_history=tuple(data.draw(st.permutations(facts.medical_history))),
        medications=tuple(data.draw(st.permutations(facts.medications))),
    )
    again = assess(shuffled, policy=policy, on=ON)
    assert again.decision is first.decision
    assert again.finding_ids == first.finding_ids


@settings(max_examples=200, deadline=None)
@given(facts=intakes, policy=policies)
def test_decision_agrees_with_its_findings(facts: IntakeFacts, policy: EligibilityPolicy) -> None:
    result = assess(facts, policy=policy, on=ON)
    kinds = {f.kind for f in result.findings}
    ids = set(result.finding_ids)
    if "C20" in ids:
        assert result.decision is Decision.URGENT_SAFETY_REVIEW
    elif RuleKind.ABSOLUTE in kinds:
        assert result.decision is Decision.NOT_ELIGIBLE
    if result.decision is Decision.ELIGIBLE:
        assert kinds <= {RuleKind.INFORMATIONAL}
    escalated = {f.rule_id for f in result.findings if f.escalated_by_policy}
    assert escalated == ids & policy.escalated_rules
    assert len(ids) == len(result.finding_ids)


def _base(**changes: object) -> IntakeFacts:
    facts = IntakeFacts(
        recorded_on=ON,
        age_years=40,
        presenting_conditions=frozenset({PresentingCondition.MAJOR_DEPRESSION}),
        reproductive=Reproductive(False, PregnancyStatus.NOT_PREGNANT, False),
        baseline_vitals=BaselineVitals(ON, 120, 80),
        cssrs_risk=CssrsRisk.NONE,
    )
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


# Intakes where one finding could be replaced by another: every screen flag, a moderate C-SSRS,
# an elevated BP, an unknown pregnancy status, each kind of history.
BASES = [
    _base(),
    _base(questionnaire_flags=frozenset(QuestionnaireFlag)),
    _base(cssrs_risk=CssrsRisk.MODERATE),
    _base(baseline_vitals=BaselineVitals(ON, 150, 95)),
    _base(reproductive=Reproductive(True, PregnancyStatus.UNKNOWN, False)),
    _base(
        medical_history=tuple(
            MedicalHistoryItem(condition, ConditionStatus.PAST, ON - timedelta(days=400))
            for condition in MedicalCondition
        ),
        substance_use=(SubstanceUse("alcohol", SubstanceUseStatus.IN_REMISSION, ON),),
    ),
]


def test_no_trigger_relaxes_any_single_escalation_exhaustively() -> None:
    """Hypothesis samples; this walks every (base, single escalation, trigger) combination."""
    policies = [EligibilityPolicy()] + [
        EligibilityPolicy(escalated_rules=frozenset({rule_id})) for rule_id in RELATIVE_RULES
    ]
    for base in BASES:
        for policy in policies:
            before = assess(base, policy=policy, on=ON).decision
            for name, add in TRIGGERS:
                after = assess(add(base), policy=policy, on=ON).decision
                assert after.restrictiveness >= before.restrictiveness, (
                    name,
                    sorted(policy.escalated_rules),
                    before,
                    after,
                )
