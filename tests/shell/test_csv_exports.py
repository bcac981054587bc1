"""Every CSV export escapes a text cell a spreadsheet would run as a formula, "-" included (issue 14,
point 7), and leaves real numbers as numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from kapstone.cohorts.presenters import Table as CohortTable
from kapstone.cohorts.presenters import as_csv as cohort_csv
from kapstone.interop.deidentify import Column, ColumnType
from kapstone.interop.deidentify import Table as ResearchTable
from kapstone.ledger.reports import Report
from kapstone.ledger.reports import as_csv as ledger_csv
from kapstone.research.files import table_csv
from kapstone.spreadsheet import safe_cell, write_csv

PAYLOADS = [
    '=HYPERLINK("http://x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "-5 mg",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_text_cell_starting_like_a_formula_is_escaped(payload):
    assert safe_cell(payload) == "'" + payload


@pytest.mark.parametrize(
    "value", [-5, Decimal("-0.25"), -1.5, 0, True, "-5", "-0.25", "+12", "Ketamine", "a-b", ""]
)
def test_numbers_and_plain_text_are_left_alone(value):
    assert safe_cell(value) == value


def test_none_is_an_empty_cell():
    assert safe_cell(None) == ""


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_the_ledger_report_uses_it():
    report = Report(key="waste", title="Waste", columns=("-Note", "Amount"))
    report.rows.append(("-2+3+cmd|' /C calc'!A0", "-5"))
    rows = _read(ledger_csv(report))
    assert rows == [["'-Note", "Amount"], ["'-2+3+cmd|' /C calc'!A0", "-5"]]


def test_the_cohort_tables_use_it():
    table = CohortTable(key="t", title="T", columns=("Group",), rows=(("=1+1",), ("-4.5",)))
    rows = _read(cohort_csv(table, (("Filters", "@all"),)))
    assert rows == [["Group", "Filters"], ["'=1+1", "'@all"], ["-4.5", "'@all"]]


def test_the_research_export_uses_it():
    table = ResearchTable(
        name="t",
        description="",
        columns=(
            Column("note", ColumnType.STRING, "a note"),
            Column("change", ColumnType.INTEGER, "a change"),
        ),
        rows=(("-1+1", -3), (None, 4)),
    )
    assert _read(table_csv(table).decode()) == [["note", "change"], ["'-1+1", "-3"], ["", "4"]]


def test_write_csv_keeps_its_line_ending():
    assert write_csv(["a"], [["b"]], lineterminator="\n") == "a\nb\n"
