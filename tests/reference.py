"""The clinical reference every test checks the core's citations against: ``docs/clinical-reference.md``.

It is part of the repository, so a clone placed anywhere finds it; nothing may point elsewhere.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "clinical-reference.md"
