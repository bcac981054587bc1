"""The measurement plans a care plan may follow, and what the core's schedule needs from the
instrument library: each instrument's recall period and a short name to show staff."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from kapstone.assessments.flow import CLINICIAN_RATED, short_name
from kapstone.clinical.instruments import INSTRUMENTS
from kapstone.clinical.measurement_schedule import (
    DEFAULT_SCHEDULE_POLICY,
    INTENSIVE_RETREAT_PLAN,
    STANDARD_INDUCTION_PLAN,
    InstrumentRecall,
    MeasurementPlan,
    SchedulePolicy,
)

PLANS: Mapping[str, MeasurementPlan] = MappingProxyType(
    {plan.name: plan for plan in (INTENSIVE_RETREAT_PLAN, STANDARD_INDUCTION_PLAN)}
)


def plan_label(name: str) -> str:
    """'intensive-retreat' -> 'Intensive retreat'; an unknown name is shown as stored."""
    return name.replace("-", " ").capitalize() if name in PLANS else name


PLAN_CHOICES = [(name, plan_label(name)) for name in PLANS]


def current_policy() -> SchedulePolicy:
    """The schedule policy in force. One version exists today; each care plan row records the
    version it started under, so a later policy shows up as a difference on the chart."""
    return DEFAULT_SCHEDULE_POLICY


def is_clinician_rated(instrument: str) -> bool:
    return instrument in CLINICIAN_RATED


def recalls_for(plan: MeasurementPlan) -> tuple[InstrumentRecall, ...]:
    """Each instrument's recall period from its definition. An instrument without a window in days
    (a clinician's rating of the moment, a state or lifetime measure) gets 0: nothing to
    double-count, so the schedule never suppresses it for recall."""
    names = dict.fromkeys(rule.instrument for rule in plan.rules)
    recalls = []
    for name in names:
        definition = INSTRUMENTS[name]
        recalls.append(
            InstrumentRecall(
                instrument=name,
                display_name=short_name(name),
                recall_days=definition.recall.days or 0,
                source=definition.recall.source,
            )
        )
    return tuple(recalls)


def plan_order(plan: MeasurementPlan) -> list[str]:
    """Instruments in the order the plan first names them: the order a patient answers them."""
    return list(dict.fromkeys(rule.instrument for rule in plan.rules))
