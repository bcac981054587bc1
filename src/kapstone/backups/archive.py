"""Backups that restore: one folder per backup, a manifest that says what is in it, and a restore
that loads it into an empty database and then proves the audit trail and the ledger came back whole.

A backup folder holds

* ``database.pgdump`` (PostgreSQL, ``pg_dump --format=custom``) or ``database.sqlite3`` (SQLite,
  the online backup API), taken as one consistent snapshot;
* ``exports/``: a copy of the research export folder (``settings.RESEARCH_EXPORT_DIR``);
* ``manifest.json``: format, time, engine, Kapstone version, the applied migrations, the audit
  chain's anchor (its newest entry's seq and hash, read from the same snapshot) and the sha256 and
  size of every other file.

With a key file every file but the manifest is encrypted in the age format (age-encryption.org,
through pyrage, the Python binding of the rage implementation), so a clinic can also decrypt a
backup by hand with the standard ``age`` tool. The folder is written under a temporary name and
renamed only when complete; files are 0600 and folders 0700 whatever the umask.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pyrage
from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

FORMAT = "kapstone-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
EXPORTS = "exports"
DATABASE_FILES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
AGE_SUFFIX = ".age"
GENESIS_HASH = "0" * 64  # the audit chain's anchor before its first entry
FILE_MODE = 0o600
DIR_MODE = 0o700

# libpq settings Django's OPTIONS may carry, and the environment variable each tool reads them from.
_LIBPQ_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


class BackupError(Exception):
    """A backup could not be written, or a restore was refused before anything changed."""


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash}

    def describe(self) -> str:
        return f"#{self.seq} {self.hash}"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    anchor: Anchor
    manifest: dict[str, Any]


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass
class RestoreReport:
    backup: Path
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]


# --- keys -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """The clinic's age key: the recipient encrypts; only the identity (secret key) decrypts."""

    recipient: pyrage.x25519.Recipient
    identity: pyrage.x25519.Identity | None


def read_key(path: Path) -> Key:
    """An age identity file (``AGE-SECRET-KEY-1...``, as ``age-keygen`` writes it) or, for backups
    only, a file holding the public recipient (``age1...``), so the server need not keep the secret."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise BackupError(f"cannot read the key file {path}: {error.strerror}") from error
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    secret = [ln for ln in lines if ln.startswith("AGE-SECRET-KEY-")]
    public = [ln for ln in lines if ln.startswith("age1")]
    if len(secret) + len(public) != 1:
        raise BackupError(
            f"the key file {path} must hold exactly one age key: an identity (AGE-SECRET-KEY-1..., "
            "from age-keygen) or a public recipient (age1...)"
        )
    if secret:
        if path.stat().st_mode & 0o077:
            raise BackupError(
                f"the key file {path} holds a secret key but others may read it: chmod 600 it"
            )
        try:
            identity = pyrage.x25519.Identity.from_str(secret[0])
        except pyrage.IdentityError as error:
            raise BackupError(f"the key file {path} holds no valid age identity") from error
        return Key(identity.to_public(), identity)
    try:
        return Key(pyrage.x25519.Recipient.from_str(public[0]), None)
    except pyrage.RecipientError as error:
        raise BackupError(f"the key file {path} holds no valid age recipient") from error


# --- files ------------------------------------------------------------------------------------


@contextmanager
def _private_umask() -> Iterator[None]:
    """Files the tools create (pg_dump, pyrage) are born owner-only; the chmods below make sure."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def _make_dirs(path: Path) -> None:
    """Creates the missing folders of ``path`` owner-only; existing ones are left as they are."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE)
        folder.chmod(DIR_MODE)


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _files_under(root: Path) -> list[Path]:
    """Regular files below ``root`` (symbolic links are not followed), relative, sorted."""
    found = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                found.append(path.relative_to(root))
    return sorted(found)


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            argv, env=env, capture_output=True, text=True, check=False
        )
    except FileNotFoundError as error:
        raise BackupError(f"{argv[0]} is not installed (the PostgreSQL client tools)") from error
    if done.returncode != 0:
        raise BackupError(
            f"{what} failed ({argv[0]} exit {done.returncode}): {done.stderr.strip()}"
        )


# --- the database -----------------------------------------------------------------------------


def _database() -> tuple[str, dict[str, Any]]:
    connection = connections["default"]
    vendor = connection.vendor
    if vendor not in DATABASE_FILES:
        raise BackupError(f"backups are written for PostgreSQL and SQLite, not {vendor}")
    return vendor, connection.settings_dict


def _pg_env(db: dict[str, Any]) -> dict[str, str]:
    """The connection for pg_dump and pg_restore, in libpq's variables: no password in argv."""
    env = dict(os.environ)
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if db.get(key):
            env[var] = str(db[key])
    for option, var in _LIBPQ_ENV.items():
        if db.get("OPTIONS", {}).get(option) is not None:
            env[var] = str(db["OPTIONS"][option])
    return env


