"""The safety case document, from the real log: every hazard in the Markdown page and the PDF."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from kapstone.safety_case import cli, document, pdf
from kapstone.safety_case.log import Status
from kapstone.safety_case.results import Outcome, Results

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def inputs() -> document.Inputs:
    return cli.inputs(ROOT, None)


@pytest.fixture(scope="module")
def pdf_text(inputs) -> str:
    data = pdf.render(document.blocks(inputs), title="Kapstone clinical safety case")
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_an_open_hazard_is_listed_among_the_open_issues(inputs):
    first = inputs.log.hazards[0]
    reopened = dataclasses.replace(
        inputs,
        log=dataclasses.replace(
            inputs.log,
            hazards=(dataclasses.replace(first, status=Status.OPEN), *inputs.log.hazards[1:]),
        ),
    )
    assert f"{first.id} is open: {first.title}." in document.markdown(document.blocks(reopened))


def test_the_pdf_holds_every_hazard_and_what_to_confirm(inputs, pdf_text):
    flat = " ".join(pdf_text.split())
    for hazard in inputs.log.hazards:
        assert hazard.id in flat
    assert "IEC 62304" in flat and "class C" in flat
    assert "not a replacement for clinical judgement" in flat
    assert "To confirm before go-live" in flat
    assert "Verification.UNVERIFIED" in flat


def test_the_page_holds_scope_class_matrix_hazards_evidence_and_unverified_values(inputs):
    page = document.markdown(document.blocks(inputs))
    for hazard in inputs.log.hazards:
        assert f"### {hazard.id} {hazard.title} {{#{hazard.id.lower()}}}" in page
    assert "## Software safety class (IEC 62304): class C" in page
    assert "| 5 Very high | 3 | 4 | 4 | 5 | 5 |" in page
    assert (
        "`tests/clinical/test_dosing.py::test_mg_per_kg_ceiling_per_route (no run recorded here)`"
        in page
    )
    # Open hazards are listed among the open issues; a closed one is not.
    for hazard in inputs.log.hazards:
        assert (f"{hazard.id} is open" in page) == (hazard.status.value == "open")
    # The reference's UNVERIFIED values, and the core's, each listed.
    assert len(inputs.unverified_in_reference) > 30
    core = document.core_unverified(inputs.values)
    assert len(core) > 100
    assert any(
        path == "clinical.dosing.DEFAULT_DOSING_POLICY.routes[iv].max_mg_per_kg"
        for path, *_ in core
    )
    assert "`clinical.dosing.DEFAULT_DOSING_POLICY.routes[iv].max_mg_per_kg`" in page


def test_a_run_gives_the_evidence_its_commit_and_outcomes(inputs):
    test = "tests/clinical/test_dosing.py::test_mg_per_kg_ceiling_per_route"
    run = Results(
        {f"{test}[iv]": Outcome.PASSED}, commit="0123abc", finished_at="2026-12-06T08:00:00+00:00"
    )
    page = document.markdown(
        document.blocks(document.Inputs(**{**_fields(inputs), "results": run}))
    )
    assert "on commit 0123abc" in page
    assert f"`{test} (passed)`" in page
    assert "`tests/clinical/test_dosing.py::test_weight_out_of_bounds (missing)`" in page


def _fields(inputs: document.Inputs) -> dict[str, object]:
    return {name: getattr(inputs, name) for name in document.Inputs.__slots__}
