"""Which test files take longest, so `make test` hands them out first.

`make test` gives each pytest-xdist worker whole files (--dist loadfile). Handed out in collection
order, the upgrade test (one test, over a minute) came last and ran alone while the other worker
sat idle; handing out the longest files first (tests/durations.json, seconds per file) keeps both
workers busy to the end. The figures only order the work: a stale or missing one costs time, never a
test. Refresh them from a full run's JUnit reports (pytest --junitxml, one per leg):

    .venv/bin/python -m tests.durations sqlite.xml postgres.xml > tests/durations.json
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

DURATIONS = Path(__file__).with_name("durations.json")
# Files shorter than this keep their collection order, after the long ones.
SHORTEST_LISTED = 2.0


def load() -> dict[str, float]:
    try:
        return {str(k): float(v) for k, v in json.loads(DURATIONS.read_text()).items()}
    except (OSError, ValueError):
        return {}


def per_file(report: Path) -> Counter[str]:
    seconds: Counter[str] = Counter()
    # Our own pytest run's report, not untrusted input.
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314
        module = (case.get("classname") or "").split(".")
        # tests.shell.test_x[.Class] -> tests/shell/test_x.py
        parts = [p for p in module if not p[:1].isupper()]
        seconds["/".join(parts) + ".py"] += float(case.get("time") or 0)
    return seconds


def main(reports: list[str]) -> None:
    longest: dict[str, float] = {}
    for report in reports:
        for path, seconds in per_file(Path(report)).items():
            longest[path] = max(longest.get(path, 0.0), seconds)
    kept = {p: round(s, 1) for p, s in sorted(longest.items()) if s >= SHORTEST_LISTED}
    json.dump(kept, sys.stdout, indent=0, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
