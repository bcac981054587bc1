"""Writes: registering API clients, exchanging a signed assertion for a token, auditing reads.

The token exchange is SMART Backend Services (the OAuth 2.0 client-credentials grant with a
``private_key_jwt`` client assertion, RFC 7523). It is written here with joserfc for the JOSE part:
no released OAuth library supports this grant cleanly on Django (see docs/fhir-auth-and-bulk.md).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from django.db import IntegrityError, transaction
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.util import urlsafe_b64decode

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import changed_fields, snapshot
from kapstone.audit.trail import record as audit
from kapstone.errors import InputError
from kapstone.fhirapi import scopes as smart_scopes
from kapstone.fhirapi.access_types import ApiCaller, token_hash
from kapstone.fhirapi.models import AccessToken, ApiClient, BulkExport, ExportState, UsedAssertion
from kapstone.patients.models import Patient

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("RS384", "ES384")
TOKEN_LIFETIME = dt.timedelta(minutes=5)
# An assertion may not be valid for longer than this (SMART Backend Services: exp <= 5 minutes).
ASSERTION_HORIZON = dt.timedelta(minutes=5)
JWKS_TIMEOUT_SECONDS = 5.0
JWKS_CACHE = dt.timedelta(hours=1)
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._~-]{3,100}$")
_AUDITED = ("client_id", "name", "scopes", "jwks", "jwks_url", "enabled")


# --- clients -----------------------------------------------------------------------------------


def _public_key_set(jwks: Any) -> KeySet:
    """The JWKS as a key set of public RS384/ES384-capable keys, each with its own ``kid``."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise ValueError('a JWKS is a JSON object with a non-empty "keys" list')
    for key in jwks["keys"]:
        if not isinstance(key, dict) or not key.get("kid"):
            raise ValueError('every key needs a "kid" (the assertion names it)')
        if key.get("kty") not in {"RSA", "EC"}:
            raise ValueError("keys must be RSA (RS384) or EC P-384 (ES384)")
        if key.get("kty") == "EC" and key.get("crv") != "P-384":
            raise ValueError("an EC key must be on curve P-384 (ES384)")
        if "d" in key:
            raise ValueError("that is a private key: register only the public key")
    return KeySet.import_key_set(jwks)  # type: ignore[arg-type]


def _client_problems(
    *, client_id: str, name: str, scopes: str, jwks_json: str, jwks_url: str, exclude: int | None
) -> tuple[dict[str, list[str]], dict[str, Any] | None]:
    errors: dict[str, list[str]] = {}
    if not _CLIENT_ID.match(client_id):
        errors["client_id"] = ["3 to 100 letters, digits and . _ ~ - only"]
    elif ApiClient.objects.filter(client_id=client_id).exclude(pk=exclude or 0).exists():
        errors["client_id"] = ["Another client has this id"]
    if not name.strip():
        errors["name"] = ["Give the client a name"]
    wanted = scopes.split()
    if not wanted:
        errors["scopes"] = ["Allow at least one scope, e.g. system/*.rs"]
    elif bad := [s for s in wanted if smart_scopes.parse(s) is None]:
        errors["scopes"] = [f"Not a SMART system scope: {', '.join(bad)}"]
    jwks: dict[str, Any] | None = None
    if bool(jwks_json.strip()) == bool(jwks_url.strip()):
        errors["jwks"] = ["Give the public key either as a JWKS or as a JWKS URL, not both"]
    elif jwks_json.strip():
        try:
            jwks = json.loads(jwks_json)
            _public_key_set(jwks)
        except (ValueError, JoseError) as error:
            errors["jwks"] = [f"Not a usable JWKS: {error}"]
    elif not jwks_url.startswith("https://"):
        errors["jwks_url"] = ["The JWKS URL must be https"]
    return errors, jwks


