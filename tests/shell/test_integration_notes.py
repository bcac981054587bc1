"""Integration notes through the services, on the real database: drafts, checks, the window
warning, signing (append-only, completes the session), addenda, the course trend."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from kapstone.accounts.models import ModalityCredential
from kapstone.audit.models import AuditEntry
from kapstone.errors import InputError
from kapstone.integration import selectors, services
from kapstone.integration.models import (
    AppendOnlyError,
    IntegrationNote,
    IntegrationNoteSignature,
    IntegrationStatus,
)
from tests.shell.integration_support import EMDR, held_dose, session_after

DOSE_AT = timezone.make_aware(dt.datetime(2026, 11, 2, 9, 0))


@pytest.fixture
def therapist(clinic):
    return clinic.staff["therapist"]  # credentialed in EMDR by the fixture


@pytest.fixture
def dose(clinic):
    return held_dose(clinic.on_team, at=DOSE_AT)


@pytest.fixture
def session(dose):
    return session_after(dose)


def save(session, by, *, structured=None, held_at=None, minutes=75, **kw):
    return services.save_note(
        by=by,
        session=session,
        held_at=held_at or session.starts_at,
        minutes=minutes,
        structured=structured
        if structured is not None
        else {"emdr": EMDR, "homework": "Safe place"},
        narrative="Worked on the accident memory; calm at the end.",
        now=session.starts_at + dt.timedelta(hours=2),
        **kw,
    )


def test_a_draft_is_checked_by_the_core_and_nothing_is_written_on_error(session, therapist):
    before = AuditEntry.objects.count()
    with pytest.raises(InputError) as caught:
        save(session, therapist, structured={"emdr": EMDR | {"sud_after": "12", "voc_before": "0"}})
    assert set(caught.value.errors) == {"emdr.sud_after", "emdr.voc_before"}
    assert "out of range" in caught.value.errors["emdr.sud_after"][0]
    assert IntegrationNote.objects.count() == 0
    assert AuditEntry.objects.count() == before


def test_only_a_therapist_writes_and_not_for_the_future(session, clinic):
    with pytest.raises(InputError) as caught:
        save(session, clinic.staff["nurse"])
    assert "therapist" in caught.value.errors[""][0]
    with pytest.raises(InputError) as caught:
        save(session, clinic.staff["therapist"], held_at=session.starts_at + dt.timedelta(days=1))
    assert set(caught.value.errors) == {"held_at"}


def test_drafts_are_versions_linked_to_the_dose_before(session, therapist, dose):
    first = save(session, therapist)
    second = save(session, therapist, minutes=80)
    assert (first.revision, second.revision) == (1, 2)
    assert second.supersedes == first
    assert second.dosing_session == dose
    assert second.structured["emdr"]["sud_before"] == 8
    assert second.modalities == ["emdr"]
    entry = AuditEntry.objects.filter(action="integration.note_saved").latest("seq")
    assert entry.after["revision"] == 2 and entry.after["dosing_session"] == dose.pk


def test_signing_completes_the_session_and_locks_the_note(session, therapist):
    note = save(session, therapist)
    signature = services.sign_note(by=therapist, note=note, now=session.ends_at)
    session.refresh_from_db()
    assert session.status == IntegrationStatus.COMPLETED
    assert signature.warnings == []
    assert signature.window["within_hours"] == 24
    with pytest.raises(InputError) as caught:
        save(session, therapist)
    assert "addendum" in caught.value.errors[""][0]
    with pytest.raises(AppendOnlyError):
        note.save()
    # The database refuses it too, whatever the ORM says.
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE integration_integrationnote SET minutes = 10 WHERE id = %s", [note.pk]
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        IntegrationNoteSignature.objects.create(
            note=note, session=session, signed_by=therapist, signed_at=session.ends_at, window={}
        )


def test_only_the_latest_version_is_signed_by_its_author(session, therapist, clinic):
    first = save(session, therapist)
    save(session, therapist)
    with pytest.raises(InputError) as caught:
        services.sign_note(by=therapist, note=first)
    assert "replaced by version 2" in caught.value.errors[""][0]
    latest = selectors.latest_note(session)
    with pytest.raises(InputError) as caught:
        services.sign_note(by=clinic.others["therapist"], note=latest)
    assert "they sign it" in caught.value.errors[""][0]


def test_outside_the_window_needs_a_reason_that_is_kept(clinic, therapist, dose):
    late = session_after(dose, hours=30)
    note = save(late, therapist)
    warnings = services.signing_warnings(note)
    assert [w.code.value for w in warnings] == ["outside_window"]
    assert "30 h after the dose" in warnings[0].message
    with pytest.raises(InputError) as caught:
        services.sign_note(by=therapist, note=note)
    assert set(caught.value.errors) == {"override_reason"}
    assert "within 24 h" in caught.value.errors["override_reason"][0]
    assert not IntegrationNoteSignature.objects.exists()
    signature = services.sign_note(
        by=therapist, note=note, override_reason="Patient too sedated to talk the same afternoon"
    )
    assert signature.warnings[0]["code"] == "outside_window"
    entry = AuditEntry.objects.get(action="integration.note_signed")
    assert entry.after["warnings"] == ["outside_window"]
    assert entry.after["override_reason"] == "Patient too sedated to talk the same afternoon"


def test_length_and_credential_warnings(session, therapist):
    note = save(
        session,
        therapist,
        minutes=45,
        structured={"ifs": {"parts": "Critic: manager", "self_energy": "4"}},
    )
    codes = {w.code.value for w in services.signing_warnings(note)}
    assert codes == {"length", "not_credentialed"}
    ModalityCredential.objects.create(therapist=therapist, modality="ifs")
    note = save(
        session,
        therapist,
        minutes=60,
        structured={"ifs": {"parts": "Critic: manager", "self_energy": "4"}},
    )
    assert services.signing_warnings(note) == ()


def test_a_session_without_a_linked_dose_finds_the_dose_before(clinic, therapist):
    dose = held_dose(clinic.on_team, at=DOSE_AT)
    session = services.book_integration_session(
        by=None,
        patient=clinic.on_team,
        starts_at=DOSE_AT + dt.timedelta(hours=3),
        now=DOSE_AT,
    )
    note = save(session, therapist)
    assert note.dosing_session == dose
    assert services.signing_warnings(note) == ()


def test_addendum_needs_a_signed_note_and_a_reason_and_can_correct_the_record(session, therapist):
    note = save(session, therapist)
    with pytest.raises(InputError) as caught:
        services.add_addendum(by=therapist, note=note, text="More", reason="Forgot")
    assert "Only a signed note" in caught.value.errors[""][0]
    services.sign_note(by=therapist, note=note)
    with pytest.raises(InputError) as caught:
        services.add_addendum(by=therapist, note=note, text="More", reason=" ")
    assert set(caught.value.errors) == {"reason"}
    with pytest.raises(InputError) as caught:
        services.add_addendum(
            by=therapist,
            note=note,
            text="SUD",
            reason="Typo",
            structured={"emdr": EMDR | {"sud_after": "x"}},
        )
    assert set(caught.value.errors) == {"emdr.sud_after"}
    services.add_addendum(
        by=therapist, note=note, text="Patient phoned: slept well.", reason="Follow-up call"
    )
    fixed = services.add_addendum(
        by=therapist,
        note=note,
        text="SUD after was 2, not 3.",
        reason="Typing error in the signed note",
        structured={"emdr": EMDR | {"sud_after": "2"}, "homework": "Safe place"},
    )
    structure, correction = selectors.structure_in_force(note)
    assert correction == fixed
    assert structure.get("emdr").sud_after == 2
    note.refresh_from_db()
    assert note.structured["emdr"]["sud_after"] == 3  # the signed version is as it was
    row = selectors.course_trend(session.patient)[0]
    assert row.corrected and row.measures.sud_after == 2
    entry = AuditEntry.objects.filter(action="integration.note_addendum").latest("seq")
    assert entry.after == {
        "note": note.pk,
        "reason": "Typing error in the signed note",
        "corrects_structured": True,
    }


def test_course_trend_lists_sessions_in_order_with_measures(clinic, therapist):
    rows_in = []
    for day, (before, after) in enumerate([(8, 5), (6, 3), (4, 1)]):
        dose = held_dose(clinic.on_team, at=DOSE_AT + dt.timedelta(days=2 * day))
        session = session_after(dose)
        note = save(
            session,
            therapist,
            structured={"emdr": EMDR | {"sud_before": before, "sud_after": after}},
        )
        services.sign_note(by=therapist, note=note)
        rows_in.append(session)
    unsigned = session_after(held_dose(clinic.on_team, at=DOSE_AT + dt.timedelta(days=7)))
    rows = selectors.course_trend(clinic.on_team)
    assert [r.session for r in rows] == [*rows_in, unsigned]
    assert [(r.measures.sud_before, r.measures.sud_after) for r in rows] == [
        (8, 5),
        (6, 3),
        (4, 1),
        (None, None),
    ]
    assert rows[0].dose_text == "not charted" and rows[0].dissociation_text == "not rated"
    charts = selectors.trend_charts([r for r in rows if r.note is not None])
    assert [c.title for c in charts] == ["SUD, EMDR (0-10)", "VOC, EMDR (1-7)"]
    assert "SUD before: 8 at session 1" in charts[0].svg
