"""The test suite's captured builds (tests/snapshots.py): a restored build is the captured one, row for
row, and a capture is replayed only where it fits."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection, transaction

from kapstone.accounts.models import Site
from kapstone.audit.trail import verify_chain
from tests import snapshots
from tests.conftest import _clinic_from_refs, _clinic_refs, build_clinic


@pytest.fixture
def key(request):
    """A key of this test's own, so that no other test's capture is used."""
    return ("test_snapshots", request.node.nodeid)


def _state() -> dict:
    """Every table's columns and rows, the rows in no particular order: a table read without ORDER
    BY comes in the order its rows lie on disk, and on PostgreSQL where a new row lies depends on
    the space that rolled-back rows (earlier tests', a refused first attempt's) left free. A replay
    of the same rows may lie in another order; a CI run failed on that alone (2026-12-07)."""
    with connection.cursor() as cursor:
        return {
            table: (columns, Counter(rows))
            for table, (columns, rows) in snapshots._read_all(cursor, connection.vendor).items()
        }


def _counting(build):
    calls = []

    def counted():
        calls.append(1)
        return build()

    return counted, calls


@pytest.mark.django_db
def test_a_restored_clinic_is_the_built_one_row_for_row(key):
    build, calls = _counting(build_clinic)
    point = transaction.savepoint_create()
    built = snapshots.built_once(key, build, to_refs=_clinic_refs, from_refs=_clinic_from_refs)
    as_built = _state()
    transaction.savepoint_rollback(point)

    restored = snapshots.built_once(key, build, to_refs=_clinic_refs, from_refs=_clinic_from_refs)
    assert calls == [1], "the second call inserted the captured rows; it did not build"
    assert _state() == as_built
    assert _clinic_refs(restored) == _clinic_refs(built)
    assert restored.staff["nurse"].username == "nurse"
    assert restored.on_team.prescriber == restored.staff["prescriber"]
    checked, broken = verify_chain()
    assert broken is None and checked > 0
    # The next row after a restored capture takes a key of its own, on either database.
    assert Site.objects.create(name="After").pk > max(site.pk for site in restored.sites)


@pytest.mark.django_db
def test_a_database_not_as_it_was_at_the_capture_builds_for_real(key):
    build, calls = _counting(build_clinic)
    point = transaction.savepoint_create()
    snapshots.built_once(key, build, to_refs=_clinic_refs, from_refs=_clinic_from_refs)
    transaction.savepoint_rollback(point)

    Site.objects.create(name="Written first")  # a table the capture adds to holds one row more
    clinic = snapshots.built_once(key, build, to_refs=_clinic_refs, from_refs=_clinic_from_refs)
    assert calls == [1, 1]
    assert {site.name for site in clinic.sites} == {"Riverside", "Harbour"}


@pytest.mark.django_db
def test_a_build_that_changes_a_row_is_built_every_time(key):
    seeded = Site.objects.create(name="Seeded")

    def renames() -> int:
        Site.objects.filter(pk=seeded.pk).update(name="Renamed")
        return seeded.pk

    build, calls = _counting(renames)
    for _ in range(2):
        point = transaction.savepoint_create()
        snapshots.built_once(key, build, to_refs=lambda pk: pk, from_refs=lambda pk: pk)
        transaction.savepoint_rollback(point)
    assert calls == [1, 1]
    assert snapshots._CAPTURES[(connection.settings_dict["NAME"], key)] is None


# A guard like the chair-side record's: no site may be linked to a staff member once they are
# inactive. The build links first and deactivates after, so its final rows, inserted in any order,
# meet the guard: the restore puts them in with the guards lifted, and the guard is back after.
_GUARD = {
    "sqlite": [
        "CREATE TRIGGER test_no_link_when_inactive BEFORE INSERT ON accounts_staffuser_sites "
        "WHEN (SELECT is_active FROM accounts_staffuser WHERE id = NEW.staffuser_id) = 0 "
        "BEGIN SELECT RAISE(ABORT, 'the staff member is inactive'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION test_no_link_when_inactive() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF (SELECT NOT is_active FROM accounts_staffuser WHERE id = NEW.staffuser_id) "
        "THEN RAISE EXCEPTION 'the staff member is inactive'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER test_no_link_when_inactive BEFORE INSERT ON accounts_staffuser_sites "
        "FOR EACH ROW EXECUTE FUNCTION test_no_link_when_inactive()",
    ],
}


@pytest.mark.django_db
def test_rows_a_guard_refuses_in_their_final_state_go_in_with_the_guards_lifted(key):
    from django.db import DatabaseError

    from kapstone.accounts.services import set_active
    from kapstone.clinical.access import Role
    from tests.conftest import make_staff

    with connection.cursor() as cursor:
        for sql in _GUARD[connection.vendor]:
            cursor.execute(sql)

    def build() -> int:
        site = Site.objects.create(name="Linked")
        former = make_staff("former", Role.NURSE, [site])
        set_active(by=former, user=former, active=False)
        return former.pk

    build, calls = _counting(build)
    point = transaction.savepoint_create()
    snapshots.built_once(key, build, to_refs=lambda pk: pk, from_refs=lambda pk: pk)
    as_built = _state()
    transaction.savepoint_rollback(point)

    pk = snapshots.built_once(key, build, to_refs=lambda pk: pk, from_refs=lambda pk: pk)
    assert calls == [1]
    assert _state() == as_built
    # The guard is in place again.
    with pytest.raises(DatabaseError, match="inactive"), transaction.atomic():
        Site.objects.create(name="Another").staff.add(pk)
