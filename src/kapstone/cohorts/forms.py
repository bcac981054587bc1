"""The dashboard's filters and the outcome letter's addressee."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils import timezone

from kapstone.assessments.flow import short_name
from kapstone.clinical.access import Modality
from kapstone.clinical.cohort import Dimension
from kapstone.clinical.routes import Route
from kapstone.cohorts import selectors
from kapstone.cohorts.dashboard import CohortQuery
from kapstone.cohorts.presenters import DURABILITY_DIMENSIONS
from kapstone.web.forms import choose_from


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last twelve months: enough courses for the 1- and 3-month follow-ups to be due."""
    return today - dt.timedelta(days=365), today


class CohortFilterForm(forms.Form):
    start = forms.DateField(label="First dose from", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="to", widget=forms.DateInput(attrs={"type": "date"}))
    site = forms.ChoiceField(label="Site", required=False)
    program = forms.ChoiceField(label="Program", required=False)
    modality = forms.ChoiceField(label="Integration modality", required=False)
    route = forms.ChoiceField(label="Route", required=False)
    instrument = forms.ChoiceField(label="Instrument", required=False)
    by = forms.ChoiceField(label="Durability curves by", required=False)

    def __init__(
        self, data: Mapping[str, str] | None = None, *, today: dt.date | None = None
    ) -> None:
        today = today or timezone.localdate()
        start, end = default_period(today)
        merged = {"start": start.isoformat(), "end": end.isoformat()}
        if data:
            merged |= {k: v for k, v in data.items() if v not in (None, "")}
        super().__init__(merged)
        everyone = [("", "All")]
        sites = [(str(pk), name) for pk, name in selectors.sites_by_name()]
        choose_from(self, "site", everyone + sites)
        programs = sorted(
            ((k, p.name) for k, p in selectors.programs().items()), key=lambda c: c[1]
        )
        choose_from(self, "program", everyone + programs)
        choose_from(self, "modality", everyone + [(m.value, m.label) for m in Modality])
        choose_from(self, "route", everyone + [(r.value, r.label) for r in Route])
        choose_from(
            self,
            "instrument",
            [(name, short_name(name)) for name in selectors.DASHBOARD_INSTRUMENTS],
        )
        choose_from(
            self, "by", [("", "No grouping")] + [(d.value, d.label) for d in DURABILITY_DIMENSIONS]
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "The end of the period must not be before its start.")
        if start and end and (end - start).days > 366 * 5:
            self.add_error("start", "Choose a period of at most five years.")
        return data

    def query(self) -> CohortQuery:
        """The selector's arguments from a valid form."""
        c = self.cleaned_data
        return CohortQuery(
            start=c["start"],
            end=c["end"],
            site_id=int(c["site"]) if c.get("site") else None,
            program=c.get("program") or None,
            modality=c.get("modality") or None,
            route=c.get("route") or None,
            instrument=c.get("instrument") or "phq9",
        )

    def durability_by(self) -> Dimension | None:
        value = self.cleaned_data.get("by") if self.is_valid() else None
        return Dimension(value) if value else None


class LetterForm(forms.Form):
    to = forms.ChoiceField(
        label="Address the letter to",
        choices=[("patient", "The patient"), ("payer", "The payer (insurer)")],
        widget=forms.RadioSelect,
        initial="patient",
    )
    payer_name = forms.CharField(label="Payer", max_length=120, required=False)
    payer_address = forms.CharField(
        label="Payer's address", max_length=300, required=False, widget=forms.Textarea({"rows": 3})
    )
    reference = forms.CharField(label="Member or claim reference", max_length=60, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("to") == "payer" and not (data.get("payer_name") or "").strip():
            self.add_error("payer_name", "Name the payer the letter goes to.")
        return data
