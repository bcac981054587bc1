"""Reads for the measurement schedule: what is due for one patient, and the clinic's work queue.

Nothing about what is due is stored. Each read builds the core's schedule from the current care
plan, the dosing sessions (not cancelled) and the submitted questionnaires, so booking a session,
submitting a questionnaire or changing the plan changes what is due at once. The work queue and
the reminders read each table once for every patient they cover and compute in Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.assessments.flow import short_name
from kapstone.assessments.models import QuestionnaireResponse, ResponseStatus
from kapstone.clinical.measurement_schedule import (
    Anchor,
    CompletedMeasure,
    MeasurementSchedule,
    MeasureOccurrence,
    MeasureStatus,
    ScheduleInputError,
    ScheduleProblem,
    SuppressedMeasure,
    measurement_schedule,
)
from kapstone.dosing.models import DosingSession
from kapstone.dosing.selectors import dosing_times, with_dose_time
from kapstone.measures.models import MeasurementCarePlan, MeasureReminder
from kapstone.measures.plans import (
    PLANS,
    current_policy,
    is_clinician_rated,
    plan_order,
    recalls_for,
)
from kapstone.patients.models import Patient
from kapstone.patients.selectors import patients_visible_to

# Clinic policy for the work queue: an expired measure stays listed this long, then only the
# patient's Measures tab shows it (otherwise every missed measure would head the queue forever).
EXPIRED_LISTED_FOR = dt.timedelta(days=30)

# ---------------------------------------------------------------------------------------------
# Building the core's schedule


def current_care_plan(patient: Patient) -> MeasurementCarePlan | None:
    return patient.measurement_care_plans.select_related("started_by").order_by("-pk").first()


def care_plan_history(patient: Patient) -> list[MeasurementCarePlan]:
    """Every plan the patient has had, the one in force first."""
    return list(patient.measurement_care_plans.select_related("started_by").order_by("-pk"))


def build_schedule(
    care_plan: MeasurementCarePlan,
    *,
    doses: Iterable[dt.datetime],
    completed: Iterable[CompletedMeasure],
    now: dt.datetime,
) -> MeasurementSchedule:
    """The core's schedule for one plan row; raises ScheduleInputError when the data do not fit
    (say, a course that ends before its first session)."""
    plan = PLANS.get(care_plan.plan)
    if plan is None:
        raise ScheduleInputError(
            (
                ScheduleProblem(
                    "plan", f"{care_plan.plan!r} is no longer a plan Kapstone has; choose one again"
                ),
            )
        )
    local = timezone.localtime  # the core writes times into its reasons: show them in clinic time
    return measurement_schedule(
        plan,
        intake_at=local(care_plan.intake_at),
        # Two sessions at the same minute would be one dose twice; the core refuses duplicates.
        dosing_sessions=[local(at) for at in sorted(set(doses))],
        end_of_course=local(care_plan.end_of_course) if care_plan.end_of_course else None,
        recalls=recalls_for(plan),
        # A questionnaire submitted after ``now`` had not happened yet at ``now``.
        completed=[CompletedMeasure(c.instrument, local(c.at)) for c in completed if c.at <= now],
        now=local(now),
        policy=current_policy(),
    )


def _completed_rows(
    responses: QuerySet[QuestionnaireResponse],
) -> Iterable[tuple[int, str, dt.datetime]]:
    """(patient id, instrument, when) of every submitted response. A clinician's rating is
    submitted at its interview time, which may be earlier than when it was entered."""
    rows = responses.filter(status=ResponseStatus.SUBMITTED).values_list(
        "questionnaire_set__patient_id", "instrument", "submitted_at"
    )
    # Only drafts lack a submission time; the column allows none for them.
    return [(patient_id, instrument, at) for patient_id, instrument, at in rows if at is not None]


def completed_measures(patient: Patient) -> list[CompletedMeasure]:
    responses = QuestionnaireResponse.objects.filter(questionnaire_set__patient=patient)
    return [CompletedMeasure(instrument, at) for _, instrument, at in _completed_rows(responses)]


def schedule_for(patient: Patient, now: dt.datetime) -> MeasurementSchedule | None:
    """What is due for the patient at ``now`` under the current care plan; None without a plan.
    Raises ScheduleInputError when the plan and the sessions contradict each other."""
    care_plan = current_care_plan(patient)
    if care_plan is None:
        return None
    return build_schedule(
        care_plan, doses=dosing_times(patient), completed=completed_measures(patient), now=now
    )


@dataclass
class PatientSchedule:
    care_plan: MeasurementCarePlan
    schedule: MeasurementSchedule | None
    problem: str = ""  # why the schedule could not be computed

    @property
    def patient(self) -> Patient:
        return self.care_plan.patient


def schedules_for(patients: QuerySet[Patient], now: dt.datetime) -> list[PatientSchedule]:
    """Every listed patient's schedule (those with a care plan) in three queries, not three per
    patient: care plans with their patients, dosing sessions, submitted questionnaires."""
    scope = patients.values("pk")
    latest: dict[int, MeasurementCarePlan] = {}
    for row in (
        MeasurementCarePlan.objects.filter(patient__in=scope)
        .select_related("patient")
        .order_by("pk")
    ):
        latest[row.patient_id] = row  # the latest row is the plan in force
    doses: dict[int, list[dt.datetime]] = defaultdict(list)
    # The same doses as kapstone.dosing.selectors.dosing_times, for many patients at once.
    for patient_id, given_at in (
        with_dose_time(DosingSession.objects.filter(patient__in=scope))
        .order_by("given_at")
        .values_list("patient_id", "given_at")
    ):
        doses[patient_id].append(given_at)
    completed: dict[int, list[CompletedMeasure]] = defaultdict(list)
    responses = QuestionnaireResponse.objects.filter(questionnaire_set__patient__in=scope)
    for patient_id, instrument, at in _completed_rows(responses):
        completed[patient_id].append(CompletedMeasure(instrument, at))

    out = []
    for patient_id, care_plan in latest.items():
        try:
            schedule = build_schedule(
                care_plan, doses=doses[patient_id], completed=completed[patient_id], now=now
            )
        except ScheduleInputError as exc:
            out.append(PatientSchedule(care_plan, None, problem_text(exc)))
        else:
            out.append(PatientSchedule(care_plan, schedule))
    return out


def problem_text(exc: ScheduleInputError) -> str:
    return "; ".join(f"{p.field.replace('_', ' ')} {p.message}" for p in exc.problems)


# ---------------------------------------------------------------------------------------------
# What staff see


STATUS_LABELS = {
    MeasureStatus.UPCOMING: "Upcoming",
    MeasureStatus.DUE: "Due",
    MeasureStatus.OVERDUE: "Overdue",
    MeasureStatus.COMPLETED: "Completed",
    MeasureStatus.EXPIRED: "Expired",
}


def occasion(schedule_plan: str, instrument: str, label: str, anchor: Anchor, sequence: int) -> str:
    """'before dose 2', 'weekly follow-up 3 of 4', 'intake'."""
    if anchor is Anchor.EACH_DOSE:
        return f"{label}, dose {sequence}"
    plan = PLANS.get(schedule_plan)
    rule = next(
        (r for r in (plan.rules if plan else ()) if (r.instrument, r.label) == (instrument, label)),
        None,
    )
    if rule is not None and rule.repeat_count > 1:
        return f"{label} {sequence} of {rule.repeat_count}"
    return label


@dataclass(frozen=True)
class OccurrenceRow:
    occurrence: MeasureOccurrence
    name: str
    occasion: str
    clinician_rated: bool

    @property
    def status(self) -> str:
        return self.occurrence.status.value

    @property
    def status_label(self) -> str:
        label = STATUS_LABELS[self.occurrence.status]
        if self.occurrence.status is MeasureStatus.COMPLETED and self.occurrence.completed_late:
            return f"{label} late"
        return label

    @property
    def needs_attention(self) -> bool:
        return self.occurrence.status in (MeasureStatus.DUE, MeasureStatus.OVERDUE)


def occurrence_row(plan_name: str, o: MeasureOccurrence) -> OccurrenceRow:
    return OccurrenceRow(
        occurrence=o,
        name=short_name(o.instrument),
        occasion=occasion(plan_name, o.instrument, o.rule_label, o.anchor, o.sequence),
        clinician_rated=is_clinician_rated(o.instrument),
    )


@dataclass(frozen=True)
class SuppressedRow:
    suppressed: SuppressedMeasure
    name: str
    occasion: str
    instead: list[str]


def _instead(schedule: MeasurementSchedule, s: SuppressedMeasure) -> list[str]:
    """The short-interval measures to use instead, with the planned occurrence nearest after the
    suppressed one where the plan has one (the MADRS 24 h after the dose)."""
    out = []
    for alternative in s.alternatives:
        name = short_name(alternative)
        how = "rated by a clinician at interview" if is_clinician_rated(alternative) else "sent"
        near = [
            o
            for o in schedule.occurrences
            if o.instrument == alternative
            and s.target_at <= o.target_at <= s.target_at + dt.timedelta(days=2)
        ]
        if near:
            o = min(near, key=lambda o: o.target_at)
            when = timezone.localtime(o.target_at).strftime("%d %b %H:%M")
            out.append(f"{name} {o.rule_label} ({when}), {how}")
        else:
            out.append(f"{name}, {how}, if a measure is needed at this time")
    return out


def suppressed_row(schedule: MeasurementSchedule, s: SuppressedMeasure) -> SuppressedRow:
    return SuppressedRow(
        suppressed=s,
        name=short_name(s.instrument),
        occasion=occasion(schedule.plan_name, s.instrument, s.rule_label, s.anchor, s.sequence),
        instead=_instead(schedule, s),
    )


def open_instruments(
    patient_ids: Iterable[int], now: dt.datetime
) -> dict[int, dict[str, dt.datetime]]:
    """Per patient, the instruments waiting unanswered in a link that still opens, with the latest
    expiry: those are already with the patient and are not sent again."""
    found: dict[int, dict[str, dt.datetime]] = defaultdict(dict)
    for patient_id, instrument, expires_at in QuestionnaireResponse.objects.filter(
        questionnaire_set__patient__in=list(patient_ids),
        status=ResponseStatus.IN_PROGRESS,
        questionnaire_set__submitted_at__isnull=True,
        questionnaire_set__expires_at__gt=now,
    ).values_list("questionnaire_set__patient_id", "instrument", "questionnaire_set__expires_at"):
        mine = found[patient_id]
        mine[instrument] = max(expires_at, mine.get(instrument, expires_at))
    return found


def to_send(
    schedule: MeasurementSchedule,
    already_open: dict[str, dt.datetime],
    *,
    statuses: tuple[MeasureStatus, ...] = (MeasureStatus.DUE,),
) -> list[MeasureOccurrence]:
    """Patient-reported occurrences in the given statuses that no open link already holds."""
    return [
        o
        for o in schedule.with_status(*statuses)
        if not is_clinician_rated(o.instrument) and o.instrument not in already_open
    ]


def instruments_in_plan_order(
    plan_name: str, occurrences: Iterable[MeasureOccurrence]
) -> list[str]:
    wanted = {o.instrument for o in occurrences}
    return [name for name in plan_order(PLANS[plan_name]) if name in wanted]


@dataclass
class MeasuresPage:
    """Everything the chart's Measures tab shows."""

    care_plan: MeasurementCarePlan | None
    history: list[MeasurementCarePlan]
    schedule: MeasurementSchedule | None
    problem: str = ""
    rows: list[OccurrenceRow] = field(default_factory=list)
    suppressed: list[SuppressedRow] = field(default_factory=list)
    sendable: list[OccurrenceRow] = field(default_factory=list)  # due or overdue, not in a link
    in_open_link: list[tuple[OccurrenceRow, dt.datetime]] = field(default_factory=list)
    rate_at_interview: list[OccurrenceRow] = field(default_factory=list)
    policy_changed: bool = False
    plan_changed: bool = False

    @property
    def attention(self) -> list[OccurrenceRow]:
        return [r for r in self.rows if r.needs_attention]

    @property
    def sendable_names(self) -> list[str]:
        """What one link would hold: each instrument once, in the plan's order."""
        if self.care_plan is None:
            return []
        occurrences = [r.occurrence for r in self.sendable]
        return [short_name(n) for n in instruments_in_plan_order(self.care_plan.plan, occurrences)]


