"""Anchors: the chain's newest (seq, hash) kept outside the database.

The hash chain shows that rows were changed after they were written, unless whoever changed them could
also rewrite every later row and the head (a database superuser can drop the triggers and do exactly
that). An anchor written somewhere the database cannot reach (a write-once folder, a mailbox, a backup
manifest) pins the chain as it was: if the entry with the anchor's seq no longer has the anchor's hash,
the history before that point has been rewritten, however consistent the chain now is.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.utils import timezone

from kapstone.audit.models import GENESIS_HASH, AuditEntry

_HEX64 = re.compile(r"[0-9a-f]{64}")
# A backup manifest (``kapstone backup``) carries the anchor under this key.
MANIFEST_KEY = "audit_anchor"


class AnchorError(ValueError):
    """An anchor file that cannot be read as an anchor; the message says why."""


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }


def current_anchor() -> Anchor:
    """The newest entry's seq and hash (seq 0 and the genesis hash while the trail is empty)."""
    newest = AuditEntry.objects.order_by("-seq").only("seq", "hash").first()
    if newest is None:
        return Anchor(0, GENESIS_HASH, timezone.now())
    return Anchor(newest.seq, newest.hash, timezone.now())


def write_anchor(anchor: Anchor, destination: str) -> Path:
    """Writes the anchor as JSON, owner-only; into a new file named by date if given a folder.

    A folder is one that exists or a path ending in ``/`` (created owner-only). An existing file is
    never overwritten: anchors are evidence, and a second run the same second should fail loudly
    rather than replace the first.
    """
    output = Path(destination)
    if output.is_dir() or destination.endswith(os.sep):
        output.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = anchor.at.astimezone(UTC).strftime("%Y-%m-%dT%H%M%SZ")
        output = output / f"audit-anchor-{stamp}.json"
    text = json.dumps(anchor.as_json(), indent=2) + "\n"
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return output


def read_anchor(path: Path) -> tuple[int, str]:
    """The (seq, hash) of an anchor file, or of a backup manifest's ``audit_anchor``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AnchorError(f"cannot read the anchor file {path}: {exc.strerror}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AnchorError(f"the anchor file {path} is not JSON: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get(MANIFEST_KEY), dict):
        data = data[MANIFEST_KEY]
    if not isinstance(data, dict):
        raise AnchorError(f"the anchor file {path} is not an anchor (expected a JSON object)")
    seq, digest = data.get("seq"), data.get("hash")
    if type(seq) is not int or seq < 0:
        raise AnchorError(
            f"the anchor file {path} has no valid 'seq' (a whole number of 0 or more): {seq!r}"
        )
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise AnchorError(
            f"the anchor file {path} has no valid 'hash' (64 lower-case hex digits): {digest!r}"
        )
    return seq, digest


def check_anchor(seq: int, digest: str) -> str | None:
    """None if the chain still holds the anchored entry unchanged; otherwise what is wrong."""
    if seq == 0:
        if digest != GENESIS_HASH:
            return "the anchor names #0 (an empty trail) with a hash other than the genesis hash"
        return None
    entry = AuditEntry.objects.filter(seq=seq).only("hash").first()
    if entry is None:
        return f"the anchored entry #{seq} no longer exists (the chain was cut back before it)"
    if entry.hash != digest:
        return (
            f"entry #{seq} no longer has the anchored hash {digest[:12]}… (it has {entry.hash[:12]}…):"
            " the chain was rewritten at or before that entry"
        )
    return None
