"""Writes for questionnaires: sending a set, saving a patient's answers as they go, submitting.

Each write runs in one transaction with its audit row. Answers from the patient's link carry no
staff actor: their audit rows are the system's, on the patient's chart. Scoring is the core's
(:func:`kapstone.clinical.instruments.score`); this module only validates each answer against the
definition's options so partial progress can be saved without scoring.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.assessments import flow
from kapstone.assessments.models import QuestionnaireResponse, QuestionnaireSet, ResponseStatus
from kapstone.assessments.tokens import new_token, token_hash
from kapstone.audit.trail import record
from kapstone.clinical.instruments import (
    INSTRUMENTS,
    AnswerErrors,
    InstrumentDefinition,
    ScoringPolicy,
    score,
)
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.safety.services import raise_for_result

# One message for every link that does not open, so a link's state cannot be probed.
LINK_REFUSED = (
    "This link cannot be opened. It may have expired or already been used. "
    "Please contact the clinic for a new link."
)
LONGEST_VALIDITY = dt.timedelta(days=30)
LONGEST_TOKEN = 100


def _title(name: str) -> str:
    definition = INSTRUMENTS.get(name)
    return definition.title if definition is not None else name


def _shown(value: object) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def send_questionnaires(
    *,
    by: StaffUser,
    patient: Patient,
    instruments: Sequence[str],
    valid_for: dt.timedelta = dt.timedelta(days=7),
) -> tuple[QuestionnaireSet, str]:
    """Creates the set and one response per instrument; returns the raw token, which is not kept."""
    errors: dict[str, list[str]] = {}
    names = list(instruments)
    problems: list[str] = []
    if not names:
        problems.append("Choose at least one questionnaire.")
    for name in sorted(set(names)):
        if name not in INSTRUMENTS:
            problems.append(
                f"{name!r} is not in the questionnaire library; it has {', '.join(INSTRUMENTS)}."
            )
        elif name in flow.CLINICIAN_RATED:
            problems.append(
                f"{_title(name)} is rated by a clinician at interview; it cannot be sent to a "
                "patient."
            )
        if names.count(name) > 1:
            problems.append(f"{_title(name)} is chosen more than once.")
    if problems:
        errors["instruments"] = problems
    if not dt.timedelta(0) < valid_for <= LONGEST_VALIDITY:
        errors["valid_for"] = [
            f"A link can stay valid for up to {LONGEST_VALIDITY.days} days and must not already "
            "be expired."
        ]
    if errors:
        raise InputError(errors)

    token = new_token()
    now = timezone.now()
    with transaction.atomic():
        questionnaire_set = QuestionnaireSet.objects.create(
            patient=patient,
            instruments=names,
            sent_by=by,
            sent_at=now,
            expires_at=now + valid_for,
            token_hash=token_hash(token),
        )
        for position, name in enumerate(names):
            QuestionnaireResponse.objects.create(
                questionnaire_set=questionnaire_set,
                position=position,
                instrument=name,
                instrument_version=INSTRUMENTS[name].version,
            )
        record(
            actor=by,
            action="questionnaire.sent",
            patient=patient,
            obj=questionnaire_set,
            summary=f"Sent {', '.join(_title(n) for n in names)}; link valid until "
            f"{timezone.localtime(questionnaire_set.expires_at):%Y-%m-%d %H:%M}",
            after={"instruments": names, "expires_at": questionnaire_set.expires_at},
        )
    return questionnaire_set, token


def open_link(*, token: str, now: dt.datetime) -> QuestionnaireSet:
    """The set a link opens, or InputError with the same message whatever the reason."""
    found = None
    if token and len(token) <= LONGEST_TOKEN:
        found = (
            QuestionnaireSet.objects.select_related("patient")
            .filter(token_hash=token_hash(token))
            .first()
        )
    if found is None or not found.is_open(now):
        raise InputError.single("token", LINK_REFUSED)
    return found


def _answer_problems(
    definition: InstrumentDefinition, given: Mapping[str, Any], saved: Mapping[str, Any]
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    merged = {**saved, **given}
    for key, value in given.items():
        try:
            item = definition.item(key)
        except KeyError:
            errors[str(key)] = [
                f"{definition.title} has no question {key}; its questions are "
                f"{', '.join(definition.item_ids)}."
            ]
            continue
        if item.option_for(value) is None:
            errors[key] = [
                f"Question {key} ({item.label}): {_shown(value)} is not one of its answers; it "
                f"accepts {item.accepts()}."
            ]
        elif not flow.is_shown(item, merged):
            rule = item.asked_when
            why = f": it is asked only when {rule.description}" if rule is not None else ""
            errors[key] = [f"Question {key} ({item.label}) is not asked here{why}."]
    return errors


def _lock_open_set(questionnaire_set: QuestionnaireSet, now: dt.datetime) -> QuestionnaireSet:
    fresh = QuestionnaireSet.objects.select_for_update().get(pk=questionnaire_set.pk)
    if not fresh.is_open(now):
        raise InputError.single("token", LINK_REFUSED)
    return fresh


def _lock_in_progress(
    questionnaire_set: QuestionnaireSet, instrument: str
) -> QuestionnaireResponse:
    response = (
        QuestionnaireResponse.objects.select_for_update()
        .filter(questionnaire_set=questionnaire_set, instrument=instrument)
        .first()
    )
    if response is None:
        raise InputError.single(
            "instrument", f"{_title(instrument)} is not part of these questionnaires."
        )
    if response.is_submitted:
        raise InputError.single(
            "instrument",
            f"{_title(instrument)} has already been submitted; a submitted questionnaire cannot "
            "be changed.",
        )
    return response


def save_answers(
    *, questionnaire_set: QuestionnaireSet, instrument: str, answers: Mapping[str, Any]
) -> QuestionnaireResponse:
    """Saves some answers without scoring. Each must be one of its item's answers and asked by the
    instrument's flow; answers the flow no longer asks (after a change to the answer that led to
    them) are removed, as on the paper form."""
    now = timezone.now()
    with transaction.atomic():
        locked_set = _lock_open_set(questionnaire_set, now)
        response = _lock_in_progress(locked_set, instrument)
        definition = flow.definition(response.instrument)
        errors = _answer_problems(definition, answers, response.answers)
        if errors:
            raise InputError(errors)
        merged = {**response.answers, **answers}
        cleared = flow.skipped_answers(definition, merged)
        for item_id in cleared:
            del merged[item_id]
        before = {
            k: response.answers.get(k)
            for k in (*answers, *cleared)
            if response.answers.get(k) != merged.get(k)
        }
        after = {k: merged.get(k) for k in before}
        response.answers = merged
        response.started_at = response.started_at or now
        response.last_saved_at = now
        response.save(update_fields=["answers", "started_at", "last_saved_at"])
        if before:
            record(
                actor=None,
                action="questionnaire.answers_saved",
                patient=locked_set.patient,
                obj=response,
                summary=f"{definition.title}: answer to question "
                f"{', '.join(sorted(before, key=definition.item_ids.index))} saved from the link",
                before=before,
                after=after,
            )
    return response


def _problems_by_item(definition: InstrumentDefinition, exc: AnswerErrors) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for problem in exc.problems:
        key = problem.item or ""
        label = ""
        if problem.item in definition.item_ids:
            label = f" ({definition.item(problem.item).label})"
        prefix = f"Question {problem.item}{label}: " if problem.item else ""
        errors.setdefault(key, []).append(
            f"{prefix}{problem.problem}; it accepts {problem.accepts}."
        )
    return errors


def submit(
    *,
    questionnaire_set: QuestionnaireSet,
    instrument: str,
    policy: ScoringPolicy | None = None,
) -> QuestionnaireResponse:
    """Scores the saved answers with the core and stores the result; refuses, keeping every saved
    answer, with the core's problem for each item when anything required is missing."""
    now = timezone.now()
    with transaction.atomic():
        locked_set = _lock_open_set(questionnaire_set, now)
        response = _lock_in_progress(locked_set, instrument)
        definition = flow.definition(response.instrument)
        try:
            result = score(response.instrument, response.answers, policy=policy or ScoringPolicy())
        except AnswerErrors as exc:
            raise InputError(_problems_by_item(definition, exc)) from exc
        response.status = ResponseStatus.SUBMITTED
        response.submitted_at = now
        response.started_at = response.started_at or now
        response.instrument_version = result.version
        response.answers = dict(result.answers)
        response.total = result.total
        response.severity = result.severity or ""
        response.subscales = dict(result.subscales)
        response.flags = [str(flag) for flag in result.flags]
        response.policy_version = result.policy_version
        response.save()
        if not locked_set.responses.filter(status=ResponseStatus.IN_PROGRESS).exists():
            locked_set.submitted_at = now
            locked_set.save(update_fields=["submitted_at"])
        shown_total = "no total" if result.total is None else f"total {result.total}"
        record(
            actor=None,
            action="questionnaire.submitted",
            patient=locked_set.patient,
            obj=response,
            summary=f"{definition.title} submitted: {shown_total}"
            + (f", {result.severity}" if result.severity else "")
            + (f"; flags {', '.join(response.flags)}" if response.flags else ""),
            after={
                "instrument_version": response.instrument_version,
                "total": response.total,
                "severity": response.severity,
                "subscales": response.subscales,
                "flags": response.flags,
                "policy_version": response.policy_version,
            },
        )
        # In the same transaction: a result with the suicide-risk flag is never stored without its
        # alert (and, for a high C-SSRS, its dosing hold).
        raise_for_result(
            patient=locked_set.patient,
            instrument=response.instrument,
            title=definition.title,
            severity=result.severity,
            flags=response.flags,
            response=response,
            now=now,
        )
    return response
