from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.measurement_schedule import (
    DEFAULT_SCHEDULE_POLICY,
    INTENSIVE_RETREAT_PLAN,
    STANDARD_INDUCTION_PLAN,
    Anchor,
    CompletedMeasure,
    InstrumentRecall,
    MeasurementPlan,
    MeasurementSchedule,
    MeasureRule,
    MeasureStatus,
    ScheduleInputError,
    SchedulePolicy,
    measurement_schedule,
)
from kapstone.clinical.provenance import Evidence, Source, Verification
from tests.reference import REFERENCE

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # first dose
SRC = Source("§4", Verification.UNVERIFIED, Evidence.CLINIC_POLICY)
RECALLS = (
    InstrumentRecall("phq9", "PHQ-9", 14, Source("§4.1", Verification.VERIFIED, Evidence.LABEL)),
    InstrumentRecall("gad7", "GAD-7", 14, Source("§4.2", Verification.VERIFIED, Evidence.LABEL)),
    InstrumentRecall("qids_sr16", "QIDS-SR16", 7, SRC),
    InstrumentRecall("cssrs_screen", "C-SSRS screener", 30, SRC),
    InstrumentRecall("madrs", "MADRS", 0, SRC),
)
RETREAT_DOSE_DAYS = (0, 2, 4, 7, 9, 11)  # 6 doses over 2 weeks


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def hour(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def retreat(
    now: datetime,
    completed: tuple[CompletedMeasure, ...] = (),
    plan: MeasurementPlan = INTENSIVE_RETREAT_PLAN,
    policy: SchedulePolicy = DEFAULT_SCHEDULE_POLICY,
) -> MeasurementSchedule:
    return measurement_schedule(
        plan,
        intake_at=day(-7),
        dosing_sessions=[day(d) for d in RETREAT_DOSE_DAYS],
        end_of_course=day(12),
        recalls=RECALLS,
        completed=completed,
        now=now,
        policy=policy,
    )


def of(schedule: MeasurementSchedule, instrument: str) -> list[tuple[str, int]]:
    return [(o.rule_label, o.sequence) for o in schedule.occurrences if o.instrument == instrument]


# --- the 2-week retreat --------------------------------------------------------------------------


def test_retreat_phq9_is_not_repeated_within_its_recall_period() -> None:
    schedule = retreat(now=day(1))
    phq9 = [o for o in schedule.occurrences if o.instrument == "phq9"]
    assert [(o.rule_label, o.target_at) for o in phq9[:4]] == [
        ("intake", day(-7)),
        ("end of course", day(12)),
        ("fortnightly follow-up", day(26)),
        ("fortnightly follow-up", day(40)),
    ]
    suppressed = [s for s in schedule.suppressed if s.instrument == "phq9"]
    assert [s.sequence for s in suppressed] == [1, 2, 3, 4, 5, 6]
    assert {s.rule_label for s in suppressed} == {"before dose"}
    first = suppressed[0]
    assert first.reason == (
        "PHQ-9 asks about the last 2 weeks; last scheduled 7 days before "
        "(intake, 2026-10-26 09:00 UTC)"
    )
    assert first.alternatives == ("madrs",)
    assert first.min_interval == timedelta(days=14)
    assert first.next_allowed_at == day(7)
    last = suppressed[-1]
    assert last.reason == (
        "PHQ-9 asks about the last 2 weeks; the end of course PHQ-9 1 day later "
        "(2026-11-14 09:00 UTC) covers these days"
    )


def test_suppression_reason_says_when_it_was_actually_given() -> None:
    plan = MeasurementPlan(
        "pre-dose only",
        "t1",
        (
            MeasureRule(
                "phq9",
                Anchor.EACH_DOSE,
                "before dose",
                SRC,
                window_opens_before=timedelta(hours=24),
                due_until_after=timedelta(0),
                expires_after=timedelta(0),
            ),
        ),
        SRC,
    )
    schedule = measurement_schedule(
        plan,
        intake_at=day(-7),
        dosing_sessions=[day(0), day(3)],
        end_of_course=None,
        recalls=RECALLS,
        completed=[CompletedMeasure("phq9", day(0) - timedelta(minutes=30))],
        now=day(1),
    )
    (suppressed,) = schedule.suppressed
    assert suppressed.reason.startswith("PHQ-9 asks about the last 2 weeks; last given 3 days")
    assert schedule.occurrences[0].status is MeasureStatus.COMPLETED


def test_retreat_offers_madrs_at_24_hours_after_each_dose() -> None:
    schedule = retreat(now=day(1))
    madrs = [o for o in schedule.occurrences if o.rule_label == "24 h after dose"]
    # Dose 6's 24-h MADRS coincides with the end-of-course MADRS and is merged into it.
    assert [o.sequence for o in madrs] == [1, 2, 3, 4, 5]
    for o in madrs:
        dose = day(RETREAT_DOSE_DAYS[o.sequence - 1])
        assert (o.opens_at - dose, o.closes_at - dose) == (timedelta(hours=18), timedelta(hours=36))
    (merged,) = [s for s in schedule.suppressed if s.instrument == "madrs"]
    assert merged.reason == "MADRS is already scheduled at this time (end of course)"


def test_suicide_screen_is_never_suppressed_for_recall() -> None:
    schedule = retreat(now=day(1))
    assert of(schedule, "cssrs_screen") == [("intake", 1)] + [
        ("before dose", n) for n in range(1, 7)
    ]


def test_standard_induction_rates_madrs_after_the_first_dose_only() -> None:
    schedule = measurement_schedule(
        STANDARD_INDUCTION_PLAN,
        intake_at=day(-7),
        dosing_sessions=[day(d) for d in (0, 3, 7, 10, 14, 17)],
        end_of_course=day(18),
        recalls=RECALLS,
        completed=(),
        now=day(0),
    )
    assert of(schedule, "madrs") == [("24 h after dose", 1), ("end of course", 1)]
    qids = [o.target_at for o in schedule.occurrences if o.instrument == "qids_sr16"]
    assert all(b - a >= timedelta(days=7) for a, b in pairwise(qids))
    assert qids[:4] == [day(-7), day(0), day(7), day(18)]


def test_no_end_of_course_yet_means_no_end_or_follow_up_measures() -> None:
    schedule = measurement_schedule(
        INTENSIVE_RETREAT_PLAN,
        intake_at=day(-7),
        dosing_sessions=[day(0)],
        end_of_course=None,
        recalls=RECALLS,
        completed=(),
        now=day(0),
    )
    anchors = {o.anchor for o in schedule.occurrences}
    assert anchors == {Anchor.INTAKE, Anchor.EACH_DOSE}


# --- statuses at window edges -----------------------------------------------------------------

TICK = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("now", "status"),
    [
        (hour(18) - TICK, MeasureStatus.UPCOMING),
        (hour(18), MeasureStatus.DUE),
        (hour(36) - TICK, MeasureStatus.DUE),
        (hour(36), MeasureStatus.OVERDUE),
        (hour(48) - TICK, MeasureStatus.OVERDUE),
        (hour(48), MeasureStatus.EXPIRED),
    ],
)
def test_madrs_24h_status_at_window_edges(now: datetime, status: MeasureStatus) -> None:
    schedule = retreat(now=now)
    (first,) = [o for o in schedule.occurrences if o.rule_label == "24 h after dose"][:1]
    assert first.status is status
    assert (first in schedule.work_queue) == (
        status in (MeasureStatus.OVERDUE, MeasureStatus.EXPIRED)
    )