def register_client(
    *,
    by: StaffUser,
    client_id: str,
    name: str,
    scopes: str,
    jwks_json: str = "",
    jwks_url: str = "",
    now: dt.datetime,
) -> ApiClient:
    errors, jwks = _client_problems(
        client_id=client_id,
        name=name,
        scopes=scopes,
        jwks_json=jwks_json,
        jwks_url=jwks_url,
        exclude=None,
    )
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        created = ApiClient.objects.create(
            client_id=client_id,
            name=name.strip(),
            scopes=" ".join(scopes.split()),
            jwks=jwks,
            jwks_url=jwks_url.strip() if jwks is None else "",
            created_at=now,
            updated_at=now,
        )
        audit(
            actor=by,
            action="fhir_client.registered",
            obj=created,
            summary=f"API client {created.client_id} registered",
            after=snapshot(created, _AUDITED),
        )
    return created


def update_client(
    *,
    by: StaffUser,
    client: ApiClient,
    name: str,
    scopes: str,
    jwks_json: str = "",
    jwks_url: str = "",
    enabled: bool,
    now: dt.datetime,
) -> ApiClient:
    errors, jwks = _client_problems(
        client_id=client.client_id,
        name=name,
        scopes=scopes,
        jwks_json=jwks_json,
        jwks_url=jwks_url,
        exclude=client.pk,
    )
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        locked = ApiClient.objects.select_for_update().get(pk=client.pk)
        before = snapshot(locked, _AUDITED)
        locked.name = name.strip()
        locked.scopes = " ".join(scopes.split())
        if jwks != locked.jwks or jwks_url.strip() != locked.jwks_url:
            locked.jwks_cache = None
            locked.jwks_fetched_at = None
        locked.jwks = jwks
        locked.jwks_url = jwks_url.strip() if jwks is None else ""
        locked.enabled = enabled
        locked.updated_at = now
        locked.save()
        before, after = changed_fields(before, snapshot(locked, _AUDITED))
        if not enabled:
            # A disabled client's tokens stop working at once.
            AccessToken.objects.filter(client=locked).delete()
        audit(
            actor=by,
            action="fhir_client.changed",
            obj=locked,
            summary=f"API client {locked.client_id} changed" + ("" if enabled else " (disabled)"),
            before=before,
            after=after,
        )
    return locked


def client_keys(client: ApiClient, *, now: dt.datetime) -> KeySet:
    """The client's public keys: its JWKS, or its JWKS URL's (fetched with a timeout, cached)."""
    if client.jwks is not None:
        return _public_key_set(client.jwks)
    fresh = client.jwks_fetched_at is not None and now - client.jwks_fetched_at < JWKS_CACHE
    if fresh and client.jwks_cache is not None:
        return _public_key_set(client.jwks_cache)
    response = requests.get(
        client.jwks_url, timeout=JWKS_TIMEOUT_SECONDS, headers={"Accept": "application/json"}
    )
    response.raise_for_status()
    fetched = response.json()
    keys = _public_key_set(fetched)
    ApiClient.objects.filter(pk=client.pk).update(jwks_cache=fetched, jwks_fetched_at=now)
    return keys


# --- the token endpoint ------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenError(Exception):
    """An RFC 6749 section 5.2 error: ``invalid_request``, ``invalid_client``, ``invalid_grant``,
    ``invalid_scope``, ``unsupported_grant_type``."""

    error: str
    description: str
    status: int = 400


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    scope: str
    expires_in: int


def _claim_time(claims: Mapping[str, Any], name: str) -> dt.datetime:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenError("invalid_grant", f"The assertion's {name} must be a number (seconds)")
    return dt.datetime.fromtimestamp(value, tz=dt.UTC)


