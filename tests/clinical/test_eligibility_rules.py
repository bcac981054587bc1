"""Each screening rule fires on its trigger and only then; rule set, policy and parsing hold up."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from kapstone.clinical.eligibility import (
    RULES,
    Decision,
    EligibilityPolicy,
    EligibilityPolicyError,
    IntakeFactsError,
    Pathway,
    RuleKind,
    assess,
    facts_from_json,
)
from kapstone.clinical.eligibility.decision import Finding, decide
from kapstone.clinical.eligibility.policy import POLICY_SOURCES
from kapstone.clinical.eligibility.trd import TrialVerdict, assess_treatment_resistance
from kapstone.clinical.provenance import Evidence, Source, Verification
from tests.reference import REFERENCE

ON = date(2026, 11, 2)

# A 40-year-old with generalised anxiety and nothing else to note: no rule fires.
BASELINE: dict[str, Any] = {
    "recorded_on": ON.isoformat(),
    "age_years": 40,
    "presenting_conditions": ["generalised_anxiety"],
    "reproductive": {
        "reproductive_potential": False,
        "pregnancy": "not_pregnant",
        "breastfeeding": False,
    },
    "baseline_vitals": {
        "measured_on": ON.isoformat(),
        "systolic_mmhg": 120,
        "diastolic_mmhg": 78,
        "heart_rate_bpm": 70,
    },
    "cssrs_risk": "none",
}

Change = Callable[[dict[str, Any]], None]


def days_ago(n: int) -> str:
    return (ON - timedelta(days=n)).isoformat()


def history(condition: str, status: str = "active", **extra: Any) -> Change:
    def change(f: dict[str, Any]) -> None:
        f.setdefault("medical_history", []).append(
            {"condition": condition, "status": status, **extra}
        )

    return change


def medication(name: str, *classes: str, diazepam: float | None = None) -> Change:
    def change(f: dict[str, Any]) -> None:
        item: dict[str, Any] = {"name": name, "interaction_classes": list(classes)}
        if diazepam is not None:
            item["diazepam_equivalent_mg_per_day"] = diazepam
        f.setdefault("medications", []).append(item)

    return change


def bp(systolic: int, diastolic: int, **extra: Any) -> Change:
    def change(f: dict[str, Any]) -> None:
        f["baseline_vitals"].update(systolic_mmhg=systolic, diastolic_mmhg=diastolic, **extra)

    return change


def setting(path: str, value: Any) -> Change:
    def change(f: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = f
        for key in parents:
            target = target[key]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value

    return change


_DELETE = object()


def substance(status: str, last_use_days_ago: int | None = None) -> Change:
    def change(f: dict[str, Any]) -> None:
        item: dict[str, Any] = {"substance": "alcohol", "status": status}
        if last_use_days_ago is not None:
            item["last_use_on"] = days_ago(last_use_days_ago)
        f.setdefault("substance_use", []).append(item)

    return change


def both(*changes: Change) -> Change:
    def change(f: dict[str, Any]) -> None:
        for c in changes:
            c(f)

    return change


def pregnancy(status: str) -> Change:
    return both(
        setting("reproductive.reproductive_potential", True),
        setting("reproductive.pregnancy", status),
    )


def trial(drug: str, weeks: float, outcome: str, adequate: bool | None = True) -> dict[str, Any]:
    return {"drug": drug, "weeks": weeks, "adequate_dose": adequate, "outcome": outcome}


def depression(*trials: dict[str, Any]) -> Change:
    def change(f: dict[str, Any]) -> None:
        f["presenting_conditions"] = ["major_depression"]
        f["current_episode"] = {"started_on": days_ago(300), "antidepressant_trials": list(trials)}

    return change


TRD_MET = depression(trial("sertraline", 8, "no_response"), trial("venlafaxine", 6, "no_response"))

# (case id, change to the baseline, exactly the rule ids expected to fire)
CASES: list[tuple[str, Change, set[str]]] = [
    ("aneurysm", history("aneurysmal_vascular_disease", "past"), {"C1"}),
    ("avm", history("arteriovenous_malformation", "controlled"), {"C2"}),
    ("ich-history", history("intracerebral_haemorrhage", "past"), {"C3"}),
    ("hypersensitivity", history("ketamine_hypersensitivity"), {"C4"}),
    ("mi-42-days", history("myocardial_infarction", "past", since=days_ago(42)), {"C5"}),
    ("cv-event-10-days", history("cardiovascular_event", "past", since=days_ago(10)), {"C5"}),
    ("mi-43-days", history("myocardial_infarction", "past", since=days_ago(43)), {"C5-HX"}),
    ("bp-hold-systolic", bp(180, 100), {"C6-HOLD"}),
    ("bp-hold-diastolic", bp(150, 110), {"C6-HOLD"}),
    ("bp-just-below-hold", bp(179, 109), {"C6-BP"}),
    ("bp-systolic-141", bp(141, 80), {"C6-BP"}),
    ("bp-diastolic-91", bp(120, 91), {"C6-BP"}),
    ("bp-at-guide-140-90", bp(140, 90), set()),
    ("older-adult-bp-145", both(setting("age_years", 70), bp(145, 88)), {"I-AGE65"}),
    ("older-adult-bp-151", both(setting("age_years", 70), bp(151, 88)), {"I-AGE65", "C6-BP"}),
    ("uncontrolled-hypertension", history("hypertension", "active"), {"C6-HX"}),
    ("controlled-hypertension", history("hypertension", "controlled"), {"I-HTN"}),
    ("no-vitals", setting("baseline_vitals", _DELETE), {"C6-MISSING"}),
    ("heart-failure", history("heart_failure", "controlled"), {"C7"}),
    ("valve-disease", history("valvular_heart_disease"), {"C7"}),
    ("arrhythmia", history("symptomatic_arrhythmia"), {"C7"}),
    ("past-arrhythmia", history("symptomatic_arrhythmia", "past"), set()),
    ("unstable-angina", history("unstable_angina"), {"C7-UA"}),
    ("stroke", history("stroke", "past"), {"C8"}),
    ("raised-icp", history("raised_intracranial_pressure", "past"), {"C8"}),
    ("past-brain-injury", history("brain_injury", "past"), {"C8"}),
    ("symptomatic-brain-injury", history("brain_injury", "active"), {"C14"}),
    ("active-psychosis", history("psychosis", "active"), {"C9"}),
    ("past-psychosis", history("psychosis", "past"), {"C9-HX"}),
    ("family-psychosis", history("first_degree_relative_psychosis", "past"), {"C9-FAM"}),
    ("active-sud", substance("active"), {"C10"}),
    ("remission-90-days", substance("in_remission", 90), {"C10"}),
    ("remission-91-days", substance("in_remission", 91), {"C10-HX"}),
    ("audit-positive", setting("questionnaire_flags", ["audit_positive"]), {"C10-SCREEN"}),
    ("dast-positive", setting("questionnaire_flags", ["dast_positive"]), {"C10-SCREEN"}),
    ("bipolar", history("bipolar_disorder", "controlled"), {"C11"}),
    ("past-mania", history("mania", "past"), {"C11"}),
    ("mdq-positive", setting("questionnaire_flags", ["mdq_positive"]), {"C11-MDQ"}),
    ("pregnant", pregnancy("pregnant"), {"C12"}),
    ("pregnancy-unknown", pregnancy("unknown"), {"C12-STATUS"}),
    ("not-pregnant-potential", pregnancy("not_pregnant"), {"I-REPRO"}),
    ("unknown-without-potential", setting("reproductive.pregnancy", "unknown"), set()),
    ("breastfeeding", setting("reproductive.breastfeeding", True), {"C13"}),
    ("dementia", history("neurocognitive_disorder"), {"C14"}),
    ("hyperthyroid", history("hyperthyroidism"), {"C15"}),
    ("treated-hyperthyroid", history("hyperthyroidism", "controlled"), set()),
    ("copd", history("pulmonary_insufficiency", "controlled"), {"C16"}),
    ("osa-bmi-unknown", history("sleep_apnoea", "controlled"), {"C16-OSA"}),
    (
        "osa-bmi-35",
        both(history("sleep_apnoea"), bp(120, 78, weight_kg=101.2, height_cm=170)),
        {"C16-OSA"},
    ),
    ("osa-bmi-24", both(history("sleep_apnoea"), bp(120, 78, weight_kg=70, height_cm=170)), set()),
    ("hepatic-b", history("hepatic_impairment", child_pugh="B"), {"C17"}),
    ("hepatic-unclassed", history("hepatic_impairment"), {"C17"}),
    ("hepatic-c", history("hepatic_impairment", child_pugh="C"), {"C17-C"}),
    ("hepatic-a", history("hepatic_impairment", child_pugh="A"), set()),
    ("age-17", setting("age_years", 17), {"C18"}),
    ("age-18", setting("age_years", 18), set()),
    ("cystitis", history("cystitis", "past"), {"C19"}),
    ("cssrs-high", setting("cssrs_risk", "high"), {"C20"}),
    ("cssrs-moderate", setting("cssrs_risk", "moderate"), {"C20-MOD"}),
    ("cssrs-low", setting("cssrs_risk", "low"), set()),
    ("cssrs-missing", setting("cssrs_risk", _DELETE), {"C20-MISSING"}),
    ("depression-no-trials", depression(), {"TRD"}),
    ("depression-one-failed", depression(trial("sertraline", 8, "no_response")), {"TRD"}),
    ("depression-trd", TRD_MET, set()),
    ("benzo-8mg", medication("diazepam", "benzodiazepine", diazepam=8), {"M-CNS"}),
    ("benzo-8.5mg", medication("diazepam", "benzodiazepine", diazepam=8.5), {"M-BZD", "M-CNS"}),
    (
        "two-benzos-5+5",
        both(
            medication("clonazepam", "benzodiazepine", diazepam=5),
            medication("lorazepam", "benzodiazepine", diazepam=5),
        ),
        {"M-BZD", "M-CNS"},
    ),
    ("opioid", medication("tramadol", "opioid"), {"M-CNS"}),
    ("other-cns-depressant", medication("zopiclone", "other_cns_depressant"), {"M-CNS"}),
    ("stimulant", medication("methylphenidate", "stimulant"), {"M-STIM"}),
    ("maoi", medication("phenelzine", "maoi"), {"M-MAOI"}),
    ("lamotrigine", medication("lamotrigine", "lamotrigine"), {"M-LAMO"}),
    ("memantine", medication("memantine", "glutamate_modulator"), {"M-GLU"}),
    ("cyp-inducer", medication("carbamazepine", "cyp_inducer"), {"M-CYP"}),
    ("cyp-inhibitor", medication("clarithromycin", "cyp_inhibitor"), {"M-CYP"}),
    ("ssri", medication("sertraline", "ssri"), {"M-SSRI"}),
    ("snri", medication("venlafaxine", "other_antidepressant"), set()),
    ("lithium", medication("lithium", "mood_stabiliser"), set()),
    ("age-65", setting("age_years", 65), {"I-AGE65"}),
    ("age-64", setting("age_years", 64), set()),
]


def screen(change: Change | None = None, policy: EligibilityPolicy | None = None) -> Any:
    facts = copy.deepcopy(BASELINE)
    if change:
        change(facts)
    return assess(facts_from_json(facts), policy=policy or EligibilityPolicy(), on=ON)


def test_baseline_is_clean() -> None:
    decision = screen()
    assert decision.findings == ()
    assert decision.decision is Decision.ELIGIBLE


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_fires_on_its_trigger_and_only_then(change: Change, expected: set[str]) -> None:
    assert set(screen(change).finding_ids) == expected


def test_every_rule_has_a_trigger_case() -> None:
    triggered = set().union(*(expected for _, _, expected in CASES))
    assert {rule.id for rule in RULES} == triggered


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_finding_carries_the_rule_text_and_source(rule: Any) -> None:
    change = next(c for _, c, expected in CASES if expected == {rule.id} or rule.id in expected)
    finding = next(f for f in screen(change).findings if f.rule_id == rule.id)
    assert (finding.kind, finding.pathway, finding.source) == (rule.kind, rule.pathway, rule.source)
    assert (finding.message, finding.required_action) == (rule.message, rule.required_action)
    assert finding.message
    assert finding.required_action
    assert finding.checks


# --- the rule set as data -------------------------------------------------------------------------


def _reference_keys() -> tuple[set[str], set[str]]:
    text = REFERENCE.read_text(encoding="utf-8")
    section0 = text.split("## 0.", 1)[1].split("\n## 1.", 1)[0]
    keys = set(re.findall(r"^\| ([A-Z0-9-]+) \|", section0, flags=re.MULTILINE))
    sections = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)[. ]", text, flags=re.MULTILINE))
    return keys, sections


def _sources() -> list[Source]:
    return [rule.source for rule in RULES] + list(POLICY_SOURCES.values())


def test_every_source_key_is_in_the_reference() -> None:
    keys, sections = _reference_keys()
    assert {"SPRAVATO-US", "CSSRS-TRIAGE"} <= keys  # the parser itself works
    for source in _sources():
        if source.key.startswith("§"):
            assert source.key[1:] in sections, source
        else:
            assert source.key in keys, source


def test_rule_ids_are_unique_and_informational_rules_open_no_pathway() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        if rule.kind is RuleKind.INFORMATIONAL:
            assert rule.pathway is None, rule.id


def test_urgent_and_specialist_pathways_are_the_reference_rows() -> None:
    urgent = {r.id for r in RULES if r.pathway is Pathway.URGENT_SAFETY_REVIEW}
    specialist = {r.id for r in RULES if r.pathway is Pathway.SPECIALIST_PROTOCOL}
    assert urgent == {"C20"}
    assert specialist == {"C11", "C11-MDQ"}


def test_hard_rows_of_the_reference_table_are_absolute() -> None:
    absolute = {r.id for r in RULES if r.kind is RuleKind.ABSOLUTE}
    assert absolute == {"C1", "C2", "C3", "C4", "C5", "C6-HOLD", "C9", "C12", "C18"}


def test_every_policy_field_has_a_source_and_unverified_ones_are_clinic_policy() -> None:
    names = {name for name in EligibilityPolicy.__dataclass_fields__ if name != "version"}
    assert names == set(POLICY_SOURCES)
    for name, source in POLICY_SOURCES.items():
        if source.verification is Verification.UNVERIFIED:
            assert source.evidence is Evidence.CLINIC_POLICY, name


# --- decision precedence --------------------------------------------------------------------------


def _finding(kind: RuleKind, pathway: Pathway | None = None) -> Finding:
    source = Source("§1.6", Verification.VERIFIED, Evidence.LABEL)
    return Finding("X", kind, pathway, "x", "x", "x", source)


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        ((), Decision.ELIGIBLE),
        ((_finding(RuleKind.INFORMATIONAL),), Decision.ELIGIBLE),
        ((_finding(RuleKind.RELATIVE),), Decision.ELIGIBLE_WITH_PRECAUTIONS),
        (
            (_finding(RuleKind.RELATIVE), _finding(RuleKind.RELATIVE, Pathway.SPECIALIST_PROTOCOL)),
            Decision.SPECIALIST_PROTOCOL,
        ),
        (
            (_finding(RuleKind.ABSOLUTE), _finding(RuleKind.RELATIVE, Pathway.SPECIALIST_PROTOCOL)),
            Decision.NOT_ELIGIBLE,
        ),
        (
            (
                _finding(RuleKind.ABSOLUTE),
                _finding(RuleKind.RELATIVE, Pathway.URGENT_SAFETY_REVIEW),
            ),
            Decision.URGENT_SAFETY_REVIEW,
        ),
    ],
)
def test_precedence(findings: tuple[Finding, ...], expected: Decision) -> None:
    assert decide(findings) is expected


def test_permissiveness_order() -> None:
    ranked = sorted(Decision, key=lambda d: d.restrictiveness)
    assert ranked == [
        Decision.ELIGIBLE,
        Decision.ELIGIBLE_WITH_PRECAUTIONS,
        Decision.SPECIALIST_PROTOCOL,
        Decision.NOT_ELIGIBLE,
        Decision.URGENT_SAFETY_REVIEW,
    ]


# --- policy ---------------------------------------------------------------------------------------


def test_decision_records_rule_set_and_policy_versions() -> None:
    decision = screen(policy=EligibilityPolicy(version="clinic-2027-01"))
    assert decision.policy_version == "clinic-2027-01"
    assert decision.rule_set_version.startswith("eligibility-rules-")


def test_policy_escalates_a_relative_rule_to_absolute() -> None:
    change = setting("reproductive.breastfeeding", True)
    assert screen(change).decision is Decision.ELIGIBLE_WITH_PRECAUTIONS
    decision = screen(change, EligibilityPolicy(escalated_rules=frozenset({"C13"})))
    assert decision.decision is Decision.NOT_ELIGIBLE
    (finding,) = decision.findings
    assert finding.kind is RuleKind.ABSOLUTE
    assert finding.escalated_by_policy


@pytest.mark.parametrize("rule_id", ["C1", "M-LAMO", "C99"])
def test_policy_may_escalate_only_relative_rules(rule_id: str) -> None:
    with pytest.raises(EligibilityPolicyError) as error:
        screen(policy=EligibilityPolicy(escalated_rules=frozenset({rule_id})))
    assert error.value.problems[0].field == "escalated_rules"
    assert rule_id in error.value.problems[0].message


def test_policy_thresholds_are_used() -> None:
    benzo = medication("diazepam", "benzodiazepine", diazepam=10)
    assert "M-BZD" in screen(benzo).finding_ids
    lenient = EligibilityPolicy(benzodiazepine_diazepam_equivalent_mg=12)
    assert "M-BZD" not in screen(benzo, lenient).finding_ids
    strict_bp = EligibilityPolicy(bp_precaution_systolic_mmhg=130)
    assert screen(bp(135, 80), strict_bp).finding_ids == ("C6-BP",)
    low_hold = EligibilityPolicy(bp_hold_systolic_mmhg=160)
    assert screen(bp(165, 80), low_hold).finding_ids == ("C6-HOLD",)
    old_at_70 = EligibilityPolicy(older_adult_age_years=70)
    assert set(screen(both(setting("age_years", 68), bp(145, 80)), old_at_70).finding_ids) == {
        "C6-BP",
        "I-AGE65",
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"bp_hold_systolic_mmhg": 140}, "bp_hold_systolic_mmhg"),
        ({"bp_hold_diastolic_mmhg": 90}, "bp_hold_diastolic_mmhg"),
        ({"adequate_trial_min_weeks": 0}, "adequate_trial_min_weeks"),
        ({"benzodiazepine_diazepam_equivalent_mg": -1}, "benzodiazepine_diazepam_equivalent_mg"),
        ({"version": " "}, "version"),
        ({"dast10_positive_from_score": 11}, "dast10_positive_from_score"),
    ],
)
def test_policy_refuses_incoherent_values(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(EligibilityPolicyError) as error:
        EligibilityPolicy(**overrides)
    assert field in {p.field for p in error.value.problems}


# --- treatment-resistant depression ---------------------------------------------------------------


def _trd(*trials: dict[str, Any], policy: EligibilityPolicy | None = None) -> Any:
    facts = copy.deepcopy(BASELINE)
    depression(*trials)(facts)
    episode = facts_from_json(facts).current_episode
    return assess_treatment_resistance(episode, policy or EligibilityPolicy())


def test_trd_needs_two_different_adequate_failed_trials() -> None:
    result = _trd(
        trial("sertraline", 8, "no_response"), trial("venlafaxine", 6, "partial_response")
    )
    assert result.treatment_resistant
    assert [t.trial.drug for t in result.counted_trials] == ["sertraline", "venlafaxine"]
    assert screen(TRD_MET).treatment_resistance.treatment_resistant


@pytest.mark.parametrize(
    ("second", "verdict"),
    [
        (trial("Sertraline ", 10, "no_response"), TrialVerdict.SAME_DRUG_AS_COUNTED),
        (trial("venlafaxine", 5.9, "no_response"), TrialVerdict.TOO_SHORT),
        (trial("venlafaxine", 8, "no_response", adequate=None), TrialVerdict.DOSE_NOT_JUDGED),
        (trial("venlafaxine", 8, "no_response", adequate=False), TrialVerdict.DOSE_INADEQUATE),
        (trial("venlafaxine", 8, "response"), TrialVerdict.RESPONDED),
        (trial("venlafaxine", 8, "remission"), TrialVerdict.RESPONDED),
        (trial("venlafaxine", 2, "intolerance"), TrialVerdict.INTOLERANCE),
        (trial("venlafaxine", 8, "ongoing"), TrialVerdict.ONGOING),
    ],
)
def test_trials_that_do_not_count(second: dict[str, Any], verdict: TrialVerdict) -> None:
    result = _trd(trial("sertraline", 8, "no_response"), second)
    assert not result.treatment_resistant
    assert result.trials[1].verdict is verdict


def test_trd_adequacy_follows_policy() -> None:
    trials = (trial("sertraline", 4, "no_response"), trial("venlafaxine", 8, "partial_response"))
    assert not _trd(*trials).treatment_resistant
    assert _trd(*trials, policy=EligibilityPolicy(adequate_trial_min_weeks=4)).treatment_resistant
    strict = EligibilityPolicy(count_partial_response_as_failure=False)
    partial = _trd(trial("a", 8, "no_response"), trial("b", 8, "partial_response"), policy=strict)
    assert not partial.treatment_resistant
    assert partial.trials[1].verdict is TrialVerdict.RESPONDED


def test_earlier_episode_trials_do_not_count() -> None:
    facts = copy.deepcopy(BASELINE)
    depression(trial("sertraline", 8, "no_response"))(facts)
    facts["earlier_antidepressant_trials"] = [trial("venlafaxine", 8, "no_response")]
    decision = assess(facts_from_json(facts), on=ON)
    assert not decision.treatment_resistance.treatment_resistant
    assert "TRD" in decision.finding_ids


# --- facts parsing --------------------------------------------------------------------------------


def _problems(change: Change) -> set[str]:
    facts = copy.deepcopy(BASELINE)
    change(facts)
    with pytest.raises(IntakeFactsError) as error:
        facts_from_json(facts)
    for problem in error.value.problems:
        assert problem.message
        assert problem.accepted
    return {p.path for p in error.value.problems}


@pytest.mark.parametrize(
    ("change", "paths"),
    [
        (setting("recorded_on", "02/11/2026"), {"recorded_on"}),
        (setting("age_years", "forty"), {"age_years"}),
        (setting("age_years", True), {"age_years"}),
        (setting("presenting_conditions", []), {"presenting_conditions"}),
        (setting("presenting_conditions", ["depression"]), {"presenting_conditions[0]"}),
        (setting("medical_histroy", []), {"medical_histroy"}),
        (setting("cssrs_risk", "severe"), {"cssrs_risk"}),
        (setting("questionnaire_flags", ["mdq-positive"]), {"questionnaire_flags[0]"}),
        (setting("reproductive.pregnancy", "pregnant"), {"reproductive.pregnancy"}),
        (
            setting("reproductive", {"pregnancy": "unknown"}),
            {
                "reproductive.reproductive_potential",
                "reproductive.breastfeeding",
            },
        ),
        (history("myocardial_infarction", "past"), {"medical_history[0].since"}),
        (history("hypertension", "bad"), {"medical_history[0].status"}),
        (history("stroke", since="last year"), {"medical_history[0].since"}),
        (history("stroke", child_pugh="B"), {"medical_history[0].child_pugh"}),
        (history("hepatic_impairment", child_pugh="D"), {"medical_history[0].child_pugh"}),
        (substance("in_remission"), {"substance_use[0].last_use_on"}),
        (
            medication("lorazepam", "benzodiazepine"),
            {"medications[0].diazepam_equivalent_mg_per_day"},
        ),
        (
            medication("sertraline", "ssri", diazepam=5),
            {"medications[0].diazepam_equivalent_mg_per_day"},
        ),
        (medication("x", "antipsychotic"), {"medications[0].interaction_classes[0]"}),
        (bp(80, 120), {"baseline_vitals.diastolic_mmhg"}),
        (bp(400, 80), {"baseline_vitals.systolic_mmhg"}),
        (bp(120.5, 80), {"baseline_vitals.systolic_mmhg"}),  # type: ignore[arg-type]
        (
            depression({"drug": "", "weeks": -1, "outcome": "better"}),
            {
                "current_episode.antidepressant_trials[0].drug",
                "current_episode.antidepressant_trials[0].weeks",
                "current_episode.antidepressant_trials[0].outcome",
            },
        ),
    ],
)
def test_malformed_facts_name_every_problem(change: Change, paths: set[str]) -> None:
    assert _problems(change) == paths


def test_all_problems_are_reported_at_once() -> None:
    paths = _problems(
        both(setting("age_years", -3), setting("cssrs_risk", 4), history("psychosis", "maybe"))
    )
    assert paths == {"age_years", "cssrs_risk", "medical_history[0].status"}


def test_not_an_object() -> None:
    with pytest.raises(IntakeFactsError) as error:
        facts_from_json([])  # type: ignore[arg-type]
    assert error.value.problems[0].path == "$"


def test_facts_dated_after_the_screen_are_refused() -> None:
    facts = facts_from_json(copy.deepcopy(BASELINE))
    with pytest.raises(IntakeFactsError) as error:
        assess(facts, on=ON - timedelta(days=1))
    assert {p.path for p in error.value.problems} == {"recorded_on", "baseline_vitals.measured_on"}
