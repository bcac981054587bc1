"""The chair-side record of one dosing session: checklist, doses given, vital signs, dissociation,
adverse events, alerts, discharge and the signature that locks it.

Clinical rows are written once (database triggers refuse UPDATE and DELETE, migration 0002): a wrong
vital is struck by adding a :class:`VitalStrike`, an alert is closed by adding its acknowledgement,
and after signing a correction is a :class:`SessionAddendum`. Two rows carry columns that are
filled in later, once: the record (discharged, then signed) and a dose (an infusion's stop time);
their triggers let a NULL column be set and nothing else change, and refuse every change once the
record is signed. Two nurses charting the same session each append their own rows, so neither can
overwrite the other.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models

from kapstone.clinical.monitoring_policy import AlertGrade
from kapstone.clinical.routes import Route
from kapstone.clinical.vital_signs import DissociationScale, SedationLevel
from kapstone.kernel.append_only import AppendOnly, AppendOnlyError

STAFF = settings.AUTH_USER_MODEL


class NeverDeleted(models.Model):
    """Filled in over the session, so not append-only (chairside.triggers guards its write-once
    columns), but never deleted either."""

    class Meta:
        abstract = True

    def delete(self, using: Any = None, keep_parents: bool = False) -> NoReturn:
        raise AppendOnlyError(f"{type(self).__name__} rows are never deleted")


ROUTE_CHOICES = [(r.value, r.label) for r in Route]
SEDATION_CHOICES = [(s.value, s.label) for s in SedationLevel]
GRADE_CHOICES = [(g.value, g.label) for g in AlertGrade]


class ChairsideRecord(NeverDeleted):
    """Opened when the nurse starts charting a booked session; signed once, then locked."""

    session = models.OneToOneField(
        "dosing.DosingSession", on_delete=models.PROTECT, related_name="chairside"
    )
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(STAFF, on_delete=models.PROTECT, related_name="+")
    route = models.CharField(max_length=32, choices=ROUTE_CHOICES)
    # What the record was charted under: the core's monitoring protocol and policy versions, and
    # the pre-dose checklist policy's version.
    protocol_id = models.CharField(max_length=60)
    policy_version = models.CharField(max_length=40)
    checklist_policy_version = models.CharField(max_length=40)
    discharged_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        STAFF, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(signed_at__isnull=True, signed_by__isnull=True)
                | models.Q(signed_at__isnull=False, signed_by__isnull=False),
                name="chairside_signed_with_signer",
            ),
            models.CheckConstraint(
                condition=models.Q(signed_at__isnull=True) | models.Q(discharged_at__isnull=False),
                name="chairside_signed_after_discharge",
            ),
        ]

    def __str__(self) -> str:
        return f"Chair-side record of dosing session {self.session_id}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def route_value(self) -> Route:
        return Route(self.route)


class ChecklistOutcome(models.TextChoices):
    PASS = "pass", "Pass"
    WARN = "warn", "Warning"
    BLOCK = "block", "Blocks dosing"


class ChecklistAnswer(AppendOnly):
    """One answer to one pre-dose item; a later answer to the same item replaces it on screen."""

    record = models.ForeignKey(ChairsideRecord, on_delete=models.PROTECT, related_name="checklist")
    item = models.CharField(max_length=40)
    value = models.JSONField()
    outcome = models.CharField(max_length=8, choices=ChecklistOutcome.choices)
    message = models.CharField(max_length=400, blank=True)
    note = models.TextField(blank=True)
    answered_by = models.ForeignKey(STAFF, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["answered_at", "pk"]
        indexes = [models.Index(fields=["record", "item", "answered_at"])]

    def __str__(self) -> str:
        return f"Checklist {self.item} on record {self.record_id}: {self.outcome}"


class VitalSource(models.TextChoices):
    TYPED = "typed", "Typed by the nurse"
    DEVICE = "device", "From the bedside monitor"


class DeviceVerdict(models.TextChoices):
    """What the clinic's artifact policy (kapstone.clinical.device_artifacts) said of a monitor
    reading before it was graded; blank for typed readings."""

    ACCEPTED = "accepted", "Accepted"
    HELD = "held", "Awaiting confirmation"
    CONFIRMED = "confirmed", "Confirms the reading before"


class VitalReading(AppendOnly):
    """One set of vital signs, typed by the nurse or sent by the bedside monitor.

    A monitor's reading has no recorder (nobody typed it): it names its device and the message it
    came in, which makes a resent message harmless (one reading per device and message id). The
    nurse verifies monitor readings (:class:`VitalVerification`) before the record is signed.
    """

    record = models.ForeignKey(ChairsideRecord, on_delete=models.PROTECT, related_name="vitals")
    taken_at = models.DateTimeField()
    systolic = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField(null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    sedation = models.CharField(max_length=32, choices=SEDATION_CHOICES, blank=True)
    is_baseline = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        STAFF, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()
    # Defaults held by the database too: a bulk loader naming only the older columns (the demo
    # network's COPY) still writes typed readings.
    source = models.CharField(
        max_length=8,
        choices=VitalSource.choices,
        default=VitalSource.TYPED,
        db_default=VitalSource.TYPED,
    )
    device_label = models.CharField(max_length=80, blank=True, default="", db_default="")
    device_message_id = models.CharField(max_length=80, blank=True, default="", db_default="")
    # The artifact policy's verdict on a monitor reading, under which policy version, and why.
    device_verdict = models.CharField(
        max_length=12, choices=DeviceVerdict.choices, blank=True, default="", db_default=""
    )
    device_policy_version = models.CharField(max_length=40, blank=True, default="", db_default="")
    device_note = models.CharField(max_length=400, blank=True, default="", db_default="")

    class Meta:
        ordering = ["taken_at", "pk"]
        indexes = [models.Index(fields=["record", "taken_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    source=VitalSource.TYPED,
                    recorded_by__isnull=False,
                    device_label="",
                    device_message_id="",
                    device_verdict="",
                )
                | models.Q(source=VitalSource.DEVICE, recorded_by__isnull=True)
                & ~models.Q(device_label="")
                & ~models.Q(device_message_id="")
                & ~models.Q(device_verdict=""),
                name="vital_typed_has_recorder_device_has_message",
            ),
            models.UniqueConstraint(
                fields=["device_label", "device_message_id"],
                condition=models.Q(source=VitalSource.DEVICE),
                name="vital_one_reading_per_device_message",
            ),
        ]

    def __str__(self) -> str:
        return f"Vitals at {self.taken_at:%H:%M} on record {self.record_id}"

    @property
    def is_struck(self) -> bool:
        return hasattr(self, "strike")

    @property
    def from_monitor(self) -> bool:
        return self.source == VitalSource.DEVICE

    @property
    def is_verified(self) -> bool:
        return not self.from_monitor or hasattr(self, "verification")

    @property
    def is_held(self) -> bool:
        return self.device_verdict == DeviceVerdict.HELD


class VitalVerification(AppendOnly):
    """The nurse's check of one monitor reading; one tap verifies every unverified reading of the
    record at once, so the rows of one tap share ``by`` and ``at`` (and one audit entry names them)."""

    reading = models.OneToOneField(
        VitalReading, on_delete=models.PROTECT, related_name="verification"
    )
    by = models.ForeignKey(STAFF, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Verification of reading {self.reading_id}"


class MonitorFeedHeartbeat(models.Model):
    """When the bedside monitor in a room last sent anything: the listener notes every message,
    so the console can say whether the feed is live. Overwritten in place (it is not a chart row)."""

    room = models.OneToOneField("accounts.Room", on_delete=models.CASCADE, related_name="+")
    device_label = models.CharField(max_length=80)
    last_message_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Monitor {self.device_label} in room {self.room_id}"


class VitalStrike(AppendOnly):
    """A wrong reading struck through with a reason: it stays on the chart, shown struck."""

    reading = models.OneToOneField(VitalReading, on_delete=models.PROTECT, related_name="strike")
    reason = models.TextField()
    by = models.ForeignKey(STAFF, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="vital_strike_has_reason")
        ]

    def __str__(self) -> str:
        return f"Strike of reading {self.reading_id}"


class ProceedDecision(AppendOnly):
    """The prescriber's documented decision to dose despite a pre-dose BP above the guide."""

    record = models.ForeignKey(
        ChairsideRecord, on_delete=models.PROTECT, related_name="proceed_decisions"
    )
    reading = models.ForeignKey(VitalReading, on_delete=models.PROTECT, related_name="+")
    prescriber = models.ForeignKey(STAFF, on_delete=models.PROTECT, related_name="+")
    rationale = models.TextField()
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["decided_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(rationale=""), name="proceed_decision_has_rationale"
            )
        ]

    def __str__(self) -> str:
        return f"Decision to proceed on record {self.record_id}"