@pytest.mark.parametrize(
    ("now", "status"),
    [
        (day(2) - timedelta(hours=24) - TICK, MeasureStatus.UPCOMING),
        (day(2) - timedelta(hours=24), MeasureStatus.DUE),
        (day(2) - TICK, MeasureStatus.DUE),
        (day(2), MeasureStatus.EXPIRED),  # a pre-dose measure is never "overdue"
    ],
)
def test_pre_dose_screen_expires_at_the_dose(now: datetime, status: MeasureStatus) -> None:
    schedule = retreat(now=now)
    (screen,) = [
        o
        for o in schedule.occurrences
        if o.instrument == "cssrs_screen" and o.rule_label == "before dose" and o.sequence == 2
    ]
    assert screen.status is status


def test_completion_matching_window_edges_and_lateness() -> None:
    in_time = retreat(now=day(3), completed=(CompletedMeasure("madrs", hour(18)),))
    madrs1 = in_time.occurrences[
        [o.rule_label for o in in_time.occurrences].index("24 h after dose")
    ]
    assert madrs1.status is MeasureStatus.COMPLETED
    assert not madrs1.completed_late
    late = retreat(now=day(3), completed=(CompletedMeasure("madrs", hour(40)),))
    (late1,) = [o for o in late.occurrences if o.rule_label == "24 h after dose"][:1]
    assert late1.status is MeasureStatus.COMPLETED
    assert late1.completed_late
    too_early = retreat(now=day(3), completed=(CompletedMeasure("madrs", hour(18) - TICK),))
    (early1,) = [o for o in too_early.occurrences if o.rule_label == "24 h after dose"][:1]
    assert early1.status is MeasureStatus.EXPIRED
    at_expiry = retreat(now=day(3), completed=(CompletedMeasure("madrs", hour(48)),))
    (expired1,) = [o for o in at_expiry.occurrences if o.rule_label == "24 h after dose"][:1]
    assert expired1.status is MeasureStatus.EXPIRED


