from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import QuerySet

from kapstone.accounts.models import StaffUser
from kapstone.clinical import plausibility as limits
from kapstone.clinical.access import Modality, Role
from kapstone.clinical.numbers import MAX_NUMBER_CHARS, NumberError, NumberFormat, parse_number
from kapstone.clinical.preparation import FASTING
from kapstone.clinical.routes import Route
from kapstone.measures.plans import PLAN_CHOICES
from kapstone.names import validate_person_name
from kapstone.patients.models import Patient
from kapstone.plans import programs
from kapstone.plans.doses import BASIS_CHOICES
from kapstone.plans.models import ProgramTemplateVersion
from kapstone.plans.sections import (
    CONSENT_TOPICS,
    Consent,
    Preparation,
    RelapsePrevention,
    RoomLight,
)
from kapstone.web.fields import (
    ClinicalTextField,
    StrictDecimalField,
    StrictIntegerField,
    StrictNumberField,
)

ROUTE_CHOICES = [(r.value, r.label) for r in Route]
MODALITY_CHOICES = [(m.value, m.label) for m in Modality]
_WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_DAY = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _text(label: str, help_text: str = "", rows: int = 2) -> forms.CharField:
    return ClinicalTextField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _count(label: str, help_text: str = "") -> forms.Field:
    # No lower bound here: the core's validate_template explains what it accepts.
    return StrictIntegerField(
        label=label,
        help_text=help_text,
        max_value=999,
        error_messages={"required": f"Give the {label.lower()}.", "invalid": "Enter a number."},
    )


# --- program templates ------------------------------------------------------------------------

_MINUTE_PARTS = (
    ("preparation", "Preparation"),
    ("dosing", "Dosing"),
    ("observation", "Observation"),
)


