"""Writes of the cohorts app: only audit rows. Every CSV, program report and outcome letter is an
export (data leaving the screen), recorded with what was exported and for which period or patient.
The dashboard's own exports hold aggregates only, so their rows name no patient."""

from __future__ import annotations

from collections.abc import Mapping

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import jsonable, record
from kapstone.cohorts.letters import OutcomeLetter
from kapstone.patients.models import Patient


def record_export(*, by: StaffUser, what: str, query: Mapping[str, object], rows: int) -> None:
    record(
        actor=by,
        action="cohort.exported",
        summary=f"Cohort dashboard {what}: first doses {query['start']} to {query['end']}, "
        f"{rows} rows",
        after={"export": what, "query": jsonable(dict(query)), "rows": rows},
    )


def record_letter(*, by: StaffUser, patient: Patient, letter: OutcomeLetter) -> None:
    record(
        actor=by,
        action="outcome_letter.printed",
        patient=patient,
        summary=f"Outcome letter printed for the {letter.addressee_kind}",
        after={
            "addressed_to": letter.addressee_kind,
            "instruments": [row.instrument for row in letter.rows],
            "sessions_delivered": letter.sessions_delivered,
            "outcome_policy": letter.policy_version,
        },
    )
