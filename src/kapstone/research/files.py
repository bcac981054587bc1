"""Writing a de-identified dataset to its files and zipping them.

Everything written comes from the core's :class:`Dataset` (already de-identified): CSV and Parquet
per table, the data dictionary (CSV and Markdown), the k-anonymity report (CSV and Markdown), the
Safe Harbor table, FHIR R4 bulk NDJSON (one file per resource type) and a manifest.

An export is written as it is built, a slice of patients at a time (:class:`ExportWriter`): each
slice's rows are appended to every table's CSV, Parquet (row groups of :data:`ROW_GROUP` rows, held
as Arrow columns until full) and FHIR NDJSON files in a work folder beside the zip, and the zip is
made from those files at the end. Memory holds one slice and one row group a table, never the whole
dataset; every file is byte for byte what writing the whole dataset at once gives (the CSV and
NDJSON lines are the same lines in the same order; the Parquet row groups are cut where
``pyarrow.parquet.write_table`` cuts them).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import pyarrow as pa
import pyarrow.parquet as pq

from kapstone.interop.deidentify import (
    SAFE_HARBOR,
    SAFE_HARBOR_CITATION,
    TABLES,
    Cell,
    ColumnType,
    Dataset,
    Table,
)
from kapstone.interop.fhir_research import (
    ANCHOR,
    Resource,
    medication_administrations,
    patient_resources,
    procedures,
    score_observations,
    vital_observations,
)
from kapstone.spreadsheet import safe_cell, write_csv

_ARROW = {
    ColumnType.STRING: pa.string(),
    ColumnType.INTEGER: pa.int64(),
    ColumnType.DECIMAL: pa.float64(),
    ColumnType.BOOLEAN: pa.bool_(),
}

Progress = Callable[[int, str], None]


def _csv(header: list[str], rows: list[list[Cell]] | list[tuple[Cell, ...]]) -> bytes:
    return write_csv(header, rows, lineterminator="\n").encode("utf-8")


def table_csv(table: Table) -> bytes:
    return _csv([c.name for c in table.columns], list(table.rows))


def _schema(table: Table) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW[c.type], nullable=True) for c in table.columns])


def _arrow(table: Table, rows: Sequence[tuple[Cell, ...]]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(table.columns)
    return pa.Table.from_arrays(
        [
            pa.array(list(values), type=_ARROW[c.type])
            for c, values in zip(table.columns, columns, strict=True)
        ],
        schema=_schema(table),
    )


def table_parquet(table: Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(_arrow(table, table.rows), sink)
    return sink.getvalue()


_DICTIONARY_HEADER = ["table", "column", "type", "meaning", "units", "transformation"]


def dictionary_rows(dataset: Dataset) -> list[list[Cell]]:
    return [
        [table.name, c.name, c.type.value, c.meaning, c.units, c.transformation]
        for table in dataset.tables
        for c in table.columns
    ]


def dictionary_markdown(dataset: Dataset, counts: Mapping[str, int] | None = None) -> str:
    """The dictionary; ``counts`` (table -> rows) when the dataset's tables do not hold the rows
    (an export written a slice at a time)."""
    k = dataset.k_report
    lines = [
        "# Kapstone de-identified research export: data dictionary",
        "",
        f"De-identified under HIPAA Safe Harbor ({SAFE_HARBOR_CITATION}); see safe_harbor.csv for "
        "what was done with each of the 18 identifier classes. De-identification policy "
        f"{dataset.policy.version}; outcome policy {dataset.outcome_policy_version}.",
        "",
        "- Patients are identified only by a random pseudonym drawn for this export "
        "(patient_id, p-<12 hex>); the key is not kept, so exports cannot be linked.",
        "- Dates are whole days from the patient's first contact (day 0): the earlier of "
        "registration and the first questionnaire sent, counted in the clinic's time zone. No "
        "calendar date or year is included.",
        f"- FHIR files: FHIR needs dates, so day n is written as {ANCHOR.isoformat()} + n days "
        f"(a fixed fake anchor: {ANCHOR.isoformat()} is day 0 for every patient), and the offset "
        "is repeated in the extension urn:kapstone:research:day-offset.",
        "- Ages are bands of the age at first contact; every age over 89 is '90+'.",
        "- Free text (notes, reasons, descriptions) is left out. Sites are random codes.",
        f"- k-anonymity over {', '.join(k.quasi_identifiers)}: k = {k.k} "
        f"(threshold {k.threshold}, {k.threshold_source.cite()}); see k_anonymity.md.",
        "- Empty cells are missing values (not recorded, or not applicable).",
        "",
    ]
    for table in dataset.tables:
        rows = len(table.rows) if counts is None else counts[table.name]
        lines += [f"## {table.name} ({rows} rows)", "", table.description, ""]
        lines += ["| column | type | meaning | units | transformation |", "|---|---|---|---|---|"]
        lines += [
            f"| {c.name} | {c.type.value} | {c.meaning} | {c.units} | {c.transformation} |"
            for c in table.columns
        ]
        lines.append("")
    return "\n".join(lines)


def k_report_rows(dataset: Dataset) -> list[list[Cell]]:
    k = dataset.k_report
    return [[*c.values, c.size, c.size < k.threshold] for c in k.classes]


def k_report_markdown(dataset: Dataset) -> str:
    k = dataset.k_report
    lines = [
        "# k-anonymity report",
        "",
        f"Quasi-identifiers: {', '.join(k.quasi_identifiers)}. Patients: {k.rows}. "
        f"Equivalence classes: {len(k.classes)}. **k = {k.k}** (the smallest class).",
        "",
        f"Threshold: k = {k.threshold} ({k.threshold_source.cite()}: {k.threshold_source.note})",
        "",
        f"Classes below the threshold: {len(k.below_threshold)} "
        f"({sum(c.size for c in k.below_threshold)} patients).",
    ]
    if k.k_after is not None:
        lines.append(
            f"Suppression applied: {k.suppressed} patients removed from every table; "
            f"k of the exported data = {k.k_after}."
        )
    else:
        lines.append("Suppression not applied: every patient is in the data.")
    lines += ["", "| " + " | ".join(k.quasi_identifiers) + " | patients |"]
    lines.append("|" + "---|" * (len(k.quasi_identifiers) + 1))
    lines += [f"| {' | '.join(c.values)} | {c.size} |" for c in k.below_threshold]
    return "\n".join(lines) + "\n"


def safe_harbor_rows() -> list[list[Cell]]:
    return [
        [r.identifier.value, r.identifier.label, "; ".join(r.held), r.handling.value, r.how]
        for r in SAFE_HARBOR
    ]


def ndjson_line(resource: Resource) -> bytes:
    return json.dumps(resource, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"


def ndjson(resources: list[dict[str, object]]) -> bytes:
    return b"".join(ndjson_line(r) for r in resources)


# pyarrow.parquet.write_table's row groups (its default): a table written a slice at a time is cut
# where the whole table written at once would be, so the file is the same.
ROW_GROUP = 1024 * 1024


class _TableFiles:
    """One table's CSV and Parquet files, appended to a slice at a time."""

    def __init__(self, table: Table, folder: Path) -> None:
        self.table = table
        self.rows = 0
        self.csv_path = folder / f"{table.name}.csv"
        self.parquet_path = folder / f"{table.name}.parquet"
        self._csv: IO[str] = self.csv_path.open("w", encoding="utf-8", newline="")
        self._csv_writer = csv.writer(self._csv, lineterminator="\n")
        self._csv_writer.writerow([safe_cell(c.name) for c in table.columns])
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._parquet: pq.ParquetWriter | None = None

    def add(self, rows: Sequence[tuple[Cell, ...]]) -> None:
        if not rows:
            return
        self.rows += len(rows)
        self._csv_writer.writerows([safe_cell(v) for v in row] for row in rows)
        self._pending.append(_arrow(self.table, rows))
        self._pending_rows += len(rows)
        if self._pending_rows >= ROW_GROUP:
            self._write_groups(final=False)

    def _write_groups(self, *, final: bool) -> None:
        held = pa.concat_tables(self._pending).combine_chunks()
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self.parquet_path, _schema(self.table))
        start = 0
        while held.num_rows - start >= ROW_GROUP or (final and start < held.num_rows):
            self._parquet.write_table(held.slice(start, ROW_GROUP))
            start += ROW_GROUP
        rest = held.slice(start)
        self._pending = [rest] if rest.num_rows else []
        self._pending_rows = rest.num_rows

    def close(self) -> None:
        self._csv.close()
        if self._pending_rows:
            self._write_groups(final=True)
        if self._parquet is not None:
            self._parquet.close()
        elif not self.parquet_path.exists():  # no rows: the empty table, as written at once
            self.parquet_path.write_bytes(table_parquet(self.table))


