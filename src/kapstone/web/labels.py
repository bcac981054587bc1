"""The clinic's words for the codes Kapstone stores, and its local time: one place for both.

Pages, signed records, PDFs and the audit trail show a person ``label(code)`` (instruments,
routes, questionnaire flags, checklist items, alert grades and rules, statuses) and
``clinic_time(moment)`` (the clinic's local time, never a UTC ISO stamp). The template filters in
``kapstone.web.templatetags.words`` (``{{ code|label }}``, ``{{ moment|clinic_time }}``) call these.
CSV headers keep their codes: they are for machines. ``tests/shell/test_page_words.py`` walks every
page and fails on a code-shaped token.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from kapstone.clinical.instruments import INSTRUMENTS
from kapstone.clinical.instruments.definition import Flag
from kapstone.clinical.monitoring_policy import AlertGrade, Symptom
from kapstone.clinical.pre_dose_checklist import ChecklistItem
from kapstone.clinical.routes import Route
from kapstone.clinical.vital_signs import SedationLevel

TIME_FORMAT = "%-d %b %Y %H:%M"
CLOCK_FORMAT = "%H:%M"

FLAGS: Mapping[str, str] = {
    Flag.SUICIDE_RISK: "suicide risk",
    Flag.PROVISIONAL_PTSD: "provisional PTSD",
    Flag.PROBABLE_PTSD: "probable PTSD",
    Flag.POSITIVE_SCREEN: "positive screen",
    Flag.MAJOR_DEPRESSIVE_SYNDROME: "major depressive syndrome",
    Flag.OTHER_DEPRESSIVE_SYNDROME: "other depressive syndrome",
    Flag.SOMATOFORM_LIKELY: "somatoform disorder likely",
    Flag.ALCOHOL_DEPENDENCE_SYMPTOMS: "symptoms of alcohol dependence",
}
GRADES: Mapping[str, str] = {
    AlertGrade.NONE: "no alert",
    AlertGrade.RECHECK_IN_5_MINUTES: "recheck in 5 minutes",
    AlertGrade.PAUSE_OR_SLOW_INFUSION: "pause or slow the infusion",
    AlertGrade.STOP_AND_CALL_PRESCRIBER: "stop and call the prescriber",
    AlertGrade.EMERGENCY: "emergency",
}
# The parts of an alert rule's id ("sbp.rise.pause"): what is measured, how, and the grade.
_RULE_SUBJECTS = {
    "sbp": "systolic BP",
    "dbp": "diastolic BP",
    "bp": "blood pressure",
    "hr": "heart rate",
    "spo2": "SpO2",
    "rr": "respiratory rate",
    "sedation": "sedation",
    "dissociation": "dissociation",
}
_RULE_WAYS = {
    "high": "high",
    "low": "low",
    "rise": "rise from baseline",
    "touch": "rousable only to touch",
    "unresponsive": "unresponsive",
    "peak": "peak",
    "hypertensive_emergency": "hypertensive emergency",
}
_RULE_GRADES = {
    "recheck": "recheck",
    "pause": "pause",
    "stop": "stop",
    "emergency": "emergency",
}
# Words for other codes that reach a page (statuses, sources, kinds).
OTHER: Mapping[str, str] = {
    "not_pregnant": "not pregnant",
    "not_applicable": "not applicable",
    "no_show": "no show",
    "in_progress": "in progress",
    "primary_care": "primary care",
    "last_at_or_before_first_dose": "last score at or before the first dose",
    "first_score": "first score",
}

_CODE = re.compile(r"^[a-z][a-z0-9]*(?:[_.][a-z0-9]+)+$")


def instrument_label(code: str) -> str:
    from kapstone.assessments.flow import short_name

    return short_name(code) if code in INSTRUMENTS else code


def rule_label(rule_id: str) -> str:
    """'sbp.rise.pause' -> 'systolic BP rise from baseline (pause)'."""
    parts = rule_id.split(".")
    if parts[0] == "symptom" and len(parts) == 2:
        return _symptom(parts[1])
    subject = _RULE_SUBJECTS.get(parts[0])
    if subject is None:
        return _humane(rule_id)
    way = " ".join(_RULE_WAYS.get(p, _humane(p)) for p in parts[1:2])
    grade = [_RULE_GRADES.get(p, _humane(p)) for p in parts[2:]]
    text = f"{subject} {way}".strip() if way and way != subject else subject
    if parts[0] == "bp" and len(parts) == 2:
        text = _RULE_WAYS.get(parts[1], _humane(parts[1]))
    return f"{text} ({', '.join(grade)})" if grade else text


def _symptom(code: str) -> str:
    try:
        return Symptom(code).value.replace("_", " ")
    except ValueError:
        return {"vomiting_while_sedated": "vomiting while sedated"}.get(code, _humane(code))


def _humane(code: str) -> str:
    return code.replace("_", " ").replace(".", " ")


@cache
def _known() -> dict[str, str]:
    words: dict[str, str] = {}
    for route in Route:
        words[route.value] = route.label
    for item in ChecklistItem:
        words[item.value] = item.label
    for level in SedationLevel:
        words[level.value] = getattr(level, "label", _humane(level.value))
    words |= {str(k): v for k, v in FLAGS.items()}
    words |= {str(k): v for k, v in GRADES.items()}
    words |= dict(OTHER)
    for code in INSTRUMENTS:
        words[code] = instrument_label(code)
    return words


def label(code: Any) -> str:
    """The clinic's word for a stored code; a code it does not know is shown without its
    underscores and dots rather than raw."""
    if code is None:
        return ""
    text = str(code)
    found = _known().get(text)
    if found is not None:
        return found
    if "." in text and _CODE.match(text):
        return rule_label(text)
    return _humane(text) if _CODE.match(text) else text


def labels(codes: Iterable[Any]) -> str:
    return ", ".join(label(c) for c in codes)


def clinic_zone(site: Any = None) -> dt.tzinfo:
    """The site's zone when it has one, else the clinic's (``settings.TIME_ZONE``)."""
    name = getattr(site, "time_zone", "") or settings.TIME_ZONE
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def clinic_time(moment: object, site: Any = None, fmt: str = TIME_FORMAT) -> str:
    """A moment as the clinic reads it: local time, day first ('5 Dec 2026 18:30')."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        try:
            parsed = dt.datetime.fromisoformat(moment)
        except ValueError:
            return moment  # not a moment: shown as it was stored
        moment = parsed
    if isinstance(moment, dt.datetime):
        if timezone.is_naive(moment):
            return moment.strftime(fmt)
        return moment.astimezone(clinic_zone(site)).strftime(fmt)
    if isinstance(moment, dt.date):
        return moment.strftime("%-d %b %Y")
    return str(moment)


