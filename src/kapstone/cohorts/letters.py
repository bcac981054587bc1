"""A patient's outcome letter: baseline and latest scores, response and remission, sessions
delivered and their dates, addressed to the patient or to a payer. The numbers are the chart's
(``kapstone.outcomes.selectors.patient_outcomes``), so the letter never disagrees with the chart."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.dosing.selectors import dosing_times
from kapstone.outcomes.selectors import patient_outcomes
from kapstone.patients.models import Patient


@dataclass(frozen=True)
class LetterRow:
    instrument: str  # short name, e.g. PHQ-9
    baseline: int
    baseline_on: dt.date
    latest: int
    latest_on: dt.date
    change: str  # "-12 (-60 %)"
    response: str  # "Yes", "No", or why not judged
    remission: str


@dataclass(frozen=True)
class OutcomeLetter:
    addressee_kind: str  # "patient" or "payer"
    addressee_lines: tuple[str, ...]
    salutation: str
    reference: str
    patient_name: str
    date_of_birth: dt.date
    mrn: str
    written_on: dt.date
    author: str
    sessions_delivered: int
    first_session: dt.date | None
    last_session: dt.date | None
    rows: tuple[LetterRow, ...]
    response_rule: str
    policy_version: str


def _yes_no(value: bool | None, why: str) -> str:
    return "Yes" if value is True else "No" if value is False else f"Not judged: {why}"


def outcome_letter(
    *,
    patient: Patient,
    author: StaffUser,
    to: str,
    payer_name: str,
    payer_address: str,
    reference: str,
    now: dt.datetime,
) -> OutcomeLetter:
    outcomes = patient_outcomes(patient, now)
    sessions = [timezone.localdate(at) for at in dosing_times(patient) if at <= now]
    rows = []
    for card in outcomes.cards:
        o = card.outcome
        if o.follow_up_count == 0:
            continue
        change = card.change_text or "–"
        if card.percent_text:
            change = f"{change} ({card.percent_text})"
        rows.append(
            LetterRow(
                instrument=card.name,
                baseline=o.baseline.total,
                baseline_on=timezone.localdate(o.baseline.at),
                latest=o.latest.total,
                latest_on=timezone.localdate(o.latest.at),
                change=change,
                response=_yes_no(o.response, card.unavailable.get("response", "")),
                remission=(
                    f"{_yes_no(o.remission, card.unavailable.get('remission', ''))}"
                    + (
                        f" ({card.remission.text})"
                        if card.remission and o.remission is not None
                        else ""
                    )
                ),
            )
        )
    name = patient.display_name
    if to == "payer":
        lines = (
            payer_name.strip(),
            *[ln.strip() for ln in payer_address.splitlines() if ln.strip()],
        )
        salutation = "To whom it may concern,"
    else:
        lines = (
            f"{patient.given_name} {patient.family_name}",
            *([patient.address] if patient.address else []),
        )
        salutation = f"Dear {name},"
    return OutcomeLetter(
        addressee_kind="payer" if to == "payer" else "patient",
        addressee_lines=lines,
        salutation=salutation,
        reference=reference.strip(),
        patient_name=f"{patient.given_name} {patient.family_name}",
        date_of_birth=patient.date_of_birth,
        mrn=patient.mrn,
        written_on=timezone.localdate(now),
        author=author.display_name,
        sessions_delivered=len(sessions),
        first_session=sessions[0] if sessions else None,
        last_session=sessions[-1] if sessions else None,
        rows=tuple(rows),
        response_rule=f"a drop of at least {outcomes.response_percent} % from the baseline score",
        policy_version=outcomes.policy.version,
    )