# What the staff button sends: an overdue measure still counts (late) until it expires.
STAFF_SENDS = (MeasureStatus.DUE, MeasureStatus.OVERDUE)


def measures_page(patient: Patient, now: dt.datetime) -> MeasuresPage:
    history = care_plan_history(patient)
    care_plan = history[0] if history else None
    if care_plan is None:
        return MeasuresPage(care_plan=None, history=[], schedule=None)
    page = MeasuresPage(
        care_plan=care_plan,
        history=history,
        schedule=None,
        policy_changed=care_plan.policy_version != current_policy().version,
        plan_changed=care_plan.plan in PLANS
        and care_plan.plan_version != PLANS[care_plan.plan].version,
    )
    try:
        schedule = build_schedule(
            care_plan,
            doses=dosing_times(patient),
            completed=completed_measures(patient),
            now=now,
        )
    except ScheduleInputError as exc:
        page.problem = problem_text(exc)
        return page
    page.schedule = schedule
    page.rows = [occurrence_row(care_plan.plan, o) for o in schedule.occurrences]
    page.suppressed = [suppressed_row(schedule, s) for s in schedule.suppressed]
    already_open = open_instruments([patient.pk], now).get(patient.pk, {})
    for row in page.rows:
        if row.occurrence.status not in STAFF_SENDS:
            continue
        if row.clinician_rated:
            page.rate_at_interview.append(row)
        elif row.occurrence.instrument in already_open:
            page.in_open_link.append((row, already_open[row.occurrence.instrument]))
        else:
            page.sendable.append(row)
    return page