class DoseChangeDecision(AppendOnly):
    """The prescriber's documented decision to give a dose far from the signed plan's.

    A nurse's reason covers a small change; beyond the policy fraction
    (``kapstone.clinical.plausibility.DOSE_CHANGE_FRACTION``) the dose is a new prescription, so
    the chart refuses it until a prescriber has decided it, for that exact dose, on this record.
    """

    record = models.ForeignKey(
        ChairsideRecord, on_delete=models.PROTECT, related_name="dose_change_decisions"
    )
    prescriber = models.ForeignKey(STAFF, on_delete=models.PROTECT, related_name="+")
    planned_dose_mg = models.DecimalField(max_digits=7, decimal_places=2)
    dose_mg = models.DecimalField(max_digits=7, decimal_places=2)
    rationale = models.TextField()
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["decided_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(rationale=""), name="dose_change_decision_has_rationale"
            )
        ]

    def __str__(self) -> str:
        return f"Decision to give {self.dose_mg} mg on record {self.record_id}"


class DoseAdministration(NeverDeleted):
    """One line of the medication administration record."""

    record = models.ForeignKey(ChairsideRecord, on_delete=models.PROTECT, related_name="doses")
    product = models.ForeignKey(
        "ledger.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lot = models.ForeignKey(
        "ledger.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expires_on = models.DateField(null=True, blank=True)
    concentration_mg_per_ml = models.DecimalField(
        max_digits=7, decimal_places=3, null=True, blank=True
    )
    # The plan's calculated dose for this session; a different dose needs change_reason.
    planned_dose_mg = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    dose_mg = models.DecimalField(max_digits=7, decimal_places=2)
    change_reason = models.TextField(blank=True)
    route = models.CharField(max_length=32, choices=ROUTE_CHOICES)
    started_at = models.DateTimeField()
    # An infusion's end is written once when it stops; a bolus or nasal dose may leave it empty.
    stopped_at = models.DateTimeField(null=True, blank=True)
    rate_ml_per_hour = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    given_by = models.ForeignKey(STAFF, on_delete=models.PROTECT, related_name="+")
    witnessed_by = models.ForeignKey(
        STAFF, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    devices = models.PositiveSmallIntegerField(null=True, blank=True)  # esketamine 28 mg devices
    # The ledger's draw for this session (or its 'administered' entry) when there is one.
    ledger_entry = models.ForeignKey(
        "ledger.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(STAFF, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["started_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(dose_mg__gt=0), name="dose_is_positive"),
            models.CheckConstraint(
                condition=models.Q(stopped_at__isnull=True)
                | models.Q(stopped_at__gte=models.F("started_at")),
                name="dose_stops_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(planned_dose_mg__isnull=True)
                | models.Q(dose_mg=models.F("planned_dose_mg"))
                | ~models.Q(change_reason=""),
                name="dose_change_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(witnessed_by=models.F("given_by")),
                name="dose_witness_is_not_giver",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dose_mg} mg at {self.started_at:%H:%M} on record {self.record_id}"

    @property
    def changed(self) -> bool:
        return self.planned_dose_mg is not None and self.dose_mg != self.planned_dose_mg


class DissociationRating(AppendOnly):
    record = models.ForeignKey(
        ChairsideRecord, on_delete=models.PROTECT, related_name="dissociation"
    )
    scale = models.CharField(
        max_length=10,
        choices=[
            (DissociationScale.CADSS.value, "CADSS"),
            (DissociationScale.CADSS_6.value, "CADSS-6"),
        ],
    )
    score = models.PositiveSmallIntegerField()
    taken_at = models.DateTimeField()
    is_baseline = models.BooleanField(default=False)
    rated_by = models.ForeignKey(STAFF, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    # The clinician-rated questionnaire response, when the rating was made item by item.
    response = models.ForeignKey(
        "assessments.QuestionnaireResponse",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["taken_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scale=DissociationScale.CADSS.value, score__lte=92)
                | models.Q(scale=DissociationScale.CADSS_6.value, score__lte=24),
                name="dissociation_score_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_scale_display()} {self.score} on record {self.record_id}"


class AdverseEventKind(models.TextChoices):
    NAUSEA = "nausea", "Nausea"
    VOMITING = "vomiting", "Vomiting"
    AGITATION = "agitation", "Agitation"
    EMERGENCE_REACTION = "emergence_reaction", "Emergence reaction"
    HYPERTENSION_SYMPTOMS = "hypertension_symptoms", "Hypertension symptoms (other)"
    CHEST_PAIN = "chest_pain", "Chest pain"
    SEVERE_HEADACHE = "severe_headache", "Severe headache"
    NEUROLOGICAL_SIGNS = "neurological_signs", "Neurological signs (weakness, speech, vision)"
    OTHER = "other", "Other"


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class AdverseEvent(AppendOnly):
    record = models.ForeignKey(
        ChairsideRecord, on_delete=models.PROTECT, related_name="adverse_events"
    )
    kind = models.CharField(max_length=24, choices=AdverseEventKind.choices)
    description = models.CharField(max_length=300, blank=True)  # what 'other' was
    severity = models.CharField(max_length=10, choices=Severity.choices)
    action = models.TextField()
    onset_at = models.DateTimeField()
    # Sedation when it happened (vomiting while sedated is graded higher); blank: not observed.
    sedation = models.CharField(max_length=32, choices=SEDATION_CHOICES, blank=True)
    recorded_by = models.ForeignKey(STAFF, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["onset_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(action=""), name="adverse_event_has_action"),
            models.CheckConstraint(
                condition=~models.Q(kind="other") | ~models.Q(description=""),
                name="adverse_event_other_is_described",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.severity}) on record {self.record_id}"


class SessionAlert(AppendOnly):
    """What the core's alert engine said about a saved reading or a charted symptom."""

    record = models.ForeignKey(ChairsideRecord, on_delete=models.PROTECT, related_name="alerts")
    grade = models.CharField(max_length=32, choices=GRADE_CHOICES)
    # [{"rule_id", "grade", "rule_grade", "message", "source": {key, verification, ...}}]
    rules = models.JSONField()
    message = models.TextField()
    raised_at = models.DateTimeField()
    reading = models.ForeignKey(
        VitalReading, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    adverse_event = models.ForeignKey(
        AdverseEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    policy_version = models.CharField(max_length=40)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(grade=AlertGrade.NONE.value), name="session_alert_has_grade"
            )
        ]

    def __str__(self) -> str:
        return f"Alert {self.pk} ({self.grade}) on record {self.record_id}"

    @property
    def grade_value(self) -> AlertGrade:
        return AlertGrade(self.grade)

    @property
    def is_open(self) -> bool:
        return not hasattr(self, "acknowledgement")


class AlertAction(models.TextChoices):
    RECHECKED = "rechecked", "Rechecked the vital signs"
    INFUSION_SLOWED = "infusion_slowed", "Slowed the infusion"
    INFUSION_PAUSED = "infusion_paused", "Paused the infusion"
    DOSING_STOPPED = "dosing_stopped", "Stopped dosing"
    PRESCRIBER_CALLED = "prescriber_called", "Called the prescriber"
    EMERGENCY_CALLED = "emergency_called", "Called for emergency help"
    TREATED = "treated", "Treated (say what in the note)"
    NO_ACTION = "no_action", "No action: clinical judgement (say why)"


class SessionAlertAcknowledgement(AppendOnly):
    alert = models.OneToOneField(
        SessionAlert, on_delete=models.PROTECT, related_name="acknowledgement"
    )
    action = models.CharField(max_length=20, choices=AlertAction.choices)
    note = models.TextField(blank=True)
    by = models.ForeignKey(STAFF, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(action__in=["treated", "no_action"]) | ~models.Q(note=""),
                name="alert_ack_judgement_has_note",
            )
        ]

    def __str__(self) -> str:
        return f"Acknowledgement of alert {self.alert_id}"


class DischargeSignoff(AppendOnly):
    """The nurse's discharge: what the core said at that moment, and any reason to go anyway."""

    record = models.OneToOneField(
        ChairsideRecord, on_delete=models.PROTECT, related_name="discharge"
    )
    # {"ready", "blockers": [{criterion, message, source}], "earliest_discharge_at", "checklist",
    #  "protocol_id", "policy_version"}
    criteria = models.JSONField()
    ready = models.BooleanField()
    # Discharging while the core still lists blockers (e.g. leaving against advice) needs a reason.
    override_reason = models.TextField(blank=True)
    signed_by = models.ForeignKey(STAFF, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ready=True) | ~models.Q(override_reason=""),
                name="discharge_override_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"Discharge of record {self.record_id}"


class SessionAddendum(AppendOnly):
    """A correction or late entry after signing, with its reason."""

    record = models.ForeignKey(ChairsideRecord, on_delete=models.PROTECT, related_name="addenda")
    reason = models.CharField(max_length=300)
    text = models.TextField()
    by = models.ForeignKey(STAFF, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason="") & ~models.Q(text=""), name="addendum_has_reason"
            )
        ]

    def __str__(self) -> str:
        return f"Addendum {self.pk} to record {self.record_id}"