def test_one_completion_satisfies_one_occurrence() -> None:
    # Doses 1 and 2 are 2 days apart: the 24-h MADRS windows [18 h, 48 h) and [66 h, 96 h) do not
    # overlap, so one rating at 20 h completes dose 1's only.
    schedule = retreat(now=day(5), completed=(CompletedMeasure("madrs", hour(20)),))
    madrs = [o for o in schedule.occurrences if o.rule_label == "24 h after dose"]
    assert [o.status for o in madrs[:2]] == [MeasureStatus.COMPLETED, MeasureStatus.EXPIRED]


# --- the plan and policy drive the schedule ----------------------------------------------------


def test_changing_the_plan_changes_what_is_due() -> None:
    now = day(1)
    before = retreat(now=now)
    assert "phq9" not in {o.instrument for o in before.with_status(MeasureStatus.DUE)}
    no_priority = replace(
        INTENSIVE_RETREAT_PLAN,
        version="no-priority",
        rules=tuple(replace(r, priority=False) for r in INTENSIVE_RETREAT_PLAN.rules),
    )
    after = retreat(now=day(7) - timedelta(hours=1), plan=no_priority)
    due = [(o.instrument, o.rule_label, o.sequence) for o in after.with_status(MeasureStatus.DUE)]
    assert ("phq9", "before dose", 4) in due
    assert after.plan_version == "no-priority"


def test_min_interval_fraction_is_policy() -> None:
    half = SchedulePolicy(version="half-recall", min_interval_fraction=Fraction(1, 2))
    schedule = retreat(now=day(1), policy=half)
    phq9 = [o.target_at for o in schedule.occurrences if o.instrument == "phq9"]
    assert phq9[:3] == [day(-7), day(0), day(12)]
    assert schedule.policy_version == "half-recall"


# --- validation --------------------------------------------------------------------------------


def test_bad_rules_are_rejected_with_every_problem() -> None:
    with pytest.raises(ScheduleInputError) as err:
        MeasurementPlan(
            "bad",
            "v",
            (
                MeasureRule(
                    "phq9",
                    Anchor.INTAKE,
                    "x",
                    SRC,
                    due_until_after=timedelta(days=2),
                    expires_after=timedelta(days=1),
                    repeat_count=2,
                    dose_numbers=frozenset({0}),
                ),
            ),
            SRC,
        )
    fields = {p.field for p in err.value.problems}
    assert fields == {"rules[0].expires_after", "rules[0].repeat_every", "rules[0].dose_numbers"}


def test_bad_inputs_are_rejected_with_every_problem() -> None:
    naive = datetime(2026, 11, 2, 9, 0)  # deliberately naive
    with pytest.raises(ScheduleInputError) as err:
        measurement_schedule(
            INTENSIVE_RETREAT_PLAN,
            intake_at=naive,
            dosing_sessions=[day(0), day(0)],
            end_of_course=day(-1),
            recalls=RECALLS[:2],
            completed=[CompletedMeasure("phq9", day(5))],
            now=day(1),
        )
    messages = {(p.field, p.message.split(" ")[0]) for p in err.value.problems}
    assert ("intake_at", "must") in messages
    assert ("dosing_sessions[1]", "duplicate") in messages
    assert ("end_of_course", "is") in messages
    assert ("completed[0].at", "is") in messages
    missing = [p.message for p in err.value.problems if p.field == "recalls"]
    assert len(missing) == 3  # cssrs_screen, madrs, qids_sr16


def test_every_source_key_appears_in_the_reference() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    sources = [
        DEFAULT_SCHEDULE_POLICY.min_interval_source,
        DEFAULT_SCHEDULE_POLICY.exempt_source,
        DEFAULT_SCHEDULE_POLICY.short_interval_source,
    ]
    for plan in (INTENSIVE_RETREAT_PLAN, STANDARD_INDUCTION_PLAN):
        sources += [plan.source, *(r.source for r in plan.rules)]
    for source in sources:
        if source.key.startswith("§"):
            pattern = rf"^#+ {re.escape(source.key[1:])}[. ]"
            assert re.search(pattern, text, flags=re.MULTILINE), source.key
        else:
            assert f"| {source.key} |" in text, source.key


