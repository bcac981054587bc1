"""Where the clinical reference is: ``shared/`` beside the project's root (KAPSTONE_SHARED overrides)."""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(
    os.environ.get("KAPSTONE_SHARED", Path(__file__).resolve().parents[1].parent / "shared")
)
REFERENCE = SHARED / "clinical-reference.md"
