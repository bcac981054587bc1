"""The ledger's services: every movement, its refusals, and the invariants the database keeps."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from kapstone.audit import triggers
from kapstone.audit.models import AuditEntry
from kapstone.clinical.ledger import AlertKind
from kapstone.clinical.ledger_entries import DestructionReason, micrograms
from kapstone.dosing.services import cancel_dosing_session
from kapstone.errors import InputError
from kapstone.ledger import selectors, services
from kapstone.ledger.models import (
    Discrepancy,
    DrawAccount,
    LedgerEntry,
    Lot,
    ReceiptDetail,
    StockBalance,
)
from kapstone.ledger.verify import verify_caches, verify_chain
from tests.shell.ledger_support import receive_vials, safe, session_for, spravato

VIAL = micrograms(500)


@pytest.fixture
def nurse(clinic):
    return clinic.staff["nurse"]


@pytest.fixture
def witness(clinic):
    return clinic.staff["prescriber"]


@pytest.fixture
def stocked(clinic, nurse, witness):
    """Two 500 mg vials in Riverside's main safe."""
    return receive_vials(by=nurse, witness=witness, site=clinic.sites[0])


@pytest.fixture
def session(clinic):
    return session_for(clinic.on_team)


def balance(stocked) -> int:
    return StockBalance.objects.get(location=stocked.location, lot=stocked.lot).balance


def nothing_written(before: int) -> None:
    assert LedgerEntry.objects.count() == before


def draw(nurse, session, stocked, mg: int = 35):
    return services.draw_for_session(
        by=nurse,
        session=session,
        location=stocked.location,
        lot=stocked.lot,
        quantity=micrograms(mg),
    )


def test_a_receipt_is_witnessed_sourced_chained_and_audited(stocked, nurse, witness):
    entry = stocked.receipt
    assert (entry.seq, entry.kind, entry.quantity) == (1, "receipt", 2 * VIAL)
    assert (entry.actor, entry.witness) == (nurse, witness)
    detail = ReceiptDetail.objects.get(entry=entry)
    assert (detail.supplier, detail.reference) == ("McKesson", "CSOS-4411")
    assert balance(stocked) == 2 * VIAL
    audit = AuditEntry.objects.get(action="ledger.receipt")
    assert audit.object_id == str(entry.seq)
    assert "witnessed by prescriber" in audit.summary
    assert audit.after["hash"] == entry.hash
    assert verify_chain() == (1, None)


def test_receipt_refusals_name_the_field_and_write_nothing(clinic, stocked, nurse, witness):
    before = LedgerEntry.objects.count()

    def receive(**changes):
        details = {
            "by": nurse,
            "witness": witness,
            "location": stocked.location,
            "product": stocked.product,
            "lot_number": "K999",
            "expires_on": dt.date(2030, 1, 1),
            "quantity": VIAL,
            "supplier": "McKesson",
            "reference": "INV-1",
        } | changes
        with pytest.raises(InputError) as refused:
            services.receive_stock(**details)
        return refused.value.errors

    assert receive(witness=nurse)["witness"] == [
        "The witness must be a second staff member, not you."
    ]
    assert "clinical role" in receive(witness=clinic.staff["administrator"])["witness"][0]
    assert receive(quantity=0)["quantity"] == ["Give an amount more than 0."]
    assert receive(supplier=" ", reference="")["reference"] == [
        "Enter the invoice or DEA order form (222 / CSOS) number."
    ]
    assert (
        "already on the books as Ketamine HCl 50 mg/mL, 10 mL vial, expiring 30 Jun 2030"
        in (receive(lot_number="K123", expires_on=dt.date(2031, 1, 1))["lot_number"][0])
    )
    assert receive(expires_on=dt.date(2020, 3, 31))["expires_on"] == [
        "This lot expired on 31 Mar 2020; do not receive it: return it to the supplier."
    ]
    nothing_written(before)
    assert Lot.objects.count() == 1


