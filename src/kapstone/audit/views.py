from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from kapstone.audit.forms import AuditFilterForm
from kapstone.audit.selectors import audit_entries
from kapstone.clinical.access import Permission
from kapstone.web.authz import requires
from kapstone.web.http import AuthenticatedHttpRequest


@requires(Permission.BROWSE_AUDIT)
def browse(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    entries = audit_entries(**form.cleaned_data) if form.is_valid() else audit_entries()
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "audit/browse.html", {"form": form, "page": page, "query": query.urlencode()}
    )