def exchange_assertion(*, form: Mapping[str, str], token_url: str, now: dt.datetime) -> IssuedToken:
    """Checks a client-credentials request with its signed assertion and issues an access token.

    Checked, in order: grant and assertion type; the assertion's header (RS384 or ES384 only, a
    ``kid``); the client it names (registered, enabled); the signature against that client's key
    with that ``kid``; ``iss`` == ``sub`` == client id; ``aud`` == this token endpoint's URL;
    ``exp`` present, not past, at most five minutes ahead; ``jti`` never seen before; the requested
    scopes within the client's allowed scopes.
    """
    if form.get("grant_type") != "client_credentials":
        raise TokenError("unsupported_grant_type", "grant_type must be client_credentials")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise TokenError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}")
    assertion = form.get("client_assertion", "")
    if not assertion:
        raise TokenError("invalid_request", "client_assertion is missing")
    requested = form.get("scope", "").split()
    if not requested:
        raise TokenError("invalid_scope", "Ask for at least one scope")

    client, claims = _verified(assertion, now=now)
    _check_claims(claims, client=client, token_url=token_url, now=now)
    expires = _claim_time(claims, "exp")
    jti = str(claims["jti"])
    refused = [s for s in requested if not smart_scopes.covers(client.allowed_scopes, s)]
    if refused:
        raise TokenError("invalid_scope", f"Not allowed for this client: {' '.join(refused)}")

    plain = secrets.token_urlsafe(32)
    scope = " ".join(dict.fromkeys(requested))
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(client=client, jti=jti, expires_at=expires)
            AccessToken.objects.create(
                token_hash=token_hash(plain),
                client=client,
                scopes=scope,
                issued_at=now,
                expires_at=now + TOKEN_LIFETIME,
            )
            # Housekeeping, cheap on indexes: spent assertions and tokens past their expiry.
            UsedAssertion.objects.filter(client=client, expires_at__lt=now).delete()
            AccessToken.objects.filter(client=client, expires_at__lt=now).delete()
    except IntegrityError:
        raise TokenError("invalid_grant", "This assertion (its jti) was already used") from None
    return IssuedToken(
        access_token=plain, scope=scope, expires_in=int(TOKEN_LIFETIME.total_seconds())
    )


def _verified(assertion: str, *, now: dt.datetime) -> tuple[ApiClient, Mapping[str, Any]]:
    """The client the assertion names, and its claims once its signature verifies."""
    try:
        header = _unverified_header(assertion)
    except ValueError as error:
        raise TokenError("invalid_client", f"The assertion is not a JWS: {error}", 401) from None
    if header.get("alg") not in ALGORITHMS:
        raise TokenError("invalid_client", "The assertion must be signed with RS384 or ES384", 401)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenError("invalid_client", "The assertion's header must name its key (kid)", 401)
    claimed = _unverified_issuer(assertion)
    client = ApiClient.objects.filter(client_id=claimed, enabled=True).first() if claimed else None
    if client is None:
        raise TokenError("invalid_client", "No enabled client with that id", 401)
    try:
        keys = client_keys(client, now=now)
    except (requests.RequestException, ValueError, JoseError):
        raise TokenError(
            "invalid_client", "The client's public keys could not be read", 401
        ) from None
    if not any(key.kid == kid for key in keys):
        raise TokenError("invalid_client", "The client has no key with that kid", 401)
    try:
        token = jwt.decode(assertion, keys, algorithms=list(ALGORITHMS))
    except JoseError:
        raise TokenError(
            "invalid_client", "The assertion's signature does not verify", 401
        ) from None
    return client, token.claims


def _check_claims(
    claims: Mapping[str, Any], *, client: ApiClient, token_url: str, now: dt.datetime
) -> None:
    if claims.get("iss") != client.client_id or claims.get("sub") != client.client_id:
        raise TokenError("invalid_client", "iss and sub must both be the client id", 401)
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if token_url not in audiences:
        raise TokenError("invalid_client", f"aud must be this token endpoint: {token_url}", 401)
    expires = _claim_time(claims, "exp")
    if expires <= now:
        raise TokenError("invalid_client", "The assertion has expired", 401)
    if expires > now + ASSERTION_HORIZON:
        raise TokenError("invalid_client", "exp may be at most five minutes ahead", 401)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise TokenError(
            "invalid_client", "The assertion needs a jti (at most 255 characters)", 401
        )


