"""Sites and their rooms, staff accounts and their second factor: each write in one transaction
with its audit row."""

from __future__ import annotations

import base64
from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp import match_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapstone.accounts.models import ModalityCredential, Room, Site, StaffUser
from kapstone.audit.trail import record
from kapstone.clinical.access import Modality, Role
from kapstone.clinical.routes import Route
from kapstone.errors import InputError
from kapstone.names import name_errors

BACKUP_CODE_COUNT = 10
NAME_FIELDS = ("first_name", "last_name")


def _password_problems(field: str, password: str, user: StaffUser) -> dict[str, list[str]]:
    """Django's password validators' objections to ``password`` for ``user``, under ``field``."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return {field: list(exc.messages)}
    return {}


def create_staff(
    *,
    by: StaffUser | None,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: Role,
    password: str,
    credentials: str = "",
    sites: list[Site] | None = None,
    modalities: frozenset[Modality] = frozenset(),
    must_change_password: bool = False,
) -> StaffUser:
    errors: dict[str, list[str]] = {}
    if StaffUser.objects.filter(username__iexact=username).exists():
        errors["username"] = [f"The username {username} is taken."]
    errors |= name_errors({"first_name": first_name, "last_name": last_name}, NAME_FIELDS)
    if modalities and role is not Role.THERAPIST:
        errors["modalities"] = ["Only therapists hold integration-modality credentials."]
    candidate = StaffUser(
        username=username, first_name=first_name, last_name=last_name, email=email
    )
    errors |= _password_problems("password", password, candidate)
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        user = StaffUser.objects.create_user(
            username=username,
            password=password,
            first_name=first_name,
            last_name=last_name,
            email=email,
            role=role.value,
            credentials=credentials,
            must_change_password=must_change_password,
        )
        if sites:
            user.sites.set(sites)
        for modality in sorted(modalities):
            ModalityCredential.objects.create(therapist=user, modality=modality.value)
        record(
            actor=by,
            action="staff.created",
            obj=user,
            summary=f"Created {role.label} account {username}",
            after={
                "username": username,
                "role": role.value,
                "sites": [s.pk for s in sites or []],
                "modalities": sorted(m.value for m in modalities),
            },
        )
    return user


def change_password(*, user: StaffUser, old_password: str, new_password: str) -> None:
    """The user's own change: the current password, then a new one the validators accept."""
    errors: dict[str, list[str]] = {}
    if not user.check_password(old_password):
        errors["old_password"] = ["That is not your current password."]
    elif new_password == old_password:
        errors["new_password"] = ["Choose a password different from the current one."]
    else:
        errors |= _password_problems("new_password", new_password, user)
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        was_required = user.must_change_password
        user.set_password(new_password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        record(
            actor=user,
            action="auth.password_changed",
            obj=user,
            summary="One-time password replaced" if was_required else "Password changed",
        )


def add_site(
    *, by: StaffUser | None, name: str, address: str = "", phone: str = "", time_zone: str
) -> Site:
    name = name.strip()
    if Site.objects.filter(name__iexact=name).exists():
        raise InputError.single("name", f"There is already a site called {name}.")
    with transaction.atomic():
        site = Site.objects.create(name=name, address=address, phone=phone, time_zone=time_zone)
        record(
            actor=by,
            action="site.added",
            obj=site,
            summary=f"Added site {name}",
            after={"name": name, "address": address, "phone": phone, "time_zone": time_zone},
        )
    return site


def set_active(*, by: StaffUser, user: StaffUser, active: bool) -> None:
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        record(
            actor=by,
            action="staff.activated" if active else "staff.deactivated",
            obj=user,
            before={"is_active": not active},
            after={"is_active": active},
        )


def pending_totp_device(user: StaffUser) -> TOTPDevice:
    """The unconfirmed authenticator being set up, created on first visit to the set-up page."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def totp_secret(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def confirm_totp(*, user: StaffUser, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirms the authenticator if the code matches; returns fresh backup codes, or None."""
    if device.user_id != user.pk or device.confirmed:
        raise InputError.single("token", "This authenticator is not waiting for confirmation.")
    if not device.verify_token(token.strip().replace(" ", "")):
        return None
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        codes = _replace_backup_codes(user)
        record(actor=user, action="mfa.enrolled", obj=user, summary="Authenticator app confirmed")
    return codes


def regenerate_backup_codes(*, user: StaffUser) -> list[str]:
    with transaction.atomic():
        codes = _replace_backup_codes(user)
        record(actor=user, action="mfa.backup_codes_replaced", obj=user)
    return codes


def _replace_backup_codes(user: StaffUser) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Backup codes")
    device.confirmed = True
    device.save()
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    for code in codes:
        device.token_set.create(token=code)
    return codes


def has_confirmed_totp(user: StaffUser) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def check_second_factor(*, user: StaffUser, token: str) -> Device | None:
    """The user's authenticator or backup code that accepts the token (a backup code is used up),
    or None; either way the attempt is in the audit trail."""
    with transaction.atomic():
        device: Device | None = match_token(user, token.strip().replace(" ", ""))
        if device is None:
            record(actor=user, action="auth.mfa_failed", obj=user)
        else:
            record(actor=user, action="auth.mfa_verified", obj=user, summary=type(device).__name__)
    return device


def add_room(
    *, by: StaffUser, site: Site, name: str, routes: Iterable[str], turnover_minutes: int
) -> Room:
    """A room or chair at a site, equipped for some routes, with its turnover between sessions."""
    routes = sorted(set(routes))
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Name the room or chair."]
    elif Room.objects.filter(site=site, name=name.strip()).exists():
        errors["name"] = [f"{site} already has a room called {name.strip()}."]
    known = {r.value for r in Route}
    if not routes or any(r not in known for r in routes):
        errors["routes"] = ["Choose the routes this room is equipped for."]
    if not 0 <= turnover_minutes <= 120:
        errors["turnover_minutes"] = ["Turnover is 0 to 120 minutes."]
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        # The action keeps its timetable name: a room's history reads on under the same code.
        room = Room.objects.create(
            site=site, name=name.strip(), routes=routes, turnover_minutes=turnover_minutes
        )
        record(
            actor=by,
            action="timetable.room_added",
            obj=room,
            summary=f"Room {room.name} at {site} for " + ", ".join(Route(r).label for r in routes),
            after={"routes": routes, "turnover_minutes": turnover_minutes},
        )
    return room


def set_room_active(*, by: StaffUser, room: Room, active: bool) -> Room:
    """Takes a room out of use (or back): the scheduler and booking by hand skip it meanwhile."""
    with transaction.atomic():
        before = room.is_active
        room.is_active = active
        room.save(update_fields=["is_active"])
        record(
            actor=by,
            action="timetable.room_changed",
            obj=room,
            summary=f"Room {room.name} at {room.site} {'in use' if active else 'out of use'}",
            before={"is_active": before},
            after={"is_active": active},
        )
    return room