def clinic_clock(moment: Any, site: Any = None) -> str:
    return clinic_time(moment, site, CLOCK_FORMAT)


_ISO_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?")


def shown_value(value: Any) -> str:
    """One value of an audit change or a stored fact, as a person reads it."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(shown_value(v) for v in value) or "(none)"
    if isinstance(value, dict):
        return "; ".join(f"{label(k)}: {shown_value(v)}" for k, v in value.items()) or "(none)"
    if isinstance(value, str):
        if _ISO_STAMP.fullmatch(value):
            return clinic_time(value)
        return label(value)
    return str(value)


def shown_changes(changes: Any) -> list[tuple[str, str]]:
    """An audit entry's changes ({field: value} or {field: [before, after]}) as (field, words)."""
    if not isinstance(changes, dict):
        return [("", shown_value(changes))] if changes else []
    rows = []
    for field, value in changes.items():
        if isinstance(value, dict) and set(value) <= {"before", "after", "old", "new"}:
            before = value.get("before", value.get("old"))
            after = value.get("after", value.get("new"))
            words = f"{shown_value(before)} → {shown_value(after)}"
        else:
            words = shown_value(value)
        name = label(field)
        rows.append((name[:1].upper() + name[1:], words))
    return rows


# Texts the program itself stored in append-only rows before it spoke the clinic's words (the
# programs' seed migration keeps its original text, so every database holds this one).
_STORED_TEXTS = {
    "Seeded from the clinic's default templates (kapstone.clinical.programs).": (
        "Seeded from the clinic's default program templates."
    ),
}


def humane_text(text: str) -> str:
    """Free text composed by the program (an audit summary) with any ISO stamp in local time."""
    text = _STORED_TEXTS.get(text, text)
    return _ISO_STAMP.sub(lambda m: clinic_time(m.group(0)), text)
