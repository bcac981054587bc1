"""The snapshot of the core's cited values is up to date, stable, and compared release to release."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from kapstone.safety_case import changes, cli, clinical_values, log

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def snapshot() -> dict[str, object]:
    return clinical_values.snapshot()


def test_the_committed_snapshot_is_up_to_date(snapshot):
    committed = (ROOT / cli.VALUES).read_text(encoding="utf-8")
    assert committed == clinical_values.dumps(snapshot), (
        f"{cli.VALUES} is stale: run `kapstone safety_case values --write` and commit it"
    )


def test_cited_values_are_found_under_the_module_that_defines_them(snapshot):
    values = snapshot["values"]
    assert isinstance(values, dict)
    iv = values["kapstone.clinical.dosing.DEFAULT_DOSING_POLICY.routes[iv].max_mg_per_kg"]
    assert iv["values"] == {"value": "1.0"}
    assert iv["source"]["key"] == "§3" and iv["source"]["verification"] == "unverified"
    # A rule in a list is named by its id; a value shared by two routes is under both.
    assert any(
        p.startswith("kapstone.clinical.monitoring_policy.DEFAULT_THRESHOLD_RULES[") for p in values
    )
    assert "kapstone.clinical.dosing.DEFAULT_DOSING_POLICY.routes[im].dose_step_mg" in values
    # The scheduling policy's sources sit in a mapping beside its fields; its defaults are walked.
    window = values["kapstone.scheduling.policy.SchedulingPolicy().integration_window_hours"]
    assert window["values"] == {"value": 24}


HAZARDS = log.load(ROOT / cli.LOG).hazards
ENTRY = {
    "kind": "PolicyValue",
    "values": {"value": "1.0"},
    "source": {"key": "§3", "verification": "unverified", "evidence": "clinic_policy", "note": ""},
}


def test_a_changed_ceiling_is_listed_with_the_hazards_it_touches():
    path = "kapstone.clinical.dosing.DEFAULT_DOSING_POLICY.routes[iv].max_mg_per_kg"
    after = {**ENTRY, "values": {"value": "0.8"}}
    (change,) = changes.compare({path: ENTRY}, {path: after}, HAZARDS)
    assert change.kind == "changed" and change.said() == '"1.0" → "0.8"'
    assert "HAZ-001" in change.hazards  # rests on §3 and names kapstone.clinical.dosing code


def test_added_removed_and_a_new_source_are_listed():
    section = {**ENTRY, "source": {**ENTRY["source"], "key": "§2.2"}}
    before = {"kapstone.clinical.alerts.X": ENTRY, "kapstone.clinical.routes.Y": ENTRY}
    after = {"kapstone.clinical.alerts.X": section, "kapstone.interop.deidentify.Z": ENTRY}
    found = {c.path: c for c in changes.compare(before, after, HAZARDS)}
    assert found["kapstone.clinical.routes.Y"].kind == "removed"
    assert found["kapstone.interop.deidentify.Z"].kind == "added"
    moved = found["kapstone.clinical.alerts.X"]
    assert moved.said() == "source §3 (unverified) → §2.2 (unverified)"
    # §2.2 is what the alert hazards rest on; the alert module is what HAZ-002's control names.
    assert {"HAZ-002", "HAZ-003", "HAZ-008"} <= set(moved.hazards)
    assert "HAZ-012" in found["kapstone.interop.deidentify.Z"].hazards
    assert changes.compare(before, before, HAZARDS) == []
    text = changes.report(list(found.values()), "v1", "v2")
    assert text.startswith("3 cited clinical value(s) changed between v1 and v2")


def test_a_section_touches_its_subsections_and_not_its_neighbours():
    assert changes._section_related("§2", "§2.2") and changes._section_related("§2.2", "§2")
    assert not changes._section_related("§2", "§11.1") and not changes._section_related("§1", "§11")


def test_clinical_changes_reads_a_ref_from_git_and_says_what_changed(capsys):
    if (
        shutil.which("git") is None
        or subprocess.run(
            ["git", "cat-file", "-e", f"HEAD:{cli.VALUES}"], cwd=ROOT, check=False
        ).returncode
    ):
        pytest.skip("not a git checkout whose HEAD holds the snapshot")
    assert (
        changes.values_at("HEAD", ROOT)
        == json.loads(
            subprocess.run(
                ["git", "show", f"HEAD:{cli.VALUES}"], cwd=ROOT, capture_output=True, check=True
            ).stdout
        )["values"]
    )
    assert changes.run(["--root", str(ROOT), "--from", "HEAD", "--to", "HEAD", "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said == {"from": "HEAD", "to": "HEAD", "changes": []}
    assert changes.run(["--root", str(ROOT), "--from", "no-such-ref"]) == 2
