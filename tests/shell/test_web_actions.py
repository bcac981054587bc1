"""The one shape of a form action (web.actions) and of "not found" (web.found), each way it ends."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.http import Http404, HttpRequest
from django.test import RequestFactory

from kapstone.errors import InputError
from kapstone.web.actions import act_on_form, show_errors_as_messages
from kapstone.web.found import or_404


class ReasonForm(forms.Form):
    reason = forms.CharField()


def _request(method: str, data: dict[str, str] | None = None) -> HttpRequest:
    factory = RequestFactory()
    request = factory.post("/x/", data or {}) if method == "POST" else factory.get("/x/")
    request.session = {}  # type: ignore[assignment]
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    return request


def _said(request: HttpRequest) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(request)]


def test_a_valid_post_acts_once_says_so_and_redirects() -> None:
    request = _request("POST", {"reason": "patient unwell"})
    calls: list[dict[str, Any]] = []

    def act(data: dict[str, Any]) -> int:
        calls.append(dict(data))
        return 7

    response = act_on_form(
        request,
        ReasonForm(request.POST),
        act,
        done=lambda n: f"Session {n} cancelled.",
        then=lambda n: f"/sessions/{n}/",
    )
    assert response is not None
    assert response.status_code == 302
    assert response["Location"] == "/sessions/7/"
    assert calls == [{"reason": "patient unwell"}]
    assert _said(request) == [("success", "Session 7 cancelled.")]


def test_a_get_or_an_invalid_form_shows_the_form_without_acting() -> None:
    def act(data: dict[str, Any]) -> None:
        raise AssertionError("must not act")

    get = _request("GET")
    assert act_on_form(get, ReasonForm(None), act, done="Done.", then="/x/") is None
    post = _request("POST", {})
    form = ReasonForm(post.POST)
    assert act_on_form(post, form, act, done="Done.", then="/x/") is None
    assert "reason" in form.errors
    assert _said(post) == []


def test_a_refusal_lands_on_the_form_field_or_its_alias() -> None:
    request = _request("POST", {"reason": "x"})
    form = ReasonForm(request.POST)

    def act(data: dict[str, Any]) -> None:
        raise InputError({"why": ["Say more."], "other": ["Not now."]})

    response = act_on_form(request, form, act, done="Done.", then="/x/", aliases={"why": "reason"})
    assert response is None
    assert form.errors["reason"] == ["Say more."]
    assert form.non_field_errors() == ["Not now."]
    assert _said(request) == []


def test_no_message_when_done_is_none() -> None:
    request = _request("POST", {"reason": "x"})
    response = act_on_form(request, ReasonForm(request.POST), lambda d: None, done=None, then="/y/")
    assert response is not None and response["Location"] == "/y/"
    assert _said(request) == []


def test_every_refusal_becomes_an_error_message() -> None:
    request = _request("POST")
    show_errors_as_messages(request, InputError({"a": ["One."], "b": ["Two.", "Three."]}))
    assert _said(request) == [("error", "One."), ("error", "Two."), ("error", "Three.")]


def test_or_404() -> None:
    assert or_404(0, "No such thing.") == 0  # falsy but found
    with pytest.raises(Http404, match="No such thing"):
        or_404(None, "No such thing.")
