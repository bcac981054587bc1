"""Reading API clients, tokens and export jobs."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import QuerySet

from kapstone.fhirapi.access_types import ApiCaller
from kapstone.fhirapi.models import AccessToken, ApiClient, BulkExport


def clients() -> QuerySet[ApiClient]:
    return ApiClient.objects.all()


def client(pk: int) -> ApiClient | None:
    return ApiClient.objects.filter(pk=pk).first()


def client_by_client_id(client_id: str) -> ApiClient | None:
    return ApiClient.objects.filter(client_id=client_id).first()


def caller_for_token(hashed: str, *, now: dt.datetime) -> ApiCaller | None:
    """One indexed query: the unique token hash, joined to its (enabled) client."""
    row = (
        AccessToken.objects.filter(token_hash=hashed, expires_at__gt=now, client__enabled=True)
        .values_list("client__client_id", "client__name", "scopes")
        .first()
    )
    if row is None:
        return None
    client_id, name, scopes = row
    return ApiCaller(client_id=client_id, label=name, scopes=frozenset(scopes.split()))


def export_job(job_id: str) -> BulkExport | None:
    try:
        key = uuid.UUID(job_id)
    except ValueError:
        return None
    return BulkExport.objects.select_related("client").filter(pk=key).first()


def exports_of(found: ApiClient) -> QuerySet[BulkExport]:
    return BulkExport.objects.filter(client=found)
