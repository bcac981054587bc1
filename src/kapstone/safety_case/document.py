"""The safety case as a document: built once as blocks, written as Markdown (the docs site) or PDF.

Contents: scope and intended use, the IEC 62304 software safety class and its argument, the risk
matrix, every hazard with its controls and their evidence (the tests, and the commit and run they
passed in when a results file is given), open issues, and what the medical director must confirm
before go-live: the values docs/clinical-reference.md marks UNVERIFIED and the core's cited values
whose Source is UNVERIFIED.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kapstone.safety_case.check import Finding
from kapstone.safety_case.clinical_values import Json
from kapstone.safety_case.log import Hazard, HazardLog, Rating
from kapstone.safety_case.reference import Reference, Unverified
from kapstone.safety_case.results import Outcome, Results


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    text: str
    anchor: str = ""


@dataclass(frozen=True, slots=True)
class Para:
    text: str
    label: str = ""  # a bold lead-in: "Situation."


@dataclass(frozen=True, slots=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Table:
    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] = ()  # shares of the page width, for the PDF
    code_columns: frozenset[int] = field(default_factory=frozenset)


type Block = Heading | Para | Bullets | Table


@dataclass(frozen=True, slots=True)
class Inputs:
    log: HazardLog
    reference: Reference
    unverified_in_reference: Sequence[Unverified]
    values: Mapping[str, Json]  # the clinical-values snapshot's "values"
    commit: str | None  # the checkout's HEAD when the document was made
    results: Results | None = None
    findings: Sequence[Finding] = ()


def _level(log: HazardLog, rating: Rating) -> str:
    m = log.matrix
    return (
        f"severity {rating.severity} ({m.severity[rating.severity].name}) × likelihood "
        f"{rating.likelihood} ({m.likelihood[rating.likelihood].name}) → class {rating.risk}: "
        f"{m.classes[rating.risk]}"
    )


def _evidence(test: str, results: Results | None) -> str:
    if results is None:
        return f"{test} (no run recorded here)"
    outcome = results.outcome_of(test)
    return f"{test} ({outcome.value})" if outcome is not Outcome.PASSED else f"{test} (passed)"


def _run_said(inputs: Inputs) -> str:
    results = inputs.results
    if results is None:
        return (
            "No test run is recorded in this checkout: the evidence below names the tests only. "
            "`make test` runs every one of them and fails unless each passes; "
            "`python -m kapstone.safety_case document` after it records the run here."
        )
    commit = results.commit or "an unknown commit"
    dirty = " with uncommitted changes" if results.dirty else ""
    return (
        f"Evidence from the test run that finished at {results.finished_at} on commit "
        f"{commit}{dirty} (pytest exit status {results.exit_status}); every outcome below is that "
        "run's."
    )


def _hazard_blocks(inputs: Inputs, hazard: Hazard) -> list[Block]:
    log = inputs.log
    blocks: list[Block] = [
        Heading(3, f"{hazard.id} {hazard.title}", hazard.id.lower()),
        Para(hazard.situation, "Situation."),
        Para("", "Causes."),
        Bullets(hazard.causes),
        Para(hazard.effect, "Effect on the patient."),
        Para(_level(log, hazard.initial), "Initial risk."),
    ]
    rows = []
    for number, control in enumerate(hazard.controls, start=1):
        rows.append(
            (
                str(number),
                control.type.value,
                control.description,
                "\n".join(control.code) or "—",
                "\n".join(_evidence(t, inputs.results) for t in control.tests) or "—",
            )
        )
    blocks.append(
        Table(
            ("#", "Type", "Control", "Code", "Evidence (tests)"),
            tuple(rows),
            (0.04, 0.08, 0.30, 0.22, 0.36),
            frozenset({3, 4}),
        )
    )
    blocks.append(Para(_level(log, hazard.residual), "Residual risk."))
    if hazard.justification:
        blocks.append(Para(hazard.justification, "Justification."))
    refs = ", ".join(
        f"{k} ({inputs.reference.title(k)})" if inputs.reference.title(k) else k
        for k in hazard.references
    )
    blocks.append(Para(refs or "none (not a clinical rule)", "Clinical reference."))
    blocks.append(Para(hazard.status.value, "Status."))
    return blocks


def _matrix_blocks(log: HazardLog) -> list[Block]:
    m = log.matrix
    rows = []
    for likelihood in range(5, 0, -1):
        rows.append(
            (
                f"{likelihood} {m.likelihood[likelihood].name}",
                *(str(m.risk(s, likelihood)) for s in range(1, 6)),
            )
        )
    return [
        Heading(2, "Risk matrix", "risk-matrix"),
        Para(
            "Severity and likelihood are rated 1 to 5 as in DCB0129; the class is read from the "
            f"grid below. The acceptance line is class {log.acceptance_line}: a residual risk above "
            "it must carry a recorded justification (the check fails without one)."
        ),
        Table(
            ("Likelihood \\ severity", *(f"{s} {m.severity[s].name}" for s in range(1, 6))),
            tuple(rows),
        ),
        Table(("Class", "Meaning"), tuple((str(k), v) for k, v in sorted(m.classes.items()))),
        Table(
            ("Severity", "Meaning"),
            tuple((f"{k} {v.name}", v.meaning) for k, v in sorted(m.severity.items())),
        ),
        Table(
            ("Likelihood", "Meaning"),
            tuple((f"{k} {v.name}", v.meaning) for k, v in sorted(m.likelihood.items())),
        ),
    ]


def _shown(values: Json) -> str:
    if not isinstance(values, dict):
        return ""
    if set(values) == {"value"}:
        return str(values["value"])
    text = "; ".join(f"{k} {v}" for k, v in values.items() if k not in ("version",))
    return text if len(text) <= 140 else text[:139] + "…"


def core_unverified(values: Mapping[str, Json]) -> list[tuple[str, str, str, str]]:
    """(path, value, source key, note) of each cited value whose Source is UNVERIFIED."""
    found = []
    for path, entry in values.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("source"), dict):
            continue
        source = entry["source"]
        assert isinstance(source, dict)
        if source.get("verification") == "unverified":
            found.append(
                (
                    path.removeprefix("kapstone."),
                    _shown(entry.get("values")),
                    str(source.get("key", "")),
                    str(source.get("note", "")),
                )
            )
    return found


def blocks(inputs: Inputs) -> list[Block]:
    log, case = inputs.log, inputs.log.case
    out: list[Block] = [
        Heading(1, case.title),
        Para(
            f"Generated from docs/safety/hazards.yaml at commit {inputs.commit or 'unknown'}. "
            + _run_said(inputs)
        ),
        Heading(2, "Scope", "scope"),
        Para(case.scope),
        Heading(2, "Intended use", "intended-use"),
        Para(case.intended_use),
        Heading(
            2,
            f"Software safety class (IEC 62304): class {case.safety_class.iec_62304}",
            "safety-class",
        ),
        Para(case.safety_class.argument),
        *_matrix_blocks(log),
        Heading(2, "Hazards", "hazards"),
        Table(
            ("Hazard", "Initial", "Residual", "Status"),
            tuple(
                (f"{h.id} {h.title}", str(h.initial.risk), str(h.residual.risk), h.status.value)
                for h in log.hazards
            ),
        ),
    ]
    for hazard in log.hazards:
        out.extend(_hazard_blocks(inputs, hazard))
    out.append(Heading(2, "Open issues", "open-issues"))
    issues = [*case.open_issues]
    issues += [f"{h.id} is open: {h.title}." for h in log.hazards if h.status.value == "open"]
    issues += [f"The check found: {f}" for f in inputs.findings]
    out.append(Bullets(tuple(issues)) if issues else Para("None."))
    out.append(Heading(2, "To confirm before go-live", "to-confirm-before-go-live"))
    out.append(
        Para(
            "The medical director confirms or replaces each value below and records the result as "
            "a policy version. First, the values the clinical reference marks UNVERIFIED:"
        )
    )
    out.append(
        Table(
            ("Section", "What the reference says"),
            tuple((u.section, u.text) for u in inputs.unverified_in_reference),
            (0.25, 0.75),
        )
    )
    core = core_unverified(inputs.values)
    out.append(
        Para(
            f"Then the {len(core)} values of the clinical core whose Source is "
            "Verification.UNVERIFIED (clinic-policy defaults; paths under kapstone.):"
        )
    )
    out.append(
        Table(
            ("Value", "Default", "Key", "Note"),
            tuple(core),
            (0.35, 0.16, 0.11, 0.38),
            frozenset({0}),
        )
    )
    return out


# --- Markdown ------------------------------------------------------------------------------------


def _cell(text: str, code: bool) -> str:
    parts = [p for p in text.split("\n") if p]
    if code:
        parts = [f"`{p}`" if p != "—" else p for p in parts]
    return "<br>".join(parts).replace("|", "\\|")


def markdown(doc: Sequence[Block]) -> str:
    lines: list[str] = [
        "<!-- Generated by kapstone.safety_case from docs/safety/hazards.yaml: edit that file. -->",
        "",
    ]
    for block in doc:
        if isinstance(block, Heading):
            anchor = f" {{#{block.anchor}}}" if block.anchor else ""
            lines += [f"{'#' * block.level} {block.text}{anchor}", ""]
        elif isinstance(block, Para):
            lead = f"**{block.label}** " if block.label else ""
            lines += [f"{lead}{block.text}".rstrip(), ""]
        elif isinstance(block, Bullets):
            lines += [*(f"- {item}" for item in block.items), ""]
        else:
            lines.append("| " + " | ".join(block.headings) + " |")
            lines.append("|" + "---|" * len(block.headings))
            for row in block.rows:
                cells = (_cell(c, i in block.code_columns) for i, c in enumerate(row))
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
