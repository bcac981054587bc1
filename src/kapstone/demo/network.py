"""A deterministic synthetic clinic network at scale (default 100 000 patients over 10 sites).

**Synthetic bulk data, written around the services on purpose.** The demo clinic
(:mod:`kapstone.demo.generator`) goes through the services, so every row has its audit entry; that
path makes a few dozen patients in seconds and could not make 100 000 in hours. This module writes
the same tables directly, in large batches (PostgreSQL ``COPY``; ``bulk_create`` on SQLite), with
primary keys it assigns itself so that children reference parents without a round trip. It writes
**no audit rows**, raises no alerts and sends nothing: it exists to give the cohort dashboard and its
benchmark (``bench/outcomes.py``) a realistic volume. Append-only tables are only inserted into, so
their triggers are respected; foreign keys and check constraints stay on and are checked by the
database as usual.

What each patient gets (each patient from its own ``random.Random`` seeded by ``seed`` and its
number, so the same seed always gives the same rows, and chunks are independent):

- registration (demographics, care team at the home site) and a weight;
- a complete intake (presenting conditions, the current episode's antidepressant trials, so about
  60 % are treatment-resistant), its eligibility review with the core's own decision for that
  intake, and the prescriber's signature;
- a signed treatment plan for one program (intensive retreat, standard IV induction, extended
  outpatient weekly or fortnightly, esketamine induction), its route, dose schedule from the core's
  calculator and the therapist's integration modalities, with its measurement care plan; about a
  third of responders continue on a second, signed plan version for monthly maintenance;
- 4-12 dosing sessions (a few stop early, a few are cancelled; sessions after ``now`` are booked),
  plus the maintenance visits;
- PHQ-9 and GAD-7: at intake (baseline), before each dose, 18-36 h after the first dose (PHQ-9),
  at the end of the course and 1, 3, 6 and 12 months after it, each missed at a realistic rate
  (more with time, more for those who stopped early). Scores follow a latent class (remitter,
  responder, partial, non-responder; worse odds when treatment-resistant), improve over the
  course, and responders may relapse (later under maintenance). Item answers are real answer
  patterns scored by the core; PHQ-9 item 9 is always 0, so no suicide-risk alert is implied by
  rows that have none.

``build_network`` refuses a database holding patients that are not demo patients
(:func:`non_demo_patients`): registered by an account outside the demo's ``.invalid`` mail domains.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, partial
from typing import Any, cast

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.db.models import Max, Q
from django.utils import timezone
from psycopg.types.json import Jsonb

from kapstone.accounts.models import ModalityCredential, Room, Site, StaffUser
from kapstone.assessments.models import QuestionnaireResponse, QuestionnaireSet
from kapstone.chairside.models import (
    AdverseEvent,
    ChairsideRecord,
    DischargeSignoff,
    DissociationRating,
    DoseAdministration,
    VitalReading,
)
from kapstone.chairside.policy import checklist_policy, monitoring_policy
from kapstone.clinical.access import Modality, Role
from kapstone.clinical.dosing import ESKETAMINE_DEVICE_MG
from kapstone.clinical.eligibility import Decision, assess
from kapstone.clinical.instruments import INSTRUMENTS, score
from kapstone.clinical.modality_matching import (
    AnxietyPresentation,
    CredentialedTherapist,
    PresentationProfile,
    match_modalities,
)
from kapstone.clinical.routes import Route
from kapstone.clinical.vital_signs import DissociationScale
from kapstone.demo.generator import DEMO_PASSWORD, FAMILY, GIVEN_FEMALE, GIVEN_MALE, STREETS
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.intake.document import PRESENTATION_FLAGS, screenable
from kapstone.intake.models import EligibilityReview, EligibilitySignature, IntakeVersion
from kapstone.intake.selectors import current_policy as eligibility_policy
from kapstone.measures.models import MeasurementCarePlan
from kapstone.measures.plans import PLANS
from kapstone.measures.plans import current_policy as schedule_policy
from kapstone.patients.models import BodyMeasurement, Patient, ReferralSource, SexAtBirth
from kapstone.plans import doses
from kapstone.plans.models import PlanSignature, ProgramTemplateVersion, TreatmentPlan
from kapstone.plans.selectors import proposal_data

# Demo accounts live in reserved .invalid mail domains (RFC 2606), which no real clinic uses: a
# patient registered by anyone else is a real patient, and the generator will not run beside one.
DEMO_MAIL_DOMAIN = "demo.kapstone.invalid"
NETWORK_MAIL_DOMAIN = f"network.{DEMO_MAIL_DOMAIN}"
MRN_PREFIX = "NET-"

SITE_TOWNS = (
    ("Portland", "ME", "207"),
    ("Bangor", "ME", "207"),
    ("Burlington", "VT", "802"),
    ("Manchester", "NH", "603"),
    ("Concord", "NH", "603"),
    ("Providence", "RI", "401"),
    ("Hartford", "CT", "860"),
    ("Worcester", "MA", "508"),
    ("Springfield", "MA", "413"),
    ("Lewiston", "ME", "207"),
)
# Per site: enough staff that care teams spread as in a real network.
PRESCRIBERS_PER_SITE, NURSES_PER_SITE, THERAPISTS_PER_SITE = 3, 6, 6

# Program mix (share of patients) and the routes each is given by, with their shares.
PROGRAM_MIX: tuple[tuple[str, float], ...] = (
    ("intensive_retreat", 0.20),
    ("standard_iv_induction", 0.30),
    ("extended_outpatient_weekly", 0.15),
    ("extended_outpatient_fortnightly", 0.10),
    ("esketamine_induction", 0.25),
)
ROUTE_MIX: dict[str, tuple[tuple[Route, float], ...]] = {
    "intensive_retreat": ((Route.IV, 0.5), (Route.IM, 0.3), (Route.SUBLINGUAL_LOZENGE, 0.2)),
    "standard_iv_induction": ((Route.IV, 1.0),),
    "extended_outpatient_weekly": (
        (Route.IV, 0.3),
        (Route.IM, 0.25),
        (Route.SC, 0.15),
        (Route.SUBLINGUAL_LOZENGE, 0.2),
        (Route.ORAL, 0.1),
    ),
    "extended_outpatient_fortnightly": (
        (Route.IV, 0.3),
        (Route.IM, 0.3),
        (Route.SC, 0.1),
        (Route.SUBLINGUAL_LOZENGE, 0.2),
        (Route.ORAL, 0.1),
    ),
    "esketamine_induction": ((Route.INTRANASAL_ESKETAMINE, 1.0),),
    "maintenance_monthly": (),  # keeps the induction's route
}
# Days of each dose from the first; courses that stop early keep a prefix (at least 4).
COURSE_DAYS: dict[str, tuple[int, ...]] = {
    "intensive_retreat": (0, 2, 4, 7, 9, 11),
    "standard_iv_induction": (0, 3, 7, 10, 14, 17),
    "extended_outpatient_weekly": tuple(7 * k for k in range(12)),
    "extended_outpatient_fortnightly": tuple(14 * k for k in range(6)),
    "esketamine_induction": (0, 3, 7, 10, 14, 17, 21, 24),
    "maintenance_monthly": tuple(28 * k for k in range(6)),
}
SESSION_MINUTES = {
    Route.IV: 100,
    Route.IM: 100,
    Route.SC: 100,
    Route.SUBLINGUAL_LOZENGE: 120,
    Route.ORAL: 120,
    Route.INTRANASAL_ESKETAMINE: 150,
}
DOSE_INPUTS: dict[Route, tuple[str, tuple[Decimal, ...], Decimal | None, Decimal | None]] = {
    Route.IV: (doses.MG_PER_KG, (Decimal("0.5"),), Decimal(10), Decimal(40)),
    Route.IM: (doses.MG_PER_KG, (Decimal("0.5"), Decimal("0.75")), Decimal(50), None),
    Route.SC: (doses.MG_PER_KG, (Decimal("0.5"),), Decimal(50), None),
    Route.SUBLINGUAL_LOZENGE: (doses.MG, (Decimal(150), Decimal(200)), None, None),
    Route.ORAL: (doses.MG, (Decimal(200),), None, None),
    Route.INTRANASAL_ESKETAMINE: (doses.MG, (Decimal(56), Decimal(84)), None, None),
}
# Rooms per site and the routes each is equipped for.
ROOMS = (
    ("Infusion bay 1", [Route.IV.value, Route.IM.value, Route.SC.value]),
    ("Infusion bay 2", [Route.IV.value, Route.IM.value, Route.SC.value]),
    ("Quiet room", [Route.SUBLINGUAL_LOZENGE.value, Route.ORAL.value, Route.IM.value]),
    ("REMS observation", [Route.INTRANASAL_ESKETAMINE.value]),
)

# Latent outcome classes: (name, share of the final score relative to baseline, 24-hour share).
CLASSES = (
    ("remitter", (0.05, 0.25), (0.15, 0.5)),
    ("responder", (0.3, 0.5), (0.25, 0.6)),
    ("partial", (0.55, 0.75), (0.35, 0.8)),
    ("non_responder", (0.8, 1.05), (0.6, 1.0)),
)
CLASS_ODDS = {False: (0.32, 0.28, 0.18, 0.22), True: (0.22, 0.26, 0.22, 0.30)}  # by TRD
# Share of scheduled measures not completed.
MISSED_PRE_DOSE, MISSED_24H, MISSED_END = 0.08, 0.2, 0.15
FOLLOW_UPS = ((30, 0.25), (91, 0.35), (182, 0.45), (365, 0.55))  # days after the course, missed
EARLY_STOP = 0.1  # share of courses that stop before the program's last dose
CANCELLED = 0.03  # share of sessions cancelled (and rebooked two days later)
MAINTENANCE = 0.35  # share of responders who continue on monthly maintenance
RELAPSE_MEDIAN_DAYS = {False: 120.0, True: 330.0}  # after the course; with maintenance: True

PRESENTATIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("rumination", {"anxiety_mainly": None, "rumination": True, "harsh_self_criticism": True}),
    ("withdrawal", {"anxiety_mainly": None, "withdrawal": True, "rumination": True}),
    ("trauma", {"anxiety_mainly": None, "trauma_rooted_memories": True, "intrusive_imagery": True}),
    ("somatic", {"anxiety_mainly": AnxietyPresentation.SOMATIC.value, "body_symptoms": True}),
    (
        "panic",
        {"anxiety_mainly": AnxietyPresentation.BEHAVIOURAL.value, "panic_and_avoidance": True},
    ),
    ("worry", {"anxiety_mainly": AnxietyPresentation.COGNITIVE.value, "rumination": True}),
)
FAILED_DRUGS = ("sertraline", "escitalopram", "venlafaxine", "bupropion", "mirtazapine")


@dataclass(frozen=True)
class NetworkResult:
    patients: int
    seed: int
    seconds: float
    rows: dict[str, int]


def non_demo_patients() -> int:
    """Patients not registered by a demo account: the generator refuses to run beside them."""
    return Patient.objects.exclude(
        Q(registered_by__email__endswith=f"@{DEMO_MAIL_DOMAIN}")
        | Q(registered_by__email__endswith=f".{DEMO_MAIL_DOMAIN}")
    ).count()


# --- the batch writer -------------------------------------------------------------------------


class _Table:
    """Rows for one table, with primary keys assigned here (from the table's current maximum)."""

    def __init__(self, model: type[models.Model], fields: Sequence[str]) -> None:
        self.model = model
        meta = model._meta
        self.fields = ("id", *fields)
        self.concrete = [cast("models.Field[Any, Any]", meta.get_field(n)) for n in self.fields]
        self.columns = [str(f.column) for f in self.concrete]
        self.attnames = [f.attname for f in self.concrete]
        self.json = [isinstance(f, models.JSONField) for f in self.concrete]
        self.rows: list[tuple[Any, ...]] = []
        self.next_id = (model._default_manager.aggregate(m=Max("id"))["m"] or 0) + 1
        self.written = 0

    def add(self, *values: Any) -> int:
        """Queues a row (JSON columns as JSON text) and returns its id."""
        row_id = self.next_id
        self.next_id += 1
        self.rows.append((row_id, *values))
        return row_id

    def flush(self) -> None:
        if not self.rows:
            return
        if connection.vendor == "postgresql":
            table = connection.ops.quote_name(self.model._meta.db_table)
            columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
            types = self._pg_types()
            json_at = [k for k, is_json in enumerate(self.json) if is_json]
            with connection.cursor() as cursor:
                raw = cursor.cursor  # psycopg's cursor: COPY is not part of the DB-API
                # Binary COPY with the column types given: psycopg converts in C, about ten
                # times faster than formatting text rows in Python.
                with raw.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(types)
                    for row in self.rows:
                        if json_at:
                            values = list(row)
                            for k in json_at:
                                if values[k] is not None:
                                    values[k] = Jsonb(values[k], dumps=_as_is)
                            copy.write_row(values)
                        else:
                            copy.write_row(row)
        else:
            self.model._default_manager.bulk_create(
                [
                    self.model(
                        **{
                            name: json.loads(value) if is_json and value is not None else value
                            for name, value, is_json in zip(
                                self.attnames, row, self.json, strict=True
                            )
                        }
                    )
                    for row in self.rows
                ],
                batch_size=500,
            )
        self.written += len(self.rows)
        self.rows = []

    def _pg_types(self) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT a.attname, t.typname FROM pg_attribute a "
                "JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = %s::regclass",
                [self.model._meta.db_table],
            )
            found = dict(cursor.fetchall())
        return [found[c] for c in self.columns]

    def broken_references(self, since: int) -> list[str]:
        """Each foreign key of the rows from id ``since`` on that names no row: one anti-join per
        key (the load ran with the per-row checks off)."""
        found = []
        q = connection.ops.quote_name
        table = q(self.model._meta.db_table)
        with connection.cursor() as cursor:
            for target in self.concrete:
                if not (target.many_to_one or target.one_to_one):
                    continue
                related = target.related_model
                if not isinstance(related, type):  # resolved to a model class once apps load
                    continue
                parent = related._meta
                key, column = q(str(parent.pk.column)), q(str(target.column))
                cursor.execute(
                    f"SELECT count(*) FROM {table} c LEFT JOIN {q(parent.db_table)} p "  # noqa: S608
                    f"ON p.{key} = c.{column} WHERE c.id >= %s AND c.{column} IS NOT NULL "
                    f"AND p.{key} IS NULL",
                    [since],
                )
                (missing,) = cursor.fetchone()
                if missing:
                    found.append(f"{self.model._meta.db_table}.{target.column}: {missing} rows")
        return found

    def reset_sequence(self) -> None:
        if connection.vendor != "postgresql":
            return  # SQLite's AUTOINCREMENT follows the largest id inserted
        table = self.model._meta.db_table
        # The table name is the model's own, quoted: no outside input reaches the SQL.
        biggest = f"SELECT COALESCE(MAX(id), 1) FROM {connection.ops.quote_name(table)}"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), ({biggest}))", [table])


