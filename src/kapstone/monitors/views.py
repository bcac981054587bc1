"""The Monitors page: registered devices, senders nobody registered, readings waiting for a session."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kapstone.clinical.access import Permission
from kapstone.errors import InputError
from kapstone.monitors import selectors, services
from kapstone.monitors.forms import ChangeDeviceForm, DeviceForm, code_map_text
from kapstone.web.authz import requires
from kapstone.web.forms import show_service_errors
from kapstone.web.found import or_404
from kapstone.web.http import AuthenticatedHttpRequest


@requires(Permission.MANAGE_MONITORS)
@require_http_methods(["GET", "POST"])
def monitors(request: AuthenticatedHttpRequest) -> HttpResponse:
    # An unknown sender's "Register" link fills in its MSH-3 and MSH-4.
    initial = {
        "sending_application": request.GET.get("application", "")[:180],
        "sending_facility": request.GET.get("facility", "")[:180],
    }
    form = DeviceForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            device = services.register_device(
                by=request.user,
                label=data["label"],
                sending_application=data["sending_application"],
                sending_facility=data["sending_facility"],
                room=data["room"],
                local_codes=data["local_codes"],
            )
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            messages.success(request, f"Monitor {device.label} registered.")
            return redirect("monitors:page")
    return render(
        request,
        "monitors/monitors.html",
        {
            "form": form,
            "devices": selectors.devices(),
            "unknown": selectors.unknown_senders(),
            "waiting": selectors.waiting_readings(),
            "refused": selectors.refused_messages(),
            "now": timezone.now(),
        },
    )


@requires(Permission.MANAGE_MONITORS)
@require_http_methods(["GET", "POST"])
def device(request: AuthenticatedHttpRequest, device_id: int) -> HttpResponse:
    found = or_404(selectors.device_of(device_id), "No such monitor.")
    initial = {
        "label": found.label,
        "sending_application": found.sending_application,
        "sending_facility": found.sending_facility,
        "room": found.room,
        "local_codes": code_map_text(found.local_codes),
        "is_active": found.is_active,
    }
    form = ChangeDeviceForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.change_device(
                by=request.user,
                device=found,
                label=data["label"],
                room=data["room"],
                local_codes=data["local_codes"],
                is_active=data["is_active"],
            )
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            messages.success(request, f"Monitor {found.label} saved.")
            return redirect("monitors:page")
    return render(request, "monitors/device.html", {"form": form, "device": found})
