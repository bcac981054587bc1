"""Kept course facts: the cohort dashboard's read model.

One :class:`CourseSummary` per patient and instrument holds the facts
:func:`kapstone.clinical.cohort_figures.course_facts` computed from the patient's records, so the
dashboard counts about one narrow row per patient (in SQL) instead of reading every session,
score and chair-side record. They are derived data, never a clinical record: they can be dropped
and rebuilt at any time (``kapstone cohort_summaries --rebuild``), and
:mod:`kapstone.cohorts.summaries` keeps them current (see there for how a change is noticed).
"""

from __future__ import annotations

from typing import Any

from django.db import models

from kapstone.clinical.cohort import MAX_TIME_POINTS, MAX_TRAJECTORY_SESSIONS
from kapstone.clinical.cohort_figures import PointFact, PointStatus

# A time point's stored code: the PointStatus value, and for a measured course 3 + 1 if it
# responded + 2 if it remitted (3 to 6).
MEASURED = int(PointStatus.MEASURED)
RESPONDED = 1
REMITTED = 2


def point_code(fact: PointFact) -> int:
    if fact.status is PointStatus.MEASURED:
        return MEASURED + RESPONDED * fact.responded + REMITTED * fact.remitted
    return int(fact.status)


def point_column(index: int) -> str:
    """The column of the policy's time point ``index`` (0-based)."""
    return f"point_{index + 1}"


def before_column(index: int) -> str:
    """The column of the score before session ``index + 1``."""
    return f"before_session_{index + 1}"


def _time_point_fields() -> dict[str, models.Field[Any, Any]]:
    fields: dict[str, models.Field[Any, Any]] = {}
    for i in range(MAX_TIME_POINTS):
        fields[point_column(i)] = models.PositiveSmallIntegerField(null=True)
        fields[f"{point_column(i)}_closes"] = models.DateTimeField(null=True)
    for k in range(MAX_TRAJECTORY_SESSIONS):
        fields[before_column(k)] = models.PositiveSmallIntegerField(null=True)
    return fields


class CourseSummaryState(models.Model):
    """How far the summaries of one instrument are kept: the last audit entry taken into account,
    and a fingerprint of everything global they depend on (the cohort and outcome policies, the
    programs' lengths, the instrument's bands); a different fingerprint rebuilds them all."""

    instrument = models.CharField(max_length=40, unique=True)
    audit_seq = models.PositiveBigIntegerField(default=0)
    fingerprint = models.CharField(max_length=64)
    refreshed_at = models.DateTimeField()
    courses = models.PositiveIntegerField(default=0)
    # When a page handed a refresh too large to wait for to the task worker (cleared when done).
    requested_at = models.DateTimeField(null=True)
    # A new random token each time a refresh changes what the dashboard counts (a rebuild, or a
    # recomputed course whose kept facts differ): the dashboard's cache key (dashboard.py). Random,
    # not a counter, so a database restored or rebuilt never meets a key of another's figures.
    generation = models.CharField(max_length=32, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.instrument} summaries up to audit #{self.audit_seq}"


class CourseSummary(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    instrument = models.CharField(max_length=40)
    as_of = models.DateTimeField()
    # The next dosing session after as_of: when it starts, the facts change without a write.
    stale_after = models.DateTimeField(null=True)
    # Null when no dosing session was held by as_of (the row then only waits for stale_after).
    first_dose_at = models.DateTimeField(null=True)
    site_id = models.PositiveIntegerField(null=True)
    program = models.CharField(max_length=80, blank=True)
    route = models.CharField(max_length=32, blank=True)
    # "|emdr|ifs|": filtered with LIKE '%|emdr|%' on either database, grouped as text.
    modalities = models.TextField(blank=True)
    conditions = models.TextField(blank=True)
    resistant = models.CharField(max_length=3, blank=True)
    severity = models.CharField(max_length=40, blank=True)
    usable_baseline = models.BooleanField(default=False)
    completed = models.BooleanField(default=False)
    durability_days = models.FloatField(null=True)
    durability_lost = models.BooleanField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "instrument"], name="cohorts_one_summary_per_instrument"
            )
        ]
        indexes = [
            models.Index(fields=["instrument", "first_dose_at"], name="cohorts_summary_start"),
            models.Index(fields=["instrument", "stale_after"], name="cohorts_summary_stale"),
        ]

    def __str__(self) -> str:
        return f"course summary #{self.pk} ({self.instrument})"


# One column per time point and per trajectory session (named in summaries.py), added here so
# their number follows the core's limits.
for _name, _field in _time_point_fields().items():
    CourseSummary.add_to_class(_name, _field)


class CourseSafety(models.Model):
    """A course's charted sessions of one route and dose band."""

    summary = models.ForeignKey(CourseSummary, on_delete=models.CASCADE, related_name="safety")
    route = models.CharField(max_length=32, blank=True)
    dose_band = models.CharField(max_length=40, blank=True)
    sessions = models.PositiveIntegerField()
    with_adverse_event = models.PositiveIntegerField()
    with_moderate_or_severe = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.route} {self.dose_band}: {self.sessions} sessions"


class CourseDissociation(models.Model):
    """Peak dissociation ratings of a course's sessions of one route and dose band, one scale."""

    summary = models.ForeignKey(
        CourseSummary, on_delete=models.CASCADE, related_name="dissociation"
    )
    route = models.CharField(max_length=32, blank=True)
    dose_band = models.CharField(max_length=40, blank=True)
    scale = models.CharField(max_length=20)
    ratings = models.PositiveIntegerField()
    total = models.PositiveIntegerField()
    squares = models.PositiveBigIntegerField()

    def __str__(self) -> str:
        return f"{self.scale} {self.route} {self.dose_band}: {self.ratings} ratings"
