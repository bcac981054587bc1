"""The audit chain's tip: `audit verify` checks the head, the database guards it, anchors pin it.

Each tampering test plays someone with database access who lifts the triggers, changes rows so the
chain stays as consistent as they can make it, and puts the triggers back.
"""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from kapstone.audit import triggers
from kapstone.audit.hashing import entry_hash
from kapstone.audit.models import AuditEntry, AuditHead
from kapstone.audit.trail import record


def rehash(entry: AuditEntry, *, prev_hash: str) -> str:
    return entry_hash(
        seq=entry.seq,
        at=entry.at,
        actor_id=entry.actor_id,
        actor_label=entry.actor_label,
        action=entry.action,
        patient_id=entry.patient_id,
        object_type=entry.object_type,
        object_id=entry.object_id,
        request_id=entry.request_id,
        summary=entry.summary,
        before=entry.before,
        after=entry.after,
        prev_hash=prev_hash,
    )


def set_head(seq: int, digest: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_audithead SET last_seq = %s, last_hash = %s WHERE id = 1", [seq, digest]
        )


def rewrite_entry(entry: AuditEntry, *, summary: str, prev_hash: str) -> str:
    """Changes an entry's summary and stores a hash that matches the new contents."""
    entry.summary = summary
    digest = rehash(entry, prev_hash=prev_hash)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET summary = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [summary, prev_hash, digest, entry.pk],
        )
    return digest


def verify_fails(*args: str) -> str:
    with pytest.raises(CommandError) as failure:
        call_command("audit", "verify", *args)
    return str(failure.value)


def take_anchor(tmp_path: Path, capsys) -> Path:
    call_command("audit", "anchor", "--output", str(tmp_path / "anchor.json"))
    capsys.readouterr()
    return tmp_path / "anchor.json"


# -- audit verify ------------------------------------------------------------------------------------


def test_an_untouched_chain_passes_with_and_without_an_anchor(clinic, tmp_path, capsys):
    anchor = take_anchor(tmp_path, capsys)
    record(actor=None, action="test.later", summary="written after the anchor")
    call_command("audit", "verify")
    assert "Audit chain intact" in capsys.readouterr().out
    call_command("audit", "verify", "--anchor", str(anchor))
    out = capsys.readouterr().out
    seq = json.loads(anchor.read_text())["seq"]
    assert f"entry #{seq} matches the anchor" in out


def test_a_rewritten_newest_entry_is_found_by_the_head(clinic):
    newest = AuditEntry.objects.order_by("-seq").first()
    triggers.remove(connection)
    rewrite_entry(newest, summary="nothing happened", prev_hash=newest.prev_hash)
    triggers.install(connection)
    message = verify_fails()
    assert f"#{newest.seq} (id {newest.pk})" in message
    assert "head's stored hash does not match" in message


def test_a_deleted_newest_entry_with_the_head_moved_back_is_found(clinic):
    newest = AuditEntry.objects.order_by("-seq").first()
    triggers.remove(connection)
    triggers.remove_head(connection)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [newest.pk])
    # The head's count goes back by one; its hash still names the deleted row.
    set_head(newest.seq - 1, newest.hash)
    triggers.install(connection)
    triggers.install_head(connection)
    message = verify_fails()
    assert f"#{newest.seq - 1}" in message
    assert "head's stored hash does not match" in message


def test_a_trim_with_the_head_rewritten_too_is_found_by_an_earlier_anchor(clinic, tmp_path, capsys):
    anchor = take_anchor(tmp_path, capsys)
    newest = AuditEntry.objects.order_by("-seq").first()
    previous = AuditEntry.objects.get(seq=newest.seq - 1)
    triggers.remove(connection)
    triggers.remove_head(connection)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [newest.pk])
    set_head(previous.seq, previous.hash)
    triggers.install(connection)
    triggers.install_head(connection)
    call_command("audit", "verify")  # consistent with itself: only the anchor can tell
    message = verify_fails("--anchor", str(anchor))
    assert f"anchored entry #{newest.seq} no longer exists" in message


