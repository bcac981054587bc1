"""The canonical form of a ledger entry and its hash; shared by the writer and ``verify_ledger``."""

from __future__ import annotations

import hashlib
from datetime import UTC
from typing import Any

from kapstone.audit.hashing import canonical_json
from kapstone.ledger.models import LedgerEntry, ReceiptDetail

FIELDS = (
    "seq",
    "kind",
    "location_id",
    "lot_id",
    "quantity",
    "actor_id",
    "witness_id",
    "patient_id",
    "dosing_session_id",
    "draw_id",
    "reverses_id",
    "transfer_out_id",
    "to_location_id",
    "destruction_reason",
    "reason",
    "prev_hash",
)


def payload(entry: LedgerEntry, receipt: ReceiptDetail | None) -> dict[str, Any]:
    """Everything an entry says, receipt details included (they live in their own table)."""
    out: dict[str, Any] = {name: getattr(entry, name) for name in FIELDS}
    out["at"] = entry.at.astimezone(UTC).isoformat(timespec="microseconds")
    if receipt is not None:
        out["receipt"] = {"supplier": receipt.supplier, "reference": receipt.reference}
    return out


def entry_hash(entry: LedgerEntry, receipt: ReceiptDetail | None) -> str:
    return hashlib.sha256(canonical_json(payload(entry, receipt)).encode()).hexdigest()
