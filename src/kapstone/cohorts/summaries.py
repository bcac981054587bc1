"""Keeping the course summaries (:mod:`kapstone.cohorts.models`) current.

A course's facts change only when

1. its records change. Every clinical write goes through a service that records an audit entry
   naming the patient, in the same transaction, so the audit trail is the change feed: the
   patients named by entries after the kept watermark (``CourseSummaryState.audit_seq``) are
   recomputed. Pure reads (``*.viewed``, exports, sign-ins) are skipped; any other action counts,
   so a new kind of write can only cause a needless recomputation, never a stale figure;
2. its next dosing session starts (a booked session becomes a dose held: ``stale_after``);
3. something global changes: the cohort or outcome policy, a program's length, the instrument's
   bands, or what the core computes (``FACTS_VERSION``). Their fingerprint is kept; a different
   one rebuilds every summary of the instrument.

Whether a time point's score is missing or not yet due is not kept: the window's close is, and
the dashboard decides at ``now``. Summaries are derived data (no audit of their own).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q

from kapstone.audit.models import AuditEntry
from kapstone.clinical.cohort_figures import FACTS_VERSION, CourseFacts, course_facts
from kapstone.clinical.instruments import INSTRUMENTS
from kapstone.cohorts import selectors
from kapstone.cohorts.models import (
    CourseDissociation,
    CourseSafety,
    CourseSummary,
    CourseSummaryState,
    before_column,
    point_code,
    point_column,
)
from kapstone.dosing.models import DosingSession, SessionStatus

CHUNK = 5_000  # patients recomputed per round of queries
# A page brings the summaries up to date itself when at most this many patients need it (well
# under a second); more (a first build, a policy or program change) goes to the task worker.
INLINE_LIMIT = 2_000
# After recomputing this many patients, the tables' planner statistics are refreshed too.
ANALYZE_AFTER = 10_000
# A refresh handed to the worker is handed again if it has not finished after this long.
REQUEST_AGAIN_AFTER = dt.timedelta(minutes=15)
# A page that finds nothing to recompute moves the kept audit position past the pure reads written
# since once there are this many entries to look past (so the change feed's scan stays short).
ADVANCE_AFTER = 1_000

# Audit actions that change nothing a course summary reads.
READ_SUFFIXES = (".viewed", ".printed", ".exported", ".downloaded", "_viewed")
READ_PREFIXES = ("auth.", "access.", "mfa.")


@dataclass(frozen=True, slots=True)
class Refresh:
    instrument: str
    rebuilt: bool  # every summary was recomputed (first time, or a global change)
    patients: int  # patients recomputed
    as_of: dt.datetime  # the moment the summaries are now current as of
    changed: bool = True  # what the dashboard counts changed (a new generation)


def fingerprint(instrument: str) -> str:
    policy = selectors.COHORT_POLICY
    definition = INSTRUMENTS.get(instrument)
    programs = sorted(
        (p.key, p.dosing_sessions, p.measurement_plan) for p in selectors.programs().values()
    )
    facts = {
        "facts": FACTS_VERSION,
        "cohort_policy": policy.version,
        "outcome_policy": policy.outcome.version,
        "time_points": [t.key for t in policy.time_points],
        "programs": programs,
        "bands": [(b.low, b.high, b.word) for b in definition.bands] if definition else [],
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def _writes_after(seq: int, upto: int) -> Q:
    reads = Q()
    for suffix in READ_SUFFIXES:
        reads |= Q(action__endswith=suffix)
    for prefix in READ_PREFIXES:
        reads |= Q(action__startswith=prefix)
    return Q(seq__gt=seq, seq__lte=upto, patient__isnull=False) & ~reads


def changed_patients(*, instrument: str, now: dt.datetime) -> set[int] | None:
    """The patients whose summaries need recomputing to be current as of ``now``; None: all of
    them (no summaries yet, the global fingerprint changed, or they were refreshed after ``now``,
    so they cannot say what was true then)."""
    state = CourseSummaryState.objects.filter(instrument=instrument).first()
    if state is None or state.refreshed_at > now:
        return None
    return _pending(state, instrument=instrument, now=now)


def _pending(
    state: CourseSummaryState | None, *, instrument: str, now: dt.datetime
) -> set[int] | None:
    if state is None or state.fingerprint != fingerprint(instrument):
        return None
    upto = AuditEntry.objects.aggregate(m=Max("seq"))["m"] or 0
    return _changed_since(state, instrument=instrument, now=now, upto=upto)


def _changed_since(
    state: CourseSummaryState, *, instrument: str, now: dt.datetime, upto: int
) -> set[int]:
    written = set(
        AuditEntry.objects.filter(_writes_after(state.audit_seq, upto))
        .values_list("patient_id", flat=True)
        .distinct()
    )
    due = set(
        CourseSummary.objects.filter(instrument=instrument, stale_after__lte=now).values_list(
            "patient_id", flat=True
        )
    )
    return written | due


def is_current(*, instrument: str, now: dt.datetime) -> bool:
    return changed_patients(instrument=instrument, now=now) == set()


def refresh_for_page(*, instrument: str, now: dt.datetime) -> dt.datetime | None:
    """Bring the summaries up to date if that is quick, and return the moment they are current
    as of (``now``, or a little later if another page refreshed them meanwhile); else ask the task
    worker to (once) and return None: the page then says the figures are being prepared.

    When nothing changed (the usual case) this is three reads and no write: the summaries are
    current as of ``now`` as they stand."""
    state = CourseSummaryState.objects.filter(instrument=instrument).first()
    if state is not None:
        now = max(now, state.refreshed_at)
    pending: set[int] | None = None
    if state is not None and state.fingerprint == fingerprint(instrument):
        upto = AuditEntry.objects.aggregate(m=Max("seq"))["m"] or 0
        pending = _changed_since(state, instrument=instrument, now=now, upto=upto)
        # (Summaries kept before generations existed get one from a refresh, once.)
        if not pending and state.generation:
            if upto - state.audit_seq >= ADVANCE_AFTER:
                _advance(state, upto=upto, now=now)
            return now
    work = (
        len(pending)
        if pending is not None
        else DosingSession.objects.order_by().values("patient_id").distinct().count()
    )
    if work <= INLINE_LIMIT:
        return bring_up_to_date(instrument=instrument, now=now).as_of
    asked = (
        CourseSummaryState.objects.filter(instrument=instrument)
        .values_list("requested_at", flat=True)
        .first()
    )
    if asked is None or now - asked > REQUEST_AGAIN_AFTER:
        from kapstone.cohorts.tasks import refresh_course_summaries

        CourseSummaryState.objects.update_or_create(
            instrument=instrument,
            defaults={"requested_at": now},
            create_defaults={"fingerprint": "", "refreshed_at": now, "requested_at": now},
        )
        refresh_course_summaries.enqueue(instrument)
    return None


def _advance(state: CourseSummaryState, *, upto: int, now: dt.datetime) -> None:
    """Nothing up to audit entry ``upto`` nor due by ``now`` needs recomputing: keep that, unless
    another refresh got there first (then it already did, or more)."""
    CourseSummaryState.objects.filter(
        pk=state.pk, audit_seq=state.audit_seq, refreshed_at=state.refreshed_at
    ).update(audit_seq=max(upto, state.audit_seq), refreshed_at=now)


def bring_up_to_date(
    *, instrument: str, now: dt.datetime, rebuild: bool = False, chunk: int = CHUNK
) -> Refresh:
    """Recompute what changed (or everything), in one transaction; concurrent callers wait for
    each other on the instrument's state row, and the second finds nothing left to do.

    Never back in time: asked for a moment before the last refresh (a page whose clock was read
    before another page's refresh committed), it brings them up to date as of that refresh."""
    try:
        with transaction.atomic():
            CourseSummaryState.objects.get_or_create(
                instrument=instrument, defaults={"fingerprint": "", "refreshed_at": now}
            )
    except IntegrityError:
        pass  # created by a concurrent caller meanwhile
    with transaction.atomic():
        state = CourseSummaryState.objects.select_for_update().get(instrument=instrument)
        now = max(now, state.refreshed_at)
        upto = AuditEntry.objects.aggregate(m=Max("seq"))["m"] or 0
        current = fingerprint(instrument)
        rebuilt = rebuild or state.fingerprint != current
        if rebuilt:
            CourseSafety.objects.filter(summary__instrument=instrument).delete()
            CourseDissociation.objects.filter(summary__instrument=instrument).delete()
            CourseSummary.objects.filter(instrument=instrument).delete()
            patients = sorted(
                set(
                    DosingSession.objects.exclude(status=SessionStatus.CANCELLED)
                    .order_by()
                    .values_list("patient_id", flat=True)
                    .distinct()
                )
            )
        else:
            patients = sorted(_changed_since(state, instrument=instrument, now=now, upto=upto))
        changed = rebuilt or not state.generation
        for start in range(0, len(patients), chunk):
            part = patients[start : start + chunk]
            changed = (
                _recompute(part, instrument=instrument, now=now, compare=not changed) or changed
            )
        if rebuilt or len(patients) >= ANALYZE_AFTER:
            _analyze()
        state.audit_seq = max(upto, state.audit_seq)
        state.fingerprint = current
        state.refreshed_at = now
        state.requested_at = None
        if changed:
            state.generation = secrets.token_hex(16)
            state.courses = CourseSummary.objects.filter(
                instrument=instrument, first_dose_at__isnull=False
            ).count()
        state.save()
    return Refresh(instrument, rebuilt, len(patients), now, changed)


# What the dashboard reads of a course's summary and cells (dashboard.py): everything but the row
# ids, ``as_of`` and ``stale_after`` (when to look again, not a fact counted).
_NOT_COUNTED = {"id", "as_of", "stale_after"}


def _kept(patient_ids: list[int], instrument: str) -> list[str]:
    """The counted facts of these patients' summaries, in a comparable form (read back from the
    database, so a value and its copy compare equal however they were computed)."""
    fields = [
        f.attname
        for f in CourseSummary._meta.concrete_fields
        if f.attname not in _NOT_COUNTED and f.attname != "patient_id"
    ]
    rows = CourseSummary.objects.filter(instrument=instrument, patient_id__in=patient_ids)
    kept = [repr(("summary", r)) for r in rows.values_list("patient_id", *fields)]
    for kind, model in (("safety", CourseSafety), ("dissociation", CourseDissociation)):
        cell = [
            f.attname for f in model._meta.concrete_fields if f.attname not in ("id", "summary_id")
        ]
        kept += [
            repr((kind, r))
            for r in model.objects.filter(
                summary__instrument=instrument, summary__patient_id__in=patient_ids
            ).values_list("summary__patient_id", *cell)
        ]
    return sorted(kept)


def _recompute(
    patient_ids: list[int], *, instrument: str, now: dt.datetime, compare: bool = False
) -> bool:
    """Recomputes these patients' summaries; with ``compare``, returns whether what the dashboard
    counts of them changed (without, True)."""
    before = _kept(patient_ids, instrument) if compare else None
    courses, next_session = selectors.gather_patients(patient_ids, now=now, instrument=instrument)
    definition = INSTRUMENTS.get(instrument)
    bands = definition.bands if definition else ()
    policy = selectors.COHORT_POLICY
    CourseSafety.objects.filter(
        summary__instrument=instrument, summary__patient_id__in=patient_ids
    ).delete()
    CourseDissociation.objects.filter(
        summary__instrument=instrument, summary__patient_id__in=patient_ids
    ).delete()
    CourseSummary.objects.filter(instrument=instrument, patient_id__in=patient_ids).delete()

    rows: list[CourseSummary] = []
    facts_of: list[CourseFacts] = []
    placed: set[int] = set()
    for course in courses:
        facts = course_facts(course, instrument=instrument, as_of=now, bands=bands, policy=policy)
        if facts is None:
            continue
        rows.append(_row(facts, instrument=instrument, now=now, next_session=next_session))
        facts_of.append(facts)
        placed.add(course.key)
    # Patients with sessions booked but none held yet: a row that only waits for the first.
    for patient_id, at in next_session.items():
        if patient_id not in placed:
            rows.append(
                CourseSummary(
                    patient_id=patient_id, instrument=instrument, as_of=now, stale_after=at
                )
            )
    CourseSummary.objects.bulk_create(rows, batch_size=1_000)
    safety: list[CourseSafety] = []
    dissociation: list[CourseDissociation] = []
    # The first len(facts_of) rows are the courses, in order; the waiting rows come after them.
    for row, facts in zip(rows, facts_of, strict=False):
        for cell in facts.safety:
            # A safety cell and its dissociation rows share the course and the route's dose band.
            of_cell = {"summary": row, "route": cell.route, "dose_band": cell.dose_band}
            safety.append(
                CourseSafety(
                    **of_cell,
                    sessions=cell.sessions,
                    with_adverse_event=cell.with_adverse_event,
                    with_moderate_or_severe=cell.with_moderate_or_severe,
                )
            )
            dissociation += [
                CourseDissociation(
                    **of_cell, scale=d.scale, ratings=d.ratings, total=d.total, squares=d.squares
                )
                for d in cell.dissociation
            ]
    CourseSafety.objects.bulk_create(safety, batch_size=2_000)
    CourseDissociation.objects.bulk_create(dissociation, batch_size=2_000)
    return before is None or before != _kept(patient_ids, instrument)


def _analyze() -> None:
    """Fresh planner statistics after many rows changed: without them PostgreSQL plans the
    dashboard's counts for a near-empty table (nested loops, sorts on disk), ten times slower."""
    with connection.cursor() as cursor:
        for model in (CourseSummary, CourseSafety, CourseDissociation):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def joined(values: tuple[str, ...]) -> str:
    """("emdr", "ifs") -> "|emdr|ifs|" (and () -> "")."""
    return f"|{'|'.join(values)}|" if values else ""


def _row(
    facts: CourseFacts, *, instrument: str, now: dt.datetime, next_session: dict[int, dt.datetime]
) -> CourseSummary:
    row = CourseSummary(
        patient_id=facts.key,
        instrument=instrument,
        as_of=now,
        stale_after=next_session.get(facts.key),
        first_dose_at=facts.first_dose,
        site_id=facts.site_id,
        program=facts.program,
        route=facts.route,
        modalities=joined(facts.modalities),
        conditions=joined(facts.conditions),
        resistant=facts.resistant,
        severity=facts.severity,
        usable_baseline=facts.usable_baseline,
        completed=facts.completed,
        durability_days=facts.durability[0] if facts.durability else None,
        durability_lost=facts.durability[1] if facts.durability else None,
    )
    for i, point in enumerate(facts.points):
        setattr(row, point_column(i), point_code(point))
        setattr(row, f"{point_column(i)}_closes", point.closes)
    for k, score in enumerate(facts.before_session):
        setattr(row, before_column(k), score)
    return row
