"""Shared personas and fixtures: one staff member per role, two patients with different care teams."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Speed belongs to bench/, not to tests: on a loaded CI machine Hypothesis's per-example deadline and
# its "generation is slow" health check fail correct code, so neither is part of the suite's verdict.
hypothesis_settings.register_profile(
    "kapstone", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("kapstone")

# Playwright's sync API runs an event loop in the test thread; Django must still let it use the ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _fast_passwords(request):
    """Argon2 is the production hasher (tested on its own); tests hash with MD5 for speed."""
    if request.config.pluginmanager.hasplugin("django"):
        request.getfixturevalue("settings").PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True)
def _audit_triggers(request):
    """Keeps the audit table append-only in every database test.

    Transactional tests end with a flush, which on SQLite deletes rows one by one and would be refused
    by the append-only triggers; those tests drop the triggers at teardown, and every test puts them
    back at setup.
    """
    names = request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    transactional = (
        "transactional_db" in names
        or "live_server" in names
        or bool(marker and marker.kwargs.get("transaction"))
    )
    if not request.config.pluginmanager.hasplugin("django") or not (
        transactional or "db" in names or marker
    ):
        yield
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.db import connection

    from kapstone.audit import triggers

    triggers.install_all(connection)
    yield
    if transactional:
        triggers.remove_all(connection)


@dataclass
class Clinic:
    sites: list
    staff: dict  # role value -> StaffUser on patient A's care team (or clinic-wide)
    others: dict  # role value -> a second member, on patient B's care team
    on_team: object  # patient A
    elsewhere: object  # patient B


def make_staff(username, role, sites, **extra):
    from kapstone.accounts.services import create_staff

    return create_staff(
        by=None,
        username=username,
        first_name=username.title(),
        last_name="Tester",
        email=f"{username}@example.invalid",
        role=role,
        password=PASSWORD,
        sites=sites,
        **extra,
    )


def make_patient(*, by, mrn, site, prescriber=None, therapist=None, nurse=None, **details):
    from kapstone.patients.services import register_patient

    base = {
        "mrn": mrn,
        "given_name": "Ada",
        "family_name": "Lovelace",
        "preferred_name": "",
        "date_of_birth": dt.date(1985, 12, 10),
        "sex_at_birth": "female",
        "gender_identity": "",
        "pronouns": "",
        "phone": "",
        "email": "",
        "address": "",
        "emergency_contact_name": "",
        "emergency_contact_relationship": "",
        "emergency_contact_phone": "",
        "referral_source": "self",
        "referrer_name": "",
        "home_site": site,
    }
    base.update(details)
    return register_patient(
        by=by,
        details=base,
        care_team={"prescriber": prescriber, "therapist": therapist, "nurse": nurse},
        weight_kg=Decimal("70.0"),
        height_cm=Decimal("170.0"),
        measured_on=dt.date(2026, 1, 5),
        check_duplicates=False,  # fixtures make several Ada Lovelaces on purpose
    )


@pytest.fixture
def clinic(db) -> Clinic:
    from kapstone.accounts.models import Site
    from kapstone.clinical.access import Modality, Role

    sites = [Site.objects.create(name="Riverside"), Site.objects.create(name="Harbour")]
    staff, others = {}, {}
    for role in Role:
        extra = {"modalities": frozenset({Modality.EMDR})} if role is Role.THERAPIST else {}
        staff[role.value] = make_staff(role.value, role, sites, **extra)
        others[role.value] = make_staff(f"{role.value}2", role, sites, **extra)
    coordinator = staff[Role.INTAKE_COORDINATOR.value]
    on_team = make_patient(
        by=coordinator,
        mrn="MRN-1001",
        site=sites[0],
        prescriber=staff["prescriber"],
        therapist=staff["therapist"],
        nurse=staff["nurse"],
    )
    elsewhere = make_patient(
        by=coordinator,
        mrn="MRN-1002",
        site=sites[1],
        given_name="Grace",
        family_name="Hopper",
        date_of_birth=dt.date(1976, 12, 9),
        prescriber=others["prescriber"],
        therapist=others["therapist"],
        nurse=others["nurse"],
    )
    return Clinic(sites, staff, others, on_team, elsewhere)


def verified_client(client, user):
    """A test client signed in as ``user`` who has passed MFA (a confirmed authenticator)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def as_role(clinic, client):
    """``as_role("nurse")`` gives a client signed in (with MFA) as that role's persona."""

    def login(role: str):
        client.logout()
        return verified_client(client, clinic.staff[role])

    return login