def _as_is(text: str) -> str:
    """JSON columns are queued as JSON text already."""
    return text


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


# --- answer patterns, scored by the core ------------------------------------------------------


@cache
def _patterns(instrument: str) -> dict[int, list[tuple[str, str]]]:
    """For every reachable total, a few item-answer patterns as JSON text with the core's severity.
    PHQ-9 item 9 (self-harm) stays at 0; PHQ-9 item 10 (difficulty) follows the total."""
    definition = INSTRUMENTS[instrument]
    unscored = {"9", "10"} if instrument == "phq9" else set()
    scored = [i.id for i in definition.items if i.id not in unscored]
    top = 3 * len(scored)
    rng = random.Random(f"patterns:{instrument}")
    found: dict[int, list[tuple[str, str]]] = {}
    for total in range(top + 1):
        for _ in range(6):
            points = dict.fromkeys(scored, 0)
            for _ in range(total):
                item = rng.choice([i for i in scored if points[i] < 3])
                points[item] += 1
            answers: dict[str, int] = dict(points)
            if instrument == "phq9":
                answers["9"] = 0
                answers["10"] = min(3, total // 7)
                answers = {i.id: answers[i.id] for i in definition.items}
            result = score(instrument, answers)
            assert result.total == total
            found.setdefault(total, []).append((_dumps(answers), result.severity or ""))
    return found


# --- clinical content computed once per kind, then reused -------------------------------------


@dataclass(frozen=True)
class _Archetype:
    """One kind of intake: the facts that vary are patched per patient."""

    conditions: tuple[str, ...]
    trd: bool
    presentation_key: str


def _trials(trd: bool, count: int, rng: random.Random | None = None) -> list[dict[str, Any]]:
    """``count`` antidepressant trials of the current episode: failed after an adequate dose and
    duration when treatment-resistant, otherwise stopped too soon to count."""
    return [
        {
            "drug": FAILED_DRUGS[k],
            "daily_dose_mg": 150,
            "weeks": (rng.randint(6, 16) if rng else 8)
            if trd
            else (rng.randint(2, 5) if rng else 3),
            "adequate_dose": True,
            "outcome": "no_response" if trd else "partial_response",
        }
        for k in range(count)
    ]


@cache
def _screened(archetype: _Archetype, trials: int) -> tuple[str, str, str]:
    """The core's eligibility decision for an intake of this kind: (decision, findings, derived).
    Only the trials' weeks differ between patients of one kind, never across the 6-week line."""
    day = dt.date(2026, 1, 15)
    facts = _facts(archetype, age=45, recorded_on=day, trials=_trials(archetype.trd, trials))
    decision = assess(screenable(facts), on=day, policy=eligibility_policy())
    result = decision.as_json()
    return decision.decision.value, _dumps(result["findings"]), _dumps(result["derived"])


def _facts(
    archetype: _Archetype, *, age: int, recorded_on: dt.date, trials: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "recorded_on": recorded_on.isoformat(),
        "age_years": age,
        "presenting_conditions": list(archetype.conditions),
        "current_episode": {
            "started_on": (recorded_on - dt.timedelta(days=400)).isoformat(),
            "antidepressant_trials": trials,
        },
        "earlier_antidepressant_trials": [],
        "psychotherapy": [{"kind": "cbt", "sessions": 12, "helped": False}],
        "neuromodulation": [],
        "prior_ketamine": [],
        "medical_history": [],
        "substance_use": [],
        "reproductive": {
            "reproductive_potential": False,
            "pregnancy": "not_pregnant",
            "breastfeeding": False,
        },
        "medications": [],
        "baseline_vitals": {
            "measured_on": recorded_on.isoformat(),
            "systolic_mmhg": 124,
            "diastolic_mmhg": 78,
            "heart_rate_bpm": 72,
            "weight_kg": 72.0,
            "height_cm": 170.0,
        },
        "cssrs_risk": "none",
        "questionnaire_flags": [],
    }


@cache
def _presentation(key: str) -> str:
    value = dict(PRESENTATIONS)[key]
    return _dumps(
        {"anxiety_mainly": value.get("anxiety_mainly")}
        | {flag: bool(value.get(flag, False)) for flag in PRESENTATION_FLAGS}
    )


@cache
def _proposal(
    key: str, therapists: tuple[tuple[int, frozenset[Modality]], ...]
) -> tuple[str, str, tuple[str, ...]]:
    """(presentation as the plan stores it, the core's proposal, proposed modality values)."""
    value = dict(PRESENTATIONS)[key]
    anxiety = value.get("anxiety_mainly")
    profile = PresentationProfile(
        anxiety_mainly=AnxietyPresentation(anxiety) if anxiety else None,
        **{flag: bool(value.get(flag, False)) for flag in PRESENTATION_FLAGS},
    )
    match = match_modalities(
        profile, [CredentialedTherapist(str(pk), mods) for pk, mods in therapists]
    )
    presentation = {
        "anxiety_mainly": anxiety,
        "features": sorted(f.value for f in profile.features()),
    }
    return (
        _dumps(presentation),
        _dumps(proposal_data(match)),
        tuple(m.value for m in match.modalities),
    )


@cache
def _dose_schedule(
    route: Route, weight_tenths: int | None, sessions: int
) -> tuple[str, tuple[Decimal, ...], Decimal | None]:
    """The plan's dose schedule as stored, each session's dose in mg and the infusion rate."""
    basis, steps, concentration, minutes = DOSE_INPUTS[route]
    weight = None if weight_tenths is None else Decimal(weight_tenths) / 10
    schedule = doses.dose_schedule(
        doses.DoseInputs(
            route=route,
            basis=basis,
            steps=steps,
            concentration_mg_per_ml=concentration,
            minutes=minutes,
        ),
        weight_kg=weight,
        sessions=sessions,
    )
    return (
        _dumps([c.to_dict() for c in schedule]),
        tuple(c.dose_mg for c in schedule),
        schedule[0].rate_ml_per_hour,
    )


def _pick(rng: random.Random, options: Sequence[tuple[Any, float]]) -> Any:
    x = rng.random() * sum(w for _, w in options)
    for value, weight in options:
        x -= weight
        if x < 0:
            return value
    return options[-1][0]


# --- the network ------------------------------------------------------------------------------


@dataclass
class _Staff:
    director: int
    coordinators: list[int]
    prescribers: list[list[int]]
    nurses: list[list[int]]
    therapists: list[list[tuple[int, frozenset[Modality]]]]
    rooms: list[dict[Route, int]] = field(default_factory=list)


@dataclass
class _Tables:
    patient: _Table
    weight: _Table
    intake: _Table
    review: _Table
    eligibility_signature: _Table
    care_plan: _Table
    plan: _Table
    plan_signature: _Table
    session: _Table
    qset: _Table
    response: _Table
    record: _Table
    dose: _Table
    vital: _Table
    dissociation: _Table
    adverse: _Table
    discharge: _Table
    # Records to sign once their rows are in, where the database's signing lock is in force.
    to_sign: list[tuple[dt.datetime, int, int]] = field(default_factory=list)
    sign_inline: bool = False
    # The monitoring policy in force (read once: it lives in the database) and its protocols.
    monitoring_version: str = ""
    checklist_version: str = ""
    protocols: dict[Route, str] = field(default_factory=dict)

    def all(self) -> list[_Table]:
        return [
            self.patient,
            self.weight,
            self.intake,
            self.review,
            self.eligibility_signature,
            self.care_plan,
            self.plan,
            self.plan_signature,
            self.session,
            self.qset,
            self.response,
            self.record,
            self.dose,
            self.vital,
            self.dissociation,
            self.adverse,
            self.discharge,
        ]


def _tables() -> _Tables:
    return _Tables(
        patient=_Table(
            Patient,
            (
                "mrn",
                "given_name",
                "family_name",
                "preferred_name",
                "date_of_birth",
                "sex_at_birth",
                "gender_identity",
                "pronouns",
                "phone",
                "email",
                "address",
                "emergency_contact_name",
                "emergency_contact_relationship",
                "emergency_contact_phone",
                "referral_source",
                "referrer_name",
                "home_site",
                "prescriber",
                "therapist",
                "nurse",
                "registered_at",
                "registered_by",
            ),
        ),
        weight=_Table(
            BodyMeasurement,
            ("patient", "measured_on", "weight_kg", "height_cm", "recorded_at", "recorded_by"),
        ),
        intake=_Table(
            IntakeVersion,
            (
                "patient",
                "facts",
                "presentation",
                "sections_done",
                "section_saved",
                "complete",
                "problems",
                "supersedes",
                "saved_by",
                "saved_at",
            ),
        ),
        review=_Table(
            EligibilityReview,
            (
                "patient",
                "intake",
                "facts",
                "questionnaire_sources",
                "screened_decision",
                "findings",
                "derived",
                "assessed_on",
                "rule_set_version",
                "policy_version",
                "supersedes",
                "screened_by",
                "screened_at",
            ),
        ),
        eligibility_signature=_Table(
            EligibilitySignature,
            ("review", "final_decision", "note", "needs_cosign", "signed_by", "signed_at"),
        ),
        care_plan=_Table(
            MeasurementCarePlan,
            (
                "patient",
                "plan",
                "plan_version",
                "policy_version",
                "intake_at",
                "end_of_course",
                "supersedes",
                "started_by",
                "started_at",
            ),
        ),
        plan=_Table(TreatmentPlan, _PLAN_FIELDS),
        plan_signature=_Table(
            PlanSignature,
            (
                "plan",
                "signed_by",
                "signer_role",
                "signed_at",
                "eligibility_review_id",
                "eligibility_decision",
                "eligibility_signed_at",
                "measurement_plan",
                "measurement_care_plan",
            ),
        ),
        session=_Table(
            DosingSession,
            (
                "patient",
                "site",
                "plan",
                "route",
                "room",
                "nurse",
                "prescriber",
                "starts_at",
                "ends_at",
                "status",
                "booked_by",
                "booked_at",
                "cancelled_by",
                "cancelled_at",
                "cancel_reason",
            ),
        ),
        qset=_Table(
            QuestionnaireSet,
            (
                "patient",
                "instruments",
                "sent_by",
                "sent_at",
                "expires_at",
                "token_hash",
                "submitted_at",
                "kiosk",
                "site",
            ),
        ),
        response=_Table(
            QuestionnaireResponse,
            (
                "questionnaire_set",
                "position",
                "instrument",
                "instrument_version",
                "status",
                "answers",
                "started_at",
                "last_saved_at",
                "submitted_at",
                "total",
                "severity",
                "subscales",
                "flags",
                "policy_version",
            ),
        ),
        record=_Table(
            ChairsideRecord,
            (
                "session",
                "opened_at",
                "opened_by",
                "route",
                "protocol_id",
                "policy_version",
                "checklist_policy_version",
                "discharged_at",
                "signed_at",
                "signed_by",
            ),
        ),
        dose=_Table(
            DoseAdministration,
            (
                "record",
                "expires_on",
                "concentration_mg_per_ml",
                "planned_dose_mg",
                "dose_mg",
                "change_reason",
                "route",
                "started_at",
                "stopped_at",
                "rate_ml_per_hour",
                "given_by",
                "witnessed_by",
                "devices",
                "recorded_by",
                "recorded_at",
            ),
        ),
        vital=_Table(
            VitalReading,
            (
                "record",
                "taken_at",
                "systolic",
                "diastolic",
                "heart_rate",
                "spo2",
                "respiratory_rate",
                "sedation",
                "is_baseline",
                "recorded_by",
                "recorded_at",
            ),
        ),
        dissociation=_Table(
            DissociationRating,
            ("record", "scale", "score", "taken_at", "is_baseline", "rated_by", "recorded_at"),
        ),
        adverse=_Table(
            AdverseEvent,
            (
                "record",
                "kind",
                "description",
                "severity",
                "action",
                "onset_at",
                "sedation",
                "recorded_by",
                "recorded_at",
            ),
        ),
        discharge=_Table(
            DischargeSignoff,
            ("record", "criteria", "ready", "override_reason", "signed_by", "signed_at"),
        ),
    )


_PLAN_FIELDS = (
    "patient",
    "revision",
    "supersedes",
    "program",
    "route",
    "weight",
    "weight_kg",
    "dose_basis",
    "dose_steps",
    "concentration_mg_per_ml",
    "infusion_minutes",
    "dose_schedule",
    "dose_policy_version",
    "dose_change_reason",
    "presentation",
    "modality_proposal",
    "matching_policy_version",
    "modalities",
    "modalities_reason",
    "modalities_confirmed_by",
    "modalities_confirmed_at",
    "prep_held_on",
    "prep_held_by",
    "prep_expectations",
    "prep_intentions",
    "prep_fears",
    "prep_dissociation",
    "prep_fasting",
    "prep_ride_home",
    "prep_room_light",
    "prep_music",
    "consent_explained",
    "consent_notes",
    "consent_form_version",
    "consent_given_by",
    "consent_relationship",
    "consent_witness",
    "consent_at",
    "relapse_warning_signs",
    "relapse_actions",
    "relapse_supports",
    "relapse_maintenance_when",
    "change_reason",
    "created_by",
    "created_at",
)


def _make_staff(sites: int) -> tuple[list[int], _Staff]:
    """Sites, rooms and staff (a few dozen rows: plain bulk_create, no audit)."""
    password = make_password(DEMO_PASSWORD)  # hashed once: every network account shares it
    now = timezone.now()
    site_rows = [
        Site.objects.create(
            name=f"Kapstone {town}",
            address=f"{10 + k * 7} Main Street, {town}, {state}",
            phone=f"({area}) 555-{1000 + k:04d}",
        )
        for k, (town, state, area) in enumerate(SITE_TOWNS[:sites])
    ]

    def staff(username: str, first: str, last: str, role: Role, credentials: str) -> StaffUser:
        return StaffUser(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@{NETWORK_MAIL_DOMAIN}",
            role=role.value,
            credentials=credentials,
            password=password,
            date_joined=now,
        )

    rng = random.Random("network-staff")
    people: list[tuple[StaffUser, int | None]] = [
        (staff("net-director", "Ruth", "Okonjo", Role.MEDICAL_DIRECTOR, "MD"), None)
    ]
    modalities = list(Modality)
    therapist_mods: dict[str, frozenset[Modality]] = {}
    for s, site in enumerate(site_rows):
        tag = f"net-s{s + 1:02d}"
        people.append(
            (
                staff(
                    f"{tag}-intake",
                    rng.choice(GIVEN_FEMALE),
                    rng.choice(FAMILY),
                    Role.INTAKE_COORDINATOR,
                    "",
                ),
                s,
            )
        )
        for k in range(PRESCRIBERS_PER_SITE):
            people.append(
                (
                    staff(
                        f"{tag}-prescriber{k + 1}",
                        rng.choice(GIVEN_MALE),
                        rng.choice(FAMILY),
                        Role.PRESCRIBER,
                        "MD",
                    ),
                    s,
                )
            )
        for k in range(NURSES_PER_SITE):
            people.append(
                (
                    staff(
                        f"{tag}-nurse{k + 1}",
                        rng.choice(GIVEN_FEMALE),
                        rng.choice(FAMILY),
                        Role.NURSE,
                        "RN",
                    ),
                    s,
                )
            )
        for k in range(THERAPISTS_PER_SITE):
            username = f"{tag}-therapist{k + 1}"
            therapist_mods[username] = frozenset(rng.sample(modalities, 3))
            people.append(
                (
                    staff(
                        username,
                        rng.choice(GIVEN_FEMALE + GIVEN_MALE),
                        rng.choice(FAMILY),
                        Role.THERAPIST,
                        "LCSW",
                    ),
                    s,
                )
            )
        del site
    created = StaffUser.objects.bulk_create([p for p, _ in people])
    if created[0].pk is None:  # a backend that does not return ids
        by_name = dict(
            StaffUser.objects.filter(email__endswith=NETWORK_MAIL_DOMAIN).values_list(
                "username", "pk"
            )
        )
        for person in created:
            person.pk = by_name[person.username]
    links = StaffUser.sites.through
    links.objects.bulk_create(
        [
            links(staffuser_id=person.pk, site_id=site_rows[k].pk)
            for person, (_, s) in zip(created, people, strict=True)
            # The medical director works across the network; everyone else at one site.
            for k in (range(len(site_rows)) if s is None else (s,))
        ]
    )
    ModalityCredential.objects.bulk_create(
        [
            ModalityCredential(therapist_id=p.pk, modality=m.value)
            for p in created
            for m in sorted(therapist_mods.get(p.username, ()))
        ]
    )
    team = _Staff(
        director=created[0].pk,
        coordinators=[],
        prescribers=[[] for _ in site_rows],
        nurses=[[] for _ in site_rows],
        therapists=[[] for _ in site_rows],
    )
    for person, at_site in zip(created, (s for _, s in people), strict=True):
        if at_site is None:
            continue
        s = at_site
        role = Role(person.role)
        if role is Role.INTAKE_COORDINATOR:
            team.coordinators.append(person.pk)
        elif role is Role.PRESCRIBER:
            team.prescribers[s].append(person.pk)
        elif role is Role.NURSE:
            team.nurses[s].append(person.pk)
        else:
            team.therapists[s].append((person.pk, therapist_mods[person.username]))
    for site in site_rows:
        rooms = [Room.objects.create(site=site, name=name, routes=routes) for name, routes in ROOMS]
        team.rooms.append(
            {Route(route): room.pk for room in reversed(rooms) for route in room.routes}
        )
    return [s.pk for s in site_rows], team


def build_network(
    *,
    patients: int = 100_000,
    seed: int = 2026,
    now: dt.datetime,
    sites: int = 10,
    chunk: int = 5_000,
    progress: Callable[[str], None] | None = None,
) -> NetworkResult:
    """Builds the network up to ``now`` (nothing after it has happened: later sessions are booked,
    later measures not taken). Each chunk of patients is written in its own transaction."""
    if not 1 <= sites <= len(SITE_TOWNS):
        raise ValueError(f"sites must be 1-{len(SITE_TOWNS)}")
    if non_demo_patients():
        raise RuntimeError(
            "This database holds real (non-demo) patients: the synthetic network is not built here."
        )
    if Patient.objects.filter(mrn__startswith=MRN_PREFIX).exists():
        raise RuntimeError("A synthetic network is already loaded in this database.")
    started = time.perf_counter()
    with transaction.atomic():
        site_ids, team = _make_staff(sites)
    programs = _programs()
    tables = _tables()
    # On PostgreSQL as a superuser, the per-row foreign-key triggers are off while a chunk loads
    # (session_replication_role = replica) and every key the chunk wrote is checked at its end
    # with one anti-join per key instead; a broken key rolls the chunk back. The append-only
    # triggers refuse only UPDATE and DELETE, which the load never does.
    replica = _may_skip_row_triggers()
    # With the row triggers off, a record may be written signed; otherwise it is signed after its
    # rows are in, as the chair-side signing lock requires.
    tables.sign_inline = replica
    policy = monitoring_policy()
    tables.monitoring_version = policy.version
    tables.checklist_version = checklist_policy().version
    tables.protocols = {route: policy.protocol_for(route).protocol_id for route in Route}
    for first in range(0, patients, chunk):
        with transaction.atomic():
            if replica:
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL session_replication_role = replica")
            since = {table: table.next_id for table in tables.all()}
            for n in range(first, min(first + chunk, patients)):
                _patient(n, seed, now, site_ids, team, programs, tables)
            for table in tables.all():
                table.flush()
            _sign(tables)
            if replica:
                broken = [
                    b for table in tables.all() for b in table.broken_references(since[table])
                ]
                if broken:
                    raise RuntimeError("The network load broke foreign keys: " + "; ".join(broken))
        if progress:
            progress(
                f"{min(first + chunk, patients)} patients ({time.perf_counter() - started:.0f} s)"
            )
    for table in tables.all():
        table.reset_sequence()
    rows = {t.model._meta.db_table: t.written for t in tables.all()}
    return NetworkResult(
        patients=patients, seed=seed, seconds=time.perf_counter() - started, rows=rows
    )


def _sign(tables: _Tables) -> None:
    if not tables.to_sign:
        return
    record = ChairsideRecord._meta
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {q(record.db_table)} SET signed_at = %s, signed_by_id = %s "  # noqa: S608
            "WHERE id = %s",
            tables.to_sign,
        )
    tables.to_sign = []


