from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from kapstone.accounts.models import StaffUser
from kapstone.audit.models import AuditEntry
from kapstone.clinical.access import Permission
from kapstone.patients.identifiers import normalise_mrn
from kapstone.web.authz import requires
from kapstone.web.http import AuthenticatedHttpRequest


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(queryset=StaffUser.objects.all(), required=False)
    action = forms.CharField(required=False, max_length=80, help_text="e.g. chart.viewed")
    mrn = forms.CharField(label="Patient MRN", required=False, max_length=20)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


@requires(Permission.BROWSE_AUDIT)
def browse(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    entries = AuditEntry.objects.select_related("actor", "patient")
    if form.is_valid():
        data = form.cleaned_data
        if data["actor"]:
            entries = entries.filter(actor=data["actor"])
        if data["action"]:
            entries = entries.filter(action__startswith=data["action"].strip())
        if data["mrn"]:
            entries = entries.filter(patient__mrn__iexact=normalise_mrn(data["mrn"]))
        if data["since"]:
            entries = entries.filter(at__date__gte=data["since"])
        if data["until"]:
            entries = entries.filter(at__date__lte=data["until"])
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "audit/browse.html", {"form": form, "page": page, "query": query.urlencode()}
    )
