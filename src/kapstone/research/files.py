"""Writing a de-identified dataset to its files and zipping them.

Everything written comes from the core's :class:`Dataset` (already de-identified): CSV and Parquet
per table, the data dictionary (CSV and Markdown), the k-anonymity report (CSV and Markdown), the
Safe Harbor table, FHIR R4 bulk NDJSON (one file per resource type) and a manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kapstone.interop.deidentify import (
    SAFE_HARBOR,
    SAFE_HARBOR_CITATION,
    Cell,
    ColumnType,
    Dataset,
    Table,
)
from kapstone.interop.fhir_research import ANCHOR, bulk_resources
from kapstone.spreadsheet import write_csv

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


def table_parquet(table: Table) -> bytes:
    schema = pa.schema([pa.field(c.name, _ARROW[c.type], nullable=True) for c in table.columns])
    columns = list(zip(*table.rows, strict=True)) if table.rows else [()] * len(table.columns)
    arrow = pa.Table.from_arrays(
        [
            pa.array(list(values), type=_ARROW[c.type])
            for c, values in zip(table.columns, columns, strict=True)
        ],
        schema=schema,
    )
    sink = io.BytesIO()
    pq.write_table(arrow, sink)
    return sink.getvalue()


_DICTIONARY_HEADER = ["table", "column", "type", "meaning", "units", "transformation"]


def dictionary_rows(dataset: Dataset) -> list[list[Cell]]:
    return [
        [table.name, c.name, c.type.value, c.meaning, c.units, c.transformation]
        for table in dataset.tables
        for c in table.columns
    ]


def dictionary_markdown(dataset: Dataset) -> str:
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
        lines += [f"## {table.name} ({len(table.rows)} rows)", "", table.description, ""]
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


def ndjson(resources: list[dict[str, object]]) -> bytes:
    return b"".join(
        json.dumps(r, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"
        for r in resources
    )


def write_zip(dataset: Dataset, path: Path, progress: Progress) -> tuple[int, str]:
    """Writes every file into the zip at ``path``; returns its size and sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    steps = len(dataset.tables) + 2
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for n, table in enumerate(dataset.tables, start=1):
            archive.writestr(f"csv/{table.name}.csv", table_csv(table))
            archive.writestr(f"parquet/{table.name}.parquet", table_parquet(table))
            progress(n * 100 // steps, f"Wrote {table.name}")
        archive.writestr("data_dictionary.csv", _csv(_DICTIONARY_HEADER, dictionary_rows(dataset)))
        archive.writestr("data_dictionary.md", dictionary_markdown(dataset))
        k = dataset.k_report
        archive.writestr(
            "k_anonymity.csv",
            _csv([*k.quasi_identifiers, "patients", "below_threshold"], k_report_rows(dataset)),
        )
        archive.writestr("k_anonymity.md", k_report_markdown(dataset))
        archive.writestr(
            "safe_harbor.csv",
            _csv(
                ["class", "identifier", "held_in_kapstone", "handling", "how"], safe_harbor_rows()
            ),
        )
        for resource_type, resources in bulk_resources(dataset).items():
            archive.writestr(f"fhir/{resource_type}.ndjson", ndjson(resources))
        progress((steps - 1) * 100 // steps, "Wrote the FHIR files")
        manifest = {
            "format": "kapstone-research-export/1",
            "deidentification": f"HIPAA Safe Harbor, {SAFE_HARBOR_CITATION}",
            "policy_version": dataset.policy.version,
            "outcome_policy_version": dataset.outcome_policy_version,
            "fhir_date_anchor": ANCHOR.isoformat(),
            "tables": {t.name: len(t.rows) for t in dataset.tables},
            "k_anonymity": dataset.k_report.summary(),
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    digest = hashlib.sha256()
    with partial.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    size = partial.stat().st_size
    partial.replace(path)
    return size, digest.hexdigest()