def _segments(assertion: str) -> list[bytes]:
    parts = assertion.split(".")
    if len(parts) != 3:
        raise ValueError("three dot-separated parts expected")
    return [urlsafe_b64decode(part.encode("ascii")) for part in parts[:2]]


def _unverified_header(assertion: str) -> dict[str, Any]:
    header = json.loads(_segments(assertion)[0])
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    return header


def _unverified_issuer(assertion: str) -> str:
    """The ``iss`` the assertion claims, only to find whose keys to verify it with."""
    try:
        claims = json.loads(_segments(assertion)[1])
    except ValueError:
        return ""
    value = claims.get("iss") if isinstance(claims, dict) else None
    return value if isinstance(value, str) else ""


# --- the audit of API reads --------------------------------------------------------------------


def record_api_read(
    *,
    caller: ApiCaller,
    resource_type: str,
    interaction: str,
    resource_ids: list[str],
    patient_ids: list[int],
    query: str,
) -> None:
    distinct = sorted(set(patient_ids))
    patient = Patient.objects.filter(pk=distinct[0]).first() if len(distinct) == 1 else None
    audit(
        actor=None,
        action="fhir.read",
        patient=patient,
        summary=(
            f"FHIR {interaction} of {resource_type} by API client {caller.client_id} "
            f"({caller.label}): {len(resource_ids)} resources, {len(distinct)} patients"
        ),
        after={
            "client_id": caller.client_id,
            "client": caller.label,
            "resource_type": resource_type,
            "interaction": interaction,
            "resource_ids": resource_ids,
            "patient_ids": distinct,
            "query": query,
        },
    )


# --- Bulk $export ------------------------------------------------------------------------------


def start_export(
    *,
    caller: ApiCaller,
    level: str,
    group_id: str,
    types: list[str],
    since: dt.datetime | None,
    request_url: str,
    now: dt.datetime,
) -> BulkExport:
    """Records a kick-off and queues its job for the task worker (once the row is committed)."""
    from kapstone.fhirapi.tasks import run_bulk_export

    client = ApiClient.objects.get(client_id=caller.client_id)
    with transaction.atomic():
        job = BulkExport.objects.create(
            client=client,
            level=level,
            group_id=group_id,
            types=types,
            since=since,
            request_url=request_url[:2000],
            requested_at=now,
        )
        audit(
            actor=None,
            action="fhir.export_requested",
            obj=job,
            summary=f"FHIR $export ({level}) requested by API client {caller.client_id} "
            f"({caller.label}): {', '.join(types)}",
            after={
                "client_id": caller.client_id,
                "client": caller.label,
                "level": level,
                "group": group_id,
                "types": types,
                "since": since.isoformat() if since else None,
            },
        )
        job_id = str(job.pk)
        transaction.on_commit(lambda: run_bulk_export.enqueue(job_id))
    return job


def cancel_export(*, caller: ApiCaller, job: BulkExport) -> bool:
    """Cancels a queued, running or finished export and removes its files; False if it was
    already cancelled or expired."""
    from kapstone.fhirapi.bulk import remove_files

    with transaction.atomic():
        locked = BulkExport.objects.select_for_update().get(pk=job.pk)
        if locked.state in {ExportState.CANCELLED, ExportState.EXPIRED}:
            return False
        was = locked.state
        locked.state = ExportState.CANCELLED
        locked.output = []
        locked.save(update_fields=["state", "output"])
        audit(
            actor=None,
            action="fhir.export_cancelled",
            obj=locked,
            summary=f"FHIR $export cancelled by API client {caller.client_id} (was {was})",
            after={"client_id": caller.client_id, "client": caller.label},
        )
    remove_files(locked)
    return True


def record_download(*, caller: ApiCaller, job: BulkExport, resource_type: str, count: int) -> None:
    audit(
        actor=None,
        action="fhir.export_downloaded",
        obj=job,
        summary=f"FHIR $export file {resource_type} ({count} resources) downloaded by API client "
        f"{caller.client_id} ({caller.label})",
        after={"client_id": caller.client_id, "client": caller.label, "type": resource_type},
    )
