"""The patient's notification preferences (``/me/notifications/``): views only translate."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kapstone.companion.access import patient_only
from kapstone.companion.models import PatientAccount
from kapstone.notify.forms import PreferencesForm
from kapstone.notify.services import open_preferences, update_preferences
from kapstone.patients.models import Patient
from kapstone.web.forms import saved

_FIELDS = (
    "by_email",
    "by_sms",
    "mobile",
    "quiet_start",
    "quiet_end",
    "sessions",
    "questionnaires",
    "messages",
)


@patient_only
def preferences(
    request: HttpRequest, *, account: PatientAccount, patient: Patient
) -> HttpResponseBase:
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if saved(
            request,
            form,
            lambda data: update_preferences(account=account, **data),
            success=_("Saved. We will contact you as you chose."),
        ):
            return redirect("notify:preferences")
    else:
        current = open_preferences(account=account)
        form = PreferencesForm(initial={name: getattr(current, name) for name in _FIELDS})
    return _page(request, account, form)


def _page(request: HttpRequest, account: PatientAccount, form: PreferencesForm) -> HttpResponse:
    return render(
        request,
        "notify/preferences.html",
        {
            "account": account,
            "form": form,
            "nav": "settings",
            "texts_offered": bool(settings.SMS_PROVIDER),
        },
    )
