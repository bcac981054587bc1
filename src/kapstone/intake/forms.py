"""One editor per intake section: Django forms and formsets in, the facts format's JSON out.

The forms only parse (a number is a number, a date a date); the ranges and the rules between fields
are the core's, so a bad value gets the core's own message (placed on the field its path names).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.forms import formset_factory

from kapstone.clinical import plausibility as limits
from kapstone.clinical.eligibility.facts import MedicalCondition
from kapstone.clinical.numbers import NumberFormat
from kapstone.intake import labels
from kapstone.intake.document import PRESENTATION_FLAGS
from kapstone.intake.labels import choices
from kapstone.web.fields import StrictNumberField

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DAILY_MG = NumberFormat("the daily dose in mg", "20", places=3)
WEEKS = NumberFormat("the number of weeks", "6", places=1)

YES_NO = [("", "Not recorded"), ("yes", "Yes"), ("no", "No")]


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def _as_choice(value: object) -> str:
    return {True: "yes", False: "no"}.get(value, "") if isinstance(value, bool) else ""


class HideableChoiceField(forms.ChoiceField):
    """A question the page hides while another answer makes it moot (intake/section.js reads
    ``data-hide-when``, "<field name>=<value>"); ``hidden_now`` hides it from the first render."""

    hide_when: str = ""
    hidden_now: bool = False


def _tri_state(label: str, *, choices_: list[tuple[str, str]] | None = None) -> forms.Field:
    return forms.TypedChoiceField(
        label=label, choices=choices_ or YES_NO, coerce=_yes_no, empty_value=None, required=False
    )


def _optional_choice(label: str, options: Mapping[Any, str]) -> forms.ChoiceField:
    """A choice from one of the intake's lists that may be left at "—"."""
    return forms.ChoiceField(label=label, choices=[("", "—"), *choices(options)], required=False)


def _ticked(label: str, options: Mapping[Any, str]) -> forms.MultipleChoiceField:
    """Any number of boxes ticked from one of the intake's lists."""
    return forms.MultipleChoiceField(
        label=label, choices=choices(options), required=False, widget=forms.CheckboxSelectMultiple
    )


def _iso(value: object) -> str | None:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else None


def _json_number(value: object) -> object:
    """The facts are JSON: a strictly read Decimal goes in as a number."""
    return float(value) if isinstance(value, Decimal) else value


def _spoken(path: str) -> str:
    """A facts path as words ("episode.antidepressant_trials[0].weeks" → "Episode, antidepressant
    trials 1, weeks") for a problem no field on the page shows."""
    words = re.sub(r"\[(\d+)\]", lambda m: f" {int(m[1]) + 1}", path).replace("_", " ")
    return ", ".join(part.strip() for part in words.split(".")).capitalize()


def _blank(value: object) -> bool:
    return value in (None, "", [], ())


# ---------------------------------------------------------------------------------------------
# Row forms


class RowForm(forms.Form):
    """One row of a list; ``content`` names the fields that make a row more than blank."""

    content: ClassVar[tuple[str, ...]]


class TrialForm(RowForm):
    episode = forms.ChoiceField(
        label="Episode",
        choices=[("current", "Current episode"), ("earlier", "An earlier episode")],
        initial="current",
    )
    drug = forms.CharField(label="Antidepressant", required=False, max_length=80)
    daily_dose_mg = StrictNumberField(label="Daily dose (mg)", required=False, fmt=DAILY_MG)
    weeks = StrictNumberField(label="Weeks at that dose", required=False, fmt=WEEKS)
    adequate_dose = _tri_state(
        "Dose adequate for this drug?",
        choices_=[("", "Not yet judged"), ("yes", "Adequate"), ("no", "Not adequate")],
    )
    outcome = _optional_choice("Outcome", labels.TRIAL_OUTCOMES)
    content = ("drug", "daily_dose_mg", "weeks", "adequate_dose", "outcome")