def _may_skip_row_triggers() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def _programs() -> dict[str, tuple[int, str]]:
    """The program version in force per key: (id, its measurement plan)."""
    found: dict[str, tuple[int, str]] = {}
    for pk, key, plan in ProgramTemplateVersion.objects.order_by("pk").values_list(
        "pk", "key", "measurement_plan"
    ):
        found[key] = (pk, plan)  # the last version of each key wins
    return found


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


def _patient(  # noqa: C901, PLR0915 (over the ceiling before it came in; to be split)
    n: int,
    seed: int,
    now: dt.datetime,
    site_ids: list[int],
    team: _Staff,
    programs: dict[str, tuple[int, str]],
    t: _Tables,
) -> None:
    rng = random.Random(seed * 1_000_003 + n)
    s = n % len(site_ids)
    site = site_ids[s]
    prescriber = team.prescribers[s][rng.randrange(len(team.prescribers[s]))]
    nurse = team.nurses[s][rng.randrange(len(team.nurses[s]))]
    therapist, _ = team.therapists[s][rng.randrange(len(team.therapists[s]))]
    coordinator = team.coordinators[s]

    # When: first doses spread over the three years before now (a few still to come).
    first_dose_day = (now - dt.timedelta(days=rng.randint(-14, 3 * 365))).date()
    # Intake (and screening, signing, planning) has happened by now, even for courses to come.
    intake_day = min(
        first_dose_day - dt.timedelta(days=rng.randint(7, 28)), now.date() - dt.timedelta(days=3)
    )
    registered_at = _at(intake_day - dt.timedelta(days=rng.randint(3, 30)), 9, rng.randint(0, 59))
    intake_at = _at(intake_day, 10, rng.randint(0, 59))

    sex = rng.choice(
        (
            SexAtBirth.FEMALE,
            SexAtBirth.FEMALE,
            SexAtBirth.FEMALE,
            SexAtBirth.MALE,
            SexAtBirth.MALE,
            SexAtBirth.INTERSEX if n % 97 == 0 else SexAtBirth.MALE,
        )
    )
    given = rng.choice(GIVEN_FEMALE if sex == SexAtBirth.FEMALE else GIVEN_MALE)
    family = rng.choice(FAMILY)
    age = min(84, max(18, int(rng.gauss(44, 13))))
    born = intake_day - dt.timedelta(days=age * 365 + rng.randint(0, 364))
    referral = rng.choice(list(ReferralSource))
    patient = t.patient.add(
        f"{MRN_PREFIX}{n + 1:07d}",
        given,
        family,
        "",
        born,
        sex.value,
        "",
        "she/her" if sex == SexAtBirth.FEMALE else "he/him",
        f"(207) 555-{rng.randint(200, 9999):04d}",
        f"p{n + 1}@patients.{NETWORK_MAIL_DOMAIN}",
        f"{rng.randint(2, 480)} {rng.choice(STREETS)}, {SITE_TOWNS[s][0]}, {SITE_TOWNS[s][1]}",
        f"{rng.choice(GIVEN_FEMALE + GIVEN_MALE)} {family}",
        "partner",
        f"(207) 555-{rng.randint(200, 9999):04d}",
        referral.value,
        "",
        site,
        prescriber,
        therapist,
        nurse,
        registered_at,
        coordinator,
    )
    weight_tenths = rng.randint(560, 1150) if sex != SexAtBirth.FEMALE else rng.randint(470, 1000)
    weight = t.weight.add(
        patient,
        intake_day,
        Decimal(weight_tenths) / 10,
        Decimal(rng.randint(1520, 1950)) / 10,
        intake_at,
        nurse,
    )

    # Intake, screening and sign-off.
    depression = rng.random() < 0.88
    conditions = (["major_depression"] if depression else []) + [
        c
        for c, p in (("generalised_anxiety", 0.35), ("ptsd", 0.15), ("social_anxiety", 0.06))
        if rng.random() < p
    ]
    if not conditions:
        conditions = ["generalised_anxiety"]
    trd = depression and rng.random() < 0.62
    presentation_key = rng.choice([k for k, _ in PRESENTATIONS])
    if "ptsd" in conditions:
        presentation_key = "trauma"
    archetype = _Archetype(tuple(conditions), trd, presentation_key)
    count = (3 if rng.random() < 0.3 else 2) if trd else (1 if depression else 0)
    decision, findings, derived = _screened(archetype, count)
    facts = _facts(archetype, age=age, recorded_on=intake_day, trials=_trials(trd, count, rng))
    facts["baseline_vitals"]["weight_kg"] = float(Decimal(weight_tenths) / 10)
    facts_json = _dumps(facts)
    sections = _dumps(
        [
            "conditions",
            "episode",
            "treatments",
            "history",
            "substances",
            "reproductive",
            "medications",
            "vitals",
            "questionnaires",
            "presentation",
        ]
    )
    intake = t.intake.add(
        patient,
        facts_json,
        _presentation(presentation_key),
        sections,
        "presentation",
        True,
        "[]",
        None,
        coordinator,
        intake_at,
    )
    screened_at = intake_at + dt.timedelta(hours=2)
    review = t.review.add(
        patient,
        intake,
        facts_json,
        "[]",
        decision,
        findings,
        derived,
        intake_day,
        "eligibility-rules-2026-11.1",
        eligibility_policy().version,
        None,
        prescriber,
        screened_at,
    )
    signed_at = screened_at + dt.timedelta(minutes=rng.randint(5, 90))
    t.eligibility_signature.add(review, decision, "", False, prescriber, signed_at)

    # The program and its plan.
    program = _pick(rng, PROGRAM_MIX)
    if decision == Decision.ELIGIBLE_WITH_PRECAUTIONS.value and program == "esketamine_induction":
        program = "standard_iv_induction"
    route = _pick(rng, ROUTE_MIX[program])
    days = COURSE_DAYS[program]
    if rng.random() < EARLY_STOP:
        days = days[: rng.randint(4, len(days) - 1)]
    plan_at = signed_at + dt.timedelta(days=1)
    # The course's plan and any maintenance version after it are written for the same patient,
    # route and team, on the same eligibility review.
    plan_version = partial(
        _plan,
        t,
        rng,
        patient=patient,
        route=route,
        programs=programs,
        weight=weight,
        weight_tenths=weight_tenths,
        presentation_key=presentation_key,
        therapists=tuple(team.therapists[s]),
        prescriber=prescriber,
        therapist=therapist,
        intake_at=intake_at,
        review=review,
        decision=decision,
        eligibility_signed_at=signed_at,
    )
    plan, care_plan = plan_version(
        program=program,
        revision=1,
        supersedes=None,
        care_plan_supersedes=None,
        end_of_course=_at(first_dose_day + dt.timedelta(days=days[-1]), 9),
        at=plan_at,
    )

    # Outcome course: latent class, its final and 24-hour shares of the baseline.
    klass = _pick(rng, list(zip(range(len(CLASSES)), CLASS_ODDS[trd], strict=True)))
    _, (lo, hi), (lo24, hi24) = CLASSES[klass]
    final = rng.uniform(lo, hi)
    at_24h = max(final, rng.uniform(lo24, hi24))
    baseline_phq = min(24, max(10, round(rng.gauss(17.5, 3.5))))
    baseline_gad = min(21, max(4, round(rng.gauss(13 if len(conditions) > 1 else 10, 3.5))))
    course_days = max(days[-1], 1)
    responded = klass <= 1
    maintenance = responded and rng.random() < MAINTENANCE
    relapse_day: float | None = None
    if responded:
        median = RELAPSE_MEDIAN_DAYS[maintenance]
        relapse_day = course_days + rng.expovariate(math.log(2) / median)

    def share(day: float) -> float:
        if day < 0:
            return 1.0
        if relapse_day is not None and day >= relapse_day:
            return min(1.0, 0.7 + rng.uniform(0, 0.2))
        if day < 2:
            return at_24h
        tau = course_days / 2.5 + 1
        return final + (at_24h - final) * math.exp(-(day - 1) / tau) if day < course_days else final

    dose_plan = _dose_schedule(
        route, weight_tenths if route.facts.weight_based else None, len(COURSE_DAYS[program])
    )
    # The course's sessions and any maintenance visits: same patient, site, room and staff.
    sessions = partial(
        _sessions,
        t,
        rng,
        patient=patient,
        site=site,
        route=route,
        room=team.rooms[s][route],
        nurse=nurse,
        prescriber=prescriber,
        now=now,
        rate=dose_plan[2],
    )
    held, course_over = sessions(
        plan=plan,
        days=days,
        first_day=first_dose_day,
        booked_at=plan_at + dt.timedelta(hours=2),
        doses_mg=dose_plan[1],
    )
    first_dose = held[0] if held else _at(first_dose_day, 9)

    def measure(at: dt.datetime, instruments: tuple[str, ...], *, kiosk: bool = False) -> None:
        if at > now:
            return
        level = share((at - first_dose).total_seconds() / 86_400)
        _questionnaires(
            t,
            rng,
            patient=patient,
            at=at,
            nurse=nurse,
            site=site,
            kiosk=kiosk,
            totals={
                "phq9": min(24, max(0, round(baseline_phq * level + rng.gauss(0, 1.6)))),
                "gad7": min(21, max(0, round(baseline_gad * level + rng.gauss(0, 1.4)))),
            },
            instruments=instruments,
        )

    measure(intake_at - dt.timedelta(minutes=30), ("phq9", "gad7"), kiosk=True)
    for starts in held:
        if rng.random() > MISSED_PRE_DOSE:
            measure(
                starts - dt.timedelta(minutes=rng.randint(10, 90)), ("phq9", "gad7"), kiosk=True
            )
    if held and rng.random() > MISSED_24H:
        measure(first_dose + dt.timedelta(hours=rng.uniform(18, 36)), ("phq9",))
    if not course_over:
        return
    last_dose = held[-1]
    # Those who stopped early answer follow-ups less often.
    stopped_early = len(days) < len(COURSE_DAYS[program])
    extra_missed = 0.2 if stopped_early else 0.0
    if rng.random() > MISSED_END + extra_missed:
        measure(last_dose + dt.timedelta(days=rng.randint(5, 10)), ("phq9", "gad7"))
    for after, missed in FOLLOW_UPS:
        if rng.random() > missed + extra_missed:
            measure(last_dose + dt.timedelta(days=after + rng.randint(-7, 7)), ("phq9", "gad7"))

    # Monthly maintenance for some responders: a second plan version, signed, and its visits.
    start_day = last_dose.date() + dt.timedelta(days=rng.randint(28, 70))
    if maintenance and _at(start_day, 8) <= now:
        m_days = COURSE_DAYS["maintenance_monthly"]
        m_plan_at = _at(start_day - dt.timedelta(days=7), 11)
        m_plan, _ = plan_version(
            program="maintenance_monthly",
            revision=2,
            supersedes=plan,
            care_plan_supersedes=care_plan,
            end_of_course=_at(start_day + dt.timedelta(days=m_days[-1]), 9),
            at=m_plan_at,
            change_reason="Responded to the induction course: continuing on monthly maintenance.",
        )
        visits, _ = sessions(
            plan=m_plan,
            days=m_days,
            first_day=start_day,
            booked_at=m_plan_at + dt.timedelta(hours=1),
            doses_mg=_dose_schedule(
                route,
                weight_tenths if route.facts.weight_based else None,
                len(COURSE_DAYS["maintenance_monthly"]),
            )[1][-1:],
        )
        for starts in visits:
            if rng.random() > MISSED_PRE_DOSE:
                measure(
                    starts - dt.timedelta(minutes=rng.randint(10, 90)), ("phq9", "gad7"), kiosk=True
                )