def test_a_chain_rewritten_consistently_fails_against_an_earlier_anchor(clinic, tmp_path, capsys):
    anchor = take_anchor(tmp_path, capsys)
    triggers.remove(connection)
    triggers.remove_head(connection)
    prev = "0" * 64
    for entry in AuditEntry.objects.order_by("seq"):
        summary = "rewritten history" if entry.seq == 1 else entry.summary
        prev = rewrite_entry(entry, summary=summary, prev_hash=prev)
    set_head(AuditEntry.objects.count(), prev)
    triggers.install(connection)
    triggers.install_head(connection)
    call_command("audit", "verify")  # every link and the head agree with each other
    seq = json.loads(anchor.read_text())["seq"]
    message = verify_fails("--anchor", str(anchor))
    assert f"entry #{seq} no longer has the anchored hash" in message


def test_a_backup_manifest_serves_as_an_anchor(clinic, tmp_path):
    newest = AuditEntry.objects.order_by("-seq").first()
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps({"files": {}, "audit_anchor": {"seq": newest.seq, "hash": newest.hash}})
    )
    call_command("audit", "verify", "--anchor", str(manifest))
    manifest.write_text(json.dumps({"audit_anchor": {"seq": newest.seq, "hash": "a" * 64}}))
    assert f"entry #{newest.seq} no longer has the anchored hash" in verify_fails(
        "--anchor", str(manifest)
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not json", "is not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"seq": "3", "hash": "' + "a" * 64 + '"}', "no valid 'seq'"),
        ('{"seq": true, "hash": "' + "a" * 64 + '"}', "no valid 'seq'"),
        ('{"seq": 3, "hash": "ABC"}', "no valid 'hash'"),
    ],
)
def test_an_unreadable_anchor_is_refused_with_why(clinic, tmp_path, content, problem):
    path = tmp_path / "anchor.json"
    path.write_text(content)
    assert problem in verify_fails("--anchor", str(path))
    assert "cannot read" in verify_fails("--anchor", str(tmp_path / "missing.json"))


def test_a_missing_head_is_found(clinic):
    triggers.remove_head(connection)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_audithead")
    triggers.install_head(connection)
    assert "head row is missing" in verify_fails()


def test_a_gap_at_the_start_is_named(clinic):
    first = AuditEntry.objects.get(seq=1)
    triggers.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [first.pk])
    triggers.install(connection)
    assert "should start at #1, it starts at #2" in verify_fails()


# -- audit anchor ------------------------------------------------------------------------------------


def test_anchor_prints_the_newest_entry(clinic, capsys):
    newest = AuditEntry.objects.order_by("-seq").first()
    call_command("audit", "anchor")
    printed = json.loads(capsys.readouterr().out)
    assert printed["seq"] == newest.seq
    assert printed["hash"] == newest.hash
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", printed["at"])


def test_anchor_into_a_folder_writes_an_owner_only_file_named_by_date(clinic, tmp_path, capsys):
    folder = tmp_path / "anchors"
    call_command("audit", "anchor", "--output", f"{folder}/")
    printed = json.loads(capsys.readouterr().out)
    (written,) = folder.iterdir()
    assert (
        written.name
        == f"audit-anchor-{printed['at'][:10]}T{printed['at'][11:19].replace(':', '')}Z.json"
    )
    assert json.loads(written.read_text()) == printed
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_anchor_never_overwrites_a_file(clinic, tmp_path, capsys):
    target = tmp_path / "anchor.json"
    target.write_text("an earlier anchor")
    with pytest.raises(CommandError, match="already exists"):
        call_command("audit", "anchor", "--output", str(target))
    assert target.read_text() == "an earlier anchor"


def test_anchor_refuses_a_broken_chain(clinic, tmp_path):
    newest = AuditEntry.objects.order_by("-seq").first()
    triggers.remove(connection)
    rewrite_entry(newest, summary="nothing happened", prev_hash=newest.prev_hash)
    triggers.install(connection)
    with pytest.raises(CommandError, match="Not anchoring"):
        call_command("audit", "anchor", "--output", str(tmp_path / "a.json"))
    assert not (tmp_path / "a.json").exists()


def test_anchor_can_be_mailed_without_patient_data(clinic, mailoutbox, capsys):
    call_command("audit", "anchor", "--mail-to", "offsite@example.invalid")
    printed = capsys.readouterr().out.strip()
    (mail,) = mailoutbox
    assert mail.to == ["offsite@example.invalid"]
    assert printed in mail.body
    for name in ("Ada", "Lovelace", "MRN-1001"):
        assert name not in mail.body
    with pytest.raises(CommandError, match="not an e-mail address"):
        call_command("audit", "anchor", "--mail-to", "nobody")


