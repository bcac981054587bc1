"""Two nurses draw the whole of the last vial at the same moment: one succeeds, the other is told
there is nothing left, and the balance ends at 0, never below. Real transactions on separate
connections, on SQLite and (through scripts/test-postgres) on PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from django.db import connection, connections

from kapstone.accounts.models import Site
from kapstone.clinical.access import Role
from kapstone.errors import InputError
from kapstone.ledger import services
from kapstone.ledger.models import DrawAccount, LedgerEntry, StockBalance
from kapstone.ledger.verify import verify_caches, verify_chain
from tests.conftest import make_patient, make_staff
from tests.shell.ledger_support import receive_vials, session_for


@pytest.fixture
def separate_connections(transactional_db, tmp_path):
    """Each thread opens its own connection to a database that makes writers queue.

    The suite's in-memory SQLite shares one cache between connections, where a second writer gets
    "table is locked" at once instead of waiting; the clinic runs SQLite from a file (WAL,
    IMMEDIATE transactions, a busy timeout), so for this test the migrated database is copied to
    a file and every connection, in every thread, uses that.
    """
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    settings_dict = connection.settings_dict
    memory_name = settings_dict["NAME"]
    keep_alive = sqlite3.connect(memory_name, uri=True)  # the in-memory database outlives the swap
    copy = sqlite3.connect(tmp_path / "ledger.sqlite3")
    keep_alive.backup(copy)
    copy.close()
    settings_dict["NAME"] = str(tmp_path / "ledger.sqlite3")
    connection.close()
    try:
        yield
    finally:
        connection.close()
        settings_dict["NAME"] = memory_name
        connection.ensure_connection()  # back on the in-memory database before letting go of it
        keep_alive.close()
        assert "ledger_ledgerentry" in connection.introspection.table_names()


def test_two_nurses_drawing_the_last_vial_at_once(separate_connections):
    site = Site.objects.create(name="Riverside")
    ann = make_staff("nurse-ann", Role.NURSE, [site])
    bob = make_staff("nurse-bob", Role.NURSE, [site])
    prescriber = make_staff("dr-dee", Role.PRESCRIBER, [site])
    first = make_patient(by=prescriber, mrn="MRN-1", site=site, nurse=ann)
    second = make_patient(by=prescriber, mrn="MRN-2", site=site, nurse=bob, given_name="Grace")
    stocked = receive_vials(by=ann, witness=prescriber, site=site, vials=1)
    vial = stocked.product.per_container
    sessions = {"ann": session_for(first), "bob": session_for(second)}
    nurses = {"ann": ann, "bob": bob}

    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def draw_the_vial(name: str) -> None:
        try:
            barrier.wait(timeout=10)
            entry = services.draw_for_session(
                by=nurses[name],
                session=sessions[name],
                location=stocked.location,
                lot=stocked.lot,
                quantity=vial,
            )
            outcome[name] = entry.seq
        except BaseException as exc:  # the test inspects whatever happened
            outcome[name] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=draw_the_vial, args=(n,)) for n in nurses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    succeeded = [n for n, r in outcome.items() if isinstance(r, int)]
    refused = {n: r for n, r in outcome.items() if isinstance(r, InputError)}
    assert len(succeeded) == 1, outcome
    assert len(refused) == 1, outcome
    (error,) = refused.values()
    assert error.errors == {
        "quantity": [
            "Riverside · Main safe holds only 0 mg of lot K123 "
            "(Ketamine HCl 50 mg/mL, 10 mL vial); the book cannot go below zero."
        ]
    }
    assert StockBalance.objects.get(location=stocked.location, lot=stocked.lot).balance == 0
    draws = LedgerEntry.objects.filter(kind="draw")
    assert [d.actor for d in draws] == [nurses[succeeded[0]]]
    assert DrawAccount.objects.get().drawn == vial
    assert verify_chain() == (2, None)
    assert verify_caches() is None
