"""Twilio's adapter against a local HTTP server standing in for api.twilio.com: the request it
makes, the id it reads, and the failures it reports (without the words of Twilio's answer)."""

from __future__ import annotations

import base64
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest

from kapstone.notify.providers.errors import SendError
from kapstone.notify.providers.sms import TwilioSmsProvider

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "a-test-auth-token"
GOOD = "+12075550143"
# Numbers the fake Twilio answers with an error: (HTTP status, JSON body or raw text).
ANSWERS = {
    "+12075550100": (400, {"code": 21211, "message": "The 'To' number +12075550100 is not valid."}),
    "+12075550101": (429, {"code": 20429, "message": "Too Many Requests: Body was Hello"}),
    "+12075550102": (503, "<html>Service Unavailable</html>"),
    "+12075550103": (400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}),
}


class FakeTwilio(BaseHTTPRequestHandler):
    received: list[dict] = []

    def log_message(self, *args):  # quiet test output
        pass

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self.received.append(
            {
                "path": self.path,
                "auth": self.headers.get("Authorization", ""),
                "type": self.headers.get("Content-Type", ""),
                "form": form,
            }
        )
        expected_auth = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        if self.path != f"/2010-04-01/Accounts/{SID}/Messages.json":
            return self._answer(404, {"code": 20404, "message": "not found", "status": 404})
        if self.headers.get("Authorization") != expected_auth:
            return self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
        status, body = ANSWERS.get(form.get("To", ""), (201, None))
        if body is None:
            body = {
                "sid": "SM" + "f" * 32,
                "status": "queued",
                "to": form["To"],
                "body": form["Body"],
            }
        return self._answer(status, body)

    def _answer(self, status, body):
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@pytest.fixture(scope="module")
def twilio_url():
    server = HTTPServer(("127.0.0.1", 0), FakeTwilio)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _fresh():
    FakeTwilio.received.clear()


def provider(url, sender="+15005550006", token=TOKEN):
    return TwilioSmsProvider(
        account_sid=SID, auth_token=token, sender=sender, api_url=url, timeout=5
    )


def test_a_text_is_posted_as_twilio_expects_and_its_sid_returned(twilio_url):
    sid = provider(twilio_url).send(GOOD, "A reminder from Kapstone: https://clinic.example/me/")
    assert sid == "SM" + "f" * 32
    [request] = FakeTwilio.received
    assert request["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request["type"] == "application/x-www-form-urlencoded"
    assert request["form"] == {
        "To": GOOD,
        "From": "+15005550006",
        "Body": "A reminder from Kapstone: https://clinic.example/me/",
    }


def test_a_messaging_service_sends_in_place_of_a_number(twilio_url):
    provider(twilio_url, sender="MG" + "0" * 32).send(GOOD, "Hello")
    form = FakeTwilio.received[0]["form"]
    assert form["MessagingServiceSid"] == "MG" + "0" * 32 and "From" not in form


@pytest.mark.parametrize(
    ("to", "code", "retryable"),
    [
        ("+12075550100", "Twilio21211", False),  # not a valid number: never will be
        ("+12075550103", "Twilio21610", False),  # the patient replied STOP
        ("+12075550101", "Twilio20429", True),  # too many requests: later
        ("+12075550102", "TwilioHTTP503", True),  # an outage answering HTML: later
    ],
)
def test_a_refusal_is_a_typed_error_without_twilios_words(twilio_url, to, code, retryable):
    with pytest.raises(SendError) as caught:
        provider(twilio_url).send(to, "Hello")
    assert caught.value.code == code
    assert caught.value.retryable is retryable
    assert str(caught.value) == code  # nothing of "message", which may quote the number or body
    assert "Hello" not in str(caught.value) and to not in str(caught.value)


def test_wrong_credentials_are_not_retried_forever(twilio_url):
    with pytest.raises(SendError) as caught:
        provider(twilio_url, token="wrong").send(GOOD, "Hello")
    assert caught.value.code == "Twilio20003"
    assert caught.value.retryable is False


def test_no_answer_at_all_is_retryable():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SendError) as caught:
        provider(f"http://127.0.0.1:{port}").send(GOOD, "Hello")
    assert caught.value.code == "ConnectionError"
    assert caught.value.retryable is True
