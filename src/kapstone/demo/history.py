"""The demo clinic's treatment history: care plans, dosing sessions and score trajectories.

Each patient with a program follows a profile (responder, remitter, non-responder, partial responder,
one relapse after remission, one patient mid-retreat with an open suicide-risk alert, one whose high
C-SSRS at intake held dosing until a prescriber's review). Measures are taken when the patient's
measurement schedule asks for them, a few are missed (so the work queue has something to chase),
and everything is written through the same services the clinic uses, dated in the past with their
``now`` argument; the audit trail records the import at the time it happened.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.assessments import flow
from kapstone.assessments.services import rate_instrument, save_answers, send_questionnaires, submit
from kapstone.clinical.instruments import INSTRUMENTS, Answer, Item
from kapstone.clinical.measurement_schedule import MeasureOccurrence
from kapstone.clinical.routes import Route
from kapstone.demo.courses import ready_to_dose
from kapstone.dosing.services import book_dosing_session
from kapstone.measures.selectors import schedule_for
from kapstone.measures.services import set_care_plan
from kapstone.patients.models import Patient
from kapstone.safety.models import SafetyAlert
from kapstone.safety.selectors import active_hold
from kapstone.safety.services import acknowledge_alert, review_hold

# Items a demo patient never endorses unless the profile says so: each would raise an alert.
SAFETY_ITEMS = {"phq9": "9", "qids_sr16": "12", "madrs": "10"}
NO_RISK_CSSRS = {"1": False, "2": False, "6": False}
HIGH_RISK_CSSRS = {"1": True, "2": True, "3": True, "4": True, "5": False, "6": False}
# The measurement plan's program, for a racemic course.
PROGRAM = {"intensive-retreat": "intensive_retreat", "standard-induction": "standard_iv_induction"}
# Intensive retreat: six doses over two weeks; standard induction: twice weekly for three weeks.
RETREAT_DAYS = (0, 2, 4, 7, 9, 11)
INDUCTION_DAYS = (0, 3, 7, 10, 14, 17)
# Esketamine induction: twice weekly for four weeks (eight sessions, as its program says).
ESKETAMINE_DAYS = (0, 3, 7, 10, 14, 17, 21, 24)
MISSED = 0.07  # share of scheduled measures a patient does not complete


def _responder(day: float) -> float:
    return 1 - 0.55 * min(max(day, 0), 21) / 21


def _remitter(day: float) -> float:
    return 1 - 0.85 * min(max(day, 0), 21) / 21


def _non_responder(day: float) -> float:
    return 1 - 0.1 * min(max(day, 0), 21) / 21


def _partial(day: float) -> float:
    return 1 - 0.35 * min(max(day, 0), 21) / 21


def _relapse(day: float) -> float:
    # Remission by the end of the retreat, lost again two months later.
    return _remitter(day) if day < 55 else 0.7


@dataclass(frozen=True)
class Profile:
    name: str
    course: Callable[[float], float]  # share of the baseline severity, by days since the first dose
    plan: str
    started_days_ago: int
    open_alert: bool = False
    acknowledged_alert: bool = False
    high_cssrs_at_intake: bool = False
    route: Route = Route.IV


# The first patients get the profiles the demo must show; the rest cycle through the common ones.
SPECIAL = (
    Profile("open-alert", _partial, "intensive-retreat", 5, open_alert=True),
    Profile("relapse", _relapse, "intensive-retreat", 115),
    Profile("held", _responder, "standard-induction", 45, high_cssrs_at_intake=True),
    Profile("responder-acknowledged", _responder, "intensive-retreat", 40, acknowledged_alert=True),
)
COMMON = (
    Profile("responder", _responder, "intensive-retreat", 70),
    Profile("remitter", _remitter, "standard-induction", 90),
    Profile("non-responder", _non_responder, "intensive-retreat", 60),
    Profile("partial", _partial, "standard-induction", 35, route=Route.INTRANASAL_ESKETAMINE),
    Profile("responder", _responder, "standard-induction", 25, route=Route.INTRANASAL_ESKETAMINE),
    Profile("remitter", _remitter, "intensive-retreat", 8),
)
WITH_PROGRAM = 0.7  # the others are still at referral or intake


def _answers(
    instrument: str, level: float, rng: random.Random, *, endorse: bool = False
) -> dict[str, Answer]:
    """Item answers near ``level`` (0 none .. 1 the worst) in the flow's order, as a patient gives
    them; the safety item stays at its lowest answer unless ``endorse``."""
    definition = INSTRUMENTS[instrument]
    answers: dict[str, Answer] = {}
    while True:
        pending = [i for i in flow.shown_items(definition, answers) if i.id not in answers]
        if not pending:
            return answers
        item = pending[0]
        answers[item.id] = _choose(item, level, rng, safety=item.id == SAFETY_ITEMS.get(instrument))
        if endorse and item.id == SAFETY_ITEMS.get(instrument):
            answers[item.id] = sorted(item.options, key=lambda o: o.points)[1].value


def _choose(item: Item, level: float, rng: random.Random, *, safety: bool) -> Answer:
    options = sorted(item.options, key=lambda o: o.points)
    if safety:
        return options[0].value
    top = len(options) - 1
    index = round(level * top + rng.gauss(0, 0.45))
    return options[min(max(index, 0), top)].value


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _take(
    *,
    patient: Patient,
    instrument: str,
    answers: Mapping[str, object],
    at: dt.datetime,
    by: StaffUser,
    rater: StaffUser,
) -> None:
    if instrument in flow.CLINICIAN_RATED:
        rate_instrument(
            by=rater, patient=patient, instrument=instrument, answers=answers, rated_at=at
        )
        return
    questionnaire_set, _ = send_questionnaires(
        by=by, patient=patient, instruments=[instrument], now=at - dt.timedelta(hours=2)
    )
    save_answers(
        questionnaire_set=questionnaire_set, instrument=instrument, answers=answers, now=at
    )
    submit(questionnaire_set=questionnaire_set, instrument=instrument, now=at)


def _level_at(profile: Profile, baseline: float, first_dose: dt.datetime, at: dt.datetime) -> float:
    day = (at - first_dose).total_seconds() / 86_400
    return baseline * profile.course(day)


def build_history(
    *, patients: list[Patient], rng: random.Random, now: dt.datetime
) -> dict[str, int]:
    """Gives about 70 % of ``patients`` a program with its history up to ``now`` (which must not be
    in the future: ratings refuse future interviews); returns counts by profile."""
    today = timezone.localdate(now)
    counts: dict[str, int] = {}
    common = iter(COMMON * (len(patients) // len(COMMON) + 1))
    for index, patient in enumerate(patients):
        if index < len(SPECIAL):
            profile = SPECIAL[index]
        elif rng.random() < WITH_PROGRAM:
            profile = next(common)
        else:
            continue
        _one_patient(patient, profile, rng, today, now)
        counts[profile.name] = counts.get(profile.name, 0) + 1
    return counts


def _one_patient(
    patient: Patient, profile: Profile, rng: random.Random, today: dt.date, now: dt.datetime
) -> None:
    prescriber, therapist, nurse = patient.prescriber, patient.therapist, patient.nurse
    assert prescriber is not None and therapist is not None and nurse is not None
    start = today - dt.timedelta(days=profile.started_days_ago)
    intake_at = _at(start - dt.timedelta(days=7), 10)
    days: tuple[int, ...] = RETREAT_DAYS if profile.plan == "intensive-retreat" else INDUCTION_DAYS
    if profile.route is Route.INTRANASAL_ESKETAMINE:
        days = ESKETAMINE_DAYS
    doses = [_at(start + dt.timedelta(days=d), 9) for d in days]
    baseline = rng.uniform(0.6, 0.8)

    set_care_plan(
        by=prescriber,
        patient=patient,
        plan=profile.plan,
        intake_at=intake_at,
        end_of_course=doses[-1],
        now=intake_at,
    )
    # Intake first: a high C-SSRS holds dosing, and sessions are booked only after the review.
    intake_cssrs = HIGH_RISK_CSSRS if profile.high_cssrs_at_intake else NO_RISK_CSSRS
    _take(
        patient=patient,
        instrument="cssrs_screen",
        answers=intake_cssrs,
        at=intake_at,
        by=nurse,
        rater=nurse,
    )
    booked_at = intake_at
    if profile.high_cssrs_at_intake:
        _close_alert(patient, therapist, dt.timedelta(hours=1), "level_of_care_review")
        hold = active_hold(patient)
        assert hold is not None
        booked_at = intake_at + dt.timedelta(days=1, hours=1)
        review_hold(
            by=prescriber,
            hold=hold,
            assessment="Seen the next day with the therapist: intent was historical, no current "
            "plan; safety plan in place, partner aware. Outpatient retreat is appropriate.",
            now=booked_at - dt.timedelta(minutes=30),
        )
    # The intake screened and signed, then the plan, before anything is booked on it.
    if profile.high_cssrs_at_intake:
        _take(
            patient=patient,
            instrument="cssrs_screen",
            answers=NO_RISK_CSSRS,
            at=booked_at - dt.timedelta(minutes=20),
            by=nurse,
            rater=nurse,
        )
    screened_at = booked_at + dt.timedelta(minutes=30)
    plan = ready_to_dose(
        patient,
        route=profile.route,
        screened_at=screened_at,
        planned_at=screened_at + dt.timedelta(hours=1),
        program_key=PROGRAM[profile.plan],
    )
    for at in doses:
        book_dosing_session(
            by=nurse,
            patient=patient,
            starts_at=at,
            plan=plan,
            route=plan.route,
            now=screened_at + dt.timedelta(hours=2),
        )

    schedule = schedule_for(patient, now)
    assert schedule is not None
    taken: set[tuple[str, dt.datetime]] = set()
    for occurrence in sorted(schedule.occurrences, key=lambda o: o.target_at):
        if occurrence.instrument == "cssrs_screen" and occurrence.target_at == intake_at:
            continue  # already taken above
        at = _when(occurrence, rng)
        if at > now or (occurrence.instrument, at) in taken or rng.random() < MISSED:
            continue
        taken.add((occurrence.instrument, at))
        level = _level_at(profile, baseline, doses[0], at)
        endorse = profile.acknowledged_alert and occurrence.target_at == intake_at
        answers = (
            NO_RISK_CSSRS
            if occurrence.instrument == "cssrs_screen"
            else _answers(occurrence.instrument, level, rng, endorse=endorse)
        )
        _take(
            patient=patient,
            instrument=occurrence.instrument,
            answers=answers,
            at=at,
            by=nurse,
            rater=prescriber,
        )
    if profile.acknowledged_alert:
        _close_alert(patient, therapist, dt.timedelta(hours=2), "safety_plan")
    if profile.open_alert:
        # This morning's questionnaire, answered at home: item 9 endorsed, nobody has seen it yet.
        at = now - dt.timedelta(minutes=25)
        _take(
            patient=patient,
            instrument="phq9",
            answers=_answers("phq9", _level_at(profile, baseline, doses[0], at), rng, endorse=True),
            at=at,
            by=nurse,
            rater=prescriber,
        )


def _when(occurrence: MeasureOccurrence, rng: random.Random) -> dt.datetime:
    """A realistic completion time inside the occurrence's window: before a dose on its morning,
    otherwise within a day or so of the target."""
    if occurrence.opens_at == occurrence.target_at:
        return occurrence.target_at + dt.timedelta(minutes=rng.randint(5, 240))
    early = min(dt.timedelta(minutes=90), occurrence.target_at - occurrence.opens_at)
    return occurrence.target_at - early * rng.uniform(0.3, 1)


def _close_alert(patient: Patient, therapist: StaffUser, after: dt.timedelta, action: str) -> None:
    for alert in SafetyAlert.objects.filter(patient=patient, acknowledgement__isnull=True):
        acknowledge_alert(
            by=therapist,
            alert=alert,
            actions=[action],
            note="Called the patient the same day: passive thoughts, no plan or intent. "
            "Safety plan reviewed and crisis line numbers given.",
            now=alert.raised_at + after,
        )