def _plan(
    t: _Tables,
    rng: random.Random,
    *,
    patient: int,
    program: str,
    route: Route,
    programs: dict[str, tuple[int, str]],
    weight: int,
    weight_tenths: int,
    presentation_key: str,
    therapists: tuple[tuple[int, frozenset[Modality]], ...],
    prescriber: int,
    therapist: int,
    revision: int,
    supersedes: int | None,
    care_plan_supersedes: int | None,
    intake_at: dt.datetime,
    end_of_course: dt.datetime,
    at: dt.datetime,
    review: int,
    decision: str,
    eligibility_signed_at: dt.datetime,
    change_reason: str = "",
) -> tuple[int, int | None]:
    program_id, measurement_plan = programs[program]
    basis, steps, concentration, minutes = DOSE_INPUTS[route]
    weight_based = route.facts.weight_based
    sessions = len(COURSE_DAYS[program])
    presentation, proposal, proposed = _proposal(presentation_key, therapists)
    schedule, _, _ = _dose_schedule(route, weight_tenths if weight_based else None, sessions)
    chosen = list(proposed[: rng.choice((1, 2))]) or [Modality.CBT.value]
    plan = t.plan.add(
        patient,
        revision,
        supersedes,
        program_id,
        route.value,
        weight if weight_based else None,
        Decimal(weight_tenths) / 10 if weight_based else None,
        basis,
        _dumps([str(s) for s in steps]),
        concentration,
        minutes,
        schedule,
        "default-2026-11",
        "" if len(steps) == 1 else "Ascending doses as tolerated.",
        presentation,
        proposal,
        "default-2026-11",
        _dumps(chosen),
        "",
        therapist,
        at - dt.timedelta(hours=3),
        (at - dt.timedelta(days=2)).date(),
        therapist,
        "Relief from low mood; wants to return to work.",
        "To meet what comes with curiosity.",
        "Losing control during the session.",
        "Explained: dreamlike, time distortion, passes within the hour.",
        "Nothing to eat for 4 hours, clear fluids until 2 hours before.",
        "Partner drives home.",
        "dim",
        "Instrumental playlist",
        _dumps(["benefits", "risks", "alternatives", "dissociation", "driving"]),
        "",
        "consent-2026-11",
        "patient",
        "self",
        prescriber,
        at - dt.timedelta(hours=1),
        "Early waking, withdrawing from friends.",
        "Call the clinic; bring forward the next visit.",
        "Partner; weekly therapy.",
        "If PHQ-9 rises by 5 or more.",
        change_reason,
        prescriber,
        at - dt.timedelta(hours=4),
    )
    care_plan = None
    if measurement_plan in PLANS:
        care_plan = t.care_plan.add(
            patient,
            measurement_plan,
            PLANS[measurement_plan].version,
            schedule_policy().version,
            intake_at,
            end_of_course,
            care_plan_supersedes,
            prescriber,
            at,
        )
    t.plan_signature.add(
        plan,
        prescriber,
        Role.PRESCRIBER.value,
        at,
        review,
        decision,
        eligibility_signed_at,
        measurement_plan if care_plan else "",
        care_plan,
    )
    return plan, care_plan


