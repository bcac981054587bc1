"""What the patient ticks before each dosing session, as data with its provenance.

Each item names where it comes from: the signed plan's Preparation section (what the preparation
session agreed: fasting, the ride home, room light and music, intentions), the cited clinic-policy
default behind it (:data:`kapstone.clinical.preparation.FASTING`, the pre-dose checklist's escort
rule), or, where nothing in the reference or the plan holds it, clinic policy marked UNVERIFIED.
Nothing here is a new clinical value: the fasting times are the clinic default's own numbers, and
they are shown only when the plan keeps that default's words.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kapstone.clinical.pre_dose_checklist import DEFAULT_CHECKLIST_POLICY
from kapstone.clinical.preparation import FASTING
from kapstone.clinical.provenance import Evidence as E
from kapstone.clinical.provenance import Source, Verification

CHECKLIST_VERSION = "companion-prep-2026-12"

# The numbers in FASTING's text ("No food for 2 hours and no drinks for 30 minutes before each
# session"), same source (§2.1, UNVERIFIED, clinic policy). A test keeps the two in step.
FOOD_BEFORE = dt.timedelta(hours=2)
DRINKS_BEFORE = dt.timedelta(minutes=30)

_SET_AND_SETTING = Source(
    "§2.1",
    Verification.UNVERIFIED,
    E.CLINIC_POLICY,
    "Set and setting practicalities asked of the patient before each session; clinic policy.",
)
_MEDICINES = Source(
    "§2.1",
    Verification.UNVERIFIED,
    E.CLINIC_POLICY,
    "The plan holds no medicine instructions of its own: the patient confirms they follow what "
    "their prescriber told them, and asks when unsure; clinic policy.",
)


@dataclass(frozen=True, slots=True)
class Item:
    key: str
    label: Promise  # what the patient ticks, in the first person
    source: Source
    plan_field: str = ""  # the Preparation field whose words are shown with the item
    note_label: Promise | None = None  # an optional free-text answer (who is driving)


FASTING_ITEM = Item(
    "fasting",
    _("I will fast as my plan says."),
    FASTING.source,
    plan_field="fasting",
)
RIDE_HOME = Item(
    "ride_home",
    _("Someone will take me home. I will not drive until the next day."),
    DEFAULT_CHECKLIST_POLICY.escort_unconfirmed.source,
    plan_field="ride_home",
    note_label=_("Who is taking you home? (optional)"),
)
MEDICINES = Item("medicines", _("I take my usual medicines as my prescriber told me."), _MEDICINES)
CLOTHES = Item("clothes", _("I will wear comfortable clothes."), _SET_AND_SETTING)
EYE_MASK_MUSIC = Item(
    "eye_mask_music",
    _("I have my eye mask and music ready, if I want them."),
    _SET_AND_SETTING,
    plan_field="music",
)
INTENTION = Item(
    "intention",
    _("I have written down my intention for the session."),
    _SET_AND_SETTING,
    plan_field="intentions",
)

ITEMS: tuple[Item, ...] = (FASTING_ITEM, RIDE_HOME, MEDICINES, CLOTHES, EYE_MASK_MUSIC, INTENTION)
BY_KEY = {item.key: item for item in ITEMS}

# The items the chair-side console's pre-dose checklist also asks the nurse to confirm: the
# patient's answer is shown beside them (chairside item -> preparation item).
CONSOLE_ITEMS = {"fasting": FASTING_ITEM.key, "escort": RIDE_HOME.key}


def fasting_times(
    starts_at: dt.datetime, plan_fasting: str
) -> tuple[dt.datetime, dt.datetime] | None:
    """(no food from, no drinks from) for a session, when the plan keeps the clinic default's
    words; None when the plan says something else (then only the plan's words are shown)."""
    if plan_fasting.strip() != FASTING.text:
        return None
    return starts_at - FOOD_BEFORE, starts_at - DRINKS_BEFORE