# The FHIR files' parts, in the order of ``fhir_research.bulk_resources``: Observation is the
# questionnaire totals, then the vital-sign summaries.
FHIR_PARTS: tuple[tuple[str, Callable[[Dataset], Iterator[Resource]]], ...] = (
    ("Patient", patient_resources),
    ("Observation", score_observations),
    ("Observation", vital_observations),
    ("Procedure", procedures),
    ("MedicationAdministration", medication_administrations),
)


class FhirFiles:
    """The FHIR R4 bulk NDJSON of a dataset written a slice at a time, one file per part."""

    def __init__(self, folder: Path) -> None:
        self.paths = [folder / f"fhir-{n}-{name}.ndjson" for n, (name, _) in enumerate(FHIR_PARTS)]
        self._files: list[IO[bytes]] = [path.open("wb") for path in self.paths]
        self.counts: dict[str, int] = dict.fromkeys((name for name, _ in FHIR_PARTS), 0)

    def add(self, dataset: Dataset) -> int:
        """Writes the slice's resources; returns how many."""
        written = 0
        for (name, build), out in zip(FHIR_PARTS, self._files, strict=True):
            lines = [ndjson_line(r) for r in build(dataset)]
            out.write(b"".join(lines))
            self.counts[name] += len(lines)
            written += len(lines)
        return written

    def close(self) -> None:
        for out in self._files:
            out.close()

    def members(self) -> dict[str, list[Path]]:
        """Resource type -> the files its NDJSON is, in order."""
        found: dict[str, list[Path]] = {}
        for (name, _), path in zip(FHIR_PARTS, self.paths, strict=True):
            found.setdefault(name, []).append(path)
        return found


