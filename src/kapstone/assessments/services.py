"""Writes for questionnaires: sending a set (as a link or on the clinic's tablet), saving a
patient's answers as they go, submitting, and a clinician's rating at interview.

Each write runs in one transaction with its audit row. Answers from the patient's link or the
tablet carry no staff actor: their audit rows are the system's, on the patient's chart; a rating's
rows name the rater. Scoring is the core's (:func:`kapstone.clinical.instruments.score`); this
module only validates each answer against the definition's options so partial progress can be
saved without scoring.
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
from kapstone.clinical.plausibility import CLINICAL_DATE_FLOOR
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.safety.services import raise_for_result
from kapstone.web.labels import label, labels

# One message for every link that does not open, so a link's state cannot be probed.
LINK_REFUSED = (
    "This link cannot be opened. It may have expired or already been used. "
    "Please contact the clinic for a new link."
)
LONGEST_VALIDITY = dt.timedelta(days=30)
LONGEST_TOKEN = 100
# Clinic policy: a tablet set is answered in the waiting room before the appointment, so it closes
# soon; a forgotten tablet then holds nothing that still opens.
KIOSK_VALIDITY = dt.timedelta(hours=2)
# A rating is saved and submitted in the same transaction; its set only has to outlive that.
RATING_VALIDITY = dt.timedelta(minutes=15)


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
    by: StaffUser | None,
    patient: Patient,
    instruments: Sequence[str],
    valid_for: dt.timedelta = dt.timedelta(days=7),
    kiosk: bool = False,
    now: dt.datetime | None = None,
) -> tuple[QuestionnaireSet, str]:
    """Creates the set and one response per instrument; returns the raw token, which is not kept.
    ``by`` is None when the system sends it (a scheduled reminder).

    A kiosk set is answered on the clinic's tablet at the patient's home site: it is valid for
    :data:`KIOSK_VALIDITY` whatever ``valid_for`` says, and its token opens only kiosk pages.
    """
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
    if kiosk:
        valid_for = KIOSK_VALIDITY
    if not dt.timedelta(0) < valid_for <= LONGEST_VALIDITY:
        errors["valid_for"] = [
            f"A link can stay valid for up to {LONGEST_VALIDITY.days} days and must not already "
            "be expired."
        ]
    if errors:
        raise InputError(errors)

    token = new_token()
    now = now or timezone.now()
    with transaction.atomic():
        questionnaire_set = QuestionnaireSet.objects.create(
            patient=patient,
            instruments=names,
            sent_by=by,
            sent_at=now,
            expires_at=now + valid_for,
            token_hash=token_hash(token),
            kiosk=kiosk,
            site=patient.home_site if kiosk else None,
        )
        for position, name in enumerate(names):
            QuestionnaireResponse.objects.create(
                questionnaire_set=questionnaire_set,
                position=position,
                instrument=name,
                instrument_version=INSTRUMENTS[name].version,
            )
        until = f"{timezone.localtime(questionnaire_set.expires_at):%Y-%m-%d %H:%M}"
        how = (
            f"handed to the patient on the clinic tablet at {patient.home_site}; open until {until}"
            if kiosk
            else f"link valid until {until}"
        )
        record(
            actor=by,
            action="questionnaire.sent",
            patient=patient,
            obj=questionnaire_set,
            summary=f"Sent {', '.join(_title(n) for n in names)}; {how}",
            after={
                "instruments": names,
                "expires_at": questionnaire_set.expires_at,
                **({"kiosk": True, "site": patient.home_site_id} if kiosk else {}),
            },
        )
    return questionnaire_set, token


def open_link(*, token: str, now: dt.datetime, kiosk: bool = False) -> QuestionnaireSet:
    """The set a link (or, with ``kiosk``, the tablet's session) opens, or InputError with the same
    message whatever the reason. A kiosk set's token never opens as a link and a link's never on
    the tablet, so a token read off the tablet's screen is no use elsewhere."""
    found = None
    if token and len(token) <= LONGEST_TOKEN:
        found = (
            QuestionnaireSet.objects.select_related("patient")
            .filter(token_hash=token_hash(token), kiosk=kiosk)
            .first()
        )
    if found is None or not found.is_open(now):
        raise InputError.single("token", LINK_REFUSED)
    return found


def reissue_link(*, questionnaire_set: QuestionnaireSet, actor_label: str, now: dt.datetime) -> str:
    """A fresh token for an open link set, for the patient signed in to the companion app: the set
    keeps one token hash, so the new token replaces the e-mailed one (which then shows the same
    refusal as any closed link). Nothing else of the set or its answers changes: the patient goes
    on where they left off, through the same pages. ``actor_label`` names the patient's account."""
    token = new_token()
    with transaction.atomic():
        locked = QuestionnaireSet.objects.select_for_update().get(pk=questionnaire_set.pk)
        if locked.kiosk or not locked.is_open(now):
            raise InputError.single("token", LINK_REFUSED)
        QuestionnaireSet.objects.filter(pk=locked.pk).update(token_hash=token_hash(token))
        record(
            actor=None,
            actor_label=actor_label,
            action="questionnaire.link_reissued",
            patient=locked.patient,
            obj=locked,
            summary="A new link was made for the open questionnaires, from the companion app",
        )
    return token


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
    # The patient comes in the same read (saving and submitting both name them in the audit row);
    # only the set's row is locked.
    fresh = (
        QuestionnaireSet.objects.select_for_update(of=("self",))
        .select_related("patient")
        .get(pk=questionnaire_set.pk)
    )
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


def _entered_by(questionnaire_set: QuestionnaireSet, by: StaffUser | None) -> str:
    if by is not None:
        return f"entered by {by.display_name}"
    return "saved from the clinic tablet" if questionnaire_set.kiosk else "saved from the link"


def save_answers(
    *,
    questionnaire_set: QuestionnaireSet,
    instrument: str,
    answers: Mapping[str, Any],
    by: StaffUser | None = None,
    now: dt.datetime | None = None,
) -> QuestionnaireResponse:
    """Saves some answers without scoring. Each must be one of its item's answers and asked by the
    instrument's flow; answers the flow no longer asks (after a change to the answer that led to
    them) are removed, as on the paper form. ``by`` is the staff member entering them (a rating);
    the patient's own answers have none. ``now`` is for importing earlier answers (the demo)."""
    now = now or timezone.now()
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
                actor=by,
                action="questionnaire.answers_saved",
                patient=locked_set.patient,
                obj=response,
                summary=f"{definition.title}: answer to question "
                f"{', '.join(sorted(before, key=definition.item_ids.index))} "
                + _entered_by(locked_set, by),
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
    by: StaffUser | None = None,
    now: dt.datetime | None = None,
) -> QuestionnaireResponse:
    """Scores the saved answers with the core and stores the result; refuses, keeping every saved
    answer, with the core's problem for each item when anything required is missing. ``by`` is the
    rater submitting a clinician-rated instrument; the patient's own submissions have none.
    ``now`` is when the measure was taken (a rating's interview time); a suicide-risk alert counts
    its escalation time from then."""
    now = now or timezone.now()
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
            actor=by,
            action="questionnaire.submitted",
            patient=locked_set.patient,
            obj=response,
            summary=f"{definition.title} submitted: {shown_total}"
            + (f", {label(result.severity)}" if result.severity else "")
            + (f"; flags: {labels(response.flags)}" if response.flags else ""),
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


