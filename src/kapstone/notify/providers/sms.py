"""Text messages: a small provider interface, Twilio's adapter, and an in-memory double.

The provider is chosen by ``KAPSTONE_SMS_PROVIDER`` (settings.SMS_PROVIDER): ``twilio``, ``memory``
(development, the demo and the tests: it records what it was asked to send) or empty (no texts).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Protocol

import requests
from django.conf import settings

from kapstone.notify.providers.errors import SendError

log = logging.getLogger(__name__)


class SmsProvider(Protocol):
    def send(self, to: str, body: str) -> str:
        """Sends ``body`` to the E.164 number ``to``; returns the provider's message id or raises
        :class:`SendError`."""
        ...


@dataclass(frozen=True)
class SentText:
    to: str
    body: str
    provider_id: str


class MemorySmsProvider:
    """Keeps every text in :attr:`outbox` (one list per process, like Django's locmem e-mail) and
    logs it, as the console e-mail backend prints e-mails (refused in production: settings.py).

    A number listed in :attr:`failing` gets a retryable failure, so tests and the demo can show a
    retry without a network."""

    outbox: list[SentText] = []
    failing: dict[str, bool] = {}
    _ids = itertools.count(1)

    def send(self, to: str, body: str) -> str:
        if to in self.failing:
            raise SendError("MemoryFailure", retryable=self.failing[to])
        provider_id = f"memory-{next(self._ids)}"
        self.outbox.append(SentText(to=to, body=body, provider_id=provider_id))
        log.info("Text message %s to %s: %s", provider_id, to, body)
        return provider_id


# Twilio's error codes that will not succeed on a second try (a number that cannot receive texts,
# a recipient who replied STOP, a malformed number): give up at once.
# https://www.twilio.com/docs/api/errors
_PERMANENT_TWILIO_CODES = frozenset({21211, 21408, 21610, 21612, 21614, 21606, 21604})


class TwilioSmsProvider:
    """Twilio's Programmable Messaging: ``POST /2010-04-01/Accounts/{sid}/Messages.json`` with the
    account's SID and auth token as basic auth; the answer's JSON ``sid`` is the message id."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sender: str,
        api_url: str = "https://api.twilio.com",
        timeout: float = 10.0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sender = sender
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout

    def send(self, to: str, body: str) -> str:
        url = f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        # A messaging service (MG...) picks the number itself; otherwise the number sends.
        sender_key = "MessagingServiceSid" if self.sender.startswith("MG") else "From"
        try:
            response = requests.post(
                url,
                data={"To": to, sender_key: self.sender, "Body": body},
                auth=(self.account_sid, self.auth_token),
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise SendError(type(exc).__name__, retryable=True) from None
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if response.status_code in (200, 201) and isinstance(answer.get("sid"), str):
            return str(answer["sid"])
        # Only the code is kept: Twilio's "message" can quote the number or the body.
        code = answer.get("code")
        retryable = response.status_code == 429 or response.status_code >= 500
        if isinstance(code, int) and code in _PERMANENT_TWILIO_CODES:
            retryable = False
        label = f"Twilio{code}" if isinstance(code, int) else f"TwilioHTTP{response.status_code}"
        raise SendError(label, retryable=retryable)


def sms_provider() -> SmsProvider | None:
    """The configured provider, or None when this clinic sends no texts."""
    match settings.SMS_PROVIDER:
        case "memory":
            return MemorySmsProvider()
        case "twilio":
            return TwilioSmsProvider(
                account_sid=settings.TWILIO_ACCOUNT_SID,
                auth_token=settings.TWILIO_AUTH_TOKEN,
                sender=settings.TWILIO_FROM,
                api_url=settings.TWILIO_API_URL,
            )
        case _:
            return None
