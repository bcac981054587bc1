"""Program template versions, treatment plan versions and their signatures: all written once.

Editing a program template adds a version that supersedes the one in force; a plan keeps the
version it was made from. A treatment plan is a chain of versions per patient: a draft is replaced
by a newer draft, and a signed plan is amended by a newer version that must be signed in its turn.
A signature is its own row, so nothing about a plan row changes when it is signed. All three are
:class:`~kapstone.kernel.append_only.AppendOnly`: the models refuse a change or a delete, and so do
the database's triggers.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from kapstone.clinical.access import Modality
from kapstone.clinical.programs import ProgramTemplate
from kapstone.clinical.routes import Route
from kapstone.kernel.append_only import AppendOnly
from kapstone.kernel.append_only import AppendOnlyError as AppendOnlyError  # what save() raises
from kapstone.plans.sections import Consent, Preparation, RelapsePrevention


class ProgramTemplateVersion(AppendOnly):
    """One version of a program template, as :class:`kapstone.clinical.programs.ProgramTemplate`
    holds it (nested parts and their sources as JSON)."""

    key = models.CharField(max_length=60)
    version = models.CharField(max_length=40)
    name = models.CharField(max_length=120)
    description = models.TextField()
    routes = models.JSONField()
    dosing_sessions = models.PositiveSmallIntegerField()
    sessions_per_period = models.PositiveSmallIntegerField()
    period_days = models.PositiveSmallIntegerField()
    course_weeks = models.PositiveSmallIntegerField()
    min_gap_days = models.PositiveSmallIntegerField()
    integration = models.JSONField()
    modalities = models.JSONField()
    session_lengths = models.JSONField()
    measurement = models.JSONField()
    source = models.JSONField()
    standard_dose = models.JSONField(null=True, blank=True)
    relapse_rules_may_trigger = models.BooleanField(default=False)
    # The kapstone.measures plan a signed plan on this program starts ('' when none applies).
    measurement_plan = models.CharField(max_length=40, blank=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    change_reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="program_key_version_unique"),
            # One first version per key, and (supersedes is one-to-one) one line of versions.
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(supersedes__isnull=True),
                name="program_one_first_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.ref})"

    @property
    def ref(self) -> str:
        return f"{self.key}@{self.version}"

    def as_template(self) -> ProgramTemplate:
        from kapstone.plans.programs import template_from_row

        return template_from_row(self)

    @property
    def route_values(self) -> list[Route]:
        return [Route(r) for r in self.routes]

    @property
    def modality_values(self) -> list[Modality]:
        return [Modality(m) for m in self.modalities]


class TreatmentPlan(AppendOnly):
    """One version of a patient's treatment plan. Signed when a :class:`PlanSignature` names it."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="treatment_plans"
    )
    revision = models.PositiveIntegerField()
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    program = models.ForeignKey(
        ProgramTemplateVersion, on_delete=models.PROTECT, related_name="treatment_plans"
    )
    route = models.CharField(max_length=32, choices=[(r.value, r.label) for r in Route])

    # The dose: what the prescriber asked for and what the core's calculator made of it.
    weight = models.ForeignKey(
        "patients.BodyMeasurement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    dose_basis = models.CharField(max_length=10)  # "mg_per_kg" or "mg"
    dose_steps = models.JSONField()  # decimals as text; several ascend session by session
    concentration_mg_per_ml = models.DecimalField(
        max_digits=7, decimal_places=3, null=True, blank=True
    )
    infusion_minutes = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    dose_schedule = models.JSONField()  # one DoseCalculation.to_dict() per dosing session
    dose_policy_version = models.CharField(max_length=40)
    dose_change_reason = models.TextField(blank=True)

    # Integration modalities: the proposal (with its reasons) and the therapist's choice.
    presentation = models.JSONField(null=True, blank=True)
    modality_proposal = models.JSONField()
    matching_policy_version = models.CharField(max_length=40)
    modalities = models.JSONField()
    modalities_reason = models.TextField(blank=True)
    modalities_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    modalities_confirmed_at = models.DateTimeField(null=True, blank=True)

    # Preparation: set and setting.
    prep_held_on = models.DateField(null=True, blank=True)
    prep_held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prep_expectations = models.TextField(blank=True)
    prep_intentions = models.TextField(blank=True)
    prep_fears = models.TextField(blank=True)
    prep_dissociation = models.TextField(blank=True)
    prep_fasting = models.TextField(blank=True)
    prep_ride_home = models.TextField(blank=True)
    prep_room_light = models.CharField(max_length=20, blank=True)
    prep_music = models.TextField(blank=True)

    # Informed consent.
    consent_explained = models.JSONField(default=list)
    consent_notes = models.TextField(blank=True)
    consent_form_version = models.CharField(max_length=60, blank=True)
    consent_given_by = models.CharField(max_length=120, blank=True)
    consent_relationship = models.CharField(max_length=60, blank=True)
    consent_witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    consent_at = models.DateTimeField(null=True, blank=True)

    # Relapse prevention, in the patient's words.
    relapse_warning_signs = models.TextField(blank=True)
    relapse_actions = models.TextField(blank=True)
    relapse_supports = models.TextField(blank=True)
    relapse_maintenance_when = models.TextField(blank=True)

    change_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-revision"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "revision"], name="plan_revision_unique"),
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(supersedes__isnull=True),
                name="plan_one_first_version",
            ),
            models.CheckConstraint(
                condition=models.Q(dose_basis__in=["mg_per_kg", "mg"]), name="plan_dose_basis"
            ),
        ]

    def __str__(self) -> str:
        return f"Treatment plan v{self.revision} for patient {self.patient_id}"

    @property
    def route_value(self) -> Route:
        return Route(self.route)

    @property
    def modality_values(self) -> list[Modality]:
        return [Modality(m) for m in self.modalities]

    @property
    def step_values(self) -> tuple[Decimal, ...]:
        return tuple(Decimal(s) for s in self.dose_steps)

    @property
    def preparation(self) -> Preparation:
        return Preparation(
            held_on=self.prep_held_on,
            held_by_id=self.prep_held_by_id,
            expectations=self.prep_expectations,
            intentions=self.prep_intentions,
            fears=self.prep_fears,
            dissociation=self.prep_dissociation,
            fasting=self.prep_fasting,
            ride_home=self.prep_ride_home,
            room_light=self.prep_room_light,
            music=self.prep_music,
        )

    @property
    def consent(self) -> Consent:
        return Consent(
            explained=tuple(self.consent_explained),
            notes=self.consent_notes,
            form_version=self.consent_form_version,
            given_by=self.consent_given_by,
            relationship=self.consent_relationship,
            witness_id=self.consent_witness_id,
            given_at=self.consent_at,
        )

    @property
    def relapse_prevention(self) -> RelapsePrevention:
        return RelapsePrevention(
            warning_signs=self.relapse_warning_signs,
            actions=self.relapse_actions,
            supports=self.relapse_supports,
            maintenance_when=self.relapse_maintenance_when,
        )

    @property
    def signature_or_none(self) -> PlanSignature | None:
        try:
            return self.signature
        except PlanSignature.DoesNotExist:
            return None

    @property
    def is_signed(self) -> bool:
        return self.signature_or_none is not None


class PlanSignature(AppendOnly):
    """The prescriber's (or medical director's) signature on one plan version, with the signed
    eligibility decision it relied on and the measurement plan it started."""

    plan = models.OneToOneField(TreatmentPlan, on_delete=models.PROTECT, related_name="signature")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signer_role = models.CharField(max_length=32)
    signed_at = models.DateTimeField()
    # The intake app's EligibilityReview, by id: the decision and its date are copied so the
    # signature still says what it relied on if the intake's tables change shape.
    eligibility_review_id = models.PositiveBigIntegerField()
    eligibility_decision = models.CharField(max_length=32)
    eligibility_signed_at = models.DateTimeField()
    measurement_plan = models.CharField(max_length=40, blank=True)
    measurement_care_plan = models.ForeignKey(
        "measures.MeasurementCarePlan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"Signature on plan {self.plan_id} by {self.signed_by_id}"