def _sessions(
    t: _Tables,
    rng: random.Random,
    *,
    patient: int,
    site: int,
    plan: int,
    route: Route,
    days: Sequence[int],
    first_day: dt.date,
    room: int,
    nurse: int,
    prescriber: int,
    now: dt.datetime,
    booked_at: dt.datetime,
    doses_mg: tuple[Decimal, ...],
    rate: Decimal | None,
) -> tuple[list[dt.datetime], bool]:
    """Books the course's sessions; those over by ``now`` were held. Returns the held sessions'
    start times and whether the whole course was held."""
    minutes = dt.timedelta(minutes=SESSION_MINUTES[route])
    held: list[dt.datetime] = []
    for day in days:
        starts = _at(first_day + dt.timedelta(days=day), 8 + rng.randrange(8), rng.choice((0, 30)))
        if rng.random() < CANCELLED and starts - dt.timedelta(hours=2) > booked_at:
            cancelled_at = max(
                min(starts - dt.timedelta(hours=rng.randint(2, 48)), now),
                booked_at + dt.timedelta(minutes=5),
            )
            if cancelled_at <= now:
                t.session.add(
                    patient,
                    site,
                    plan,
                    route.value,
                    room,
                    nurse,
                    prescriber,
                    starts,
                    starts + minutes,
                    SessionStatus.CANCELLED.value,
                    nurse,
                    booked_at,
                    nurse,
                    cancelled_at,
                    "Patient unwell; rebooked two days later.",
                )
                starts += dt.timedelta(days=2)
        over = starts + minutes <= now
        session = t.session.add(
            patient,
            site,
            plan,
            route.value,
            room,
            nurse,
            prescriber,
            starts,
            starts + minutes,
            (SessionStatus.COMPLETED if over else SessionStatus.BOOKED).value,
            nurse,
            booked_at,
            None,
            None,
            "",
        )
        if over:
            dose = doses_mg[min(len(held), len(doses_mg) - 1)]
            _chairside(t, rng, session, route, starts, minutes, dose, rate, nurse, prescriber)
            held.append(starts)
    return held, len(held) == len(days)


