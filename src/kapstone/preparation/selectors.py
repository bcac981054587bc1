"""Reads for the preparation checklist: the patient's upcoming dosing sessions with each item, the
plan's words for it and the latest answer; and, for the chair-side console, what the patient said.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone

from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.patients.models import Patient
from kapstone.plans.models import TreatmentPlan
from kapstone.plans.sections import Preparation
from kapstone.plans.selectors import plan_in_force
from kapstone.preparation.checklist import CONSOLE_ITEMS, ITEMS, Item, fasting_times
from kapstone.preparation.models import PreparationAnswer


def local(moment: dt.datetime, time_zone: str) -> dt.datetime:
    """The site's wall-clock time, naive, so templates show it as the site's and not the server's."""
    return timezone.localtime(moment, ZoneInfo(time_zone)).replace(tzinfo=None)


@dataclass(frozen=True)
class ItemView:
    item: Item
    plan_words: str  # what the signed plan's Preparation section says for it ('' when nothing)
    answer: PreparationAnswer | None  # the latest answer, None when not ticked yet
    no_food_from: dt.datetime | None = None  # site wall-clock times (fasting only)
    no_drinks_from: dt.datetime | None = None

    @property
    def done(self) -> bool:
        return self.answer is not None and self.answer.answer


@dataclass(frozen=True)
class SessionChecklist:
    session: DosingSession
    starts_at: dt.datetime  # site wall-clock time
    items: tuple[ItemView, ...]

    @property
    def done(self) -> int:
        return sum(1 for i in self.items if i.done)

    @property
    def total(self) -> int:
        return len(self.items)


def upcoming_sessions(patient: Patient, now: dt.datetime) -> QuerySet[DosingSession]:
    """The patient's booked dosing sessions not yet over, next first."""
    return (
        DosingSession.objects.filter(patient=patient, status=SessionStatus.BOOKED, ends_at__gt=now)
        .select_related("site", "plan")
        .order_by("starts_at", "pk")
    )


def own_upcoming_session(
    patient: Patient, session_id: int, now: dt.datetime
) -> DosingSession | None:
    """One of the patient's own upcoming sessions; None for anyone else's (or a past one)."""
    return upcoming_sessions(patient, now).filter(pk=session_id).first()


def latest_answers(session_ids: Iterable[int]) -> dict[tuple[int, str], PreparationAnswer]:
    """(session, item) -> the latest answer: later rows replace earlier ones (one query)."""
    latest: dict[tuple[int, str], PreparationAnswer] = {}
    for row in PreparationAnswer.objects.filter(session_id__in=list(session_ids)).order_by(
        "answered_at", "pk"
    ):
        latest[(row.session_id, row.item)] = row
    return latest


def _preparation(session: DosingSession, in_force: TreatmentPlan | None) -> Preparation:
    plan = session.plan if session.plan is not None else in_force
    return plan.preparation if plan is not None else Preparation()


def checklists(patient: Patient, now: dt.datetime) -> list[SessionChecklist]:
    """Each upcoming dosing session with its checklist, next first (three queries in all)."""
    sessions = list(upcoming_sessions(patient, now))
    if not sessions:
        return []
    in_force = plan_in_force(patient)
    answers = latest_answers(s.pk for s in sessions)
    result = []
    for session in sessions:
        preparation = _preparation(session, in_force)
        zone = session.site.time_zone
        views = []
        for item in ITEMS:
            words = str(getattr(preparation, item.plan_field, "") or "") if item.plan_field else ""
            times = (
                fasting_times(session.starts_at, preparation.fasting)
                if item.key == "fasting"
                else None
            )
            views.append(
                ItemView(
                    item=item,
                    plan_words=words.strip(),
                    answer=answers.get((session.pk, item.key)),
                    no_food_from=local(times[0], zone) if times else None,
                    no_drinks_from=local(times[1], zone) if times else None,
                )
            )
        result.append(SessionChecklist(session, local(session.starts_at, zone), tuple(views)))
    return result


def patient_said(session_id: int) -> dict[str, PreparationAnswer]:
    """For the chair-side console: chairside checklist item -> the patient's latest answer to the
    matching preparation item (one query; read only)."""
    wanted = {prep: console for console, prep in CONSOLE_ITEMS.items()}
    latest: dict[str, PreparationAnswer] = {}
    for row in PreparationAnswer.objects.filter(
        session_id=session_id, item__in=list(wanted)
    ).order_by("answered_at", "pk"):
        latest[wanted[row.item]] = row
    return latest