def test_a_dose_with_witnessed_waste_closes_the_draw(stocked, nurse, witness, session, clinic):
    drawn = draw(nurse, session, stocked)
    assert (drawn.patient, drawn.dosing_session) == (clinic.on_team, session)
    assert balance(stocked) == 2 * VIAL - micrograms(35)
    assert not DrawAccount.objects.get(draw=drawn).closed
    given, wasted = services.record_dose(
        by=nurse, draw=drawn, given=micrograms(30), wasted=micrograms(5), witness=witness
    )
    assert (given.kind, given.quantity, given.witness) == ("administered", micrograms(30), None)
    assert (wasted.kind, wasted.witness, wasted.draw) == ("waste", witness, drawn)
    assert wasted.patient == clinic.on_team
    account = DrawAccount.objects.get(draw=drawn)
    assert (account.given, account.wasted, account.returned, account.closed) == (
        30_000,
        5_000,
        0,
        True,
    )
    assert balance(stocked) == 2 * VIAL - micrograms(35)  # waste of a draw leaves the safe as is
    assert AuditEntry.objects.filter(action="ledger.waste", patient=clinic.on_team).exists()
    assert verify_chain()[1] is None and verify_caches() is None


def test_waste_must_be_witnessed_and_a_draw_never_over_accounted(stocked, nurse, witness, session):
    drawn = draw(nurse, session, stocked)
    before = LedgerEntry.objects.count()
    with pytest.raises(InputError) as refused:
        services.record_dose(by=nurse, draw=drawn, given=micrograms(30), wasted=micrograms(5))
    assert refused.value.errors == {"witness": ["A second staff member must witness this."]}
    with pytest.raises(InputError) as refused:
        services.record_dose(
            by=nurse, draw=drawn, given=micrograms(30), wasted=micrograms(6), witness=witness
        )
    # The administered entry was accepted first; the waste's refusal rolls both back.
    assert refused.value.errors == {
        "wasted": ["6 mg is more than the 5 mg of this draw still to account for (35 mg drawn)."]
    }
    with pytest.raises(InputError, match="Record what was given, wasted or returned"):
        services.record_dose(by=nurse, draw=drawn)
    with pytest.raises(InputError) as refused:
        services.record_dose(
            by=nurse, draw=drawn, given=micrograms(30), returned=micrograms(5), witness=witness
        )
    assert refused.value.errors == {
        "returned": ["Drawn solution cannot go back to the safe; record it as wasted."]
    }
    nothing_written(before)
    assert DrawAccount.objects.get(draw=drawn).given == 0


def test_draw_refusals(clinic, stocked, nurse, session):
    before = LedgerEntry.objects.count()
    with pytest.raises(InputError) as refused:
        draw(nurse, session, stocked, mg=1001)
    assert refused.value.errors == {
        "quantity": [
            "Riverside · Main safe holds only 1000 mg of lot K123 "
            "(Ketamine HCl 50 mg/mL, 10 mL vial); the book cannot go below zero."
        ]
    }
    elsewhere = session_for(
        clinic.on_team, site=clinic.sites[1], now=timezone.now() + dt.timedelta(hours=3)
    )
    with pytest.raises(InputError) as refused:
        draw(nurse, elsewhere, stocked)
    assert refused.value.errors == {
        "location": ["Draw from a safe at Harbour, where the session is."]
    }
    cancel_dosing_session(by=nurse, session=session, reason="patient unwell")
    session.refresh_from_db()
    with pytest.raises(InputError, match="cancelled"):
        draw(nurse, session, stocked)
    old = receive_vials(
        by=nurse,
        witness=clinic.staff["medical_director"],
        site=clinic.sites[0],
        lot_number="OLD1",
        expires_on=timezone.localdate() - dt.timedelta(days=1),
        now=timezone.now() - dt.timedelta(days=60),  # received in date; it has expired since
    )
    before = LedgerEntry.objects.count()
    with pytest.raises(InputError) as refused:
        draw(nurse, session_for(clinic.on_team, now=timezone.now() + dt.timedelta(hours=4)), old)
    assert "Lot OLD1 expired on" in refused.value.errors["lot"][0]
    nothing_written(before)


