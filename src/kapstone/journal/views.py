"""The patient's journal pages. Views translate: selectors read the patient's own rows, the
service writes new rows; an entry in a URL is looked up among the signed-in patient's rows only."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kapstone.companion.access import patient_only
from kapstone.companion.models import PatientAccount
from kapstone.errors import InputError
from kapstone.journal import selectors, services
from kapstone.journal.forms import EntryForm, homework_initial, initial_from
from kapstone.journal.models import JournalEntry
from kapstone.patients.models import Patient
from kapstone.web.forms import show_service_errors
from kapstone.web.found import or_404


@patient_only
def home(request: HttpRequest, *, account: PatientAccount, patient: Patient) -> HttpResponse:
    note = selectors.homework_note(patient)
    services.record_own_read(account=account, what="list")
    return render(
        request,
        "journal/home.html",
        {
            "account": account,
            "patient": patient,
            "nav": "journal",
            "entries": selectors.own_entries(patient),
            "homework": selectors.homework_progress(patient, note, shared_only=False),
        },
    )


def _write(
    request: HttpRequest, *, account: PatientAccount, patient: Patient, entry: JournalEntry | None
) -> HttpResponse:
    # An entry keeps the homework it was tracking; a new entry tracks the latest note's homework.
    note = entry.homework_note if entry is not None else selectors.homework_note(patient)
    assignments = selectors.homework_of(note)
    initial = (initial_from(entry) if entry else {}) | homework_initial(entry, assignments)
    form = EntryForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        assignments=assignments,
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.write_entry(
                account=account,
                text=form.cleaned_data["text"],
                mood=form.cleaned_data["mood"],
                shared_with_therapist=form.cleaned_data["shared_with_therapist"],
                homework_note=note,
                ticks=form.ticks(),
                at=timezone.now(),
                supersedes=entry,
            )
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            messages.success(
                request,
                _("Saved. Your therapist can read this entry.")
                if saved.shared_with_therapist
                else _("Saved. This entry is private: only you can read it."),
            )
            return redirect("journal:home")
    if entry is not None and request.method == "GET":
        services.record_own_read(account=account, what=f"entry version {entry.revision}")
    return render(
        request,
        "journal/entry_form.html",
        {
            "account": account,
            "patient": patient,
            "nav": "journal",
            "form": form,
            "entry": entry,
            "homework_note": note,
            "versions": selectors.versions(entry) if entry else [],
        },
    )


@patient_only
@require_http_methods(["GET", "POST"])
def new_entry(request: HttpRequest, *, account: PatientAccount, patient: Patient) -> HttpResponse:
    return _write(request, account=account, patient=patient, entry=None)


@patient_only
@require_http_methods(["GET", "POST"])
def entry(
    request: HttpRequest, entry_id: int, *, account: PatientAccount, patient: Patient
) -> HttpResponse:
    found = or_404(selectors.own_entry(patient, entry_id), "No such journal entry.")
    return _write(request, account=account, patient=patient, entry=found)