# Adverse events: kind, share of sessions, and what was done.
ADVERSE = (
    ("nausea", 0.05, "Ondansetron 4 mg given; settled within 30 minutes."),
    ("vomiting", 0.01, "Positioned on side, ondansetron given, observed until settled."),
    ("agitation", 0.006, "Reassured, lights dimmed, music lowered; settled."),
    ("emergence_reaction", 0.004, "Talked down with the therapist; no medication needed."),
    ("hypertension_symptoms", 0.003, "Headache with raised BP: rechecked at 5 minutes, settled."),
)
DISCHARGE_CRITERIA = _dumps(
    {"ready": True, "blockers": [], "checklist": "all criteria met", "policy_version": "default"}
)


def _chairside(
    t: _Tables,
    rng: random.Random,
    session: int,
    route: Route,
    starts: dt.datetime,
    minutes: dt.timedelta,
    dose_mg: Decimal,
    rate: Decimal | None,
    nurse: int,
    prescriber: int,
) -> None:
    """The held session's chair-side record: the dose given, 8-12 vital-sign readings (the first
    the baseline; blood pressure rises towards the peak and settles), the CADSS-6 at the peak, an
    occasional adverse event, discharge and the nurse's signature."""
    random_ = rng.random
    protocol = t.protocols[route]
    ends = starts + minutes
    signed_at = ends + dt.timedelta(minutes=10)
    signed = t.sign_inline
    record = t.record.add(
        session,
        starts - dt.timedelta(minutes=20),
        nurse,
        route.value,
        protocol,
        t.monitoring_version,
        t.checklist_version,
        ends,
        signed_at if signed else None,
        nurse if signed else None,
    )
    if not signed:
        t.to_sign.append((signed_at, nurse, record))
    infusion = route is Route.IV
    concentration = DOSE_INPUTS[route][2]
    devices = int(dose_mg // ESKETAMINE_DEVICE_MG) if route is Route.INTRANASAL_ESKETAMINE else None
    t.dose.add(
        record,
        None,
        concentration,
        dose_mg,
        dose_mg,
        "",
        route.value,
        starts,
        starts + dt.timedelta(minutes=40) if infusion else None,
        rate if infusion else None,
        nurse,
        prescriber,
        devices,
        nurse,
        starts + dt.timedelta(minutes=1),
    )
    readings = 8 + int(random_() * 5)
    step = (minutes - dt.timedelta(minutes=10)) / (readings - 1)
    systolic = 110 + int(random_() * 30)
    diastolic = 68 + int(random_() * 16)
    pulse = 62 + int(random_() * 22)
    rise = 8 + int(random_() * 22)
    peak = 0.4  # the rise peaks about 40 % into the observation period
    for k in range(readings):
        at = starts - dt.timedelta(minutes=10) + step * k
        x = k / (readings - 1)
        bump = 0.0 if k == 0 else max(0.0, 1 - abs(x - peak) / 0.6)
        sedation = "drowsy" if k and 0.2 < x < 0.6 and random_() < 0.4 else "alert"
        t.vital.add(
            record,
            at,
            systolic + int(rise * bump + random_() * 6 - 3),
            diastolic + int(rise * 0.5 * bump + random_() * 4 - 2),
            pulse + int(8 * bump + random_() * 6 - 3),
            95 + int(random_() * 5),
            12 + int(random_() * 6),
            sedation,
            k == 0,
            nurse,
            at + dt.timedelta(minutes=1),
        )
    peak_at = starts + (minutes - dt.timedelta(minutes=10)) * peak
    t.dissociation.add(
        record,
        DissociationScale.CADSS_6.value,
        min(24, max(0, int(random_() * 10 + (6 if route is Route.IV else 3) + random_() * 6))),
        peak_at,
        False,
        nurse,
        peak_at + dt.timedelta(minutes=2),
    )
    x = random_()
    for kind, share, action in ADVERSE:
        if x < share:
            onset = starts + minutes * (0.2 + 0.5 * random_())
            t.adverse.add(
                record,
                kind,
                "",
                "moderate" if random_() < 0.15 else "mild",
                action,
                onset,
                "alert",
                nurse,
                onset + dt.timedelta(minutes=5),
            )
            break
        x -= share
    t.discharge.add(record, DISCHARGE_CRITERIA, True, "", nurse, ends)


def _questionnaires(
    t: _Tables,
    rng: random.Random,
    *,
    patient: int,
    at: dt.datetime,
    nurse: int,
    site: int,
    kiosk: bool,
    totals: dict[str, int],
    instruments: tuple[str, ...],
) -> None:
    sent_at = at - (
        dt.timedelta(minutes=rng.randint(2, 30))
        if kiosk
        else dt.timedelta(hours=rng.randint(1, 48))
    )
    # Never a usable link: the hash of no token anyone holds, unique per set.
    token = hashlib.sha256(f"network:{patient}:{t.qset.next_id}".encode()).hexdigest()
    qset = t.qset.add(
        patient,
        _dumps(list(instruments)),
        nurse,
        sent_at,
        sent_at + (dt.timedelta(hours=2) if kiosk else dt.timedelta(days=7)),
        token,
        at,
        kiosk,
        site if kiosk else None,
    )
    elapsed = at
    for position, instrument in enumerate(instruments):
        answers, severity = rng.choice(_patterns(instrument)[totals[instrument]])
        started = elapsed - dt.timedelta(minutes=rng.randint(2, 6))
        t.response.add(
            qset,
            position,
            instrument,
            INSTRUMENTS[instrument].version,
            "submitted",
            answers,
            started,
            elapsed,
            elapsed,
            totals[instrument],
            severity,
            "{}",
            "[]",
            "default-2026-11",
        )
