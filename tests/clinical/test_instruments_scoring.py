"""Worked examples for the instrument library: vectors from clinical-reference §8, every band edge,
every flag on both sides, reverse scoring, max-of-domain items, skip logic and rejections."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from kapstone.clinical.instruments import (
    INSTRUMENTS,
    AnswerErrors,
    CssrsRisk,
    Flag,
    PolicyErrors,
    ScoreResult,
    ScoringPolicy,
    UnknownInstrument,
    score,
)

Answer = int | bool


def numbered(values: list[Answer], start: int = 1) -> dict[str, Answer]:
    return {str(i): v for i, v in enumerate(values, start)}


def lowest(instrument: str) -> dict[str, Answer]:
    return {item.id: item.lowest.value for item in INSTRUMENTS[instrument].items}


def with_total(instrument: str, target: int, fill: list[str] | None = None) -> dict[str, Answer]:
    """All items at their lowest, then points added greedily over ``fill`` until ``target``."""
    definition = INSTRUMENTS[instrument]
    answers = lowest(instrument)
    remaining = target
    for item_id in fill or [item.id for item in definition.items if item.scored]:
        item = definition.item(item_id)
        best = max(
            (o for o in item.options if o.points <= remaining), key=lambda option: option.points
        )
        answers[item_id] = best.value
        remaining -= best.points
    assert remaining == 0, f"cannot build total {target} for {instrument}"
    return answers


def problems_of(instrument: str, answers: Mapping[str, object]) -> dict[str | None, str]:
    with pytest.raises(AnswerErrors) as caught:
        score(instrument, answers)  # type: ignore[arg-type]
    return {p.item: p.problem for p in caught.value.problems}


# --- §8 test vectors -----------------------------------------------------------------------------


def test_phq9_vectors_from_awell() -> None:
    assert score("phq9", numbered([0] * 9)).total == 0
    assert score("phq9", numbered([0] * 9)).severity == "minimal"
    severe = score("phq9", numbered([3] * 9 + [3]))
    assert (severe.total, severe.severity) == (27, "severe")
    moderate = score("phq9", numbered([3, 0, 1, 2, 0, 0, 1, 0, 3, 1]))
    assert (moderate.total, moderate.severity) == (10, "moderate")


def test_phq9_item9_alone_is_minimal_but_raises_suicide_risk() -> None:
    # Tharunbglr/Mental_Health_Analyzer: [0 x 8, 1] -> 1 "Minimal" + suicidal flag.
    result = score("phq9", numbered([0] * 8 + [1, 0]))
    assert (result.total, result.severity) == (1, "minimal")
    assert Flag.SUICIDE_RISK in result.flags


@pytest.mark.parametrize(
    ("values", "total", "severity"),
    [
        ([0] * 7, 0, "minimal"),
        ([3] * 7, 21, "severe"),
        ([3, 0, 1, 2, 0, 0, 1], 7, "mild"),
        ([1] * 7, 7, "mild"),
        ([2] * 7, 14, "moderate"),
    ],
)
def test_gad7_vectors(values: list[Answer], total: int, severity: str) -> None:
    result = score("gad7", numbered(values))
    assert (result.total, result.severity) == (total, severity)


@pytest.mark.parametrize(
    ("value", "total", "clusters", "provisional"),
    [
        (2, 40, (10, 4, 14, 12), True),
        (4, 80, (20, 8, 28, 24), True),
        (0, 0, (0, 0, 0, 0), False),
    ],
)
def test_pcl5_vectors_from_awell(
    value: int, total: int, clusters: tuple[int, ...], provisional: bool
) -> None:
    result = score("pcl5", numbered([value] * 20))
    assert result.total == total
    assert tuple(result.subscales[f"cluster_{c}"] for c in "bcde") == clusters
    assert (Flag.PROVISIONAL_PTSD in result.flags) is provisional


def test_pcl5_total_35_with_clusters_b11_c7_d7_e10() -> None:
    # Our own vector with AWELL's "random" sums; no D item reaches 2, so no provisional PTSD.
    result = score("pcl5", numbered([3, 2, 2, 2, 2, 4, 3, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1]))
    assert result.total == 35
    assert dict(result.subscales) == {
        "cluster_b": 11,
        "cluster_c": 7,
        "cluster_d": 7,
        "cluster_e": 10,
    }
    assert Flag.PROVISIONAL_PTSD not in result.flags
    assert Flag.PROBABLE_PTSD in result.flags


@pytest.mark.parametrize(("value", "expected"), [(2, (6, 6, 8)), (4, (12, 12, 16))])
def test_audit_subscale_vectors_from_awell(value: int, expected: tuple[int, int, int]) -> None:
    result = score("audit", numbered([value] * 10))
    sub = result.subscales
    assert (sub["audit_c"], sub["dependence"], sub["alcohol_related_problems"]) == expected


def test_dast10_vector_with_item3_as_the_patient_answered() -> None:
    # AWELL feeds item 3 pre-inverted ([1,0,1,1,0,0,1,0,0,0] -> 4). Its "1" on item 3 means the
    # patient said NO to "always able to stop", which is what we receive.
    answers = numbered([True, False, False, True, False, False, True, False, False, False])
    result = score("dast10", answers)
    assert (result.total, result.severity) == (4, "moderate")
    # Passing AWELL's pre-inverted value would be a different answer, and scores differently.
    assert score("dast10", {**answers, "3": True}).total == 3


# --- band boundaries ----------------------------------------------------------------------------

QIDS_FILL = ["1", "5", "6", "10", "11", "12", "13", "14", "15"]

BAND_EDGES = [
    ("phq9", [(4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
              (15, "moderately_severe"), (19, "moderately_severe"), (20, "severe"),
              (27, "severe")]),
    ("gad7", [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
              (14, "moderate"), (15, "severe"), (21, "severe")]),
    ("phq15", [(0, "minimal"), (4, "minimal"), (5, "low"), (9, "low"), (10, "medium"),
               (14, "medium"), (15, "high"), (30, "high")]),
    ("qids_sr16", [(0, "none"), (5, "none"), (6, "mild"), (10, "mild"), (11, "moderate"),
                   (15, "moderate"), (16, "severe"), (20, "severe"), (21, "very_severe"),
                   (27, "very_severe")]),
    ("audit", [(0, "low_risk"), (7, "low_risk"), (8, "hazardous"), (15, "hazardous"),
               (16, "harmful"), (19, "harmful"), (20, "possible_dependence"),
               (40, "possible_dependence")]),
    ("dast10", [(0, "none"), (1, "low"), (2, "low"), (3, "moderate"), (5, "moderate"),
                (6, "substantial"), (8, "substantial"), (9, "severe"), (10, "severe")]),
    ("madrs", [(0, "normal"), (6, "normal"), (7, "mild"), (19, "mild"), (20, "moderate"),
               (34, "moderate"), (35, "severe"), (60, "severe")]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("instrument", "total", "word"),
    [(name, total, word) for name, edges in BAND_EDGES for total, word in edges],
)
def test_band_edges(instrument: str, total: int, word: str) -> None:
    fill = QIDS_FILL if instrument == "qids_sr16" else None
    result = score(instrument, with_total(instrument, total, fill))
    assert result.total == total
    assert result.severity == word


@pytest.mark.parametrize("instrument", ["pcl5", "mdq", "audit_c", "pdss_sr", "cadss", "cadss6"])
def test_instruments_without_bands_give_no_severity(instrument: str) -> None:
    assert score(instrument, lowest(instrument)).severity is None


# --- flags, both sides --------------------------------------------------------------------------


@pytest.mark.parametrize(("item9", "flagged"), [(0, False), (1, True), (3, True)])
def test_phq9_suicide_risk_at_item9_of_1(item9: int, flagged: bool) -> None:
    result = score("phq9", numbered([0] * 8 + [item9, 0]))
    assert (Flag.SUICIDE_RISK in result.flags) is flagged


@pytest.mark.parametrize(
    ("values", "flag"),
    [
        ([2, 0, 2, 2, 2, 2, 0, 0, 0], Flag.MAJOR_DEPRESSIVE_SYNDROME),  # 1 core + 4 = 5
        ([2, 0, 2, 2, 2, 1, 0, 0, 1], Flag.MAJOR_DEPRESSIVE_SYNDROME),  # item 9 counts at 1
        ([2, 0, 2, 2, 2, 1, 0, 0, 0], Flag.OTHER_DEPRESSIVE_SYNDROME),  # 4 symptoms
        ([0, 2, 2, 0, 0, 0, 0, 0, 0], Flag.OTHER_DEPRESSIVE_SYNDROME),  # 2 symptoms
        ([2, 0, 1, 1, 1, 1, 1, 1, 0], None),  # a core symptom alone
        ([1, 1, 3, 3, 3, 3, 3, 3, 3], None),  # no core symptom
    ],
)
def test_phq9_syndrome_algorithm(values: list[int], flag: Flag | None) -> None:
    flags = set(score("phq9", numbered([*values, 1])).flags)
    syndromes = flags & {Flag.MAJOR_DEPRESSIVE_SYNDROME, Flag.OTHER_DEPRESSIVE_SYNDROME}
    assert syndromes == ({flag} if flag else set())


@pytest.mark.parametrize(("item12", "flagged"), [(1, False), (2, True), (3, True)])
def test_qids_suicide_risk_at_item12_of_2(item12: int, flagged: bool) -> None:
    result = score("qids_sr16", {**lowest("qids_sr16"), "12": item12})
    assert (Flag.SUICIDE_RISK in result.flags) is flagged


@pytest.mark.parametrize(
    ("item10", "policy", "flagged"),
    [
        (1, ScoringPolicy(), False),
        (2, ScoringPolicy(), True),
        (6, ScoringPolicy(madrs_suicidal_thoughts_alert_at=None), False),
        (3, ScoringPolicy(madrs_suicidal_thoughts_alert_at=4), False),
        (4, ScoringPolicy(madrs_suicidal_thoughts_alert_at=4), True),
    ],
)
def test_madrs_suicidal_thoughts_follow_policy(
    item10: int, policy: ScoringPolicy, flagged: bool
) -> None:
    result = score("madrs", {**lowest("madrs"), "10": item10}, policy=policy)
    assert (Flag.SUICIDE_RISK in result.flags) is flagged


def pcl5_minimal_ptsd() -> dict[str, Answer]:
    # One B, one C, two D, two E items rated 2: the least that meets the DSM-5 cluster rule.
    return {**lowest("pcl5"), "1": 2, "6": 2, "8": 2, "9": 2, "15": 2, "16": 2}


def test_pcl5_provisional_ptsd_needs_every_cluster() -> None:
    assert Flag.PROVISIONAL_PTSD in score("pcl5", pcl5_minimal_ptsd()).flags
    for item_id in ("1", "6", "8", "15"):
        short = {**pcl5_minimal_ptsd(), item_id: 1}  # 1 is not endorsed
        assert Flag.PROVISIONAL_PTSD not in score("pcl5", short).flags, item_id


@pytest.mark.parametrize(
    ("total", "policy", "flagged"),
    [
        (32, ScoringPolicy(), False),
        (33, ScoringPolicy(), True),
        (30, ScoringPolicy(pcl5_probable_ptsd_cutoff=31), False),
        (31, ScoringPolicy(pcl5_probable_ptsd_cutoff=31), True),
    ],
)
def test_pcl5_probable_ptsd_at_the_clinic_cutoff(
    total: int, policy: ScoringPolicy, flagged: bool
) -> None:
    result = score("pcl5", with_total("pcl5", total), policy=policy)
    assert (Flag.PROBABLE_PTSD in result.flags) is flagged


def mdq(yes: int, q2: bool, q3: int) -> dict[str, Answer]:
    q1 = {f"1{letter}": i < yes for i, letter in enumerate("abcdefghijklm")}
    return {**q1, "2": q2, "3": q3}


@pytest.mark.parametrize(
    ("answers", "positive"),
    [
        (mdq(7, True, 2), True),
        (mdq(13, True, 3), True),
        (mdq(6, True, 3), False),
        (mdq(7, False, 3), False),
        (mdq(7, True, 1), False),
    ],
)
def test_mdq_positive_screen(answers: dict[str, Answer], positive: bool) -> None:
    result = score("mdq", answers)
    assert result.total == sum(1 for k, v in answers.items() if k.startswith("1") and v)
    assert (Flag.POSITIVE_SCREEN in result.flags) is positive


@pytest.mark.parametrize(("total", "flagged"), [(7, False), (8, True)])
def test_audit_positive_screen_at_8(total: int, flagged: bool) -> None:
    assert (Flag.POSITIVE_SCREEN in score("audit", with_total("audit", total)).flags) is flagged


@pytest.mark.parametrize(("dependence", "flagged"), [(3, False), (4, True)])
def test_audit_dependence_items(dependence: int, flagged: bool) -> None:
    answers = {**numbered([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]), "4": dependence - 2, "5": 2}
    result = score("audit", answers)
    assert result.subscales["dependence"] == dependence
    assert (Flag.ALCOHOL_DEPENDENCE_SYMPTOMS in result.flags) is flagged


@pytest.mark.parametrize(
    ("total", "policy", "flagged"),
    [
        (2, ScoringPolicy(), False),
        (3, ScoringPolicy(), True),
        (3, ScoringPolicy(audit_c_positive_cutoff=4), False),
        (4, ScoringPolicy(audit_c_positive_cutoff=4), True),
    ],
)
def test_audit_c_positive_screen_at_clinic_cutoff(
    total: int, policy: ScoringPolicy, flagged: bool
) -> None:
    result = score("audit_c", with_total("audit_c", total), policy=policy)
    assert result.total == total
    assert (Flag.POSITIVE_SCREEN in result.flags) is flagged


@pytest.mark.parametrize(("rated_2", "flagged"), [(2, False), (3, True)])
def test_phq15_somatoform_likely_at_three_items_rated_2(rated_2: int, flagged: bool) -> None:
    answers = {**lowest("phq15"), **{str(i): 2 for i in range(1, rated_2 + 1)}, "15": 1}
    assert (Flag.SOMATOFORM_LIKELY in score("phq15", answers).flags) is flagged


def test_flagless_instruments_raise_no_flags_at_their_maximum() -> None:
    for name in ("gad7", "dast10", "pdss_sr", "cadss", "cadss6"):
        definition = INSTRUMENTS[name]
        top = {i.id: max(i.options, key=lambda o: o.points).value for i in definition.items}
        assert score(name, top).flags == (), name


# --- C-SSRS screener ----------------------------------------------------------------------------


def cssrs(**yes: bool) -> dict[str, Answer]:
    answers: dict[str, Answer] = {"1": False, "2": False, "6": False}
    answers.update({k.removeprefix("q"): v for k, v in yes.items()})
    if answers["2"]:
        answers = {"3": False, "4": False, "5": False, **answers}
    if answers["6"]:
        answers.setdefault("6b", False)
    return answers


@pytest.mark.parametrize(
    ("answers", "risk"),
    [
        (cssrs(), CssrsRisk.NONE),
        (cssrs(q1=True), CssrsRisk.LOW),
        (cssrs(q2=True), CssrsRisk.LOW),
        (cssrs(q1=True, q2=True, q3=True), CssrsRisk.MODERATE),
        (cssrs(q2=True, q4=True), CssrsRisk.HIGH),
        (cssrs(q2=True, q5=True), CssrsRisk.HIGH),
        (cssrs(q6=True), CssrsRisk.MODERATE),
        (cssrs(q6=True, q6b=True), CssrsRisk.HIGH),
        (cssrs(q1=True, q6=True, q6b=True), CssrsRisk.HIGH),
    ],
)
def test_cssrs_risk_tiers(answers: dict[str, Answer], risk: CssrsRisk) -> None:
    result = score("cssrs_screen", answers)
    assert result.total is None
    assert result.severity == risk
    assert (Flag.SUICIDE_RISK in result.flags) is (risk is not CssrsRisk.NONE)


def test_cssrs_lower_tiers_are_clinic_policy_but_high_is_not() -> None:
    policy = ScoringPolicy(
        cssrs_wish_or_thoughts_risk=CssrsRisk.MODERATE,
        cssrs_method_risk=CssrsRisk.HIGH,
        cssrs_past_behaviour_risk=CssrsRisk.HIGH,
    )
    assert score("cssrs_screen", cssrs(q1=True), policy=policy).severity == "moderate"
    assert score("cssrs_screen", cssrs(q2=True, q3=True), policy=policy).severity == "high"
    assert score("cssrs_screen", cssrs(q6=True), policy=policy).severity == "high"
    lenient = ScoringPolicy(cssrs_method_risk=CssrsRisk.LOW)
    assert score("cssrs_screen", cssrs(q2=True, q4=True), policy=lenient).severity == "high"


def test_cssrs_policy_cannot_silence_a_yes() -> None:
    with pytest.raises(PolicyErrors) as caught:
        ScoringPolicy(cssrs_wish_or_thoughts_risk=CssrsRisk.NONE)
    assert caught.value.problems[0].field == "cssrs_wish_or_thoughts_risk"


def test_cssrs_questions_3_to_5_are_skipped_when_2_is_no() -> None:
    assert score("cssrs_screen", {"1": True, "2": False, "6": False}).severity == "low"
    # "No" to a question the flow skipped is harmless and kept as given.
    kept = score("cssrs_screen", {"1": False, "2": False, "3": False, "6": False})
    assert kept.answers["3"] is False


def test_cssrs_yes_to_a_skipped_question_is_refused_not_guessed() -> None:
    problems = problems_of("cssrs_screen", {"1": True, "2": False, "4": True, "6": False})
    assert set(problems) == {"4"}
    assert "item 2 is yes" in problems["4"]
    problems = problems_of("cssrs_screen", {"1": False, "2": False, "6": False, "6b": True})
    assert set(problems) == {"6b"}


def test_cssrs_asked_questions_are_required() -> None:
    problems = problems_of("cssrs_screen", {"1": True, "2": True, "6": True})
    assert set(problems) == {"3", "4", "5", "6b"}
    assert all(p.startswith("missing") for p in problems.values())


def test_cssrs_takes_yes_no_only() -> None:
    problems = problems_of("cssrs_screen", {"1": 1, "2": 0, "6": False})
    assert set(problems) == {"1", "2"}


# --- reverse scoring and max-of-domain ----------------------------------------------------------


def test_only_dast10_item3_is_reverse_scored() -> None:
    reversed_items = {
        (name, item.id)
        for name, definition in INSTRUMENTS.items()
        for item in definition.items
        if item.reverse_scored
    }
    assert reversed_items == {("dast10", "3")}


@pytest.mark.parametrize(("item3", "total"), [(True, 0), (False, 1)])
def test_dast10_no_to_always_able_to_stop_scores_a_point(item3: bool, total: int) -> None:
    answers = {str(i): False for i in range(1, 11)} | {"3": item3}
    assert score("dast10", answers).total == total


def test_dast10_all_yes_is_9_because_item3_yes_scores_0() -> None:
    assert score("dast10", {str(i): True for i in range(1, 11)}).total == 9


@pytest.mark.parametrize(
    ("domain", "item_ids"),
    [("sleep", ["1", "2", "3", "4"]), ("appetite_weight", ["6", "7", "8", "9"]),
     ("psychomotor", ["15", "16"])],
)  # fmt: skip
def test_qids_domains_take_the_highest_item_not_the_sum(domain: str, item_ids: list[str]) -> None:
    one = score("qids_sr16", {**lowest("qids_sr16"), item_ids[0]: 3})
    every = score("qids_sr16", {**lowest("qids_sr16"), **{i: 3 for i in item_ids}})
    assert one.total == every.total == 3
    assert one.subscales[domain] == every.subscales[domain] == 3
    mixed = score("qids_sr16", {**lowest("qids_sr16"), item_ids[0]: 1, item_ids[-1]: 2})
    assert mixed.total == 2


def test_qids_worked_example() -> None:
    values = [1, 2, 3, 0, 2, 0, 3, 0, 1, 1, 1, 0, 2, 2, 1, 3]
    result = score("qids_sr16", numbered(values))
    # sleep 3 + sad 2 + appetite 3 + 1 + 1 + 0 + 2 + 2 + psychomotor 3
    assert (result.total, result.severity) == (17, "severe")
    assert sum(result.subscales.values()) == 17


def test_cadss_contains_cadss6_on_the_original_item_numbers() -> None:
    answers = {str(i): 0 for i in range(1, 24)} | {"1": 4, "2": 3, "6": 2, "7": 1, "15": 1, "22": 1}
    answers["3"] = 4  # not in the short form
    full = score("cadss", answers)
    assert (full.total, full.subscales["cadss6"]) == (16, 12)
    short = score("cadss6", {k: answers[k] for k in ("1", "2", "6", "7", "15", "22")})
    assert short.total == 12


# --- conditional items and skip logic -----------------------------------------------------------


def test_phq9_item10_may_be_absent_only_when_total_is_0() -> None:
    assert score("phq9", numbered([0] * 9)).total == 0
    problems = problems_of("phq9", numbered([1] + [0] * 8))
    assert set(problems) == {"10"}
    assert "total more than 0" in problems["10"]


def test_phq9_item10_is_kept_but_never_scored() -> None:
    result = score("phq9", numbered([0] * 9 + [3]))
    assert result.total == 0
    assert result.answers["10"] == 3


def test_phq15_item4_is_optional_and_men_score_out_of_28() -> None:
    answers = {str(i): 2 for i in range(1, 16) if i != 4}
    assert score("phq15", answers).total == 28
    assert score("phq15", {**answers, "4": 2}).total == 30


def test_audit_never_drinking_skips_to_items_9_and_10() -> None:
    result = score("audit", {"1": 0, "9": 2, "10": 4})
    assert (result.total, result.severity) == (6, "low_risk")
    assert dict(result.answers) == {"1": 0, "9": 2, "10": 4}


def test_audit_zero_quantity_skips_items_4_to_8() -> None:
    assert score("audit", {"1": 1, "2": 0, "3": 0, "9": 0, "10": 0}).total == 1
    problems = problems_of("audit", {"1": 1, "2": 1, "3": 0, "9": 0, "10": 0})
    assert set(problems) == {"4", "5", "6", "7", "8"}


def test_audit_answers_contradicting_never_drinking_are_refused() -> None:
    problems = problems_of("audit", {"1": 0, "5": 2, "9": 0, "10": 0})
    assert set(problems) == {"5"}


def test_audit_items_9_and_10_take_0_2_4_only() -> None:
    problems = problems_of("audit", {**numbered([1] * 8), "9": 1, "10": 3})
    assert set(problems) == {"9", "10"}
    with pytest.raises(AnswerErrors) as caught:
        score("audit", {**numbered([1] * 8), "9": 1, "10": 0})
    assert caught.value.problems[0].accepts == "one of 0, 2, 4"


def test_mdq_question2_asked_only_after_two_yes_and_question3_after_one() -> None:
    none = {f"1{c}": False for c in "abcdefghijklm"}
    assert score("mdq", none).total == 0
    one = {**none, "1a": True}
    assert set(problems_of("mdq", one)) == {"3"}
    assert score("mdq", {**one, "3": 1}).total == 1
    two = {**one, "1b": True, "3": 1}
    assert set(problems_of("mdq", two)) == {"2"}
    assert set(problems_of("mdq", {**none, "2": True, "3": 2})) == {"2", "3"}


# --- rejections ---------------------------------------------------------------------------------


def test_every_offending_item_is_listed_with_what_it_accepts() -> None:
    answers = {"1": True, "2": 4, "3": "2", "4": -1, "5": 2.0, "6": None, "11": 1, "0": 0}
    with pytest.raises(AnswerErrors) as caught:
        score("phq9", answers)  # type: ignore[arg-type]
    problems = {p.item: p for p in caught.value.problems}
    assert set(problems) == {"0", "11", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
    assert problems["11"].problem == "unknown item"
    assert problems["1"].problem == "true is not an integer"
    assert problems["2"].problem == "4 is out of range"
    assert problems["3"].problem == '"2" is not an integer'
    assert problems["5"].problem == "2.0 is not an integer"
    assert problems["6"].problem == "null is not an integer"
    assert problems["7"].problem == "missing"
    assert {p.accepts for k, p in problems.items() if k not in ("0", "11")} == {"an integer 0-3"}
    assert caught.value.problems[0].as_dict().keys() == {"item", "problem", "accepts"}


def test_int_is_not_accepted_for_a_yes_no_item() -> None:
    answers = {str(i): False for i in range(1, 11)} | {"2": 1, "7": 0}
    problems = problems_of("dast10", answers)
    assert set(problems) == {"2", "7"}
    assert problems["2"] == "1 is not a yes/no answer"


def test_unknown_instrument() -> None:
    with pytest.raises(UnknownInstrument) as caught:
        score("phq-9", {})
    assert "phq9" in caught.value.problem.accepts


def test_empty_answers_list_every_required_item() -> None:
    problems = problems_of("gad7", {})
    assert set(problems) == {str(i) for i in range(1, 8)}


# --- results carry answers and policy version ---------------------------------------------------


def test_result_echoes_every_answer_instrument_version_and_policy_version() -> None:
    answers = numbered([3, 0, 1, 2, 0, 0, 1, 0, 3, 1])
    result = score("phq9", answers, policy=ScoringPolicy(version="clinic-2027-01"))
    assert isinstance(result, ScoreResult)
    assert dict(result.answers) == answers
    assert result.version == INSTRUMENTS["phq9"].version
    assert result.policy_version == "clinic-2027-01"
    assert result.summary() == {
        "instrument": "phq9",
        "total": 10,
        "severity": "moderate",
        "subscales": {},
        "flags": ["suicide_risk", "other_depressive_syndrome"],
    }


def test_policy_rejects_impossible_cutoffs_all_at_once() -> None:
    with pytest.raises(PolicyErrors) as caught:
        ScoringPolicy(
            version=" ",
            pcl5_probable_ptsd_cutoff=81,
            audit_c_positive_cutoff=0,
            madrs_suicidal_thoughts_alert_at=7,
        )
    assert {p.field for p in caught.value.problems} == {
        "version",
        "pcl5_probable_ptsd_cutoff",
        "audit_c_positive_cutoff",
        "madrs_suicidal_thoughts_alert_at",
    }
