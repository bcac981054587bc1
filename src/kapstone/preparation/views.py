"""The patient's preparation checklist (``/me/prepare/``): views only translate."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kapstone.companion.access import patient_only
from kapstone.companion.models import PatientAccount
from kapstone.companion.program import viewed
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.preparation import selectors, services
from kapstone.preparation.forms import AnswerForm


@patient_only
@require_http_methods(["GET", "POST"])
def prepare(request: HttpRequest, *, account: PatientAccount, patient: Patient) -> HttpResponseBase:
    now = timezone.now()
    problem, typed = "", None
    if request.method == "POST":
        form = AnswerForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.answer_item(
                    account=account,
                    patient=patient,
                    session_id=d["session"],
                    item=d["item"],
                    answer=d["answer"] == "yes",
                    note=d["note"],
                    now=now,
                )
            except InputError as exc:
                problem = " ".join(m for ms in exc.errors.values() for m in ms)
            else:
                messages.success(request, _("Saved."))
                return redirect(f"{request.path}#item-{d['session']}-{d['item']}")
        else:
            problem = " ".join(str(m) for ms in form.errors.values() for m in ms)
        typed = {
            "session": request.POST.get("session", ""),
            "item": request.POST.get("item", ""),
            "note": request.POST.get("note", ""),
        }
    else:
        viewed(account, patient, "preparation")
    return render(
        request,
        "preparation/prepare.html",
        {
            "account": account,
            "patient": patient,
            "nav": "preparation",
            "checklists": selectors.checklists(patient, now),
            "problem": problem,
            "typed": typed,
        },
        status=400 if problem else 200,
    )
