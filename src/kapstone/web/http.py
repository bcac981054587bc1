"""The request a guarded view receives: the decorators in :mod:`kapstone.web.authz` have already
turned away anonymous users, so ``request.user`` is a :class:`StaffUser` (the healthchecks pattern)."""

from __future__ import annotations

from django.http import HttpRequest

from kapstone.accounts.models import StaffUser


class AuthenticatedHttpRequest(HttpRequest):
    user: StaffUser