def test_sealed_devices_return_to_stock_and_esketamine_deadlines_show(clinic, nurse, witness):
    device = spravato(nurse)
    location = safe(nurse, clinic.sites[0])
    received_at = timezone.now() - dt.timedelta(days=12)
    receipt = services.receive_stock(
        by=nurse,
        witness=witness,
        location=location,
        product=device,
        lot_number="E77",
        expires_on=dt.date(2030, 1, 31),
        quantity=3,
        supplier="Specialty Rx",
        reference="ORDER-77",
        patient=clinic.on_team,
        now=received_at,
    )
    (alert,) = selectors.alerts(timezone.now())
    assert alert.alert.kind is AlertKind.ADMINISTRATION_DEADLINE_NEAR
    assert (alert.patient, alert.alert.quantity, alert.alert.days_left) == (clinic.on_team, 3, 2)
    drawn = services.draw_for_session(
        by=nurse,
        session=session_for(clinic.on_team),
        location=location,
        lot=receipt.lot,
        quantity=3,
    )
    before = LedgerEntry.objects.count()
    with pytest.raises(InputError) as refused:  # a return is witnessed, by a clinician
        services.record_dose(
            by=nurse, draw=drawn, given=2, returned=1, witness=clinic.staff["administrator"]
        )
    assert list(refused.value.errors) == ["witness"]
    assert "a clinical role is needed" in refused.value.errors["witness"][0]
    with pytest.raises(InputError, match="A second staff member must witness"):
        services.record_dose(by=nurse, draw=drawn, given=2, returned=1)
    nothing_written(before)
    services.record_dose(
        by=nurse, draw=drawn, given=2, returned=1, witness=clinic.staff["prescriber"]
    )
    assert DrawAccount.objects.get(draw=drawn).closed
    assert StockBalance.objects.get(lot=receipt.lot).balance == 1
    assert verify_caches() is None


def test_transfer_between_sites_is_in_transit_until_received(clinic, stocked, nurse):
    harbour = safe(nurse, clinic.sites[1], "Harbour safe")
    sent = services.transfer_stock(
        by=nurse, location=stocked.location, lot=stocked.lot, quantity=VIAL, to_location=harbour
    )
    assert balance(stocked) == VIAL
    assert list(selectors.in_transit()) == [sent]
    arrived = services.receive_transfer(by=clinic.others["nurse"], transfer_out=sent)
    assert (arrived.kind, arrived.location, arrived.quantity) == ("transfer_in", harbour, VIAL)
    assert StockBalance.objects.get(location=harbour, lot=stocked.lot).balance == VIAL
    assert list(selectors.in_transit()) == []
    with pytest.raises(InputError, match=r"Already received as #3\."):
        services.receive_transfer(by=nurse, transfer_out=sent)
    with pytest.raises(InputError) as refused:
        services.transfer_stock(
            by=nurse,
            location=stocked.location,
            lot=stocked.lot,
            quantity=VIAL,
            to_location=stocked.location,
        )
    assert refused.value.errors == {"to_location": ["Choose a different location to send it to."]}
    assert verify_caches() is None


def test_stock_waste_and_destruction_are_witnessed(stocked, nurse, witness):
    before = LedgerEntry.objects.count()
    with pytest.raises(InputError) as refused:
        services.waste_from_stock(
            by=nurse,
            witness=nurse,
            location=stocked.location,
            lot=stocked.lot,
            quantity=VIAL,
            reason="",
        )
    assert set(refused.value.errors) == {"witness", "reason"}
    nothing_written(before)
    services.waste_from_stock(
        by=nurse,
        witness=witness,
        location=stocked.location,
        lot=stocked.lot,
        quantity=VIAL,
        reason="vial dropped and broke",
    )
    with pytest.raises(InputError) as refused:
        services.destroy_stock(
            by=nurse,
            witness=witness,
            location=stocked.location,
            lot=stocked.lot,
            quantity=VIAL,
            reason=DestructionReason.OTHER,
        )
    assert refused.value.errors == {"note": ["Say why, when the reason is 'other'."]}
    nothing_written(before + 1)
    gone = services.destroy_stock(
        by=nurse,
        witness=witness,
        location=stocked.location,
        lot=stocked.lot,
        quantity=VIAL,
        reason=DestructionReason.EXPIRED,
        note="to reverse distributor, DEA 41 #12",
    )
    assert (gone.destruction_reason, gone.witness) == ("expired", witness)
    assert balance(stocked) == 0
    for action in ("ledger.waste", "ledger.destruction"):
        assert "witnessed by prescriber" in AuditEntry.objects.get(action=action).summary


