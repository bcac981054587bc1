"""Helpers for FHIR API tests: a system client with a key the test generates, its signed
assertions, and access tokens got through the real token endpoint.

Typical use (with pytest-django's ``client``)::

    from tests.fhirapi.support import api_admin, api_clients, bearer  # noqa: F401 (fixtures)

    def test_something(api_clients, client):
        ehr = api_clients(scopes="system/Patient.rs")          # RS384 by default, or alg="ES384"
        token = ehr.token(client, "system/Patient.rs")         # POSTs to /fhir/auth/token
        got = client.get("/fhir/Patient", **bearer(token))

Against ``live_server`` use ``ehr.token_over_http(live_server.url, scopes)`` (``requests``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from kapstone.fhirapi.services import ASSERTION_TYPE
from tests.conftest import make_staff

TOKEN_PATH = "/fhir/auth/token"
TEST_SERVER = "http://testserver"  # the host Django's test Client uses


@functools.cache
def _private_key(alg: str, kid: str) -> RSAKey | ECKey:
    """A private key made for the test run (cached: RSA generation is the slow part)."""
    if alg == "RS384":
        return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": alg})
    if alg == "ES384":
        return ECKey.generate_key("P-384", parameters={"kid": kid, "alg": alg})
    raise ValueError(alg)


@dataclass(frozen=True)
class ClientKey:
    alg: str  # RS384 or ES384
    kid: str

    @property
    def private(self) -> RSAKey | ECKey:
        return _private_key(self.alg, self.kid)

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [self.private.as_dict(private=False, kid=self.kid, alg=self.alg)]}


def generate_key(alg: str = "RS384", kid: str | None = None) -> ClientKey:
    return ClientKey(alg=alg, kid=kid or f"{alg.lower()}-test-key")


def bearer(token: str) -> dict[str, str]:
    """Keyword arguments for Django's test Client: ``client.get(url, **bearer(token))``."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    key: ClientKey
    pk: int

    def assertion(
        self,
        *,
        aud: str = TEST_SERVER + TOKEN_PATH,
        expires_in: int = 240,
        jti: str | None = None,
        alg: str | None = None,
        kid: str | None = None,
        iss: str | None = None,
        sub: str | None = None,
        key: Any = None,
        now: dt.datetime | None = None,
    ) -> str:
        """A signed client assertion; every part can be spoiled for a negative test."""
        issued = now or timezone.now()
        claims = {
            "iss": iss or self.client_id,
            "sub": sub or self.client_id,
            "aud": aud,
            "exp": int((issued + dt.timedelta(seconds=expires_in)).timestamp()),
            "jti": jti or uuid.uuid4().hex,
        }
        header = {"alg": alg or self.key.alg, "kid": kid or self.key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, key or self.key.private, algorithms=[header["alg"]])

    def token_form(self, scopes: str, **assertion: Any) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(**assertion),
            "scope": scopes,
        }

    def request_token(self, client: Any, scopes: str, **assertion: Any) -> Any:
        """The token endpoint's response to a Django test Client's POST."""
        return client.post(TOKEN_PATH, self.token_form(scopes, **assertion))

    def token(self, client: Any, scopes: str) -> str:
        """An access token for ``scopes`` (asserts the endpoint gave one)."""
        got = self.request_token(client, scopes)
        assert got.status_code == 200, got.content
        body = json.loads(got.content)
        return str(body["access_token"])

    def token_over_http(self, base_url: str, scopes: str) -> str:
        """An access token from a live server (``live_server.url``), with ``requests``."""
        url = base_url.rstrip("/") + TOKEN_PATH
        got = requests.post(url, data=self.token_form(scopes, aud=url), timeout=30)
        assert got.status_code == 200, got.text
        return str(got.json()["access_token"])


def register(
    *,
    by: Any,
    client_id: str = "ehr-test",
    scopes: str = "system/*.rs",
    alg: str = "RS384",
    name: str | None = None,
) -> RegisteredClient:
    """Registers a client through the service, with a freshly generated key's public JWKS."""

    from kapstone.fhirapi.services import register_client

    key = generate_key(alg)
    created = register_client(
        by=by,
        client_id=client_id,
        name=name or f"Test EHR {client_id}",
        scopes=scopes,
        jwks_json=json.dumps(key.public_jwks()),
        now=timezone.now(),
    )
    return RegisteredClient(client_id=created.client_id, key=key, pk=created.pk)


@pytest.fixture
def api_admin(db):
    """An administrator (who registers API clients)."""
    from kapstone.accounts.models import Site, StaffUser
    from kapstone.clinical.access import Role

    found = StaffUser.objects.filter(username="api-admin").first()
    if found is not None:
        return found
    site = Site.objects.first() or Site.objects.create(name="API site")
    return make_staff("api-admin", Role.ADMINISTRATOR, [site])


@pytest.fixture
def api_clients(api_admin) -> Callable[..., RegisteredClient]:
    """``api_clients(client_id="ehr-1", scopes="system/*.rs", alg="RS384")`` registers one."""
    return functools.partial(register, by=api_admin)


def sample_api_client() -> int:
    """For the URL walker: the pk of one registered client (registered by an administrator)."""
    from kapstone.accounts.models import StaffUser
    from kapstone.clinical.access import Role
    from kapstone.fhirapi.models import ApiClient

    found = ApiClient.objects.first()
    if found is not None:
        return found.pk
    admin = StaffUser.objects.filter(role=Role.ADMINISTRATOR).first()
    return register(by=admin, client_id="walker-ehr").pk