class _CourseForm(RowForm):
    """A course of a treatment other than a drug: which kind (the subclass's list), how many
    sessions, whether it helped."""

    sessions = StrictNumberField(label="Sessions", required=False, fmt=limits.WHOLE, whole=True)
    helped = _tri_state("Did it help?")
    content = ("kind", "sessions", "helped")
    field_order = content  # the kind first, though the subclass declares it


class PsychotherapyForm(_CourseForm):
    kind = _optional_choice("Psychotherapy", labels.PSYCHOTHERAPY)


class NeuromodulationForm(_CourseForm):
    kind = _optional_choice("ECT or TMS", labels.NEUROMODULATION)


class PriorKetamineForm(RowForm):
    route = forms.CharField(
        label="Route (IV, IM, oral, intranasal…)", required=False, max_length=40
    )
    outcome = _optional_choice("How it went", labels.PRIOR_KETAMINE)
    note = forms.CharField(label="Note", required=False, max_length=300)
    content = ("route", "outcome", "note")


class HistoryForm(forms.Form):
    condition = forms.CharField(widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label="Status",
        choices=[("", "Not present"), *choices(labels.CONDITION_STATUS)],
        required=False,
    )
    since = forms.DateField(label="Since / date of the latest event", required=False, widget=DATE)
    child_pugh = forms.ChoiceField(
        label="Child-Pugh class",
        choices=[("", "Not recorded"), *choices(labels.CHILD_PUGH)],
        required=False,
    )
    note = forms.CharField(label="Note", required=False, max_length=300)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("status") and any(
            data.get(name) for name in ("since", "child_pugh", "note")
        ):
            self.add_error(
                "status",
                "Choose a status, or clear the date and note: the condition is not present.",
            )
        return data

    @property
    def condition_label(self) -> str:
        return labels.label(labels.CONDITIONS, self["condition"].value())

    @property
    def is_hepatic(self) -> bool:
        return bool(self["condition"].value() == MedicalCondition.HEPATIC_IMPAIRMENT.value)


class SubstanceForm(RowForm):
    substance = forms.CharField(
        label="Substance (alcohol, cannabis…)", required=False, max_length=80
    )
    status = _optional_choice("Status", labels.SUBSTANCE_STATUS)
    last_use_on = forms.DateField(label="Last use", required=False, widget=DATE)
    content = ("substance", "status", "last_use_on")


class MedicationForm(RowForm):
    name = forms.CharField(label="Medication", required=False, max_length=80)
    interaction_classes = _ticked("Interaction classes", labels.INTERACTION_CLASSES)
    daily_dose_mg = StrictNumberField(label="Daily dose (mg)", required=False, fmt=DAILY_MG)
    diazepam_equivalent_mg_per_day = StrictNumberField(
        label="Diazepam-equivalent (mg a day, benzodiazepines only)",
        required=False,
        fmt=DAILY_MG,
    )
    content = ("name", "interaction_classes", "daily_dose_mg", "diazepam_equivalent_mg_per_day")


# ---------------------------------------------------------------------------------------------
# Section forms


class ConditionsForm(forms.Form):
    presenting_conditions = _ticked("Presenting conditions", labels.PRESENTING)


class EpisodeForm(forms.Form):
    started_on = forms.DateField(
        label="Current depressive episode started on",
        required=False,
        widget=DATE,
        help_text="Leave empty if there is no current depressive episode or the date is not known.",
    )


class ReproductiveForm(forms.Form):
    reproductive_potential = _tri_state("Reproductive potential?")
    pregnancy = HideableChoiceField(
        label="Pregnancy",
        choices=[("", "Not recorded"), *choices(labels.PREGNANCY)],
        required=False,
    )
    breastfeeding = _tri_state("Breastfeeding?")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # No pregnancy question for a patient without reproductive potential (the script in
        # intake/section.js hides it as soon as "No" is chosen; the value then says not pregnant).
        pregnancy = self.fields["pregnancy"]
        if not isinstance(pregnancy, HideableChoiceField):
            raise TypeError("the pregnancy question must be a HideableChoiceField")
        pregnancy.hide_when = f"{self.add_prefix('reproductive_potential')}=no"
        potential = (
            self.data.get(self.add_prefix("reproductive_potential"))
            if self.is_bound
            else self.initial.get("reproductive_potential")
        )
        pregnancy.hidden_now = potential == "no"