def test_a_mistake_is_corrected_by_a_reversal_with_a_reason(
    clinic, stocked, nurse, witness, session
):
    drawn = draw(nurse, session, stocked)
    (wasted,) = services.record_dose(by=nurse, draw=drawn, wasted=micrograms(35), witness=witness)
    assert DrawAccount.objects.get(draw=drawn).closed
    with pytest.raises(InputError, match="Say what was wrong"):
        services.reverse_entry(by=nurse, entry=wasted, reason=" ", witness=witness)
    with pytest.raises(InputError, match="Draw #2 has 35 mg given, wasted or returned; reverse"):
        services.reverse_entry(by=nurse, entry=drawn, reason="wrong patient")
    # The waste was witnessed, so undoing it is too: one person alone cannot take it back.
    with pytest.raises(InputError) as alone:
        services.reverse_entry(by=nurse, entry=wasted, reason="wasted the wrong syringe")
    assert alone.value.errors == {
        "witness": ["This entry was witnessed: a second staff member must witness its reversal."]
    }
    with pytest.raises(InputError, match="a second staff member, not you"):
        services.reverse_entry(by=nurse, entry=wasted, reason="wrong syringe", witness=nurse)
    undo = services.reverse_entry(
        by=nurse, entry=wasted, reason="wasted the wrong syringe", witness=witness
    )
    assert (undo.kind, undo.reverses, undo.location, undo.lot, undo.patient, undo.witness) == (
        "reversal",
        wasted,
        stocked.location,
        stocked.lot,
        clinic.on_team,
        witness,
    )
    assert DrawAccount.objects.get(draw=drawn).remaining == micrograms(35)
    audit = AuditEntry.objects.get(action="ledger.reversal")
    assert (audit.object_id, audit.patient, audit.after["reverses"]) == (
        str(undo.seq),
        clinic.on_team,
        wasted.seq,
    )
    assert "wasted the wrong syringe, witnessed by prescriber" in audit.summary
    with pytest.raises(InputError, match=r"#3 was already reversed by #4\."):
        services.reverse_entry(by=nurse, entry=wasted, reason="again", witness=witness)
    with pytest.raises(InputError, match="cannot be reversed"):
        services.reverse_entry(by=nurse, entry=undo, reason="undo the undo")
    services.reverse_entry(by=nurse, entry=drawn, reason="session abandoned")
    account = DrawAccount.objects.get(draw=drawn)
    assert (account.drawn, account.reversed, account.closed) == (0, True, True)
    assert balance(stocked) == 2 * VIAL
    assert verify_chain()[1] is None and verify_caches() is None


def test_a_dose_given_at_the_chair_is_not_reversed_on_the_ledger_alone(nurse, session, stocked):
    drawn = draw(nurse, session, stocked)
    given = services.give_from_draw(by=nurse, draw=drawn, quantity=micrograms(30))
    before = LedgerEntry.objects.count()
    with pytest.raises(InputError, match="charted on the chair-side record"):
        services.reverse_entry(by=nurse, entry=given, reason="typed 30, gave 25")
    nothing_written(before)
    with pytest.raises(InputError) as too_much:
        services.give_from_draw(by=nurse, draw=drawn, quantity=micrograms(6))
    assert too_much.value.errors == {
        "dose_mg": ["6 mg is more than the 5 mg of this draw still to account for (35 mg drawn)."]
    }


