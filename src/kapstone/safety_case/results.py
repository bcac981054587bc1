"""The outcome of every test of one pytest run, by node id, as the plugin writes it and the check reads it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

FORMAT = 1


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"  # skipped, or an expected failure: either way it proved nothing
    MISSING = "missing"  # no test of that id ran (renamed, deleted, or not collected)


@dataclass(frozen=True, slots=True)
class Results:
    outcomes: Mapping[str, Outcome]
    commit: str | None = None
    dirty: bool = False  # the working tree had changes the commit does not hold
    finished_at: str = ""
    exit_status: int | None = None
    _by_base: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)

    def outcome_of(self, test_id: str) -> Outcome:
        """A node id's outcome. A base id (``file::test`` of ``file::test[a]``, or a class) stands
        for all it holds: passed only if each passed, failed if any failed."""
        exact = self.outcomes.get(test_id)
        if exact is not None:
            return exact
        if not self._by_base:
            for node in self.outcomes:
                for cut in ("[", "::"):
                    at = node.find(cut, len(node.split("::")[0]) if cut == "::" else 0)
                    while at != -1:
                        self._by_base.setdefault(node[:at], []).append(node)
                        at = node.find(cut, at + 1) if cut == "::" else -1
        held = [self.outcomes[n] for n in self._by_base.get(test_id, [])]
        if not held:
            return Outcome.MISSING
        for worst in (Outcome.FAILED, Outcome.SKIPPED):
            if worst in held:
                return worst
        return Outcome.PASSED

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    "format": FORMAT,
                    "commit": self.commit,
                    "dirty": self.dirty,
                    "finished_at": self.finished_at,
                    "exit_status": self.exit_status,
                    "outcomes": dict(sorted((k, v.value) for k, v in self.outcomes.items())),
                },
                indent=1,
            )
            + "\n"
        )


def read(path: Path) -> Results:
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a results file of format {FORMAT}")
    return Results(
        outcomes={k: Outcome(v) for k, v in data["outcomes"].items()},
        commit=data.get("commit"),
        dirty=bool(data.get("dirty")),
        finished_at=data.get("finished_at", ""),
        exit_status=data.get("exit_status"),
    )