class VitalsForm(forms.Form):
    measured_on = forms.DateField(label="Measured on", required=False, widget=DATE)
    systolic_mmhg = StrictNumberField(
        label="Systolic (mmHg)", required=False, fmt=limits.WHOLE, whole=True
    )
    diastolic_mmhg = StrictNumberField(
        label="Diastolic (mmHg)", required=False, fmt=limits.WHOLE, whole=True
    )
    heart_rate_bpm = StrictNumberField(
        label="Heart rate (bpm)", required=False, fmt=limits.WHOLE, whole=True
    )
    weight_kg = StrictNumberField(label="Weight (kg)", required=False, fmt=limits.WEIGHT_KG)
    height_cm = StrictNumberField(label="Height (cm)", required=False, fmt=limits.HEIGHT_CM)


class QuestionnairesForm(forms.Form):
    cssrs_risk = forms.ChoiceField(
        label="C-SSRS screener risk (recorded elsewhere)",
        choices=[("", "Not recorded here"), *choices(labels.CSSRS)],
        required=False,
    )
    questionnaire_flags = _ticked("Positive screens (recorded elsewhere)", labels.FLAGS)


class PresentationForm(forms.Form):
    anxiety_mainly = forms.ChoiceField(
        label="The anxiety is",
        choices=[("", "No anxiety, or no one kind"), *choices(labels.ANXIETY)],
        required=False,
        widget=forms.RadioSelect,
    )


for _flag in PRESENTATION_FLAGS:
    PresentationForm.base_fields[_flag] = forms.BooleanField(
        label=labels.PRESENTATION_FEATURES[_flag], required=False
    )


# ---------------------------------------------------------------------------------------------
# Editors


@dataclass
class Part:
    """One block of the section page: a form (fieldset) or a formset (one fieldset per row)."""

    legend: str
    form: forms.Form | None = None
    formset: Any = None
    row_label: str = ""
    table: bool = False  # the medical history: one row per condition


_LIST_PATH = re.compile(r"^(?P<list>.+?)\[(?P<index>\d+)\](?:\.(?P<field>[a-z_]+))?")