def _pg_connect(db: dict[str, Any]) -> Any:
    import psycopg

    params: dict[str, Any] = {
        name: db[key]
        for key, name in (
            ("NAME", "dbname"),
            ("USER", "user"),
            ("PASSWORD", "password"),
            ("HOST", "host"),
            ("PORT", "port"),
        )
        if db.get(key)
    }
    params.update({k: v for k, v in db.get("OPTIONS", {}).items() if k in _LIBPQ_ENV})
    return psycopg.connect(**params)


def _read_state(cursor: Any) -> tuple[Anchor, dict[str, list[str]]]:
    """The audit anchor and the applied migrations, read from a snapshot."""
    try:
        cursor.execute("SELECT seq, hash FROM audit_auditentry ORDER BY seq DESC LIMIT 1")
        row = cursor.fetchone()
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, id")
        applied: dict[str, list[str]] = {}
        for app, name in cursor.fetchall():
            applied.setdefault(str(app), []).append(str(name))
    except (sqlite3.Error, DatabaseError) as error:
        raise BackupError(f"the database has no Kapstone schema to back up: {error}") from error
    except Exception as error:  # psycopg's errors, without importing psycopg on SQLite
        raise BackupError(f"the database has no Kapstone schema to back up: {error}") from error
    anchor = Anchor(int(row[0]), str(row[1])) if row else Anchor(0, GENESIS_HASH)
    return anchor, applied


def _snapshot_postgres(db: dict[str, Any], target: Path) -> tuple[Anchor, dict[str, list[str]]]:
    """pg_dump reads the snapshot this transaction exports, so the anchor and the dump agree."""
    import psycopg

    try:
        conn = _pg_connect(db)
    except psycopg.Error as error:
        raise BackupError(f"cannot connect to PostgreSQL: {error}") from error
    with conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction(), conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = str(cursor.fetchone()[0])
            state = _read_state(cursor)
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-password",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                ],
                _pg_env(db),
                "pg_dump",
            )
    return state


