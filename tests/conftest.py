"""Shared personas and fixtures: one staff member per role, two patients with different care teams."""

from __future__ import annotations

import datetime as dt
import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
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

# A test that uses no database behaves the same whichever database the leg runs on: the pure core's
# tests, the page walkers' URL checks, the release and settings tests that start `kapstone` on a SQLite
# file of their own. The PostgreSQL leg of `make test` passes --database-tests-only and runs only the
# tests that use the test database (the `db` family of fixtures, the django_db marker) or that reach the
# leg's database server by themselves (marked `each_database`: backups, the upgrade, the production
# smoke test); the others run once, in the SQLite leg. So do the browser journeys (`functional`): what
# they add is the page as a user works it, the same on either engine; what differs between engines
# (locks, triggers, concurrent writers) the PostgreSQL leg's own tests cover. The SQLite leg records
# their outcomes for the safety case.


# The garbage collector took about 7 % of a worker's CPU, mostly walking the same long-lived objects
# (Django's models and apps, every imported test module) again and again. Once the tests are
# collected those are frozen out of its generations, and it runs a fifth as often; measured with
# gc.callbacks on a mixed set of modules, its time fell by about a third (docs/getting-started.md).
# Collecting less often only keeps cyclic garbage a little longer; nothing in the suite waits on it.
gc.set_threshold(10_000, 10, 10)


def pytest_collection_finish(session):
    gc.collect()
    gc.freeze()


def pytest_addoption(parser):
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="deselect the tests that use no database (they already ran in the SQLite leg)",
    )


def pytest_report_header(config):
    if config.getoption("database_tests_only"):
        return "database tests only: the tests that use no database ran in the SQLite leg"
    return None


def pytest_collection_modifyitems(config, items):
    if not config.getoption("database_tests_only"):
        return
    elsewhere = [
        item
        for item in items
        if item.get_closest_marker("each_database") is None
        and (not _uses_database(item) or item.get_closest_marker("functional") is not None)
    ]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        kept = set(map(id, elsewhere))
        items[:] = [item for item in items if id(item) not in kept]


def daytime_zone(now: dt.datetime | None = None) -> str:
    """A time zone where it is now between 06:00 and 20:00: a build whose sessions must lie in
    today's clinic hours (started a while ago, not yet ended) holds at any hour of the run when it
    runs under this zone (``override_settings(TIME_ZONE=...)``). One of the three always is."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    now = now or timezone.now()
    for name in ("America/New_York", "Europe/London", "Asia/Tokyo"):
        if 6 <= now.astimezone(ZoneInfo(name)).hour < 20:
            return name
    raise AssertionError(f"no daytime zone at {now:%H:%M} UTC")


@contextmanager
def kept_for_the_module(django_db_blocker) -> Iterator[None]:
    """For a module-scoped fixture that builds something slow (a demo clinic) once for all its tests:
    what it writes stays inside a transaction that is rolled back when the module ends, and each test's
    own transaction (the `db` fixture) is a savepoint within it, so no test sees another's changes and
    no other module sees any of it. Not for transactional tests: they commit."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session", autouse=True)
def _fast_passwords(request) -> Iterator[None]:
    """Argon2 is the production hasher (tested on its own); tests hash with MD5 for speed.

    For the whole session, not per test: the clinics that module-scoped fixtures build (before any
    function-scoped fixture runs) hashed every staff password with Argon2, ~0.25 CPU-s each."""
    if not request.config.pluginmanager.hasplugin("django"):
        yield
        return
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        yield


# The append-only guards (kapstone.audit.triggers) are part of the schema: the migrations install them
# and they stay for the whole session. Database tests run inside a transaction that is rolled back, so
# they cannot lose them. Only a transactional test (live server, transaction=True) commits: it ends with
# a flush, which on SQLite deletes rows one by one and on PostgreSQL truncates, and the guards refuse
# both. Such a test lifts the guards just before its flush and they are put back right after it (see
# pytest_runtest_teardown), once, instead of every database test re-creating ~50 tables' triggers.
_GUARDS_LIFTED = pytest.StashKey[bool]()


