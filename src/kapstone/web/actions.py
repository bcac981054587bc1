"""The one shape of a clinic action behind a form: on a valid POST call the service; if it refuses,
show why on the form; if it acts, say so and redirect (post/redirect/get, so a reload never repeats
the action). Every app's views share it, so a change to that rule is made once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from kapstone.errors import InputError
from kapstone.web.forms import Aliases, show_service_errors

# What the user is told, and where they land, once the service acted: fixed, or from its result.
type Said[T] = str | Callable[[T], str]


def act_on_form[T](
    request: HttpRequest,
    form: Form,
    act: Callable[[dict[str, Any]], T],
    *,
    done: Said[T] | None,
    then: Said[T],
    aliases: Aliases | None = None,
) -> HttpResponse | None:
    """Runs ``act`` with the form's cleaned data when the request is a POST and the form is valid.
    Returns the redirect to ``then`` (a URL, or a view name that takes no arguments) after the
    success message ``done`` (None: the page redirected to says it); None when the form
    is to be shown (again): a GET, an invalid form, or the service's InputError now on the form."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = act(form.cleaned_data)
    except InputError as exc:
        show_service_errors(exc, form, aliases=aliases)
        return None
    if done is not None:
        messages.success(request, done(result) if callable(done) else done)
    return redirect(then(result) if callable(then) else then)


def show_errors_as_messages(request: HttpRequest, exc: InputError) -> None:
    """For an action posted without a form of its own (a button on a list): the service's reasons
    become error messages on the page the user is sent back to, none dropped."""
    for errors in exc.errors.values():
        for error in errors:
            messages.error(request, error)
