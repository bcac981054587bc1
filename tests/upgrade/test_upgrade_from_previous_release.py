"""A database made by the previous release, with a clinic in it, migrates to the current code and
loses nothing: every old table keeps its rows, the audit chain and the ledger verify, and the models
have no change without its migration.

The previous release's ``src/`` is taken from git (``tests/upgrade/previous_release.txt``) and run
with this virtual environment's Python, its own package first on the path.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.backups.support import (
    QUICK_PASSWORDS_CLI,
    drop_all,
    ok,
    row_counts,
    run,
    server_for_this_leg,
)

# It finds the leg's own database server (SQLite files, or the PostgreSQL leg's server) itself.
pytestmark = pytest.mark.each_database

ROOT = Path(__file__).parents[2]
RECORD = Path(__file__).with_name("previous_release.txt")
OLD_CLI = [sys.executable, "-c", "from kapstone.cli import main; raise SystemExit(main())"]


def previous_release() -> tuple[str, str]:
    fields = dict(
        line.split(None, 1) for line in RECORD.read_text().splitlines() if line and line[0] != "#"
    )
    return fields["tag"].strip(), fields["commit"].strip()


def git(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=False, **kwargs)


def extract_previous_release(into: Path) -> Path:
    tag, commit = previous_release()
    try:
        inside = git("rev-parse", "--is-inside-work-tree", capture_output=True, text=True)
    except FileNotFoundError:
        pytest.skip("git is not installed: the previous release cannot be taken from history")
    if inside.returncode != 0:
        pytest.skip("this checkout has no git history: the previous release cannot be extracted")
    found = git("cat-file", "-e", f"{commit}^{{commit}}", capture_output=True)
    if found.returncode != 0:
        shallow = git("rev-parse", "--is-shallow-repository", capture_output=True, text=True)
        if shallow.stdout.strip() == "true":
            pytest.skip(f"this clone is shallow and lacks {tag} ({commit}); fetch its history")
        pytest.fail(f"{tag} ({commit}) named in {RECORD.name} is not in this repository")
    archive = git("archive", "--format=tar", commit, "src", capture_output=True)
    assert archive.returncode == 0, archive.stderr
    into.mkdir(parents=True)
    tar_path = into / "previous.tar"
    tar_path.write_bytes(archive.stdout)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def guards(server, name: str) -> list[tuple]:
    """The triggers (and, on PostgreSQL, their functions) the migrations built."""
    if server.vendor == "sqlite":
        return server.query(
            name, "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY 1"
        )
    triggers = server.query(
        name,
        "SELECT tgname, tgrelid::regclass::text, pg_get_triggerdef(oid) FROM pg_trigger "
        "WHERE NOT tgisinternal ORDER BY 1, 2",
    )
    functions = server.query(
        name,
        "SELECT proname, prosrc FROM pg_proc JOIN pg_namespace n ON n.oid = pronamespace "
        "WHERE nspname = 'public' ORDER BY 1",
    )
    return triggers + functions


def seeded_programs(server, name: str) -> list[tuple]:
    return server.query(
        name,
        "SELECT key, version, name, description, routes, integration, modalities, session_lengths, "
        "measurement, source, standard_dose, measurement_plan, change_reason "
        "FROM plans_programtemplateversion WHERE supersedes_id IS NULL ORDER BY key",
    )


def test_the_record_names_the_tag_and_its_commit():
    tag, commit = previous_release()
    assert tag.startswith("v") and len(commit) == 40
    resolved = git("rev-parse", f"{tag}^{{commit}}", capture_output=True, text=True)
    if resolved.returncode == 0:  # clones without tags still have the commit
        assert resolved.stdout.strip() == commit


def test_a_database_of_the_previous_release_upgrades_with_nothing_lost(tmp_path):
    old_src = extract_previous_release(tmp_path / "previous")
    server = server_for_this_leg(tmp_path)
    name = server.create("kap_upgrade")
    created = [name]
    url = server.url(name)
    old_env = {"PYTHONPATH": str(old_src)}
    try:
        imported = ok(
            run(
                "-c",
                "import kapstone; print(kapstone.__file__)",
                url=url,
                argv0=[sys.executable],
                env=old_env,
            )
        )
        assert imported.stdout.strip() == str(old_src / "kapstone" / "__init__.py")
        ok(run("migrate", "--no-input", "-v", "0", url=url, argv0=OLD_CLI, env=old_env))
        ok(run("demo_clinic", "--patients", "4", url=url, argv0=QUICK_PASSWORDS_CLI, env=old_env))
        before = row_counts(server, name)
        assert before["audit_auditentry"] > 100 and before["ledger_ledgerentry"] > 0

        ok(run("migrate", "--no-input", url=url))
        after = row_counts(server, name)
        # Django's own bookkeeping grows with every new migration and model; nothing else may change.
        bookkeeping = {"django_migrations", "django_content_type", "auth_permission"}
        assert {t: after.get(t) for t in before if t not in bookkeeping} == {
            t: n for t, n in before.items() if t not in bookkeeping
        }
        assert all(after[t] >= before[t] for t in bookkeeping & before.keys())
        assert "Audit chain intact" in ok(run("audit", "verify", url=url)).stdout
        assert "Ledger chain intact" in ok(run("verify_ledger", url=url)).stdout
        ok(run("makemigrations", "--check", "--dry-run", url=url))

        # The guards and seeds the old migrations built (importing the helpers of their day) are
        # those the current, self-contained migrations build on a fresh database.
        # A fresh database: what `kapstone migrate` builds from nothing (the leg's template, built
        # by that very command once for the run: tests/migrated.py).
        created.append(server.migrated("kap_upgrade_fresh"))
        fresh = created[-1]
        assert len(guards(server, name)) > 50
        assert guards(server, fresh) == guards(server, name)
        assert seeded_programs(server, fresh) == seeded_programs(server, name)
    finally:
        drop_all(server, created)