def why_not_rated(instrument: str) -> str | None:
    """Why a clinician cannot rate this instrument at interview; None when they can."""
    if instrument in INSTRUMENTS and instrument in flow.CLINICIAN_RATED:
        return None
    rated = ", ".join(_title(name) for name in sorted(flow.CLINICIAN_RATED))
    why = (
        "is a self-report questionnaire: send it to the patient instead"
        if instrument in INSTRUMENTS
        else "is not in the questionnaire library"
    )
    return f"{_title(instrument)} {why}. Clinicians rate at interview: {rated}."


def rate_instrument(
    *,
    by: StaffUser,
    patient: Patient,
    instrument: str,
    answers: Mapping[str, Any],
    rated_at: dt.datetime | None = None,
    policy: ScoringPolicy | None = None,
) -> QuestionnaireResponse:
    """A clinician's rating at interview, stored like a patient's submission: a set of its own
    (whose token is thrown away, so nobody can open it), the answers saved and then submitted by the
    rater through :func:`save_answers` and :func:`submit`, so scoring, immutability and the
    suicide-risk alert apply unchanged. All in one transaction: a refused rating writes nothing.

    ``rated_at`` is when the interview took place (now when not given); it may not be in the future.
    It becomes the response's ``submitted_at``, which every reader takes as the time the score
    describes, however long after the interview the rating was entered.
    """
    now = timezone.now()
    rated_at = rated_at or now
    refusal = why_not_rated(instrument)
    if refusal is not None:
        raise InputError.single("instrument", refusal)
    definition = flow.definition(instrument)
    errors = _answer_problems(definition, answers, {})
    if not errors:
        try:
            score(instrument, answers, policy=policy or ScoringPolicy())
        except AnswerErrors as exc:
            errors = _problems_by_item(definition, exc)
    if rated_at > now:
        errors.setdefault("rated_at", []).append(
            "The interview time is in the future; give the time the patient was rated."
        )
    elif rated_at.date() < max(CLINICAL_DATE_FLOOR, patient.date_of_birth):
        errors.setdefault("rated_at", []).append(
            f"The interview time {rated_at:%d %b %Y} is before the patient's birth or "
            f"{CLINICAL_DATE_FLOOR.year}; give the time the patient was rated."
        )
    if errors:
        raise InputError(errors)

    with transaction.atomic():
        questionnaire_set = QuestionnaireSet.objects.create(
            patient=patient,
            instruments=[instrument],
            sent_by=by,
            sent_at=rated_at,
            expires_at=now + RATING_VALIDITY,
            token_hash=token_hash(new_token()),
        )
        QuestionnaireResponse.objects.create(
            questionnaire_set=questionnaire_set,
            position=0,
            instrument=instrument,
            instrument_version=definition.version,
        )
        record(
            actor=by,
            action="questionnaire.rated",
            patient=patient,
            obj=questionnaire_set,
            summary=f"{definition.title} rated at interview "
            f"{timezone.localtime(rated_at):%Y-%m-%d %H:%M} by {by.display_name}",
            after={"instruments": [instrument], "rated_at": rated_at},
        )
        save_answers(
            questionnaire_set=questionnaire_set,
            instrument=instrument,
            answers=answers,
            by=by,
            now=rated_at,
        )
        return submit(
            questionnaire_set=questionnaire_set,
            instrument=instrument,
            policy=policy,
            by=by,
            now=rated_at,
        )