# -- the head's guard --------------------------------------------------------------------------------


def test_the_database_refuses_deleting_the_head(clinic):
    with pytest.raises(DatabaseError, match="cannot be deleted"), transaction.atomic():
        AuditHead.objects.filter(pk=1).delete()
    assert AuditHead.objects.filter(pk=1).exists()


@pytest.mark.parametrize("move", ["back_one", "same_seq_new_hash", "ahead_to_nothing", "skip_one"])
def test_the_database_refuses_a_head_update_that_does_not_advance_by_one(clinic, move):
    head = AuditHead.objects.get(pk=1)
    previous = AuditEntry.objects.get(seq=head.last_seq - 1)
    record(actor=None, action="test.next", summary="one more")
    head.refresh_from_db()
    newest = AuditEntry.objects.get(seq=head.last_seq)
    seq, digest = {
        "back_one": (newest.seq - 1, AuditEntry.objects.get(seq=newest.seq - 1).hash),
        "same_seq_new_hash": (newest.seq, previous.hash),
        "ahead_to_nothing": (newest.seq + 1, "f" * 64),
        "skip_one": (newest.seq + 2, newest.hash),
    }[move]
    with pytest.raises(DatabaseError, match="only advances by one"), transaction.atomic():
        set_head(seq, digest)
    head.refresh_from_db()
    assert (head.last_seq, head.last_hash) == (newest.seq, newest.hash)


def test_the_database_refuses_moving_the_head_to_an_entry_that_skips_the_old_tip(clinic):
    """An entry slipped in with the right seq but not linked to the current tip cannot become it."""
    head = AuditHead.objects.get(pk=1)
    stray = AuditEntry.objects.get(seq=head.last_seq)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditentry (seq, at, actor_label, action, object_type, object_id,"
            " request_id, summary, prev_hash, hash) VALUES (%s, %s, 'x', 'x', '', '', '', '', %s, %s)",
            [head.last_seq + 1, stray.at, "e" * 64, "d" * 64],
        )
    with pytest.raises(DatabaseError, match="only advances by one"), transaction.atomic():
        set_head(head.last_seq + 1, "d" * 64)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.parametrize("table", ["audit_audithead", "audit_auditentry"])
def test_postgres_refuses_truncating_the_audit_tables(clinic, table):
    with (
        pytest.raises(DatabaseError, match="TRUNCATE"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"TRUNCATE {table} CASCADE")
    assert AuditHead.objects.filter(pk=1).exists()
    assert AuditEntry.objects.exists()


def test_the_migration_installs_the_same_guard_the_test_suite_reinstalls():
    """Migration 0003 carries its own copy of the SQL; the live copy in triggers.py must not drift."""
    import importlib

    migration = importlib.import_module("kapstone.audit.migrations.0003_head_guard_triggers")

    def squeeze(statements: list[str]) -> list[str]:
        return [" ".join(sql.split()) for sql in statements]

    assert squeeze(migration.SQLITE_CREATE) == squeeze(triggers.SQLITE_HEAD_CREATE)
    assert squeeze(migration.POSTGRES_CREATE) == squeeze(triggers.POSTGRES_HEAD_CREATE)
    assert squeeze(migration.SQLITE_DROP) == squeeze(triggers.SQLITE_HEAD_DROP)
    assert squeeze(migration.POSTGRES_DROP)[:3] == squeeze(triggers.POSTGRES_HEAD_DROP)


def test_the_migration_itself_installs_the_guard(clinic):
    """The conftest reinstalls from triggers.py; prove the migration's own SQL guards the head too."""
    import importlib
    from types import SimpleNamespace

    migration = importlib.import_module("kapstone.audit.migrations.0003_head_guard_triggers")
    triggers.remove_head(connection)
    AuditHead.objects.filter(pk=1).update(last_seq=0)  # unguarded now
    migration.install(None, SimpleNamespace(connection=connection))
    with pytest.raises(DatabaseError, match="cannot be deleted"), transaction.atomic():
        AuditHead.objects.filter(pk=1).delete()
    with pytest.raises(DatabaseError, match="only advances by one"), transaction.atomic():
        AuditHead.objects.filter(pk=1).update(last_seq=5)
