"""A small cohort built through the services, with PHQ-9 totals chosen by hand, for the cohort
dashboard's tests (numbers worked out by hand in tests/shell/test_cohort_dashboard.py).

Every patient's first dose is at 09:00 local time on day 0 (``start``, 300 days before ``now``);
doses on days 0, 2, 4, 7, 9, 11; scores at 08:00 on their day unless said otherwise.

==  =========  ====  ===================================================================
P   program    site  scores (day: total)  / sessions
==  =========  ====  ===================================================================
P1  retreat    A     -3: 20, day 1 10:00: 12, 11: 8, 30: 4, 60: 15, 70: 16
P2  retreat    A     -3: 18, 11: 4, 40: 6; a 7th dose (maintenance) on day 35
P3  retreat    B     -3: 16, 11: 10, 28: 12
P4  induction  A     -3: 22, 11: 11, 31: 9, 45: 14, 55: 15; signed plan (IV, a modality)
P5  induction  A     2: 14, 11: 6 (no baseline)
P6  induction  A     -3: 15, 30: 8; only 3 doses held, the last 3 cancelled
P7  induction  A     -3: 20
P8  retreat    A     first dose 30 days before day 0: outside the period
==  =========  ====  ===================================================================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.utils import timezone

from kapstone.assessments import flow
from kapstone.assessments.services import save_answers, send_questionnaires, submit
from kapstone.clinical.instruments import INSTRUMENTS
from kapstone.dosing.services import book_dosing_session, cancel_dosing_session
from kapstone.measures.services import set_care_plan
from kapstone.plans import services as plan_services
from tests.conftest import build_clinic, kept_for_the_module, make_patient, refreshed
from tests.shell.intake_support import signed_eligibility_for
from tests.shell.plans_support import ready_to_sign

DOSE_DAYS = (0, 2, 4, 7, 9, 11)


def at(start: dt.date, day: int, hour: int = 8, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(start + dt.timedelta(days=day), dt.time(hour, minute))
    )


def phq9_answers(total: int) -> dict[str, object]:
    """Items 1-8 carry the total (so at most 24); item 9 (self-harm) stays 0: no alert."""
    definition = INSTRUMENTS["phq9"]
    answers: dict[str, object] = {}
    left = total
    for item_id in "12345678":
        answers[item_id] = min(3, left)
        left -= answers[item_id]  # type: ignore[operator]
    assert left == 0, "a hand-built PHQ-9 total is at most 24"
    answers["9"] = 0
    for item in flow.shown_items(definition, answers):
        answers.setdefault(item.id, 0)
    return answers


def take_phq9(patient, total: int, when: dt.datetime, by) -> None:  # type: ignore[no-untyped-def]
    questionnaire_set, _ = send_questionnaires(
        by=by, patient=patient, instruments=["phq9"], now=when - dt.timedelta(hours=1)
    )
    save_answers(
        questionnaire_set=questionnaire_set,
        instrument="phq9",
        answers=phq9_answers(total),
        now=when,
    )
    submit(questionnaire_set=questionnaire_set, instrument="phq9", now=when)


@dataclass
class HandBuiltCohort:
    now: dt.datetime
    start: dt.date  # day 0
    patients: dict[str, object]
    doses: dict[str, list[dt.datetime]]
    modality: str  # P4's confirmed modality
    path: str = "records"  # how the dashboard is computed: "records" or "summaries"


def build(clinic) -> HandBuiltCohort:  # type: ignore[no-untyped-def]
    now = timezone.now()
    start = timezone.localdate(now) - dt.timedelta(days=300)
    nurse, prescriber = clinic.staff["nurse"], clinic.staff["prescriber"]
    site_a, site_b = clinic.sites
    plan_of = {"P1": "intensive-retreat", "P2": "intensive-retreat", "P3": "intensive-retreat"}
    plan_of |= {p: "standard-induction" for p in ("P4", "P5", "P6", "P7")}
    plan_of["P8"] = "intensive-retreat"
    scores: dict[str, list[tuple[dt.datetime, int]]] = {
        "P1": [
            (at(start, -3), 20),
            (at(start, 1, 10), 12),
            (at(start, 11), 8),
            (at(start, 30), 4),
            (at(start, 60), 15),
            (at(start, 70), 16),
        ],
        "P2": [(at(start, -3), 18), (at(start, 11), 4), (at(start, 40), 6)],
        "P3": [(at(start, -3), 16), (at(start, 11), 10), (at(start, 28), 12)],
        "P4": [
            (at(start, -3), 22),
            (at(start, 11), 11),
            (at(start, 31), 9),
            (at(start, 45), 14),
            (at(start, 55), 15),
        ],
        "P5": [(at(start, 2), 14), (at(start, 11), 6)],
        "P6": [(at(start, -3), 15), (at(start, 30), 8)],
        "P7": [(at(start, -3), 20)],
        "P8": [(at(start, -33), 19), (at(start, -19), 7)],
    }
    patients: dict[str, object] = {}
    doses: dict[str, list[dt.datetime]] = {}
    for number, name in enumerate(plan_of, start=1):
        patient = make_patient(
            by=clinic.staff["intake_coordinator"],
            mrn=f"COH-{number:03d}",
            site=site_a,
            given_name=f"Cohort{number}",
            prescriber=prescriber,
            therapist=clinic.staff["therapist"],
            nurse=nurse,
        )
        patients[name] = patient
        offset = -30 if name == "P8" else 0
        moments = [at(start, d + offset, 9) for d in DOSE_DAYS]
        if name == "P2":
            moments.append(at(start, 35, 9))
        booked_at = at(start, offset - 7, 10)
        set_care_plan(
            by=prescriber,
            patient=patient,
            plan=plan_of[name],
            intake_at=booked_at,
            end_of_course=moments[5],
            now=booked_at,
        )
        sessions = [
            book_dosing_session(
                by=nurse,
                patient=patient,
                starts_at=moment,
                site=site_b if name == "P3" else site_a,
                now=booked_at,
            )
            for moment in moments
        ]
        if name == "P6":
            for session in sessions[3:]:
                cancel_dosing_session(
                    by=nurse,
                    session=session,
                    reason="Stopped after three sessions: moved away",
                    now=at(start, 5, 12),
                )
            moments = moments[:3]
        doses[name] = moments
        for when, total in scores[name]:
            take_phq9(patient, total, when, nurse)

    # P4 has an intake (major depression, two failed adequate trials) and a signed IV plan.
    p4 = patients["P4"]
    signed_eligibility_for(p4, prescriber)
    plan = ready_to_sign(p4, prescriber, clinic.staff["therapist"])
    plan_services.sign_plan(by=prescriber, plan=plan)
    return HandBuiltCohort(
        now=timezone.now(),
        start=start,
        patients=patients,
        doses=doses,
        modality=plan.modalities[0],
    )


@contextmanager
def kept_cohort(django_db_blocker) -> Iterator[tuple]:  # type: ignore[no-untyped-def]
    """The clinic and its hand-built cohort, for a module-scoped fixture: built once for the
    module, each test's own writes rolled back at its end (``kept_for_the_module``)."""
    with kept_for_the_module(django_db_blocker):
        clinic = build_clinic()
        yield clinic, build(clinic)


def fresh_clinic(kept: tuple):  # type: ignore[no-untyped-def]
    """The kept clinic and its cohort's patients, read again for one test (``refreshed``)."""
    clinic, cohort = kept
    return refreshed(clinic, *cohort.patients.values())
