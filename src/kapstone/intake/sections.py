"""The intake's sections: which part of the facts document each one owns.

The intake is stored as one JSON document in the eligibility facts format (docs/eligibility-facts.md)
plus the presentation profile the plan needs, which is not a screening fact. Each section is saved on
its own; a section counts as asked once it has been saved, even empty ("no medications" is an answer).
A condition missing from the medical history means "asked and denied" to the screen, so an intake is
only screened once every required section has been saved.
"""

from __future__ import annotations

from dataclasses import dataclass

# Set on every save: the screen's default date, and the age the patient's birth date gives on it.
SYSTEM_KEYS = ("recorded_on", "age_years")


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    facts_keys: tuple[str, ...]
    # False only where the facts come from the questionnaires anyway (the manual entries add to them).
    required: bool = True
    hint: str = ""


SECTIONS: tuple[Section, ...] = (
    Section(
        "conditions",
        "Presenting conditions",
        ("presenting_conditions",),
        hint="What the patient comes for.",
    ),
    Section(
        "episode",
        "Depressive episode and antidepressant trials",
        ("current_episode", "earlier_antidepressant_trials"),
        hint="Each antidepressant trial with dose, weeks and outcome; treatment resistance is "
        "worked out from the current episode's trials, never entered.",
    ),
    Section(
        "treatments",
        "Psychotherapy, ECT/TMS and prior ketamine",
        ("psychotherapy", "neuromodulation", "prior_ketamine"),
    ),
    Section(
        "history",
        "Medical and psychiatric history",
        ("medical_history",),
        hint="Every condition listed is asked; one left at 'not present' is recorded as denied.",
    ),
    Section(
        "substances",
        "Substance use",
        ("substance_use",),
        hint="Substance use disorders, alcohol included, current or in remission.",
    ),
    Section(
        "reproductive",
        "Pregnancy, breastfeeding and reproductive potential",
        ("reproductive",),
    ),
    Section(
        "medications",
        "Current medications",
        ("medications",),
        hint="Each medication with its interaction class; a benzodiazepine needs its daily "
        "diazepam-equivalent dose.",
    ),
    Section(
        "vitals",
        "Baseline vital signs",
        ("baseline_vitals",),
        hint="Leave every field empty if the blood pressure has not been measured yet: the screen "
        "then asks for it.",
    ),
    Section(
        "questionnaires",
        "Questionnaire results",
        ("cssrs_risk", "questionnaire_flags"),
        required=False,
        hint="Filled from the patient's latest submitted questionnaires when screening; record "
        "here only results from elsewhere (a paper C-SSRS, for example).",
    ),
    Section(
        "presentation",
        "Presentation profile",
        (),
        hint="What the integration therapy is matched to.",
    ),
)

SECTIONS_BY_KEY = {section.key: section for section in SECTIONS}
REQUIRED_SECTIONS = tuple(s.key for s in SECTIONS if s.required)


def section_of_path(path: str) -> Section | None:
    """The section owning a facts path such as ``medications[0].name`` (None for system keys)."""
    top = path.split(".", 1)[0].split("[", 1)[0]
    for section in SECTIONS:
        if top in section.facts_keys:
            return section
    return None
