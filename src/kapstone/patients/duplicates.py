"""Is this person already registered? Close matches on name and birth date, before a second chart.

A second chart for one person splits their history: a dose or a suicide-risk answer lands on the
chart nobody opens. Registration compares the new person with everyone born the same day (or on the
day and month swapped, a common slip with US and European dates) and everyone of the same family
name, on names brought to one form (accents, case, hyphens, apostrophes and spaces set aside), with
the standard library's similarity ratio (``difflib``). Matching is deliberately generous: the front
desk sees the candidates with a link to each chart and may still register, giving the reason.
"""

from __future__ import annotations

import datetime as dt
import difflib
import unicodedata
from dataclasses import dataclass

from django.db.models import Q

from kapstone.patients.models import Patient

SIMILAR_NAME = 0.8  # ratio at or above which two names count as alike with the same birth date
CANDIDATE_LIMIT = 200  # a very common family name: compare at most this many


def normal_name(name: str) -> str:
    """Letters only, accents removed, case folded: "O'Brien-Núñez" → "obriennunez"."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed.casefold() if c.isalpha() and not unicodedata.combining(c))


def _similarity(given: str, family: str, other: Patient) -> float:
    mine = normal_name(given + family)
    theirs = [
        normal_name(other.given_name + other.family_name),
        normal_name(other.family_name + other.given_name),  # given and family names swapped
    ]
    if other.preferred_name:
        theirs.append(normal_name(other.preferred_name + other.family_name))
    return max(difflib.SequenceMatcher(None, mine, name).ratio() for name in theirs)


def _swapped(day: dt.date) -> dt.date | None:
    try:
        return day.replace(month=day.day, day=day.month) if day.day <= 12 else None
    except ValueError:
        return None


def _one_digit_apart(a: dt.date, b: dt.date) -> bool:
    return sum(x != y for x, y in zip(a.isoformat(), b.isoformat(), strict=True)) == 1


@dataclass(frozen=True)
class PossibleDuplicate:
    patient: Patient
    why: str


def possible_duplicates(
    *, given_name: str, family_name: str, date_of_birth: dt.date, exclude: Patient | None = None
) -> list[PossibleDuplicate]:
    """Registered patients who may be this person, most alike first, each with why."""
    if not normal_name(given_name + family_name):
        return []
    swapped = _swapped(date_of_birth)
    days = [date_of_birth] + ([swapped] if swapped and swapped != date_of_birth else [])
    query = Q(date_of_birth__in=days) | Q(family_name__iexact=family_name.strip())
    candidates = Patient.objects.filter(query)
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude.pk)
    found: list[tuple[float, PossibleDuplicate]] = []
    for other in candidates.order_by("pk")[:CANDIDATE_LIMIT]:
        alike = _similarity(given_name, family_name, other)
        exact = alike == 1.0
        if other.date_of_birth == date_of_birth and exact:
            why = "same name and date of birth"
        elif other.date_of_birth == date_of_birth and alike >= SIMILAR_NAME:
            why = "same date of birth, similar name"
        elif other.date_of_birth == swapped and alike >= SIMILAR_NAME:
            why = "similar name, date of birth with day and month swapped"
        elif exact and _one_digit_apart(other.date_of_birth, date_of_birth):
            why = "same name, date of birth one digit different"
        else:
            continue
        found.append((alike, PossibleDuplicate(patient=other, why=why)))
    found.sort(key=lambda pair: (-pair[0], pair[1].patient.pk))
    return [match for _, match in found]
