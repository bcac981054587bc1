"""The request a guarded view receives: the decorators in :mod:`kapstone.web.authz` have already
turned away anonymous users, so ``request.user`` is a :class:`StaffUser` (the healthchecks pattern)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from kapstone.accounts.models import StaffUser

if TYPE_CHECKING:

    class SignedInStaffUser(StaffUser):
        """The signed-in user as a request carries it: django_otp's ``OTPMiddleware`` gives the
        user of every request ``is_verified()``, whether this session passed a second factor.
        Only a type: at run time the user is the plain :class:`StaffUser` the session loaded."""

        def is_verified(self) -> bool: ...

else:
    SignedInStaffUser = StaffUser


class AuthenticatedHttpRequest(HttpRequest):
    user: SignedInStaffUser
    # Set by django_htmx's HtmxMiddleware on every request.
    htmx: HtmxDetails
