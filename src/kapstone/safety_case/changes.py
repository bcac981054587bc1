"""``kapstone clinical_changes --from REF [--to REF]``: the clinical rules, thresholds and policy
defaults that changed between two git refs, and the hazards each change touches.

Each ref's cited values are read from its ``docs/safety/clinical-values.json`` (kept up to date by a
test, so a release's file is that release's values). A ref older than the file is computed: its
``src/`` is exported with ``git archive`` into a temporary folder and walked there, in a separate
Python, by this version of the walker. Without ``--to`` the working tree's values are computed.

A change touches a hazard when its Source's key (before or after) is a reference the hazard rests
on (a section touches its subsections and the reverse), or when it lives in a module a control of
the hazard names.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kapstone.safety_case import clinical_values, log

VALUES = "docs/safety/clinical-values.json"
LOG = Path("docs/safety/hazards.yaml")


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    kind: str  # added, removed, changed
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    hazards: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        parts = []
        for part in self.path.split("."):
            if not part.isidentifier() or not part.islower():
                break
            parts.append(part)
        return ".".join(parts)

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(e["source"]["key"] for e in (self.before, self.after) if e)

    def said(self) -> str:
        if self.kind != "changed" or self.before is None or self.after is None:
            entry = self.after or self.before or {}
            return f"{self.kind}: {_values(entry)} [{_cite(entry)}]"
        parts = []
        if self.before["values"] != self.after["values"]:
            parts.append(f"{_values(self.before)} → {_values(self.after)}")
        if self.before["source"] != self.after["source"]:
            parts.append(f"source {_cite(self.before)} → {_cite(self.after)}")
        return "; ".join(parts)


def _values(entry: Mapping[str, Any]) -> str:
    values = entry.get("values", {})
    if set(values) == {"value"}:
        return json.dumps(values["value"], ensure_ascii=False)
    return json.dumps(values, ensure_ascii=False, sort_keys=True)


def _cite(entry: Mapping[str, Any]) -> str:
    source = entry.get("source", {})
    return f"{source.get('key')} ({source.get('verification')})"


def _section_related(a: str, b: str) -> bool:
    if a == b:
        return True
    if a.startswith("§") and b.startswith("§"):
        return a.startswith(b + ".") or b.startswith(a + ".")
    return False


def touched(change: Change, hazards: Sequence[log.Hazard]) -> tuple[str, ...]:
    found = []
    for hazard in hazards:
        by_key = any(_section_related(k, r) for k in change.keys for r in hazard.references)
        by_code = bool(change.module) and any(
            p == change.module or p.startswith(change.module + ".") for p in hazard.code_paths
        )
        if by_key or by_code:
            found.append(hazard.id)
    return tuple(found)


def compare(
    before: Mapping[str, Any], after: Mapping[str, Any], hazards: Sequence[log.Hazard] = ()
) -> list[Change]:
    """Each cited value added, removed or changed (its values or its Source), path by path."""
    changes = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        kind = "added" if old is None else "removed" if new is None else "changed"
        change = Change(path, kind, old, new)
        changes.append(Change(path, kind, old, new, touched(change, hazards)))
    return changes


def _git(root: Path, *args: str, binary: bool = False) -> Any:
    return subprocess.run(  # noqa: S603 (git with the refs the user named)
        ["git", *args],  # noqa: S607
        cwd=root,
        capture_output=True,
        check=True,
        text=not binary,
        timeout=120,
    ).stdout


def values_at(ref: str | None, root: Path) -> Mapping[str, Any]:
    """The cited values at ``ref`` (``None``: the working tree, computed now)."""
    if ref is None:
        snap = clinical_values.snapshot()
    else:
        try:
            snap = json.loads(_git(root, "show", f"{ref}:{VALUES}"))
        except subprocess.CalledProcessError:
            snap = _computed_at(ref, root)
    values = snap["values"]
    assert isinstance(values, dict)
    return values


def _computed_at(ref: str, root: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kapstone-values-") as folder:
        archive = Path(folder) / "src.tar"
        archive.write_bytes(_git(root, "archive", "--format=tar", ref, "src", binary=True))
        with tarfile.open(archive) as tar:
            tar.extractall(folder, filter="data")
        # This version's walker over that version's core, in a Python that sees only the latter.
        walker = Path(clinical_values.__file__).resolve()
        done = subprocess.run(  # noqa: S603 (this interpreter, this file)
            [
                sys.executable,
                "-I",
                "-c",
                "import runpy, sys; sys.path.insert(0, sys.argv[2]); "
                "w = runpy.run_path(sys.argv[1]); print(w['dumps'](w['snapshot']()), end='')",
                str(walker),
                str(Path(folder) / "src"),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if done.returncode:
            raise RuntimeError(f"could not compute the values at {ref}: {done.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(done.stdout)
        return result


def report(changes: Sequence[Change], start: str, end: str) -> str:
    if not changes:
        return f"No cited clinical value changed between {start} and {end}.\n"
    lines = [f"{len(changes)} cited clinical value(s) changed between {start} and {end}:", ""]
    for change in changes:
        lines.append(f"{change.path.removeprefix('kapstone.')}")
        lines.append(f"    {change.said()}")
        lines.append(f"    hazards: {', '.join(change.hazards) or 'none named'}")
    hazards = sorted({h for c in changes for h in c.hazards})
    lines += ["", f"Hazards to review: {', '.join(hazards) or 'none'}"]
    return "\n".join(lines) + "\n"


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="kapstone clinical_changes", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--from", dest="start", required=True, help="a git ref: the earlier release"
    )
    parser.add_argument("--to", dest="end", help="a git ref (default: the working tree)")
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
    args = parser.parse_args(argv)
    try:
        before = values_at(args.start, args.root)
        after = values_at(args.end, args.root)
    except (subprocess.CalledProcessError, RuntimeError, OSError) as failed:
        detail = getattr(failed, "stderr", "") or str(failed)
        print(f"clinical_changes: {detail}".rstrip(), file=sys.stderr)
        return 2
    changes = compare(before, after, log.load(args.root / LOG).hazards)
    end = args.end or "the working tree"
    if args.json:
        print(
            json.dumps(
                {
                    "from": args.start,
                    "to": end,
                    "changes": [
                        {
                            "path": c.path,
                            "kind": c.kind,
                            "before": c.before,
                            "after": c.after,
                            "hazards": list(c.hazards),
                        }
                        for c in changes
                    ],
                },
                indent=1,
                ensure_ascii=False,
            )
        )
    else:
        print(report(changes, args.start, end), end="")
    return 0


def main() -> None:
    raise SystemExit(run(sys.argv[1:]))