# ---------------------------------------------------------------------------------------------
# The work queue


@dataclass(frozen=True)
class QueueEntry:
    patient: Patient
    row: OccurrenceRow


@dataclass
class WorkQueue:
    entries: list[QueueEntry]
    unscheduled: list[PatientSchedule]  # patients whose schedule could not be computed


def work_queue(*, user: StaffUser, now: dt.datetime) -> WorkQueue:
    """Overdue and recently expired measures of every patient the user may see, oldest first."""
    entries = []
    unscheduled = []
    for found in schedules_for(patients_visible_to(user), now):
        if found.schedule is None:
            unscheduled.append(found)
            continue
        for o in found.schedule.work_queue:
            if o.status is MeasureStatus.EXPIRED and o.expires_at < now - EXPIRED_LISTED_FOR:
                continue
            entries.append(QueueEntry(found.patient, occurrence_row(found.care_plan.plan, o)))
    entries.sort(
        key=lambda e: (e.row.occurrence.target_at, e.patient.family_name, e.patient.pk, e.row.name)
    )
    unscheduled.sort(key=lambda s: (s.patient.family_name, s.patient.given_name, s.patient.pk))
    return WorkQueue(entries, unscheduled)


def reminded_occurrences(patient_ids: Iterable[int]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for patient_id, occurrences in MeasureReminder.objects.filter(
        patient__in=list(patient_ids)
    ).values_list("patient_id", "occurrences"):
        found[patient_id].update(occurrences)
    return found


def occurrence_key(o: MeasureOccurrence) -> str:
    """How a reminder names an occurrence: instrument, occasion and target (UTC)."""
    return (
        f"{o.instrument}|{o.rule_label}|{o.sequence}|{o.target_at.astimezone(dt.UTC).isoformat()}"
    )