def _member(archive: zipfile.ZipFile, name: str, parts: Sequence[Path]) -> None:
    """A zip member from files on disk, as ``ZipFile.writestr`` would store their bytes."""
    info = zipfile.ZipInfo(filename=name, date_time=time.localtime(time.time())[:6])
    info.compress_type = archive.compression
    info._compresslevel = archive.compresslevel  # type: ignore[attr-defined]  # as writestr
    info.external_attr = 0o600 << 16
    info.file_size = sum(part.stat().st_size for part in parts)
    with archive.open(info, "w") as dest:
        for part in parts:
            with part.open("rb") as source:
                shutil.copyfileobj(source, dest, 1 << 20)


class ExportWriter:
    """An export written as it is built: :meth:`add` each slice's de-identified tables (in the
    plan's order), then :meth:`finish` makes the zip. The work folder beside the zip is removed
    when the writer is left, whether the export finished or failed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix=".research-work-", dir=path.parent))
        self.tables = {t.name: _TableFiles(t, self.folder) for t in TABLES}
        self.fhir = FhirFiles(self.folder)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.path.with_suffix(".part").unlink(missing_ok=True)

    @property
    def counts(self) -> dict[str, int]:
        return {name: files.rows for name, files in self.tables.items()}

    def add(self, piece: Dataset) -> None:
        """One slice (its tables hold the slice's rows): every table's rows, its FHIR resources."""
        for table in piece.tables:
            self.tables[table.name].add(table.rows)
        self.fhir.add(piece)

    def finish(self, dataset: Dataset, progress: Progress) -> tuple[int, str]:
        """The zip, from the files written; ``dataset`` gives the report, the policies and the
        tables' columns (its rows are not read). Returns the zip's size and sha256."""
        for files in self.tables.values():
            files.close()
        self.fhir.close()
        counts = self.counts
        partial = self.path.with_suffix(".part")
        steps = len(self.tables) + 2
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for n, (name, files) in enumerate(self.tables.items(), start=1):
                _member(archive, f"csv/{name}.csv", [files.csv_path])
                _member(archive, f"parquet/{name}.parquet", [files.parquet_path])
                progress(n * 100 // steps, f"Wrote {name}")
            _write_about(archive, dataset, counts)
            for resource_type, parts in self.fhir.members().items():
                _member(archive, f"fhir/{resource_type}.ndjson", parts)
            progress((steps - 1) * 100 // steps, "Wrote the FHIR files")
            archive.writestr("manifest.json", _manifest(dataset, counts))
        digest = hashlib.sha256()
        with partial.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        size = partial.stat().st_size
        partial.replace(self.path)
        return size, digest.hexdigest()


def _write_about(archive: zipfile.ZipFile, dataset: Dataset, counts: Mapping[str, int]) -> None:
    """The data dictionary, the k-anonymity report and the Safe Harbor table."""
    archive.writestr("data_dictionary.csv", _csv(_DICTIONARY_HEADER, dictionary_rows(dataset)))
    archive.writestr("data_dictionary.md", dictionary_markdown(dataset, counts))
    k = dataset.k_report
    archive.writestr(
        "k_anonymity.csv",
        _csv([*k.quasi_identifiers, "patients", "below_threshold"], k_report_rows(dataset)),
    )
    archive.writestr("k_anonymity.md", k_report_markdown(dataset))
    archive.writestr(
        "safe_harbor.csv",
        _csv(["class", "identifier", "held_in_kapstone", "handling", "how"], safe_harbor_rows()),
    )


def _manifest(dataset: Dataset, counts: Mapping[str, int]) -> str:
    manifest = {
        "format": "kapstone-research-export/1",
        "deidentification": f"HIPAA Safe Harbor, {SAFE_HARBOR_CITATION}",
        "policy_version": dataset.policy.version,
        "outcome_policy_version": dataset.outcome_policy_version,
        "fhir_date_anchor": ANCHOR.isoformat(),
        "tables": dict(counts),
        "k_anonymity": dataset.k_report.summary(),
    }
    return json.dumps(manifest, indent=2)


def write_zip(dataset: Dataset, path: Path, progress: Progress) -> tuple[int, str]:
    """Writes a dataset built at once (every row in memory) into the zip at ``path``, as one
    slice; returns its size and sha256."""
    with ExportWriter(path) as writer:
        writer.add(dataset)
        return writer.finish(dataset, progress)
