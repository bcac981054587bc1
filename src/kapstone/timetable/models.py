"""The clinic's calendar (opening hours, closures, staff hours, absences), scheduling runs, and the
secret calendar-feed links.

Calendar rows are configuration, edited through services with their audit rows. A SolveRun is the
work record of one solve: queued, running, done or failed, its proposal, and who accepted it; the
sessions themselves are booked through the dosing and integration services.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class OpeningHours(models.Model):
    """A site's opening span on one weekday; a weekday without a row is closed."""

    site = models.ForeignKey("accounts.Site", on_delete=models.CASCADE, related_name="+")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["site__name", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["site", "weekday"], name="one_opening_span_a_day"),
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")), name="opening_closes_after_opens"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} {Weekday(self.weekday).label} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Closure(models.Model):
    """A whole day a site is closed (a public holiday, a training day)."""

    site = models.ForeignKey("accounts.Site", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["day", "site__name"]
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="one_closure_a_day")]

    def __str__(self) -> str:
        return f"{self.site} closed {self.day:%d %b %Y}"


class StaffHours(models.Model):
    """Where and when a nurse, prescriber or therapist works on one weekday, with one break.

    One row per weekday, so nobody is on duty at two sites at once; the scheduler treats each
    (member, site) as its own timetable.
    """

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="working_hours"
    )
    site = models.ForeignKey("accounts.Site", on_delete=models.CASCADE, related_name="+")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts = models.TimeField()
    ends = models.TimeField()
    break_starts = models.TimeField(null=True, blank=True)
    break_ends = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["staff__last_name", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["staff", "weekday"], name="one_working_span_a_day"),
            models.CheckConstraint(
                condition=models.Q(ends__gt=models.F("starts")), name="work_ends_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(break_starts__isnull=True, break_ends__isnull=True)
                | models.Q(break_ends__gt=models.F("break_starts")),
                name="break_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Staff {self.staff_id} {Weekday(self.weekday).label} at site {self.site_id}"


class Absence(models.Model):
    """A day a staff member cannot work (sick, leave) or a patient cannot attend."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    reason = models.CharField(max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["day", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(staff__isnull=False, patient__isnull=True)
                | models.Q(staff__isnull=True, patient__isnull=False),
                name="absence_of_staff_or_patient",
            )
        ]

    def __str__(self) -> str:
        who = f"staff {self.staff_id}" if self.staff_id else f"patient {self.patient_id}"
        return f"Absence of {who} on {self.day:%d %b %Y}"


class RunKind(models.TextChoices):
    BOOK = "book", "Book pending plans"
    REPLAN = "replan", "Re-plan booked sessions with as few changes as possible"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class SolveRun(models.Model):
    kind = models.CharField(max_length=8, choices=RunKind.choices, default=RunKind.BOOK)
    starts_on = models.DateField()
    weeks = models.PositiveSmallIntegerField()
    # Patient ids asked for (BOOK) or in scope (REPLAN, filled in when the run is built).
    patient_ids = models.JSONField(default=list)
    reason = models.CharField(max_length=300, blank=True)  # REPLAN: what changed
    time_limit_s = models.FloatField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # The inputs' digests per part (calendar, rooms, staff, requests, previous): accepting compares
    # them with the clinic as it is then, and refuses if anything changed.
    digests = models.JSONField(default=dict)
    solver_status = models.CharField(max_length=12, blank=True)
    objective = models.IntegerField(null=True, blank=True)
    bound = models.FloatField(null=True, blank=True)
    gap = models.FloatField(null=True, blank=True)
    solve_seconds = models.FloatField(null=True, blank=True)
    policy_version = models.CharField(max_length=40, blank=True)
    stages = models.JSONField(default=list)
    proposal = models.JSONField(default=list)  # one entry per dosing session with its integration
    unadmitted = models.JSONField(default=dict)  # patient id -> reasons in the clinic's words
    violations = models.JSONField(default=list)
    changes = models.JSONField(default=dict)  # REPLAN: what moves, what stays, what is dropped
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Scheduling run {self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in {RunStatus.DONE, RunStatus.FAILED}


class FeedToken(models.Model):
    """A secret calendar-feed address for one staff member or one patient; only its hash is kept.

    Issuing a new link revokes the old one; a revoked link answers 404.
    """

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Calendar apps poll every few hours: a read updates this instead of writing an audit row each
    # time (the audit trail records issuing and revoking).
    last_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(staff__isnull=False, patient__isnull=True)
                | models.Q(staff__isnull=True, patient__isnull=False),
                name="feed_of_staff_or_patient",
            )
        ]

    def __str__(self) -> str:
        return f"Calendar feed {self.pk}"
