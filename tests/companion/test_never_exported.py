"""Journal entries and e-consent rows never leave for research or through the FHIR API: a marker
written into each is found in the database and in no exported file or served resource."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from django.utils import timezone

from kapstone.companion.models import PatientAccount
from kapstone.consents import services as consent_services
from kapstone.consents.models import ConsentSignature
from kapstone.fhirapi import registry
from kapstone.journal.models import JournalEntry
from kapstone.journal.selectors import homework_note
from kapstone.plans.selectors import plan_in_force
from tests.companion.plan_support import write
from tests.companion.support import make_account
from tests.fhirapi.clinic_support import build_fhir_clinic, everything
from tests.shell.test_research_export import ExportClinic, _export_clinic, export, read_back

SOURCE = Path(__file__).resolve().parents[2] / "src" / "kapstone"


@pytest.fixture
def export_clinic(clinic, settings, tmp_path) -> ExportClinic:
    """The research export's patients (tests/shell/test_research_export.py), on this test's
    clinic."""
    settings.RESEARCH_EXPORT_DIR = tmp_path / "exports"
    return _export_clinic(clinic)


ENTRY = "JOURNAL-MARKER-quokka-5521 my private reflection"
TICK = "HOMEWORK-MARKER-wombat-8830"
AGENT = "AGENT-MARKER-numbat-1197"
ADDRESS = "203.0.113.77"
MARKERS = (ENTRY, TICK, AGENT, ADDRESS)


def leave_markers(patient, by) -> None:  # type: ignore[no-untyped-def]
    """A shared entry (with a homework note when the patient has homework) and a private one, and
    an e-consent signature on the plan in force, each carrying a marker."""
    # The demo clinic gives a few mid-course patients an account already.
    account = PatientAccount.objects.filter(patient=patient).first() or make_account(
        patient=patient, by=by
    )
    note = homework_note(patient)
    from kapstone.journal.selectors import homework_of

    ticks = [(a, True, TICK) for a in homework_of(note)[:1]]
    write(account, text=ENTRY, shared=True, note=note, ticks=ticks, mood=4)
    write(account, text=f"private {ENTRY}")
    plan = plan_in_force(patient)
    if plan is not None:
        document = consent_services.ensure_first_document(at=timezone.now())
        consent_services.sign_consent(
            account=account,
            plan=plan,
            document=document,
            shown_hash=document.content_hash,
            typed_name=patient.display_name,
            read_and_understood=True,
            at=timezone.now(),
            ip_address=ADDRESS,
            user_agent=AGENT,
        )


def in_the_database() -> str:
    rows = list(JournalEntry.objects.values()) + list(ConsentSignature.objects.values())
    return json.dumps(rows, default=str)


@pytest.mark.django_db
def test_no_journal_or_consent_marker_is_in_any_research_export_file(clinic, export_clinic):
    leave_markers(export_clinic.zeb, clinic.staff["prescriber"])
    source = in_the_database()
    assert all(marker in source for marker in MARKERS)  # the search below is real
    assert ConsentSignature.objects.filter(patient=export_clinic.zeb).exists()
    done = export(clinic)
    files = read_back(Path(done.file_path))
    assert files.names  # the export holds files (zeb's data among them)
    for name, text in files.text.items():
        for marker in MARKERS:
            assert marker not in text, f"{marker!r} found in {name}"


@pytest.mark.django_db
def test_no_journal_or_consent_marker_is_served_or_bulk_exported_by_the_fhir_api():
    built = build_fhir_clinic()
    patient = next(p for p in built.demo.patients if plan_in_force(p) is not None)
    leave_markers(patient, patient.prescriber)
    assert all(marker in in_the_database() for marker in MARKERS)
    for name, kind in registry.KINDS.items():
        served = json.dumps(everything(kind))
        exported = json.dumps(list(kind.export(patient_ids=None, since=None)), default=str)
        for marker in MARKERS:
            assert marker not in served, (name, marker)
            assert marker not in exported, (name, marker)


@pytest.mark.parametrize("package", ["research", "fhirapi", "interop"])
def test_the_exporters_never_import_the_journal_or_consents(package):
    """The exports are built only from what they import: neither app is among it."""
    found = []
    for path in (SOURCE / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            found += [
                f"{path.name}: {n}"
                for n in names
                if n.startswith(("kapstone.journal", "kapstone.consents"))
            ]
    assert found == []
