"""The parts of a treatment plan written in words: preparation (set and setting), informed consent
and the relapse-prevention plan. Each is a plain value the forms build and the service checks; what
a plan must hold before it can be signed is listed by :func:`missing_for_signing`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from kapstone.clinical.routes import Route


class RoomLight:
    DIMMED = "dimmed"
    DARK_EYESHADE = "dark_eyeshade"
    NATURAL = "natural"
    PATIENT_CHOICE = "patient_choice"

    CHOICES = (
        (DIMMED, "Dimmed"),
        (DARK_EYESHADE, "Dark, with an eye shade"),
        (NATURAL, "Natural daylight"),
        (PATIENT_CHOICE, "Adjustable: the patient chooses on the day"),
    )


def room_light_label(value: str) -> str:
    return dict(RoomLight.CHOICES).get(value, value)


@dataclass(frozen=True, slots=True)
class Preparation:
    """The preparation session: what the patient expects and intends, what they fear, what
    dissociation will feel like, and the practical setting of each dosing session."""

    held_on: dt.date | None = None
    held_by_id: int | None = None
    expectations: str = ""
    intentions: str = ""
    fears: str = ""
    dissociation: str = ""  # what was said about what dissociation feels like
    fasting: str = ""
    ride_home: str = ""
    room_light: str = ""
    music: str = ""

    def missing(self) -> list[str]:
        labels = {
            "held_on": "the date of the preparation session",
            "held_by_id": "who held the preparation session",
            "expectations": "expectations",
            "intentions": "intentions",
            "fears": "fears",
            "dissociation": "what dissociation feels like",
            "fasting": "fasting",
            "ride_home": "the ride home",
            "room_light": "the room's light",
            "music": "music",
        }
        return [labels[f.name] for f in fields(self) if not _filled(getattr(self, f.name))]


# What the prescriber explains before consent. The wording is the clinic's; each topic must be
# ticked before consent counts (the esketamine one only when the route is esketamine).
CONSENT_TOPICS: tuple[tuple[str, str], ...] = (
    (
        "what_and_why",
        "What ketamine is, why it is offered, and that racemic ketamine for depression or anxiety "
        "is used off-label",
    ),
    (
        "session_effects",
        "What a session feels like: dissociation, changed perception, drowsiness, nausea, "
        "dizziness",
    ),
    (
        "monitoring",
        "Blood pressure and heart rate rise for a while; vital signs are monitored during and "
        "after each session",
    ),
    (
        "other_risks",
        "Less common and longer-term risks: bladder irritation (cystitis), liver effects, misuse "
        "and dependence",
    ),
    (
        "benefits_and_alternatives",
        "Possible benefits, that not everyone responds and effects may wear off, and the "
        "alternatives, including no ketamine",
    ),
    (
        "no_driving",
        "No driving, cycling or machinery until the next day: someone takes the patient home",
    ),
    ("integration", "Integration psychotherapy is part of the program"),
    ("withdraw", "The patient may stop at any time without losing other care"),
    (
        "esketamine_rems",
        "Esketamine: enrolment in the REMS program and at least 2 hours' monitoring after each "
        "dose (SPRAVATO-US)",
    ),
)
CONSENT_TOPIC_TEXT = dict(CONSENT_TOPICS)


def consent_topics_for(route: Route | None) -> list[str]:
    """The topics to explain for a route: the REMS topic only for esketamine."""
    return [
        key
        for key, _ in CONSENT_TOPICS
        if key != "esketamine_rems" or route is Route.INTRANASAL_ESKETAMINE
    ]


@dataclass(frozen=True, slots=True)
class Consent:
    explained: tuple[str, ...] = ()
    notes: str = ""
    form_version: str = ""
    given_by: str = ""  # the patient, or the representative who consented for them
    relationship: str = ""  # empty: the patient consented themself
    witness_id: int | None = None
    given_at: dt.datetime | None = None

    @property
    def started(self) -> bool:
        return bool(
            self.explained
            or self.notes.strip()
            or self.form_version.strip()
            or self.given_by.strip()
            or self.witness_id
            or self.given_at
        )

    def missing(self, route: Route | None) -> list[str]:
        missing = []
        if not self.form_version.strip():
            missing.append("the consent form version")
        if not self.given_by.strip():
            missing.append("who consented")
        if self.witness_id is None:
            missing.append("the witness")
        if self.given_at is None:
            missing.append("when consent was given")
        topics = consent_topics_for(route)
        not_explained = [k for k in topics if k not in self.explained]
        if not_explained:
            missing.append(
                f"what was explained ({len(not_explained)} of {len(topics)} topics not ticked)"
            )
        return missing


@dataclass(frozen=True, slots=True)
class RelapsePrevention:
    """Written for the patient: plain words they can keep at home."""

    warning_signs: str = ""
    actions: str = ""
    supports: str = ""
    maintenance_when: str = ""

    def missing(self) -> list[str]:
        labels = {
            "warning_signs": "early warning signs",
            "actions": "what to do",
            "supports": "supports",
            "maintenance_when": "when maintenance is considered",
        }
        return [labels[f.name] for f in fields(self) if not _filled(getattr(self, f.name))]


def _filled(value: object) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None