class Editor:
    """Builds a section's forms from its JSON, its JSON from the forms, and places errors."""

    def __init__(self, data: Mapping[str, Any] | None, value: Mapping[str, Any]) -> None:
        self.data = data
        self.parts: list[Part] = []
        self.singles: dict[str, forms.Form] = {}  # facts path of an object -> its form
        self.rows: dict[str, list[forms.Form]] = {}  # facts path of a list -> its rows' forms
        self.errors: list[str] = []  # problems no field shows
        self.build(value)

    def build(self, value: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def value(self) -> dict[str, Any]:
        raise NotImplementedError

    def form(
        self,
        cls: type[forms.Form],
        prefix: str,
        initial: Mapping[str, Any],
        *,
        title: str,
        owner: str,
    ) -> forms.Form:
        """A part of the page that is one form; the core's problems under the facts object
        ``owner`` ("" for the top level) are placed on its fields."""
        form = cls(self.data, prefix=prefix, initial=dict(initial))
        self.singles[owner] = form
        self.parts.append(Part(title, form=form))
        return form

    def formset(
        self, cls: type[forms.Form], prefix: str, initial: list[dict[str, Any]], extra: int = 2
    ) -> Any:
        factory = formset_factory(
            cls,
            extra=extra,
            can_delete=True,
            max_num=limits.MAX_LIST_ROWS,
            absolute_max=limits.MAX_LIST_ROWS,
            validate_max=True,
        )
        return factory(self.data, prefix=prefix, initial=initial)

    def is_valid(self) -> bool:
        valid = True
        for part in self.parts:
            if part.form is not None:
                valid = part.form.is_valid() and valid
            else:
                valid = part.formset.is_valid() and valid
        return valid

    @staticmethod
    def filled(formset: Any, content: tuple[str, ...]) -> list[forms.Form]:
        """The rows that hold something and are not marked for removal, in order."""
        kept = []
        for form in formset.forms:
            data = getattr(form, "cleaned_data", {}) or {}
            if data.get("DELETE"):
                continue
            if all(_blank(data.get(name)) for name in content):
                continue
            kept.append(form)
        return kept

    def place_errors(self, errors: Mapping[str, list[str]]) -> None:
        for path, messages in errors.items():
            for message in messages:
                self._place(path, message)

    def _place(self, path: str, message: str) -> None:
        match = _LIST_PATH.match(path)
        if match and match["list"] not in self.rows:
            path = match["list"]  # an item of a list one field holds (presenting conditions)
        elif match:
            rows = self.rows[match["list"]]
            index = int(match["index"])
            if index < len(rows):
                form = rows[index]
                field = match["field"]
                if field in form.fields:
                    form.add_error(field, message)
                else:
                    form.add_error(None, f"{_spoken(field) if field else 'This row'}: {message}")
                return
        owner, _, field = path.rpartition(".")
        single = self.singles.get(owner)
        if single is not None and field in single.fields:
            single.add_error(field, message)
            return
        self.errors.append(f"{_spoken(path)}: {message}" if path else message)


class ConditionsEditor(Editor):
    def build(self, value: Mapping[str, Any]) -> None:
        self.form(
            ConditionsForm,
            "conditions",
            {"presenting_conditions": value.get("presenting_conditions")},
            title="Presenting conditions",
            owner="",
        )

    def value(self) -> dict[str, Any]:
        return {"presenting_conditions": self.singles[""].cleaned_data["presenting_conditions"]}


def _trial_initial(trial: Mapping[str, Any], episode: str) -> dict[str, Any]:
    return {**trial, "episode": episode, "adequate_dose": _as_choice(trial.get("adequate_dose"))}


def _trial_json(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "drug": data.get("drug") or None,
        "daily_dose_mg": _json_number(data.get("daily_dose_mg")),
        "weeks": _json_number(data.get("weeks")),
        "adequate_dose": data.get("adequate_dose"),
        "outcome": data.get("outcome") or None,
    }


class EpisodeEditor(Editor):
    def build(self, value: Mapping[str, Any]) -> None:
        episode = value.get("current_episode") or {}
        self.episode = self.form(
            EpisodeForm,
            "episode",
            {"started_on": episode.get("started_on")},
            title="Current episode",
            owner="current_episode",
        )
        initial = [_trial_initial(t, "current") for t in episode.get("antidepressant_trials", [])]
        initial += [
            _trial_initial(t, "earlier") for t in value.get("earlier_antidepressant_trials") or []
        ]
        self.trials = self.formset(TrialForm, "trials", initial)
        self.parts.append(Part("Antidepressant trials", formset=self.trials, row_label="Trial"))

    def value(self) -> dict[str, Any]:
        rows = self.filled(self.trials, TrialForm.content)
        current = [f for f in rows if f.cleaned_data["episode"] == "current"]
        earlier = [f for f in rows if f.cleaned_data["episode"] != "current"]
        self.rows["current_episode.antidepressant_trials"] = current
        self.rows["earlier_antidepressant_trials"] = earlier
        started = _iso(self.episode.cleaned_data.get("started_on"))
        episode = (
            {
                "started_on": started,
                "antidepressant_trials": [_trial_json(f.cleaned_data) for f in current],
            }
            if started or current
            else None
        )
        return {
            "current_episode": episode,
            "earlier_antidepressant_trials": [_trial_json(f.cleaned_data) for f in earlier],
        }


def _course_initial(item: Mapping[str, Any]) -> dict[str, Any]:
    return {**item, "helped": _as_choice(item.get("helped"))}


class TreatmentsEditor(Editor):
    def build(self, value: Mapping[str, Any]) -> None:
        self.psychotherapy = self.formset(
            PsychotherapyForm,
            "psychotherapy",
            [_course_initial(i) for i in value.get("psychotherapy") or []],
        )
        self.neuromodulation = self.formset(
            NeuromodulationForm,
            "neuromodulation",
            [_course_initial(i) for i in value.get("neuromodulation") or []],
            extra=1,
        )
        self.ketamine = self.formset(
            PriorKetamineForm, "ketamine", list(value.get("prior_ketamine") or []), extra=1
        )
        self.parts += [
            Part("Psychotherapy", formset=self.psychotherapy, row_label="Course"),
            Part("ECT and TMS", formset=self.neuromodulation, row_label="Course"),
            Part("Prior ketamine", formset=self.ketamine, row_label="Treatment"),
        ]

    def value(self) -> dict[str, Any]:
        psychotherapy = self.filled(self.psychotherapy, PsychotherapyForm.content)
        neuromodulation = self.filled(self.neuromodulation, NeuromodulationForm.content)
        ketamine = self.filled(self.ketamine, PriorKetamineForm.content)
        self.rows |= {
            "psychotherapy": psychotherapy,
            "neuromodulation": neuromodulation,
            "prior_ketamine": ketamine,
        }

        def course(data: Mapping[str, Any]) -> dict[str, Any]:
            return {
                "kind": data.get("kind") or None,
                "sessions": data.get("sessions"),
                "helped": data.get("helped"),
            }

        return {
            "psychotherapy": [course(f.cleaned_data) for f in psychotherapy],
            "neuromodulation": [course(f.cleaned_data) for f in neuromodulation],
            "prior_ketamine": [
                {
                    "route": f.cleaned_data.get("route") or None,
                    "outcome": f.cleaned_data.get("outcome") or None,
                    "note": f.cleaned_data.get("note") or "",
                }
                for f in ketamine
            ],
        }


class HistoryEditor(Editor):
    """Every condition the screen knows, asked one by one: "not present" is the recorded denial."""

    def build(self, value: Mapping[str, Any]) -> None:
        recorded = {item.get("condition"): item for item in value.get("medical_history") or []}
        initial = []
        for condition in MedicalCondition:
            item = recorded.get(condition.value, {})
            initial.append(
                {
                    "condition": condition.value,
                    "status": item.get("status", ""),
                    "since": item.get("since"),
                    "child_pugh": item.get("child_pugh") or "",
                    "note": item.get("note", ""),
                }
            )
        # One row per condition the intake asks about, and never more.
        rows = len(MedicalCondition)
        factory = formset_factory(
            HistoryForm, extra=0, max_num=rows, absolute_max=rows, validate_max=True
        )
        self.history = factory(self.data, prefix="history", initial=initial)
        self.parts.append(Part("Conditions asked", formset=self.history, table=True))

    def value(self) -> dict[str, Any]:
        known = {c.value for c in MedicalCondition}
        rows: list[forms.Form] = [
            f
            for f in self.history.forms
            if f.cleaned_data.get("status") and f.cleaned_data.get("condition") in known
        ]
        self.rows["medical_history"] = rows
        return {
            "medical_history": [
                {
                    "condition": f.cleaned_data["condition"],
                    "status": f.cleaned_data["status"],
                    "since": _iso(f.cleaned_data.get("since")),
                    "child_pugh": f.cleaned_data.get("child_pugh") or None,
                    "note": f.cleaned_data.get("note") or "",
                }
                for f in rows
            ]
        }


class _ListEditor(Editor):
    """A section that is one list of rows under one key of the facts."""

    key: str
    prefix: str
    title: str
    row_label: str
    row_form: type[RowForm]
    extra = 2

    def build(self, value: Mapping[str, Any]) -> None:
        self.list = self.formset(
            self.row_form, self.prefix, list(value.get(self.key) or []), extra=self.extra
        )
        self.parts.append(Part(self.title, formset=self.list, row_label=self.row_label))

    def value(self) -> dict[str, Any]:
        rows = self.filled(self.list, self.row_form.content)
        self.rows[self.key] = rows
        return {self.key: [self.row_value(f.cleaned_data) for f in rows]}

    def row_value(self, data: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


class SubstancesEditor(_ListEditor):
    key, prefix, row_form = "substance_use", "substances", SubstanceForm
    title, row_label = "Substance use disorders", "Substance"

    def row_value(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "substance": data.get("substance") or None,
            "status": data.get("status") or None,
            "last_use_on": _iso(data.get("last_use_on")),
        }


class ReproductiveEditor(Editor):
    def build(self, value: Mapping[str, Any]) -> None:
        current = value.get("reproductive") or {}
        self.reproductive = self.form(
            ReproductiveForm,
            "reproductive",
            {
                "reproductive_potential": _as_choice(current.get("reproductive_potential")),
                "pregnancy": current.get("pregnancy", ""),
                "breastfeeding": _as_choice(current.get("breastfeeding")),
            },
            title="Pregnancy and breastfeeding",
            owner="reproductive",
        )

    def value(self) -> dict[str, Any]:
        data = self.reproductive.cleaned_data
        potential = data.get("reproductive_potential")
        # Not asked when there is no reproductive potential: not pregnant, whatever a hidden
        # field still held from an earlier answer.
        pregnancy = "not_pregnant" if potential is False else data.get("pregnancy") or None
        return {
            "reproductive": {
                "reproductive_potential": potential,
                "pregnancy": pregnancy,
                "breastfeeding": data.get("breastfeeding"),
            }
        }


class MedicationsEditor(_ListEditor):
    key, prefix, row_form = "medications", "medications", MedicationForm
    title, row_label, extra = "Current medications", "Medication", 3

    def row_value(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "name": data.get("name") or None,
            "interaction_classes": data.get("interaction_classes") or [],
            "daily_dose_mg": _json_number(data.get("daily_dose_mg")),
            "diazepam_equivalent_mg_per_day": _json_number(
                data.get("diazepam_equivalent_mg_per_day")
            ),
        }


class VitalsEditor(Editor):
    def build(self, value: Mapping[str, Any]) -> None:
        self.vitals = self.form(
            VitalsForm,
            "vitals",
            dict(value.get("baseline_vitals") or {}),
            title="Baseline vital signs",
            owner="baseline_vitals",
        )

    def value(self) -> dict[str, Any]:
        data = self.vitals.cleaned_data
        if all(_blank(v) for v in data.values()):
            return {"baseline_vitals": None}
        return {
            "baseline_vitals": {
                **{k: _json_number(v) for k, v in data.items()},
                "measured_on": _iso(data.get("measured_on")),
            }
        }


class QuestionnairesEditor(Editor):
    def build(self, value: Mapping[str, Any]) -> None:
        self.manual = self.form(
            QuestionnairesForm,
            "questionnaires",
            {
                "cssrs_risk": value.get("cssrs_risk") or "",
                "questionnaire_flags": value.get("questionnaire_flags") or [],
            },
            title="Results recorded elsewhere",
            owner="",
        )

    def value(self) -> dict[str, Any]:
        data = self.manual.cleaned_data
        return {
            "cssrs_risk": data.get("cssrs_risk") or None,
            "questionnaire_flags": data.get("questionnaire_flags") or [],
        }


class PresentationEditor(Editor):
    def build(self, value: Mapping[str, Any]) -> None:
        self.presentation = self.form(
            PresentationForm,
            "presentation",
            {**value, "anxiety_mainly": value.get("anxiety_mainly") or ""},
            title="Presentation",
            owner="presentation",
        )

    def value(self) -> dict[str, Any]:
        data = self.presentation.cleaned_data
        return {
            "anxiety_mainly": data.get("anxiety_mainly") or None,
            **{key: bool(data.get(key)) for key in PRESENTATION_FLAGS},
        }


EDITORS: dict[str, type[Editor]] = {
    "conditions": ConditionsEditor,
    "episode": EpisodeEditor,
    "treatments": TreatmentsEditor,
    "history": HistoryEditor,
    "substances": SubstancesEditor,
    "reproductive": ReproductiveEditor,
    "medications": MedicationsEditor,
    "vitals": VitalsEditor,
    "questionnaires": QuestionnairesEditor,
    "presentation": PresentationEditor,
}
