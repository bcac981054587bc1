"""The first accounts of a new clinic: a medical director and an administrator.

Each gets a one-time random password (shown once, stored only hashed) that must be changed at first
sign-in, and then sets up an authenticator (forced outside demo mode like every staff account).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from kapstone.accounts.models import Site, StaffUser
from kapstone.accounts.services import add_site, create_staff
from kapstone.clinical.access import Role
from kapstone.errors import InputError


@dataclass(frozen=True)
class NewAccount:
    username: str
    email: str
    role: Role


@dataclass(frozen=True)
class Created:
    user: StaffUser
    one_time_password: str


def one_time_password() -> str:
    # 24 URL-safe characters (144 bits): passes the validators, typed once by hand.
    return secrets.token_urlsafe(18)


def bootstrap(
    *, accounts: list[NewAccount], site_name: str = "", adding: bool = False
) -> list[Created]:
    """Creates the accounts (and the first site) in one transaction, or nothing."""
    errors: dict[str, list[str]] = {}
    if not accounts:
        errors[""] = ["Name at least one account to create."]
    if StaffUser.objects.exists() and not adding:
        errors[""] = [
            "Staff accounts exist already: bootstrap creates a clinic's first accounts. To add "
            "accounts to this clinic anyway, name them and pass --add."
        ]
    if not adding and {a.role for a in accounts} != {Role.MEDICAL_DIRECTOR, Role.ADMINISTRATOR}:
        errors.setdefault("", []).append(
            "A new clinic needs both a medical director and an administrator."
        )
    for account in accounts:
        try:
            validate_email(account.email)
        except ValidationError:
            errors.setdefault(account.role.value, []).append(
                f"{account.email!r} is not an e-mail address."
            )
    if len({a.username.lower() for a in accounts}) < len(accounts):
        errors.setdefault("", []).append("The usernames must differ.")
    if site_name and Site.objects.filter(name__iexact=site_name.strip()).exists():
        errors["site"] = [f"There is already a site called {site_name.strip()}."]
    if errors:
        raise InputError(errors)
    created: list[Created] = []
    with transaction.atomic():
        site = (
            add_site(by=None, name=site_name, time_zone=settings.TIME_ZONE) if site_name else None
        )
        for account in accounts:
            password = one_time_password()
            user = create_staff(
                by=None,
                username=account.username,
                first_name="",
                last_name="",
                email=account.email,
                role=account.role,
                password=password,
                sites=[site] if site else None,
                must_change_password=True,
            )
            created.append(Created(user=user, one_time_password=password))
    return created