def test_a_count_opens_discrepancies_the_director_resolves(clinic, stocked, nurse):
    director = clinic.staff["medical_director"]
    count = services.count_stock(
        by=nurse, location=stocked.location, physical={stocked.lot: micrograms(990)}
    )
    (line,) = count.lines.all()
    assert (line.book, line.physical, line.difference) == (2 * VIAL, micrograms(990), -10_000)
    item = line.discrepancy
    assert list(selectors.open_discrepancies()) == [item]
    with pytest.raises(InputError, match="Explain"):
        services.resolve_discrepancy(
            by=director, discrepancy=item, explanation="", adjust_book=True
        )
    resolution = services.resolve_discrepancy(
        by=director,
        discrepancy=item,
        explanation="10 mg spilled during the night shift; staff interviewed",
        adjust_book=True,
    )
    assert resolution.adjustment.kind == "count_adjustment"
    assert resolution.adjustment.quantity == -10_000
    assert balance(stocked) == micrograms(990)
    assert list(selectors.open_discrepancies()) == []
    with pytest.raises(InputError, match="already resolved"):
        services.resolve_discrepancy(
            by=director, discrepancy=item, explanation="again", adjust_book=False
        )
    matching = services.count_stock(
        by=nurse, location=stocked.location, physical={stocked.lot: micrograms(990)}
    )
    assert not Discrepancy.objects.filter(line__count=matching).exists()
    assert AuditEntry.objects.filter(action="ledger.discrepancy_resolved").count() == 1
    assert verify_caches() is None


def test_the_database_keeps_the_invariants_whatever_the_code_does(stocked, nurse, session):
    with pytest.raises(IntegrityError), transaction.atomic():
        StockBalance.objects.filter(lot=stocked.lot).update(balance=-1)
    drawn = draw(nurse, session, stocked)
    for change in (
        {"given": micrograms(36)},  # more than drawn
        {"given": micrograms(35)},  # fully accounted for but still open
        {"closed": True},  # closed with drug unaccounted for
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            DrawAccount.objects.filter(draw=drawn).update(**change)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(seq=drawn.seq).update(quantity=1)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM ledger_ledgerentry WHERE kind = 'receipt'")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ReceiptDetail.objects.update(reference="changed")
    bad = LedgerEntry(
        seq=99,
        kind="waste",
        at=timezone.now(),
        location=stocked.location,
        lot=stocked.lot,
        quantity=1,
        actor=nurse,
        witness=nurse,
        draw=drawn,
        prev_hash="x",
        hash="y",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        bad.save(force_insert=True)
    assert verify_chain()[1] is None


def test_entries_are_chained_and_verify_ledger_finds_tampering(
    stocked, nurse, witness, session, capsys
):
    drawn = draw(nurse, session, stocked)
    services.record_dose(by=nurse, draw=drawn, wasted=micrograms(35), witness=witness)
    rows = list(LedgerEntry.objects.order_by("seq"))
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash
    call_command("verify_ledger")
    assert "Ledger chain intact: 3 entries verified" in capsys.readouterr().out
    triggers.remove_all(connection)  # what someone with database access could do
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_receiptdetail SET reference = 'CSOS-0000'")
    triggers.install_all(connection)
    with pytest.raises(CommandError, match="#1: its contents were changed"):
        call_command("verify_ledger")


def test_verify_ledger_finds_a_balance_that_does_not_add_up(stocked):
    StockBalance.objects.filter(lot=stocked.lot).update(balance=VIAL)
    with pytest.raises(CommandError, match="the entries say 1000000"):
        call_command("verify_ledger")


def test_the_biennial_inventory_replays_a_prefix_of_the_chain(clinic, nurse, session):
    # A draw written after the receipt but dated a moment before it (clocks a moment apart): a
    # cut by time alone would replay the draw without the stock it came from.
    from kapstone.ledger.reports import Filters, biennial_inventory

    received_at = timezone.make_aware(dt.datetime(2026, 3, 2, 0, 0, 1))
    stocked = receive_vials(
        by=nurse, witness=clinic.staff["prescriber"], site=clinic.sites[0], now=received_at
    )
    services.draw_for_session(
        by=nurse,
        session=session,
        location=stocked.location,
        lot=stocked.lot,
        quantity=micrograms(35),
        now=received_at - dt.timedelta(seconds=2),
    )
    (row,) = biennial_inventory(Filters(as_of=dt.date(2026, 3, 1))).rows
    assert row[5] == "965 mg"
    (row,) = biennial_inventory(Filters(as_of=dt.date(2026, 3, 2))).rows
    assert row[5] == "965 mg"
    assert biennial_inventory(Filters(as_of=dt.date(2026, 2, 28))).rows == []
