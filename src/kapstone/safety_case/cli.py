"""``kapstone safety_case``: check the hazard log, write the safety case, keep the clinical values.

    kapstone safety_case check [--results FILE]     the check (make test runs it with --results)
    kapstone safety_case document [--markdown FILE] [--pdf FILE] [--results FILE]
    kapstone safety_case values [--write]           docs/safety/clinical-values.json up to date?

Without ``--results`` the check reads the test files instead of a run: every named test must be
defined (a cheap check before pushing). ``python -m kapstone.safety_case`` is the same command.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from kapstone.safety_case import clinical_values, document, log, pdf, reference, results
from kapstone.safety_case.check import Finding, check
from kapstone.safety_case.code_paths import code_exists, test_exists

LOG = Path("docs/safety/hazards.yaml")
REFERENCE = Path("docs/clinical-reference.md")
VALUES = Path("docs/safety/clinical-values.json")
RESULTS = Path("var/safety-case/test-results.json")  # where `make test` has the plugin write


def head_commit(root: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def findings(
    root: Path, run: results.Results | None, hazard_log: log.HazardLog | None = None
) -> list[Finding]:
    """The check on the log in ``root``: against a run's results, or else against the test files."""
    hazard_log = hazard_log or log.load(root / LOG)
    ref = reference.parse((root / REFERENCE).read_text(encoding="utf-8"))

    def defined(test_id: str) -> results.Outcome:
        return results.Outcome.PASSED if test_exists(test_id, root) else results.Outcome.MISSING

    return check(
        hazard_log,
        outcome_of=run.outcome_of if run is not None else defined,
        code_exists=lambda path: code_exists(path, root / "src"),
        reference=ref,
    )


def inputs(root: Path, run: results.Results | None) -> document.Inputs:
    text = (root / REFERENCE).read_text(encoding="utf-8")
    snapshot = clinical_values.snapshot()
    values = snapshot["values"]
    assert isinstance(values, dict)
    hazard_log = log.load(root / LOG)
    return document.Inputs(
        log=hazard_log,
        reference=reference.parse(text),
        unverified_in_reference=reference.unverified(text),
        values=values,
        commit=head_commit(root),
        results=run,
        findings=findings(root, run, hazard_log),
    )


def _read_results(path: Path | None, root: Path) -> results.Results | None:
    if path is None:
        default = root / RESULTS
        return results.read(default) if default.is_file() else None
    return results.read(path)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="kapstone safety_case", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--root", type=Path, default=Path.cwd(), help="the repository (default: here)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check_cmd = sub.add_parser("check", help="fail when a control's code or tests do not hold")
    check_cmd.add_argument("--results", type=Path, help="the run's results (the plugin's file)")
    doc_cmd = sub.add_parser("document", help="write the safety case")
    doc_cmd.add_argument("--markdown", type=Path)
    doc_cmd.add_argument("--pdf", type=Path)
    doc_cmd.add_argument("--results", type=Path, help=f"default: {RESULTS} when present")
    values_cmd = sub.add_parser("values", help=f"check (or --write) {VALUES}")
    values_cmd.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    root: Path = args.root

    try:
        if args.command == "check":
            run_results = results.read(args.results) if args.results else None
            found = findings(root, run_results)
            for finding in found:
                print(f"safety case: {finding}", file=sys.stderr)
            what = "this run's results" if run_results else "the test files"
            if found:
                print(f"safety case: {len(found)} problem(s) against {what}", file=sys.stderr)
                return 1
            print(f"safety case: every control holds against {what}")
            return 0
        if args.command == "document":
            doc = document.blocks(inputs(root, _read_results(args.results, root)))
            if args.markdown:
                args.markdown.write_text(document.markdown(doc), encoding="utf-8")
            if args.pdf:
                args.pdf.write_bytes(pdf.render(doc, title="Kapstone clinical safety case"))
            return 0
        text = clinical_values.dumps(clinical_values.snapshot())
        if args.write:
            (root / VALUES).write_text(text, encoding="utf-8")
            return 0
        if (root / VALUES).read_text(encoding="utf-8") != text:
            print(f"{VALUES} is stale: run `kapstone safety_case values --write`", file=sys.stderr)
            return 1
        return 0
    except log.LogInvalid as invalid:
        for problem in invalid.problems:
            print(f"safety case: {problem}", file=sys.stderr)
        return 2


def main() -> None:
    raise SystemExit(run(sys.argv[1:]))
