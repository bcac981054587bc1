"""Intake facts from their JSON form (documented in docs/eligibility-facts.md).

Parsing collects every problem before refusing, so the intake form can show them all at once.
Unknown keys are refused too: a misspelt ``medical_histroy`` must not read as "no medical history".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from kapstone.clinical.eligibility.facts import (
    DATED_CONDITIONS,
    AntidepressantTrial,
    BaselineVitals,
    ChildPugh,
    ConditionStatus,
    DepressiveEpisode,
    IntakeFacts,
    InteractionClass,
    MedicalCondition,
    MedicalHistoryItem,
    Medication,
    NeuromodulationCourse,
    NeuromodulationKind,
    PresentingCondition,
    PriorKetamine,
    PriorKetamineOutcome,
    PsychotherapyCourse,
    PsychotherapyKind,
    QuestionnaireFlag,
    Reproductive,
    SubstanceUse,
    SubstanceUseStatus,
    TrialOutcome,
)
from kapstone.clinical.instruments.policy import CssrsRisk
from kapstone.clinical.plausibility import CLINICAL_DATE_FLOOR, HEIGHT_RANGE_CM, WEIGHT_RANGE_KG
from kapstone.clinical.pregnancy import PregnancyStatus


@dataclass(frozen=True, slots=True)
class FactsProblem:
    path: str
    message: str
    accepted: str

    def as_json(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message, "accepted": self.accepted}


class IntakeFactsError(ValueError):
    """Facts that cannot be screened, with every problem found."""

    def __init__(self, problems: tuple[FactsProblem, ...]) -> None:
        self.problems = problems
        super().__init__(
            "; ".join(f"{p.path}: {p.message} (accepted: {p.accepted})" for p in problems)
        )


E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")

_MISSING = object()


class _Reader:
    """Reads values out of untrusted JSON, recording a problem instead of raising."""

    def __init__(self) -> None:
        self.problems: list[FactsProblem] = []
        # Dates in the facts lie between the plausibility floor and the day they were recorded.
        self.latest: date | None = None

    def refuse(self, path: str, value: object, accepted: str) -> None:
        got = "missing" if value is None or value is _MISSING else f"got {value!r}"
        self.problems.append(FactsProblem(path, got, accepted))

    def obj(self, value: object, path: str, keys: frozenset[str]) -> Mapping[str, Any] | None:
        """A JSON object with no keys beyond ``keys``; each reader reports its own missing key."""
        if not isinstance(value, Mapping):
            self.refuse(path or "$", value, "an object")
            return None
        for key in value:
            if key not in keys:
                self.problems.append(
                    FactsProblem(
                        _join(path, str(key)),
                        "unknown field",
                        "one of: " + ", ".join(sorted(keys)),
                    )
                )
        return value

    def text(self, value: object, path: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.refuse(path, value, "a non-empty string")
            return None
        return value.strip()

    def optional_text(self, value: object, path: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            self.refuse(path, value, "a string")
            return ""
        return value

    def day(self, value: object, path: str) -> date | None:
        if isinstance(value, str):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                pass
            else:
                if day < CLINICAL_DATE_FLOOR:
                    self.refuse(path, value, f"a date from {CLINICAL_DATE_FLOOR.year} on")
                    return None
                if self.latest is not None and day > self.latest:
                    self.refuse(path, value, f"a date no later than {self.latest.isoformat()}")
                    return None
                return day
        self.refuse(path, value, "an ISO date, YYYY-MM-DD")
        return None

    def optional_day(self, value: object, path: str) -> date | None:
        return None if value is None else self.day(value, path)

    def integer(self, value: object, path: str, low: int, high: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.refuse(path, value, f"an integer from {low} to {high}")
            return None
        return value

    def optional_integer(self, value: object, path: str, low: int, high: int) -> int | None:
        return None if value is None else self.integer(value, path, low, high)

    def number(self, value: object, path: str, low: float, high: float) -> float | None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            self.refuse(path, value, f"a number from {low:g} to {high:g}")
            return None
        return float(value)

    def optional_number(self, value: object, path: str, low: float, high: float) -> float | None:
        return None if value is None else self.number(value, path, low, high)

    def flag(self, value: object, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.refuse(path, value, "true or false")
            return None
        return value

    def optional_flag(self, value: object, path: str) -> bool | None:
        return None if value is None else self.flag(value, path)

    def choice(self, value: object, path: str, enum: type[E]) -> E | None:
        accepted = [member.value for member in enum]
        if isinstance(value, str) and value in accepted:
            return enum(value)
        self.refuse(path, value, "one of: " + ", ".join(accepted))
        return None

    def items(
        self, value: object, path: str, read: Callable[[object, str], T | None]
    ) -> tuple[T, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.refuse(path, value, "a list")
            return ()
        read_items = [read(item, f"{path}[{i}]") for i, item in enumerate(value)]
        return tuple(item for item in read_items if item is not None)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_TOP_LEVEL = frozenset(
    {
        "recorded_on",
        "age_years",
        "presenting_conditions",
        "reproductive",
        "current_episode",
        "earlier_antidepressant_trials",
        "psychotherapy",
        "neuromodulation",
        "prior_ketamine",
        "medical_history",
        "substance_use",
        "medications",
        "baseline_vitals",
        "questionnaire_flags",
        "cssrs_risk",
    }
)


def facts_from_json(data: Mapping[str, Any]) -> IntakeFacts:
    """The IntakeFacts the JSON describes, or IntakeFactsError naming every problem."""
    r = _Reader()
    top = r.obj(data, "", _TOP_LEVEL)
    if top is None:
        raise IntakeFactsError(tuple(r.problems))
    recorded_on = r.day(top.get("recorded_on"), "recorded_on")
    r.latest = recorded_on
    age = r.integer(top.get("age_years"), "age_years", 0, 130)
    raw_conditions = top.get("presenting_conditions")
    if isinstance(raw_conditions, list) and not raw_conditions:
        r.refuse("presenting_conditions", raw_conditions, "a list with at least one condition")
    elif raw_conditions is None:
        r.refuse("presenting_conditions", None, "a list of presenting conditions")
    conditions = r.items(
        raw_conditions, "presenting_conditions", lambda v, p: r.choice(v, p, PresentingCondition)
    )
    reproductive = _reproductive(r, top.get("reproductive"))
    episode = (
        None
        if top.get("current_episode") is None
        else _episode(r, top["current_episode"], "current_episode")
    )
    earlier_trials = r.items(
        top.get("earlier_antidepressant_trials"),
        "earlier_antidepressant_trials",
        lambda v, p: _trial(r, v, p),
    )
    psychotherapy = r.items(
        top.get("psychotherapy"), "psychotherapy", lambda v, p: _psychotherapy(r, v, p)
    )
    neuromodulation = r.items(
        top.get("neuromodulation"), "neuromodulation", lambda v, p: _neuromodulation(r, v, p)
    )
    prior_ketamine = r.items(
        top.get("prior_ketamine"), "prior_ketamine", lambda v, p: _prior_ketamine(r, v, p)
    )
    history = r.items(
        top.get("medical_history"), "medical_history", lambda v, p: _history_item(r, v, p)
    )
    substance_use = r.items(
        top.get("substance_use"), "substance_use", lambda v, p: _substance_use(r, v, p)
    )
    medications = r.items(top.get("medications"), "medications", lambda v, p: _medication(r, v, p))
    vitals = (
        None
        if top.get("baseline_vitals") is None
        else _vitals(r, top["baseline_vitals"], "baseline_vitals")
    )
    flags = r.items(
        top.get("questionnaire_flags"),
        "questionnaire_flags",
        lambda v, p: r.choice(v, p, QuestionnaireFlag),
    )
    cssrs = (
        None
        if top.get("cssrs_risk") is None
        else r.choice(top["cssrs_risk"], "cssrs_risk", CssrsRisk)
    )
    if r.problems or recorded_on is None or age is None or reproductive is None:
        raise IntakeFactsError(tuple(r.problems))
    return IntakeFacts(
        recorded_on=recorded_on,
        age_years=age,
        presenting_conditions=frozenset(conditions),
        reproductive=reproductive,
        current_episode=episode,
        earlier_antidepressant_trials=earlier_trials,
        psychotherapy=psychotherapy,
        neuromodulation=neuromodulation,
        prior_ketamine=prior_ketamine,
        medical_history=history,
        substance_use=substance_use,
        medications=medications,
        baseline_vitals=vitals,
        questionnaire_flags=frozenset(flags),
        cssrs_risk=cssrs,
    )


def _reproductive(r: _Reader, value: object) -> Reproductive | None:
    path = "reproductive"
    o = r.obj(value, path, frozenset({"reproductive_potential", "pregnancy", "breastfeeding"}))
    if o is None:
        return None
    potential = r.flag(o.get("reproductive_potential"), f"{path}.reproductive_potential")
    pregnancy = r.choice(o.get("pregnancy"), f"{path}.pregnancy", PregnancyStatus)
    breastfeeding = r.flag(o.get("breastfeeding"), f"{path}.breastfeeding")
    if potential is False and pregnancy is PregnancyStatus.PREGNANT:
        r.refuse(
            f"{path}.pregnancy",
            pregnancy.value,
            "'not_pregnant' or 'unknown' when reproductive_potential is false",
        )
    if potential is None or pregnancy is None or breastfeeding is None:
        return None
    return Reproductive(potential, pregnancy, breastfeeding)


def _episode(r: _Reader, value: object, path: str) -> DepressiveEpisode | None:
    o = r.obj(value, path, frozenset({"started_on", "antidepressant_trials"}))
    if o is None:
        return None
    return DepressiveEpisode(
        started_on=r.optional_day(o.get("started_on"), f"{path}.started_on"),
        antidepressant_trials=r.items(
            o.get("antidepressant_trials"),
            f"{path}.antidepressant_trials",
            lambda v, p: _trial(r, v, p),
        ),
    )


def _trial(r: _Reader, value: object, path: str) -> AntidepressantTrial | None:
    o = r.obj(
        value,
        path,
        frozenset({"drug", "daily_dose_mg", "weeks", "adequate_dose", "outcome"}),
    )
    if o is None:
        return None
    drug = r.text(o.get("drug"), f"{path}.drug")
    dose = r.optional_number(o.get("daily_dose_mg"), f"{path}.daily_dose_mg", 0.001, 10_000)
    weeks = r.number(o.get("weeks"), f"{path}.weeks", 0, 520)
    adequate = r.optional_flag(o.get("adequate_dose"), f"{path}.adequate_dose")
    outcome = r.choice(o.get("outcome"), f"{path}.outcome", TrialOutcome)
    if drug is None or weeks is None or outcome is None:
        return None
    return AntidepressantTrial(drug, dose, weeks, adequate, outcome)


def _psychotherapy(r: _Reader, value: object, path: str) -> PsychotherapyCourse | None:
    o = r.obj(value, path, frozenset({"kind", "sessions", "helped"}))
    if o is None:
        return None
    kind = r.choice(o.get("kind"), f"{path}.kind", PsychotherapyKind)
    sessions = r.optional_integer(o.get("sessions"), f"{path}.sessions", 0, 10_000)
    helped = r.optional_flag(o.get("helped"), f"{path}.helped")
    return None if kind is None else PsychotherapyCourse(kind, sessions, helped)


def _neuromodulation(r: _Reader, value: object, path: str) -> NeuromodulationCourse | None:
    o = r.obj(value, path, frozenset({"kind", "sessions", "helped"}))
    if o is None:
        return None
    kind = r.choice(o.get("kind"), f"{path}.kind", NeuromodulationKind)
    sessions = r.optional_integer(o.get("sessions"), f"{path}.sessions", 0, 10_000)
    helped = r.optional_flag(o.get("helped"), f"{path}.helped")
    return None if kind is None else NeuromodulationCourse(kind, sessions, helped)


def _prior_ketamine(r: _Reader, value: object, path: str) -> PriorKetamine | None:
    o = r.obj(value, path, frozenset({"route", "outcome", "note"}))
    if o is None:
        return None
    route = r.text(o.get("route"), f"{path}.route")
    outcome = r.choice(o.get("outcome"), f"{path}.outcome", PriorKetamineOutcome)
    note = r.optional_text(o.get("note"), f"{path}.note")
    if route is None or outcome is None:
        return None
    return PriorKetamine(route, outcome, note)


def _history_item(r: _Reader, value: object, path: str) -> MedicalHistoryItem | None:
    o = r.obj(
        value,
        path,
        frozenset({"condition", "status", "since", "child_pugh", "note"}),
    )
    if o is None:
        return None
    condition = r.choice(o.get("condition"), f"{path}.condition", MedicalCondition)
    status = r.choice(o.get("status"), f"{path}.status", ConditionStatus)
    since = r.optional_day(o.get("since"), f"{path}.since")
    child_pugh = (
        None
        if o.get("child_pugh") is None
        else r.choice(o["child_pugh"], f"{path}.child_pugh", ChildPugh)
    )
    note = r.optional_text(o.get("note"), f"{path}.note")
    if condition in DATED_CONDITIONS and o.get("since") is None:
        r.refuse(f"{path}.since", _MISSING, f"the date of the event (required for {condition})")
    if child_pugh is not None and condition is not MedicalCondition.HEPATIC_IMPAIRMENT:
        r.refuse(
            f"{path}.child_pugh", child_pugh.value, "null unless condition is hepatic_impairment"
        )
    if condition is None or status is None:
        return None
    return MedicalHistoryItem(condition, status, since, child_pugh, note)


def _substance_use(r: _Reader, value: object, path: str) -> SubstanceUse | None:
    o = r.obj(value, path, frozenset({"substance", "status", "last_use_on"}))
    if o is None:
        return None
    substance = r.text(o.get("substance"), f"{path}.substance")
    status = r.choice(o.get("status"), f"{path}.status", SubstanceUseStatus)
    last_use = r.optional_day(o.get("last_use_on"), f"{path}.last_use_on")
    if status is SubstanceUseStatus.IN_REMISSION and o.get("last_use_on") is None:
        r.refuse(f"{path}.last_use_on", _MISSING, "the date of last use (required in remission)")
    if substance is None or status is None:
        return None
    return SubstanceUse(substance, status, last_use)


def _medication(r: _Reader, value: object, path: str) -> Medication | None:
    o = r.obj(
        value,
        path,
        frozenset(
            {"name", "interaction_classes", "daily_dose_mg", "diazepam_equivalent_mg_per_day"}
        ),
    )
    if o is None:
        return None
    name = r.text(o.get("name"), f"{path}.name")
    classes = frozenset(
        r.items(
            o.get("interaction_classes"),
            f"{path}.interaction_classes",
            lambda v, p: r.choice(v, p, InteractionClass),
        )
    )
    dose = r.optional_number(o.get("daily_dose_mg"), f"{path}.daily_dose_mg", 0.001, 100_000)
    diazepam = r.optional_number(
        o.get("diazepam_equivalent_mg_per_day"),
        f"{path}.diazepam_equivalent_mg_per_day",
        0.001,
        1_000,
    )
    is_benzodiazepine = InteractionClass.BENZODIAZEPINE in classes
    if is_benzodiazepine and o.get("diazepam_equivalent_mg_per_day") is None:
        r.refuse(
            f"{path}.diazepam_equivalent_mg_per_day",
            _MISSING,
            "the daily diazepam-equivalent dose in mg (required for a benzodiazepine)",
        )
    if not is_benzodiazepine and o.get("diazepam_equivalent_mg_per_day") is not None:
        r.refuse(
            f"{path}.diazepam_equivalent_mg_per_day",
            o.get("diazepam_equivalent_mg_per_day"),
            "null unless interaction_classes includes benzodiazepine",
        )
    if name is None:
        return None
    return Medication(name, classes, dose, diazepam)


def _vitals(r: _Reader, value: object, path: str) -> BaselineVitals | None:
    o = r.obj(
        value,
        path,
        frozenset(
            {
                "measured_on",
                "systolic_mmhg",
                "diastolic_mmhg",
                "heart_rate_bpm",
                "weight_kg",
                "height_cm",
            }
        ),
    )
    if o is None:
        return None
    measured_on = r.day(o.get("measured_on"), f"{path}.measured_on")
    systolic = r.integer(o.get("systolic_mmhg"), f"{path}.systolic_mmhg", 50, 300)
    diastolic = r.integer(o.get("diastolic_mmhg"), f"{path}.diastolic_mmhg", 20, 200)
    heart_rate = r.optional_integer(o.get("heart_rate_bpm"), f"{path}.heart_rate_bpm", 20, 250)
    # The weight and height every other form accepts (one definition, kapstone.clinical.plausibility;
    # the dose calculator's §3 weight bound): this format allowed 20-400 kg and 90-250 cm before.
    weight = r.optional_number(
        o.get("weight_kg"),
        f"{path}.weight_kg",
        float(WEIGHT_RANGE_KG.low),
        float(WEIGHT_RANGE_KG.high),
    )
    height = r.optional_number(
        o.get("height_cm"),
        f"{path}.height_cm",
        float(HEIGHT_RANGE_CM.low),
        float(HEIGHT_RANGE_CM.high),
    )
    if systolic is not None and diastolic is not None and diastolic >= systolic:
        r.refuse(f"{path}.diastolic_mmhg", diastolic, "a value below systolic_mmhg")
    if measured_on is None or systolic is None or diastolic is None:
        return None
    return BaselineVitals(measured_on, systolic, diastolic, heart_rate, weight, height)