def _snapshot_sqlite(db: dict[str, Any], target: Path) -> tuple[Anchor, dict[str, list[str]]]:
    source_path = Path(db["NAME"])
    if not source_path.is_file():
        raise BackupError(f"the SQLite database {source_path} does not exist")
    with (
        closing(sqlite3.connect(source_path, timeout=20)) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        try:
            source.backup(copy)
            # One self-contained file: no -wal beside it.
            copy.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.Error as error:
            raise BackupError(f"cannot copy the SQLite database {source_path}: {error}") from error
        return _read_state(copy.cursor())


# --- backup -----------------------------------------------------------------------------------


def _kapstone_version() -> str:
    try:
        return importlib.metadata.version("kapstone")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def create_backup(
    *, output_dir: Path | None = None, key_file: Path | None = None, now: dt.datetime | None = None
) -> BackupResult:
    """Writes ``output_dir/kapstone-backup-<UTC time>/``; raises BackupError and leaves nothing."""
    vendor, db = _database()
    key = read_key(key_file) if key_file is not None else None
    output_dir = Path(output_dir or settings.KAPSTONE_BACKUP_DIR)
    when = (now or timezone.now()).astimezone(dt.UTC).replace(microsecond=0)
    name = f"kapstone-backup-{when:%Y%m%dT%H%M%SZ}"
    final = output_dir / name
    with _private_umask():
        _make_dirs(output_dir)
        if final.exists():
            raise BackupError(f"{final} already exists")
        work = Path(tempfile.mkdtemp(prefix=f".{name}.partial-", dir=output_dir))
        try:
            work.chmod(DIR_MODE)
            database = work / DATABASE_FILES[vendor]
            snapshot = _snapshot_postgres if vendor == "postgresql" else _snapshot_sqlite
            anchor, applied = snapshot(db, database)
            plain = [database]
            export_dir = Path(settings.RESEARCH_EXPORT_DIR)
            if export_dir.is_dir():
                for relative in _files_under(export_dir):
                    target = work / EXPORTS / relative
                    _make_dirs(target.parent)
                    shutil.copyfile(export_dir / relative, target)
                    plain.append(target)
            else:
                _make_dirs(work / EXPORTS)
            for path in plain:
                path.chmod(FILE_MODE)
                if key is not None:
                    sealed = path.with_name(path.name + AGE_SUFFIX)
                    pyrage.encrypt_file(str(path), str(sealed), [key.recipient])
                    sealed.chmod(FILE_MODE)
                    path.unlink()
            files = {}
            for relative in _files_under(work):
                path = work / relative
                _fsync(path)
                files[relative.as_posix()] = {"sha256": _sha256(path), "size": path.stat().st_size}
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": when.isoformat().replace("+00:00", "Z"),
                "engine": vendor,
                "kapstone_version": _kapstone_version(),
                "schema": {
                    "applied": applied,
                    "latest": {app: max(names) for app, names in applied.items()},
                },
                "audit_anchor": anchor.as_json(),
                "encryption": None
                if key is None
                else {"format": "age", "recipients": [str(key.recipient)]},
                "files": files,
            }
            fd = os.open(work / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                os.fchmod(handle.fileno(), FILE_MODE)
                json.dump(manifest, handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            _fsync(work)
            work.rename(final)
            _fsync(output_dir)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    return BackupResult(final, anchor, manifest)


# --- restore ----------------------------------------------------------------------------------


def read_manifest(backup_dir: Path) -> dict[str, Any]:
    path = backup_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise BackupError(f"{backup_dir} is not a backup: it has no {MANIFEST}") from error
    except (OSError, ValueError) as error:
        raise BackupError(f"{path} cannot be read: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a Kapstone backup manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} has format version {manifest.get('format_version')!r}; "
            f"this Kapstone reads version {FORMAT_VERSION}"
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise BackupError(f"{path} lists no files")
    for name in files:
        parts = PurePosixPath(name).parts
        if PurePosixPath(name).is_absolute() or ".." in parts or name == MANIFEST:
            raise BackupError(f"{path} names a file outside the backup: {name!r}")
    return manifest


def check_files(backup_dir: Path, manifest: dict[str, Any]) -> list[str]:
    """Every problem with the folder's files against the manifest (empty when all match)."""
    problems = []
    listed = manifest["files"]
    present = {p.as_posix() for p in _files_under(backup_dir)} - {MANIFEST}
    for name in sorted(present - set(listed)):
        problems.append(f"{name} is not listed in the manifest")
    for name, expected in sorted(listed.items()):
        path = backup_dir / name
        if name not in present:
            problems.append(f"{name} is missing")
        elif path.stat().st_size != expected.get("size"):
            size = path.stat().st_size
            problems.append(f"{name} has {size} bytes, the manifest says {expected.get('size')}")
        elif _sha256(path) != expected.get("sha256"):
            problems.append(f"{name}: its sha256 does not match the manifest (altered or damaged)")
    return problems


def _tables() -> list[str]:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            tables = connection.introspection.table_names(cursor)
    except DatabaseError as error:
        raise BackupError(f"cannot open the configured database: {error}") from error
    finally:
        connection.close()
    return sorted(tables)


def _plain_copy(source: Path, work: Path, key: Key | None) -> Path:
    """The file as it was before encryption (decrypted into ``work``), or the file itself."""
    if not source.name.endswith(AGE_SUFFIX):
        return source
    if key is None or key.identity is None:
        raise BackupError("this backup is encrypted: give the key file holding its secret key")
    target = work / source.name.removesuffix(AGE_SUFFIX)
    try:
        pyrage.decrypt_file(str(source), str(target), [key.identity])
    except pyrage.DecryptError as error:
        raise BackupError(f"{source.name} cannot be decrypted with this key: {error}") from error
    target.chmod(FILE_MODE)
    return target


def restore_backup(*, backup_dir: Path, key_file: Path | None = None) -> RestoreReport:
    """Loads a backup into the configured, empty database and research export folder, then verifies.

    Raises BackupError (with nothing changed) when the backup is damaged or does not fit; otherwise
    returns the report of the verification, whose ``ok`` is the only success.
    """
    backup_dir = Path(backup_dir)
    manifest = read_manifest(backup_dir)
    problems = check_files(backup_dir, manifest)
    if problems:
        raise BackupError("the backup does not match its manifest: " + "; ".join(problems))
    vendor, db = _database()
    if manifest.get("engine") != vendor:
        raise BackupError(
            f"the backup is of a {manifest.get('engine')} database; the configured one is {vendor}"
        )
    encrypted = manifest.get("encryption") is not None
    key = read_key(key_file) if key_file is not None else None
    if encrypted and (key is None or key.identity is None):
        raise BackupError(
            "this backup is encrypted: give --key-file with the clinic's secret key "
            "(AGE-SECRET-KEY-...)"
        )
    suffix = AGE_SUFFIX if encrypted else ""
    database_name = DATABASE_FILES[vendor] + suffix
    if database_name not in manifest["files"]:
        raise BackupError(f"the backup has no {database_name}")
    tables = _tables()
    if tables:
        shown = ", ".join(tables[:5]) + (" ..." if len(tables) > 5 else "")
        raise BackupError(
            f"the configured database is not empty ({len(tables)} tables: {shown}). "
            "Restore only into a new, empty database; nothing was changed."
        )
    export_dir = Path(settings.RESEARCH_EXPORT_DIR)
    exports = sorted(n for n in manifest["files"] if n.startswith(f"{EXPORTS}/"))
    clashes = [
        n
        for n in exports
        if (
            export_dir / PurePosixPath(n).relative_to(EXPORTS).as_posix().removesuffix(suffix)
        ).exists()
    ]
    if clashes:
        raise BackupError(
            f"the research export folder {export_dir} already holds "
            + ", ".join(clashes)
            + "; nothing was changed"
        )

    report = RestoreReport(backup_dir)
    with _private_umask(), tempfile.TemporaryDirectory(prefix="kapstone-restore-") as tmp:
        work = Path(tmp)
        database = _plain_copy(backup_dir / database_name, work, key)
        if vendor == "postgresql":
            _run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--exit-on-error",
                    "--single-transaction",
                    "--no-password",
                    f"--dbname={db['NAME']}",
                    str(database),
                ],
                _pg_env(db),
                "pg_restore",
            )
        else:
            with (
                closing(sqlite3.connect(database)) as source,
                closing(sqlite3.connect(db["NAME"], timeout=20)) as target,
            ):
                try:
                    target.execute("PRAGMA journal_mode=DELETE")
                    source.backup(target)
                except sqlite3.Error as error:
                    raise BackupError(f"loading {database_name} failed: {error}") from error
        report.checks.append(Check("database loaded", True, f"{database_name} into {db['NAME']}"))
        for name in exports:
            relative = PurePosixPath(name).relative_to(EXPORTS)
            restored = export_dir / relative.as_posix().removesuffix(suffix)
            _make_dirs(restored.parent)
            plain = _plain_copy(backup_dir / name, work, key)
            shutil.copyfile(plain, restored)
            restored.chmod(FILE_MODE)
        report.checks.append(
            Check("research exports restored", True, f"{len(exports)} files into {export_dir}")
        )
    connections["default"].close()
    report.checks.extend(verify_restored(manifest))
    return report


def _check(name: str, run: Any) -> Check:
    try:
        passed, detail = run()
    except Exception as error:  # a failing check is reported, never a traceback
        return Check(name, False, f"could not run: {type(error).__name__}: {error}")
    return Check(name, passed, detail)


def verify_restored(manifest: dict[str, Any]) -> list[Check]:
    """What proves the restored database whole: schema, audit chain and anchor, ledger."""
    from django.db.migrations.recorder import MigrationRecorder

    from kapstone.audit.models import AuditEntry
    from kapstone.audit.trail import verify_chain as verify_audit
    from kapstone.ledger.verify import verify_caches
    from kapstone.ledger.verify import verify_chain as verify_ledger

    def schema() -> tuple[bool, str]:
        applied: dict[str, list[str]] = {}
        for app, name in MigrationRecorder.Migration.objects.order_by("app", "id").values_list(
            "app", "name"
        ):
            applied.setdefault(app, []).append(name)
        expected = manifest.get("schema", {}).get("applied", {})
        if {a: sorted(n) for a, n in applied.items()} != {
            a: sorted(n) for a, n in expected.items()
        }:
            return False, "the applied migrations differ from the manifest's"
        return True, f"{sum(len(n) for n in applied.values())} migrations as in the manifest"

    def audit() -> tuple[bool, str]:
        checked, broken = verify_audit()
        if broken is not None:
            return False, f"broken at {broken.describe()} ({checked} rows before it intact)"
        return True, f"{checked} rows verified"

    def anchor() -> tuple[bool, str]:
        expected = manifest.get("audit_anchor") or {}
        newest = AuditEntry.objects.order_by("-seq").first()
        found = Anchor(newest.seq, newest.hash) if newest else Anchor(0, GENESIS_HASH)
        wanted = Anchor(int(expected.get("seq", -1)), str(expected.get("hash", "")))
        if found != wanted:
            return (
                False,
                f"newest entry is {found.describe()}, the manifest says {wanted.describe()}",
            )
        return True, f"newest entry {found.describe()} equals the manifest's anchor"

    def ledger() -> tuple[bool, str]:
        checked, broken = verify_ledger()
        if broken is not None:
            return False, f"chain broken at {broken.describe()}"
        wrong = verify_caches()
        if wrong is not None:
            return False, f"does not add up: {wrong.describe()}"
        return True, f"{checked} entries verified; balances and draws agree"

    return [
        _check("schema", schema),
        _check("audit chain", audit),
        _check("audit anchor", anchor),
        _check("ledger", ledger),
    ]


# --- retention --------------------------------------------------------------------------------

_NAME = re.compile(r"^kapstone-backup-(\d{8}T\d{6}Z)$")


@dataclass(frozen=True)
class Retention:
    daily: int = 14
    weekly: int = 8
    monthly: int = 12


def backups_to_remove(names: list[str], policy: Retention) -> list[str]:
    """The backup folders the policy no longer keeps: the newest backup of each of the last
    ``daily`` days, ``weekly`` ISO weeks and ``monthly`` months (that have backups) are kept.
    Names that are not complete backups (temporary ``.partial`` folders, other files) are never
    touched."""
    dated = sorted(
        (
            (dt.datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ"), name)
            for name in names
            if (m := _NAME.match(name))
        ),
        reverse=True,
    )
    keep: set[str] = set()
    for count, period in (
        (policy.daily, lambda t: t.date()),
        (policy.weekly, lambda t: t.isocalendar()[:2]),
        (policy.monthly, lambda t: (t.year, t.month)),
    ):
        seen: list[object] = []
        for when, name in dated:
            key = period(when)
            if key not in seen:
                if len(seen) == count:
                    break
                seen.append(key)
                keep.add(name)
    return [name for _when, name in dated if name not in keep]


def prune(output_dir: Path, policy: Retention) -> list[Path]:
    removed = []
    for name in backups_to_remove(
        [p.name for p in Path(output_dir).iterdir() if p.is_dir()], policy
    ):
        shutil.rmtree(Path(output_dir) / name)
        removed.append(Path(output_dir) / name)
    return removed