# --- properties -------------------------------------------------------------------------------

INSTRUMENTS = [r.instrument for r in RECALLS]


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, object]:
    gaps = draw(st.lists(st.integers(12, 24 * 8), min_size=1, max_size=8))
    doses = [T0]
    for g in gaps[1:]:
        doses.append(doses[-1] + timedelta(hours=g))
    end = draw(st.one_of(st.none(), st.integers(0, 72)))
    end_of_course = None if end is None else doses[-1] + timedelta(hours=end)
    now = T0 + timedelta(hours=draw(st.integers(-24 * 8, 24 * 120)))
    completed = draw(
        st.lists(
            st.tuples(st.sampled_from(INSTRUMENTS), st.integers(-24 * 9, 24 * 120)),
            max_size=12,
        )
    )
    done = [CompletedMeasure(i, T0 + timedelta(hours=h)) for i, h in completed]
    return {
        "plan": draw(st.sampled_from([INTENSIVE_RETREAT_PLAN, STANDARD_INDUCTION_PLAN])),
        "intake_at": T0 - timedelta(hours=draw(st.integers(0, 24 * 14))),
        "dosing_sessions": doses,
        "end_of_course": end_of_course,
        "completed": [d for d in done if d.at <= now],
        "now": now,
        "fraction": draw(st.sampled_from([Fraction(1), Fraction(1, 2), Fraction(0)])),
    }


def run(s: dict[str, object], **changes: object) -> MeasurementSchedule:
    args = {**s, **changes}
    return measurement_schedule(
        args["plan"],  # type: ignore[arg-type]
        intake_at=args["intake_at"],  # type: ignore[arg-type]
        dosing_sessions=args["dosing_sessions"],  # type: ignore[arg-type]
        end_of_course=args["end_of_course"],  # type: ignore[arg-type]
        recalls=RECALLS,
        completed=args["completed"],  # type: ignore[arg-type]
        now=args["now"],  # type: ignore[arg-type]
        policy=SchedulePolicy(min_interval_fraction=args["fraction"]),  # type: ignore[arg-type]
    )


@settings(max_examples=60, deadline=None)
@given(s=scenarios(), extra_instrument=st.sampled_from(INSTRUMENTS), extra_at=st.integers(0, 10**6))
def test_schedule_properties(s: dict[str, object], extra_instrument: str, extra_at: int) -> None:
    schedule = run(s)
    # A pure function of its inputs: same answer again, and whatever the order of the inputs.
    assert run(s) == schedule
    reordered = run(
        s,
        dosing_sessions=list(reversed(s["dosing_sessions"])),  # type: ignore[call-overload]
        completed=list(reversed(s["completed"])),  # type: ignore[call-overload]
        recalls=tuple(reversed(RECALLS)),
    )
    assert reordered == schedule
    # Sorted.
    keys = [(o.target_at, o.opens_at, o.instrument, o.rule_label) for o in schedule.occurrences]
    assert keys == sorted(keys)
    # No two occurrences of a recall-limited instrument closer than its minimum interval.
    policy = SchedulePolicy(min_interval_fraction=s["fraction"])  # type: ignore[arg-type]
    for recall in RECALLS:
        targets = [o.target_at for o in schedule.occurrences if o.instrument == recall.instrument]
        gap = policy.min_interval(recall)
        assert all(b - a >= gap and b > a for a, b in pairwise(sorted(targets)))
    # Adding a completed measure never makes more things overdue, and never un-completes one.
    now: datetime = s["now"]  # type: ignore[assignment]
    earliest = min(s["intake_at"], now) - timedelta(days=1)  # type: ignore[type-var]
    at = earliest + (now - earliest) * (extra_at / 10**6)
    more = run(
        s,
        completed=[*s["completed"], CompletedMeasure(extra_instrument, at)],  # type: ignore[misc]
    )
    assert len(more.with_status(MeasureStatus.OVERDUE)) <= len(
        schedule.with_status(MeasureStatus.OVERDUE)
    )
    assert len(more.work_queue) <= len(schedule.work_queue)
    was_done = {
        (o.instrument, o.rule_label, o.sequence)
        for o in schedule.with_status(MeasureStatus.COMPLETED)
    }
    now_done = {
        (o.instrument, o.rule_label, o.sequence) for o in more.with_status(MeasureStatus.COMPLETED)
    }
    assert was_done <= now_done
