"""The research export is written a slice of patients at a time, and what it writes is what it
wrote when it built the whole dataset in memory: every file of the zip, compared with a golden run of
the previous implementation on the same clinic (``golden/research_export.json``, made before the
change; its safe_harbor.csv since follows the rules' own text, which a rule's change updates),
whatever the slice and row-group sizes. Its reads grow with slices and pages, never with rows."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kapstone.patients.models import Patient
from kapstone.research import files, selectors
from tests.shell import test_research_export
from tests.shell.test_research_export import PERIOD, export

# The same clinic as the export's own tests, built once for this module too.
_kept = test_research_export._kept
clinic = test_research_export.clinic
export_clinic = test_research_export.export_clinic

GOLDEN = json.loads((Path(__file__).parent / "golden" / "research_export.json").read_text())


def _members(path: str) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info.filename) for info in archive.infolist()}


def _same_as_golden(members: dict[str, bytes], golden: dict[str, dict], *, parquet_bytes: bool):
    assert list(members) == list(golden)  # the same files, in the same order
    for name, raw in members.items():
        expected = golden[name]
        if name.endswith(".parquet"):
            assert pq.read_table(io.BytesIO(raw)).to_pylist() == expected["rows"], name
            if parquet_bytes:
                assert hashlib.sha256(raw).hexdigest() == expected["sha256"], name
            continue
        assert raw.decode("utf-8") == expected["text"], name  # a readable diff first
        assert hashlib.sha256(raw).hexdigest() == expected["sha256"], name


@pytest.mark.parametrize("suppress", [False, True], ids=["all", "suppressed"])
@pytest.mark.parametrize("size", [1, 3, selectors.SLICE])
def test_the_sliced_export_writes_what_the_whole_dataset_wrote(
    clinic, export_clinic, monkeypatch, suppress, size
):
    monkeypatch.setattr(selectors, "SLICE", size)
    done = export(clinic, suppress=suppress)
    golden = GOLDEN["suppressed" if suppress else "all"]
    _same_as_golden(_members(done.file_path), golden, parquet_bytes=True)
    assert done.counts == json.loads(golden["manifest.json"]["text"])["tables"]


def test_parquet_row_groups_are_cut_where_writing_at_once_cuts_them(
    clinic, export_clinic, monkeypatch
):
    monkeypatch.setattr(selectors, "SLICE", 2)
    monkeypatch.setattr(files, "ROW_GROUP", 2)
    done = export(clinic)
    members = _members(done.file_path)
    _same_as_golden(members, GOLDEN["all"], parquet_bytes=False)
    for name, raw in members.items():
        if name.endswith(".parquet"):
            table = pq.read_table(io.BytesIO(raw))
            at_once = io.BytesIO()
            pq.write_table(table, at_once, row_group_size=2)
            assert raw == at_once.getvalue(), name  # slice after slice, yet the same bytes
            assert pq.ParquetFile(io.BytesIO(raw)).num_row_groups == max(
                (table.num_rows + 1) // 2, 1 if table.num_rows == 0 else 0
            ), name


def _queries(read) -> int:
    with CaptureQueriesContext(connection) as captured:
        read()
    return len(captured)


# scores; sessions, charts, doses, vitals, ratings, adverse events, dose times; integration
# sessions, signed notes, corrections.
EVENT_QUERIES = 11


def test_a_slice_is_read_in_a_fixed_number_of_queries(clinic, export_clinic):
    everyone = list(Patient.objects.order_by("pk").values_list("pk", flat=True))
    zeb = [export_clinic.zeb.pk]
    found = selectors.events(everyone)
    assert len(found.scores) >= 3 and len(found.dosing) >= 3 and found.integration
    assert sum(len(d.vitals) for d in found.dosing) >= 2
    assert _queries(lambda: selectors.events(zeb)) == EVENT_QUERIES
    assert _queries(lambda: selectors.events(everyone)) == EVENT_QUERIES


def test_patients_are_read_in_pages_of_three_queries(clinic, export_clinic, monkeypatch):
    def read() -> None:
        selectors.source_patients(
            site_ids=[], programs=[], start=PERIOD["period_start"], end=PERIOD["period_end"]
        )

    pages = Patient.objects.count()
    assert _queries(read) == 3  # one page
    monkeypatch.setattr(selectors, "PAGE", 1)
    assert _queries(read) == 3 * pages + 1  # and the empty page that ends the walk


def test_a_failed_export_leaves_no_work_files(tmp_path):
    path = tmp_path / "exports" / "research-export-1.zip"
    with pytest.raises(RuntimeError), files.ExportWriter(path) as writer:
        assert writer.folder.is_dir() and writer.folder.parent == path.parent
        raise RuntimeError("the database went away")
    assert list(path.parent.iterdir()) == []


def test_the_whole_export_queries_grow_with_slices_not_rows(clinic, export_clinic, monkeypatch):
    """A slice's reads, plus one progress update, are all that each more slice costs."""
    kept = len(
        selectors.source_patients(
            site_ids=[], programs=[], start=PERIOD["period_start"], end=PERIOD["period_end"]
        )
    )
    assert kept >= 5
    with CaptureQueriesContext(connection) as whole:
        export(clinic)
    monkeypatch.setattr(selectors, "SLICE", 1)
    with CaptureQueriesContext(connection) as sliced:
        export(clinic)
    per_slice = EVENT_QUERIES + 1  # its events, and the progress shown on the page
    assert len(sliced) <= len(whole) + per_slice * (kept - 1), (len(whole), len(sliced))
