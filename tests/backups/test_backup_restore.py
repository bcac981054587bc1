"""``kapstone backup`` and ``kapstone restore`` on real databases, through the real command.

One source clinic per leg (migrated, ``demo_clinic --patients 4``, one research export file) is
backed up and restored into fresh, empty databases; each test proves one promise of docs/backup.md.
The tests that only read a backup share the module's two (one plain, one encrypted), made once: each
`kapstone` run costs a process start and Django's checks, and no test changes a backup it shares.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pyrage
import pytest

from kapstone.audit import triggers
from tests.backups.support import (
    QUICK_PASSWORDS_CLI,
    Server,
    audit_head,
    drop_all,
    ok,
    row_counts,
    run,
    server_for_this_leg,
)

# It finds the leg's own database server (SQLite files, or the PostgreSQL leg's server) itself.
pytestmark = pytest.mark.each_database

EXPORT_NAME = "research-export-7-cafe.zip"
EXPORT_BYTES = b"PK\x03\x04 research export marker 5f1e9c2a\n" * 50


@dataclass
class Source:
    server: Server
    name: str
    exports: Path
    folder: Path
    created: list[str] = field(default_factory=list)  # every database, dropped when the module ends

    @property
    def url(self) -> str:
        return self.server.url(self.name)

    def fresh(self, prefix: str = "kap_bk_dst") -> str:
        """A new, empty database."""
        name = self.server.create(prefix)
        self.created.append(name)
        return name


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backup")
    server = server_for_this_leg(folder)
    # Migrated as `kapstone migrate` leaves an empty database: a copy of the leg's template.
    name = server.migrated("kap_bk_src")
    exports = folder / "exports"
    (exports / "2026").mkdir(parents=True)
    (exports / "2026" / EXPORT_NAME).write_bytes(EXPORT_BYTES)
    src = Source(server, name, exports, folder, [name])
    try:
        ok(run("demo_clinic", "--patients", "4", url=src.url, argv0=QUICK_PASSWORDS_CLI))
        yield src
    finally:
        drop_all(server, src.created)


@dataclass(frozen=True)
class Made:
    """A backup folder and what `kapstone backup` printed when it wrote it."""

    folder: Path
    stdout: str


@dataclass(frozen=True)
class Backups:
    """The module's shared backups, both written with umask 0 (the files must be owner-only anyway):
    ``plain``, and ``sealed`` encrypted with only the public recipient on the server."""

    plain: Made
    sealed: Made
    secret: Path
    public: Path


@pytest.fixture(scope="module")
def backups(clinic, tmp_path_factory) -> Backups:
    folder = tmp_path_factory.mktemp("shared-backups")
    secret, public = secret_key(folder)
    plain, plain_run = backup(clinic, folder / "plain" / "made" / "here", umask=0)
    sealed, sealed_run = backup(
        clinic, folder / "sealed" / "made" / "here", "--key-file", str(public), umask=0
    )
    return Backups(Made(plain, plain_run.stdout), Made(sealed, sealed_run.stdout), secret, public)


def backup(clinic: Source, out: Path, *extra: str, url: str | None = None, umask: int = 0o022):
    result = ok(
        run(
            "backup",
            "--output-dir",
            str(out),
            *extra,
            url=url or clinic.url,
            exports=clinic.exports,
            umask=umask,
        )
    )
    (folder,) = out.iterdir()
    return folder, result


def restore(clinic: Source, folder: Path, target: str, exports: Path, *extra: str):
    return run("restore", str(folder), *extra, url=clinic.server.url(target), exports=exports)


def secret_key(folder: Path) -> tuple[Path, Path]:
    """An identity file (0600, as age-keygen writes it) and a file with only its public recipient."""
    identity = pyrage.x25519.Identity.generate()
    secret = folder / "clinic-backup.key"
    secret.write_text(f"# created: test\n{identity}\n")
    secret.chmod(0o600)
    public = folder / "clinic-backup.pub"
    public.write_text(f"{identity.to_public()}\n")
    return secret, public


def assert_nothing_lost(clinic: Source, target: str, exports: Path) -> None:
    before, after = row_counts(clinic.server, clinic.name), row_counts(clinic.server, target)
    assert before and after == before, {
        t: (before.get(t), after.get(t))
        for t in set(before) | set(after)
        if before.get(t) != after.get(t)
    }
    assert before["audit_auditentry"] > 100 and before["ledger_ledgerentry"] > 0
    assert audit_head(clinic.server, target) == audit_head(clinic.server, clinic.name)
    assert (exports / "2026" / EXPORT_NAME).read_bytes() == EXPORT_BYTES


def assert_append_only(server: Server, name: str) -> None:
    with pytest.raises(Exception, match="append-only"):
        server.execute(name, "UPDATE audit_auditentry SET summary = 'rewritten' WHERE seq = 1")
    with pytest.raises(Exception, match="append-only"):
        server.execute(name, "DELETE FROM ledger_ledgerentry WHERE seq = 1")


def test_round_trip_loses_nothing_and_keeps_the_guards(clinic, backups, tmp_path):
    folder = backups.plain.folder
    manifest = json.loads((folder / "manifest.json").read_text())
    newest, _head = audit_head(clinic.server, clinic.name)
    assert manifest["audit_anchor"] == {"seq": newest[0], "hash": newest[1]}
    assert str(folder) in backups.plain.stdout and newest[1] in backups.plain.stdout
    assert manifest["engine"] == clinic.server.vendor and manifest["encryption"] is None
    assert manifest["schema"]["latest"]["audit"] == max(manifest["schema"]["applied"]["audit"])
    assert set(manifest["files"]) == {
        "database.pgdump" if clinic.server.vendor == "postgresql" else "database.sqlite3",
        f"exports/2026/{EXPORT_NAME}",
    }

    target, exports = clinic.fresh(), tmp_path / "restored-exports"
    restored = restore(clinic, folder, target, exports)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "Restore verified" in restored.stdout
    assert_nothing_lost(clinic, target, exports)
    assert_append_only(clinic.server, target)


def test_files_and_folders_are_owner_only_whatever_the_umask(clinic, backups, tmp_path):
    # The module's plain and public-key backups were written with umask 0 too; this one is
    # encrypted with the secret key file itself.
    keyed, _ = backup(
        clinic, tmp_path / "made" / "here", "--key-file", str(backups.secret), umask=0
    )
    for folder in (backups.plain.folder, backups.sealed.folder, keyed):
        out = folder.parent
        paths = [out.parent, out, *folder.rglob("*"), folder]
        modes = {p: stat.S_IMODE(p.stat().st_mode) for p in paths}
        assert len([p for p in paths if p.is_file()]) == 3
        for path, mode in modes.items():
            assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_encrypted_backup_holds_no_plaintext_and_restores_with_the_key(clinic, backups, tmp_path):
    secret, public = backups.secret, backups.public
    plain = backups.plain.folder
    # Only the public recipient on the server: the secret key stays with the clinic.
    folder = backups.sealed.folder
    manifest = json.loads((folder / "manifest.json").read_text())
    # A table name: in the clear in a SQLite file and in pg_dump's table of contents.
    marker = b"audit_auditentry"
    assert manifest["encryption"]["format"] == "age"
    assert all(name.endswith(".age") for name in manifest["files"])
    database = next(folder.glob("database.*.age"))
    plain_database = next(plain.glob("database.*"))
    assert marker in plain_database.read_bytes()  # the check below could fail
    assert marker not in database.read_bytes()
    assert database.read_bytes().startswith(b"age-encryption.org/v1")
    sealed_export = (folder / "exports" / "2026" / f"{EXPORT_NAME}.age").read_bytes()
    assert b"research export marker" not in sealed_export

    target, exports = clinic.fresh(), tmp_path / "restored-exports"
    no_key = restore(clinic, folder, target, exports)
    assert no_key.returncode != 0 and "encrypted" in no_key.stderr
    public_only = restore(clinic, folder, target, exports, "--key-file", str(public))
    assert public_only.returncode != 0 and "secret key" in public_only.stderr
    assert clinic.server.tables(target) == []
    restored = restore(clinic, folder, target, exports, "--key-file", str(secret))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert_nothing_lost(clinic, target, exports)


def test_restore_into_a_database_with_data_refuses_and_changes_nothing(clinic, backups, tmp_path):
    folder = backups.plain.folder
    before = row_counts(clinic.server, clinic.name)
    exports = tmp_path / "exports"
    refused = restore(clinic, folder, clinic.name, exports)
    assert refused.returncode != 0
    assert "the configured database is not empty" in refused.stderr
    assert "nothing was changed" in refused.stderr
    assert row_counts(clinic.server, clinic.name) == before
    assert not exports.exists()


def test_a_backup_with_one_byte_changed_is_refused_by_its_checksum(clinic, backups, tmp_path):
    # A copy: the module's backup stays whole for the other tests.
    folder = shutil.copytree(backups.plain.folder, tmp_path / backups.plain.folder.name)
    database = next(folder.glob("database.*"))
    data = bytearray(database.read_bytes())
    data[len(data) // 2] ^= 0x01
    database.write_bytes(bytes(data))
    target, exports = clinic.fresh(), tmp_path / "exports"
    refused = restore(clinic, folder, target, exports)
    assert refused.returncode != 0
    assert f"{database.name}: its sha256 does not match the manifest" in refused.stderr
    assert clinic.server.tables(target) == []
    assert not exports.exists()


def test_a_rewritten_audit_row_restores_but_the_restore_reports_failure(clinic, tmp_path):
    forged = clinic.server.clone(clinic.name, "kap_bk_forged")
    clinic.created.append(forged)  # dropped with the module's others
    vendor = clinic.server.vendor
    clinic.server.execute(
        forged,
        *triggers.statements(vendor, create=False),
        "UPDATE audit_auditentry SET summary = 'nothing happened here' WHERE seq = 3",
    )
    folder, _ = backup(clinic, tmp_path / "out", url=clinic.server.url(forged))
    target, exports = clinic.fresh(), tmp_path / "exports"
    restored = restore(clinic, folder, target, exports)
    assert restored.returncode != 0
    assert "FAIL audit chain" in restored.stdout and "#3" in restored.stdout
    assert "verification FAILED (audit chain)" in restored.stderr
    # The data is there to examine; only the claim of success is withheld.
    assert row_counts(clinic.server, target)["audit_auditentry"] > 100


def test_a_failed_backup_leaves_no_folder(clinic, tmp_path):
    """The snapshot is taken, then the manifest cannot be written (no Kapstone schema in it)."""
    out = tmp_path / "out"
    unrelated = clinic.fresh("kap_bk_unrelated")
    clinic.server.execute(unrelated, "CREATE TABLE unrelated (x integer)")
    result = run(
        "backup", "--output-dir", str(out), url=clinic.server.url(unrelated), exports=clinic.exports
    )
    assert result.returncode != 0, result.stdout
    assert "Backup failed: the database has no Kapstone schema" in result.stderr
    assert list(out.iterdir()) == []


def test_retention_keeps_the_newest_of_each_day_week_and_month():
    from kapstone.backups.archive import Retention, backups_to_remove

    names = [
        f"kapstone-backup-{day:%Y%m%d}T0{hour}0000Z"
        for day in (dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(200))
        for hour in (2, 3)
    ]
    names += [".kapstone-backup-20260101T020000Z.partial-ab12", "kapstone-backup-notes"]
    removed = set(backups_to_remove(names, Retention(daily=14, weekly=8, monthly=12)))
    kept = sorted(set(names) - removed)
    assert ".kapstone-backup-20260101T020000Z.partial-ab12" in kept
    assert "kapstone-backup-notes" in kept
    dated = [n for n in kept if n.endswith("Z")]
    assert dated[-14:] == [
        f"kapstone-backup-{dt.date(2026, 7, 19) - dt.timedelta(days=n):%Y%m%d}T030000Z"
        for n in range(13, -1, -1)
    ]
    months = {n[16:22] for n in dated}
    assert months == {f"2026{m:02d}" for m in range(1, 8)}
    assert all(n.endswith("T030000Z") for n in dated)  # the newest of its day, never the older
    assert len(dated) == len(set(dated)) and len(dated) < 14 + 8 + 12
    every_day = backups_to_remove(names, Retention(daily=1000, weekly=0, monthly=0))
    assert sorted(every_day) == sorted(n for n in names if n.endswith("T020000Z"))


def test_prune_after_a_backup_removes_only_what_the_retention_drops(clinic, tmp_path):
    out = tmp_path / "out"
    old, partial = out / "kapstone-backup-20200101T020000Z", out / ".kapstone-backup-x.partial-1"
    for folder in (old, partial):
        folder.mkdir(parents=True)
    result = ok(
        run(
            *("backup", "--output-dir", str(out), "--prune", "--keep-daily", "1"),
            *("--keep-weekly", "0", "--keep-monthly", "0"),
            url=clinic.url,
            exports=clinic.exports,
        )
    )
    assert f"Removed by retention: {old}" in result.stdout
    left = sorted(p.name for p in out.iterdir())
    assert left[0] == partial.name and left[1].startswith("kapstone-backup-2") and len(left) == 2