def _is_transactional(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    marker = item.get_closest_marker("django_db")
    return (
        "transactional_db" in names
        or "live_server" in names
        or bool(marker and marker.kwargs.get("transaction"))
    )


def _uses_database(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    return (
        _is_transactional(item) or "db" in names or item.get_closest_marker("django_db") is not None
    )


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings, django_db_blocker):
    """Each worker's test database is a copy of the migrations' result, built once (tests/migrated.py),
    not a migration of its own from an empty database."""
    from django.db import connection

    from tests.migrated import prepare_test_database

    with django_db_blocker.unblock():
        prepare_test_database(connection)


# The rows the data migrations seed (program templates, the first consent text, ...), as the
# migrated test database holds them: a transactional test's flush empties every table, and they
# are put back right after it (pytest_runtest_teardown), so a test that runs later on the same
# worker finds them whatever the order the tests were handed out in.
_SEEDED: dict[str, str] = {}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database as migrated, with every guard in place (the migrations install them)."""
    from django.db import connection
    from django.test import override_settings

    from kapstone.audit import triggers

    with django_db_blocker.unblock():
        triggers.install_all(connection)
        # Content types and permissions are not kept: the flush's post_migrate makes them again.
        with override_settings(
            TEST_NON_SERIALIZED_APPS=["django.contrib.contenttypes", "django.contrib.auth"]
        ):
            _SEEDED[connection.alias] = connection.creation.serialize_db_to_string()


@pytest.fixture(autouse=True)
def _audit_triggers(request):
    """Lifts the append-only guards at the end of a transactional test, before its flush."""
    if not request.config.pluginmanager.hasplugin("django") or not _is_transactional(request.node):
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    from django.db import connection

    from kapstone.audit import triggers

    triggers.remove_all(connection)
    request.node.stash[_GUARDS_LIFTED] = True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Puts the seeded rows and the guards back once a transactional test's flush has run (its
    fixtures are gone)."""
    result = yield
    # With no next test the session's fixtures are gone too, the test database with them.
    if nextitem is not None and item.stash.get(_GUARDS_LIFTED, False):
        from django.db import connection
        from pytest_django.plugin import blocking_manager_key

        from kapstone.audit import triggers

        with item.config.stash[blocking_manager_key].unblock():
            if connection.alias in _SEEDED:
                connection.creation.deserialize_db_from_string(_SEEDED[connection.alias])
            triggers.install_all(connection)
    return result


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
    """The clinic of build_clinic: built for real on a worker's first test, then its rows put back
    for each later test (tests/snapshots.py), a few statements instead of some 220."""
    from tests.snapshots import built_once

    return built_once("clinic", build_clinic, to_refs=_clinic_refs, from_refs=_clinic_from_refs)


def _clinic_refs(clinic: Clinic) -> tuple:
    return (
        [site.pk for site in clinic.sites],
        {role: user.pk for role, user in clinic.staff.items()},
        {role: user.pk for role, user in clinic.others.items()},
        clinic.on_team.pk,
        clinic.elsewhere.pk,
    )


def _clinic_from_refs(refs: tuple) -> Clinic:
    from kapstone.accounts.models import Site, StaffUser
    from kapstone.patients.models import Patient

    site_pks, staff_pks, other_pks, on_team_pk, elsewhere_pk = refs
    sites = Site.objects.in_bulk(site_pks)
    users = StaffUser.objects.in_bulk([*staff_pks.values(), *other_pks.values()])
    patients = Patient.objects.in_bulk([on_team_pk, elsewhere_pk])
    return Clinic(
        [sites[pk] for pk in site_pks],
        {role: users[pk] for role, pk in staff_pks.items()},
        {role: users[pk] for role, pk in other_pks.items()},
        patients[on_team_pk],
        patients[elsewhere_pk],
    )


def build_clinic() -> Clinic:
    """Two sites, a persona per role (and a second one), a patient on the first persona's care team
    and one elsewhere: the ``clinic`` fixture, callable from a module-scoped fixture too."""
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


def refreshed(clinic: Clinic, *more) -> Clinic:  # type: ignore[no-untyped-def]
    """``clinic`` (and ``more`` rows) read again from the database, in place: for a clinic a
    module's tests share (built once in a ``kept_for_the_module`` fixture), so that a test which
    changed an instance's attributes, its writes rolled back, leaves nothing to the next."""
    rows = [*clinic.sites, *clinic.staff.values(), *clinic.others.values()]
    for row in [*rows, clinic.on_team, clinic.elsewhere, *more]:
        row.refresh_from_db()
    return clinic


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