class ProgramTemplateForm(forms.Form):
    key = forms.CharField(
        label="Key",
        max_length=60,
        help_text="A short name that never changes: lower-case letters, digits and _ "
        "(e.g. weekly_sc_anxiety).",
    )
    name = forms.CharField(label="Name", max_length=120)
    description = ClinicalTextField(label="Description", widget=forms.Textarea(attrs={"rows": 3}))
    routes = forms.MultipleChoiceField(
        label="Routes offered",
        choices=ROUTE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    dosing_sessions = _count("Dosing sessions", "In the whole course.")
    sessions_per_period = _count("Sessions per period")
    period_days = _count("Period (days)", "e.g. 3 sessions every 7 days.")
    course_weeks = _count("Course (weeks)")
    min_gap_days = _count("Minimum days between doses")
    integration_required = forms.BooleanField(
        label="Integration session required after each dose", required=False
    )
    integration_minutes_min = _count("Integration: shortest (minutes)")
    integration_minutes_max = _count("Integration: longest (minutes)")
    integration_within_hours = _count("Integration within (hours after the dose)")
    modalities = forms.MultipleChoiceField(
        label="Integration modalities offered",
        choices=MODALITY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    standard_route = forms.ChoiceField(
        label="Standard dose: route",
        choices=[("", "No standard dose"), *ROUTE_CHOICES],
        required=False,
    )
    standard_mg_per_kg = StrictDecimalField(
        label="Standard dose (mg/kg)", required=False, max_digits=5, decimal_places=3
    )
    standard_minutes = StrictDecimalField(
        label="Standard infusion (minutes)", required=False, max_digits=5, decimal_places=1
    )
    relapse_rules_may_trigger = forms.BooleanField(
        label="The relapse rules may bring a dose forward (maintenance)", required=False
    )
    measurement_plan = forms.ChoiceField(
        label="Measurement plan started when a plan is signed",
        choices=[("", "None applies"), *PLAN_CHOICES],
        required=False,
    )
    reason = ClinicalTextField(
        label="Why",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with the version: plans made from it show where it came from.",
        error_messages={"required": "Say why (it is kept with the version)."},
    )

    def __init__(self, *args: Any, new: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not new:
            del self.fields["key"]
        for route in Route:
            for part, label in _MINUTE_PARTS:
                self.fields[f"{route.value}_{part}_minutes"] = StrictIntegerField(
                    label=f"{label} (minutes)",
                    required=False,
                    max_value=999,
                    error_messages={"invalid": "Enter a number of minutes."},
                )

    def route_rows(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (route.label, [self[f"{route.value}_{part}_minutes"] for part, _ in _MINUTE_PARTS])
            for route in Route
        ]

    @staticmethod
    def initial_from(version: ProgramTemplateVersion | None) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        minutes = {r: programs.default_session_minutes(r) for r in Route}
        if version is not None:
            c = programs.changes_from(version.as_template(), version.measurement_plan)
            initial = {
                "name": c.name,
                "description": c.description,
                "routes": [r.value for r in c.routes],
                "dosing_sessions": c.dosing_sessions,
                "sessions_per_period": c.sessions_per_period,
                "period_days": c.period_days,
                "course_weeks": c.course_weeks,
                "min_gap_days": c.min_gap_days,
                "integration_required": c.integration_required,
                "integration_minutes_min": c.integration_minutes_min,
                "integration_minutes_max": c.integration_minutes_max,
                "integration_within_hours": c.integration_within_hours,
                "modalities": [m.value for m in c.modalities],
                "standard_route": c.standard_route.value if c.standard_route else "",
                "standard_mg_per_kg": c.standard_mg_per_kg,
                "standard_minutes": c.standard_minutes,
                "relapse_rules_may_trigger": c.relapse_rules_may_trigger,
                "measurement_plan": c.measurement_plan,
            }
            minutes |= dict(c.session_minutes)
        else:
            initial = {"integration_required": True, "modalities": [m.value for m in Modality]}
        for route, values in minutes.items():
            for (part, _), value in zip(_MINUTE_PARTS, values, strict=True):
                initial[f"{route.value}_{part}_minutes"] = value
        return initial

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for value in data.get("routes", []):
            for part, label in _MINUTE_PARTS:
                name = f"{value}_{part}_minutes"
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, f"{label} minutes are needed for {Route(value).label}.")
        if data.get("standard_route") and data.get("standard_mg_per_kg") is None:
            self.add_error("standard_mg_per_kg", "Give the standard dose in mg/kg, or no route.")
        return data

    def changes(self) -> programs.TemplateChanges:
        d = self.cleaned_data
        routes = tuple(Route(r) for r in d["routes"])
        return programs.TemplateChanges(
            name=d["name"],
            description=d["description"],
            routes=routes,
            dosing_sessions=d["dosing_sessions"],
            sessions_per_period=d["sessions_per_period"],
            period_days=d["period_days"],
            course_weeks=d["course_weeks"],
            min_gap_days=d["min_gap_days"],
            integration_required=d["integration_required"],
            integration_minutes_min=d["integration_minutes_min"],
            integration_minutes_max=d["integration_minutes_max"],
            integration_within_hours=d["integration_within_hours"],
            modalities=tuple(Modality(m) for m in d["modalities"]),
            session_minutes={
                route: tuple(d[f"{route.value}_{part}_minutes"] for part, _ in _MINUTE_PARTS)
                for route in routes
            },
            standard_route=Route(d["standard_route"]) if d.get("standard_route") else None,
            standard_mg_per_kg=d.get("standard_mg_per_kg") if d.get("standard_route") else None,
            standard_minutes=d.get("standard_minutes") if d.get("standard_route") else None,
            relapse_rules_may_trigger=d["relapse_rules_may_trigger"],
            measurement_plan=d.get("measurement_plan") or "",
        )


# --- the treatment plan -----------------------------------------------------------------------


if TYPE_CHECKING:  # the stubs' field is generic; Django's own class takes no subscript
    _ProgramField = forms.ModelChoiceField[ProgramTemplateVersion]
    _StaffField = forms.ModelChoiceField[StaffUser]
else:
    _ProgramField = _StaffField = forms.ModelChoiceField


class ProgramChoice(_ProgramField):
    def label_from_instance(self, obj: ProgramTemplateVersion) -> str:
        return f"{obj.name} (version {obj.version})"


def clinical_staff(patient: Patient) -> QuerySet[StaffUser]:
    """Who can hold a preparation session or witness consent: clinicians at the patient's site."""
    roles = [Role.PRESCRIBER, Role.MEDICAL_DIRECTOR, Role.NURSE, Role.THERAPIST]
    return (
        StaffUser.objects.filter(
            is_active=True, role__in=[r.value for r in roles], sites=patient.home_site_id
        )
        .order_by("last_name", "first_name")
        .distinct()
    )


class StaffChoice(_StaffField):
    def label_from_instance(self, obj: StaffUser) -> str:
        return f"{obj.display_name} ({obj.staff_role.label})"


DOSE_STEP = NumberFormat("a dose", "0.5", places=3)


def parse_doses(raw: str) -> tuple[Decimal, ...]:
    values = []
    for part in raw.replace(";", ",").replace("→", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            # The strict reader: ASCII digits only, no exponents, bounded length.
            value = parse_number(part, DOSE_STEP)
        except NumberError:
            shown = part if len(part) <= MAX_NUMBER_CHARS else part[:MAX_NUMBER_CHARS] + "…"
            raise forms.ValidationError(
                f"{shown!r} is not a number: enter a dose such as 0.5, or ascending doses such "
                "as 0.25, 0.5, 1.0."
            ) from None
        values.append(value)
    return tuple(values)


DEFAULT_FASTING = FASTING.text  # clinic-policy default, cited in kapstone.clinical.preparation


class PlanDraftForm(forms.Form):
    program = ProgramChoice(
        label="Program",
        queryset=ProgramTemplateVersion.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a program."},
    )
    route = forms.ChoiceField(
        label="Route",
        choices=ROUTE_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a route."},
    )
    dose_basis = forms.ChoiceField(
        label="Dose given in",
        choices=BASIS_CHOICES,
        widget=forms.RadioSelect,
        initial="mg_per_kg",
    )
    dose = forms.CharField(
        label="Dose per session",
        max_length=60,
        help_text="One dose for every session (e.g. 0.5), or ascending doses separated by "
        "commas (e.g. 0.25, 0.5, 1.0 mg/kg, or 56, 84 mg of esketamine): each session takes the "
        "next, later sessions the last.",
        error_messages={"required": "Give the dose per session."},
    )
    concentration_mg_per_ml = StrictNumberField(
        label="Stock concentration (mg/mL)",
        required=False,
        fmt=limits.CONCENTRATION,
        limit=limits.CONCENTRATION_MG_PER_ML,
        help_text="For injections, infusions and oral solution: gives the volume.",
    )
    infusion_minutes = StrictDecimalField(
        label="Infusion duration (minutes)",
        required=False,
        max_digits=5,
        decimal_places=1,
        help_text="IV only.",
    )
    dose_change_reason = _text(
        "Reason for the dose",
        "Needed when the dose differs from the program's standard dose or from the previous "
        "version of the plan.",
    )

    prep_held_on = forms.DateField(label="Preparation session held on", required=False, widget=_DAY)
    prep_held_by = StaffChoice(label="Held by", queryset=StaffUser.objects.none(), required=False)
    prep_expectations = _text("Expectations", "What the patient expects, and what was said.")
    prep_intentions = _text("Intentions", "What the patient hopes to work on.")
    prep_fears = _text("Fears", "Fears or misconceptions, and how they were addressed.")
    prep_dissociation = _text(
        "What dissociation feels like",
        "How dissociation was described: temporary, safe, the therapist stays present.",
    )
    prep_fasting = _text("Fasting")
    prep_ride_home = _text("Ride home", "Who takes the patient home after each session.")
    prep_room_light = forms.ChoiceField(
        label="The room's light",
        choices=[("", "Not yet agreed"), *RoomLight.CHOICES],
        required=False,
    )
    prep_music = _text("Music", "e.g. ambient instrumental, the patient's own playlist, silence.")

    consent_explained = forms.MultipleChoiceField(
        label="What was explained",
        choices=CONSENT_TOPICS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    consent_notes = _text("Questions asked and answers given")
    consent_form_version = forms.CharField(
        label="Consent form version", max_length=60, required=False
    )
    consent_given_by = forms.CharField(
        label="Consent given by",
        max_length=120,
        required=False,
        validators=[validate_person_name],
        help_text="Full name: the patient's, or their representative's.",
    )
    consent_relationship = forms.CharField(
        label="Relationship to the patient",
        max_length=60,
        required=False,
        help_text="Leave empty when the patient consented themself.",
    )
    consent_witness = StaffChoice(
        label="Witnessed by", queryset=StaffUser.objects.none(), required=False
    )
    consent_at = forms.DateTimeField(
        label="Consent given at",
        required=False,
        widget=_WHEN,
        error_messages={"invalid": "Enter the date and time, e.g. 2026-12-01 09:30."},
    )

    relapse_warning_signs = _text(
        "Early warning signs", "In the patient's words: what tells them low mood is coming back.", 3
    )
    relapse_actions = _text("What to do", "Steps the patient takes when they notice them.", 3)
    relapse_supports = _text(
        "Supports", "People, groups and the clinic, with how to reach them.", 3
    )
    relapse_maintenance_when = _text(
        "When maintenance is considered", "What would lead to a maintenance session.", 3
    )
    change_reason = _text(
        "Why this version", "Required when amending a signed plan; optional for a draft."
    )
    expected_revision = StrictIntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(
        self,
        *args: Any,
        patient: Patient,
        programs_offered: QuerySet[ProgramTemplateVersion],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        program = self.fields["program"]
        assert isinstance(program, ProgramChoice)
        program.queryset = programs_offered
        staff = clinical_staff(patient)
        for name in ("prep_held_by", "consent_witness"):
            field = self.fields[name]
            assert isinstance(field, StaffChoice)
            field.queryset = staff

    def clean_dose(self) -> tuple[Decimal, ...]:
        return parse_doses(self.cleaned_data["dose"])

    def preparation(self) -> Preparation:
        d = self.cleaned_data
        return Preparation(
            held_on=d["prep_held_on"],
            held_by_id=d["prep_held_by"].pk if d["prep_held_by"] else None,
            expectations=d["prep_expectations"],
            intentions=d["prep_intentions"],
            fears=d["prep_fears"],
            dissociation=d["prep_dissociation"],
            fasting=d["prep_fasting"],
            ride_home=d["prep_ride_home"],
            room_light=d["prep_room_light"],
            music=d["prep_music"],
        )

    def consent(self) -> Consent:
        d = self.cleaned_data
        return Consent(
            explained=tuple(d["consent_explained"]),
            notes=d["consent_notes"],
            form_version=d["consent_form_version"],
            given_by=d["consent_given_by"],
            relationship=d["consent_relationship"],
            witness_id=d["consent_witness"].pk if d["consent_witness"] else None,
            given_at=d["consent_at"],
        )

    def relapse_prevention(self) -> RelapsePrevention:
        d = self.cleaned_data
        return RelapsePrevention(
            warning_signs=d["relapse_warning_signs"],
            actions=d["relapse_actions"],
            supports=d["relapse_supports"],
            maintenance_when=d["relapse_maintenance_when"],
        )


def _fmt(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def initial_from_plan(plan: Any, patient: Patient) -> dict[str, Any]:
    if plan is None:
        return {
            "dose_basis": "mg_per_kg",
            "prep_fasting": DEFAULT_FASTING,
            "expected_revision": 0,
        }
    return {
        "program": plan.program_id,
        "route": plan.route,
        "dose_basis": plan.dose_basis,
        "dose": ", ".join(_fmt(s) or "" for s in plan.step_values),
        "concentration_mg_per_ml": _fmt(plan.concentration_mg_per_ml),
        "infusion_minutes": _fmt(plan.infusion_minutes),
        "dose_change_reason": plan.dose_change_reason,
        "prep_held_on": plan.prep_held_on,
        "prep_held_by": plan.prep_held_by_id,
        "prep_expectations": plan.prep_expectations,
        "prep_intentions": plan.prep_intentions,
        "prep_fears": plan.prep_fears,
        "prep_dissociation": plan.prep_dissociation,
        "prep_fasting": plan.prep_fasting,
        "prep_ride_home": plan.prep_ride_home,
        "prep_room_light": plan.prep_room_light,
        "prep_music": plan.prep_music,
        "consent_explained": plan.consent_explained,
        "consent_notes": plan.consent_notes,
        "consent_form_version": plan.consent_form_version,
        "consent_given_by": plan.consent_given_by,
        "consent_relationship": plan.consent_relationship,
        "consent_witness": plan.consent_witness_id,
        "consent_at": plan.consent_at,
        "relapse_warning_signs": plan.relapse_warning_signs,
        "relapse_actions": plan.relapse_actions,
        "relapse_supports": plan.relapse_supports,
        "relapse_maintenance_when": plan.relapse_maintenance_when,
        "expected_revision": plan.revision,
    }


class ModalitiesForm(forms.Form):
    modalities = forms.MultipleChoiceField(
        label="Integration modalities",
        choices=MODALITY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    reason = _text(
        "Reason for the change",
        "Needed when the modalities differ from the proposal.",
    )

    def __init__(self, *args: Any, offered: list[Modality], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        modalities = self.fields["modalities"]
        assert isinstance(modalities, forms.ChoiceField)
        modalities.choices = [(m.value, m.label) for m in offered]


class SignPlanForm(forms.Form):
    confirm = forms.BooleanField(
        label="I have reviewed this plan, its dose, the eligibility decision and the consent, "
        "and I sign it.",
        error_messages={"required": "Tick the box to sign."},
    )
