"""Writing to and checking the audit trail."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, models, transaction
from django.utils import timezone

from kapstone.audit.hashing import entry_hash
from kapstone.audit.models import GENESIS_HASH, AuditEntry, AuditHead, QueuedAuditEvent
from kapstone.audit.request_context import current_request_id

if TYPE_CHECKING:
    from kapstone.accounts.models import StaffUser
    from kapstone.patients.models import Patient


def jsonable(value: Any) -> Any:
    """Turns model field values into JSON that survives a round trip through the database unchanged."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, float):
        # Floats can come back from JSON columns with another representation; keep them as text.
        return repr(value)
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of an instance, as the audit trail stores them (foreign keys as ids)."""
    out: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attname = getattr(field, "attname", name)
        out[name] = jsonable(getattr(instance, attname))
    return out


def changed_fields(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


class _EntryFields(TypedDict):
    """One audit row's columns as hashed (``entry_hash`` takes exactly these)."""

    seq: int
    at: dt.datetime
    actor_id: int | None
    actor_label: str
    action: str
    patient_id: int | None
    object_type: str
    object_id: str
    request_id: str
    summary: str
    before: Any
    after: Any
    prev_hash: str


def _create_head() -> None:
    last = AuditEntry.objects.order_by("-seq").first()
    try:
        with transaction.atomic():
            AuditHead.objects.create(
                pk=1,
                last_seq=last.seq if last else 0,
                last_hash=last.hash if last else GENESIS_HASH,
            )
    except IntegrityError:
        pass  # another process created it first; lock theirs


# Every audited change passes through here, so the head and the queue are read and moved with plain
# statements on the primary, not querysets: the ORM's compiling was most of an append's cost, and
# these statements never change shape. (Django's own `select_for_update` says FOR UPDATE only where
# the database has row locks; so do these.) Their names come from the models, their values are bound.
_HEAD = AuditHead._meta.db_table
_QUEUE = QueuedAuditEvent._meta.db_table


def _read_head(*, lock: str) -> AuditHead | None:
    """The head row, locked as ``lock`` says ("" to wait for the lock, "SKIP LOCKED" not to)."""
    connection = connections[DEFAULT_DB_ALIAS]
    qn = connection.ops.quote_name
    sql = f"SELECT {qn('last_seq')}, {qn('last_hash')} FROM {qn(_HEAD)} WHERE {qn('id')} = 1"  # noqa: S608
    if connection.features.has_select_for_update:
        sql = f"{sql} FOR UPDATE {lock}".rstrip()
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    if row is None:
        return None
    return AuditHead.from_db(DEFAULT_DB_ALIAS, ["id", "last_seq", "last_hash"], (1, *row))


def _lock_head() -> AuditHead:
    head = _read_head(lock="")
    if head is not None:
        return head
    _create_head()
    return AuditHead.objects.select_for_update().get(pk=1)


def _try_lock_head() -> AuditHead | None:
    """The head, locked, if no one else holds it now; None (at once, without waiting) if someone
    does. SQLite has no row locks: its writers already run one at a time."""
    head = _read_head(lock="SKIP LOCKED")
    if head is not None or AuditHead.objects.filter(pk=1).exists():
        return head
    _create_head()
    return _read_head(lock="SKIP LOCKED")


def _queue_is_empty() -> bool:
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(_QUEUE)} LIMIT 1")  # noqa: S608
        return cursor.fetchone() is None


def _append(head: AuditHead, fields: _EntryFields, *, queued_id: int | None = None) -> AuditEntry:
    """One entry after the head (locked by the caller), and the head moved on to it."""
    digest = entry_hash(**fields)
    entry = AuditEntry.objects.create(hash=digest, queued_id=queued_id, **fields)
    head.last_seq = fields["seq"]
    head.last_hash = digest
    return entry


def _chain_queued(head: AuditHead) -> list[AuditEntry]:
    """Moves every queued read event (committed, or this transaction's own) into the chain after
    the locked head, oldest first, and deletes them from the queue; the caller saves the head."""
    entries: list[AuditEntry] = []
    if _queue_is_empty():
        return entries
    queued = list(QueuedAuditEvent.objects.using(DEFAULT_DB_ALIAS).order_by("id"))
    for event in queued:
        fields: _EntryFields = {
            "seq": head.last_seq + 1,
            "at": event.at,
            "actor_id": event.actor_id,
            "actor_label": event.actor_label,
            "action": event.action,
            "patient_id": event.patient_id,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "request_id": event.request_id,
            "summary": event.summary,
            "before": None,
            "after": None,
            "prev_hash": head.last_hash,
        }
        digest = entry_hash(**fields)
        entries.append(AuditEntry(hash=digest, queued_id=event.pk, **fields))
        head.last_seq, head.last_hash = fields["seq"], digest
    if queued:
        AuditEntry.objects.bulk_create(entries)  # one statement for the batch
        QueuedAuditEvent.objects.filter(pk__in=[e.pk for e in queued]).delete()
    return entries


def _save_head(head: AuditHead, steps: list[AuditEntry]) -> None:
    """Stores the head's move through ``steps``: the entries this caller just appended after it,
    under its lock, oldest first (so they are what the chain holds there; no need to read them
    back). The head's guard allows one step at a time, to an entry linked to the tip before it, so
    a batch is stored as the steps it is made of."""
    connection = connections[DEFAULT_DB_ALIAS]
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for entry in steps:
            cursor.execute(
                f"UPDATE {qn(_HEAD)} SET {qn('last_seq')} = %s, {qn('last_hash')} = %s "  # noqa: S608
                f"WHERE {qn('id')} = 1",
                [entry.seq, entry.hash],
            )
    if steps:
        head.last_seq, head.last_hash = steps[-1].seq, steps[-1].hash


def is_read_event(action: str, before: object, after: object) -> bool:
    """Read events (``chart.viewed``, ``integration.note_viewed``: an action named ``*.viewed`` or
    ``*_viewed`` that changes nothing) are queued, not chained by the reader (see record)."""
    return action.endswith((".viewed", "_viewed")) and before is None and after is None


def record(
    *,
    actor: StaffUser | None,
    action: str,
    patient: Patient | None = None,
    obj: models.Model | None = None,
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEntry | QueuedAuditEvent:
    """Appends one audit row. Call inside the transaction of the change it describes.

    A change is chained at once, under the head's lock (read events queued before it are chained
    first, in order). A read event (:func:`is_read_event`) does not wait for the lock: it is queued
    in the caller's transaction, and chained right away if the lock is free; if another writer
    holds it, a later one chains it (they all chain the whole queue). Returns the chain entry, or
    the queued event while it waits.

    ``actor_label`` names an actor who is not staff (with ``actor=None``): a patient's own reads and
    writes in the companion are theirs (``patient-account:<id>``), not the system's."""
    at = timezone.now()
    if actor is not None and actor_label:
        raise ValueError("actor_label is for actors who are not staff: give one or the other")
    actor_id = actor.pk if actor is not None else None
    actor_label = actor.get_username() if actor is not None else (actor_label or "system")
    patient_id = patient.pk if patient is not None else None
    object_type = obj._meta.label_lower if obj is not None else ""
    object_id = str(obj.pk) if obj is not None else ""
    request_id = current_request_id()
    summary = summary[:300]
    if is_read_event(action, before, after):
        with transaction.atomic():
            event = QueuedAuditEvent.objects.create(
                at=at,
                actor_id=actor_id,
                actor_label=actor_label,
                action=action,
                patient_id=patient_id,
                object_type=object_type,
                object_id=object_id,
                request_id=request_id,
                summary=summary,
            )
            head = _try_lock_head()
            if head is None:
                return event  # another writer holds the chain: it, or the next, chains this
            chained = _chain_queued(head)
            _save_head(head, chained)
            mine = [entry for entry in chained if entry.queued_id == event.pk]
            return mine[0] if mine else event
    with transaction.atomic():
        head = _lock_head()
        chained = _chain_queued(head)
        fields: _EntryFields = {
            "seq": head.last_seq + 1,
            "at": at,
            "actor_id": actor_id,
            "actor_label": actor_label,
            "action": action,
            "patient_id": patient_id,
            "object_type": object_type,
            "object_id": object_id,
            "request_id": request_id,
            "summary": summary,
            "before": jsonable(before) if before is not None else None,
            "after": jsonable(after) if after is not None else None,
            "prev_hash": head.last_hash,
        }
        entry = _append(head, fields)
        _save_head(head, [*chained, entry])
        return entry


def drain_read_queue() -> int:
    """Chains every queued read event (waiting for the lock); returns how many."""
    with transaction.atomic():
        head = _lock_head()
        chained = _chain_queued(head)
        _save_head(head, chained)
    return len(chained)


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    entry_id: int | None
    problem: str

    def describe(self) -> str:
        if self.seq == 0:
            if self.problem.startswith("queued"):
                return f"the read-event queue: {self.problem}"
            return f"the audit chain head: {self.problem}"
        row = f"audit entry #{self.seq}" + (f" (id {self.entry_id})" if self.entry_id else "")
        return f"{row}: {self.problem}"


def _entries() -> Iterator[AuditEntry]:
    return AuditEntry.objects.order_by("seq").iterator(chunk_size=2000)


def verify_chain() -> tuple[int, BrokenLink | None]:
    """Walks the chain from the start; returns the number of rows checked and the first broken link.

    Every row must follow the one before (seq one higher, linked to its hash, its own hash matching its
    contents), starting at #1, and the head must name the newest row by seq and by hash: a rewritten
    newest row, or newest rows deleted with the head moved back, leave a head that no longer matches.
    A chain rewritten consistently from some row on (head included) passes here; only an anchor kept
    outside the database finds that (:func:`kapstone.audit.anchor.check_anchor`).
    """
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    newest: AuditEntry | None = None
    for entry in _entries():
        if entry.seq != expected_seq:
            if expected_seq == 1:
                problem = f"missing: the chain should start at #1, it starts at #{entry.seq}"
            else:
                problem = f"missing: the chain jumps from #{expected_seq - 1} to #{entry.seq}"
            return checked, BrokenLink(expected_seq, None, problem)
        if entry.prev_hash != expected_prev:
            return checked, BrokenLink(
                entry.seq, entry.pk, "its link to the previous row does not match that row's hash"
            )
        recomputed = entry_hash(
            seq=entry.seq,
            at=entry.at,
            actor_id=entry.actor_id,
            actor_label=entry.actor_label,
            action=entry.action,
            patient_id=entry.patient_id,
            object_type=entry.object_type,
            object_id=entry.object_id,
            request_id=entry.request_id,
            summary=entry.summary,
            before=entry.before,
            after=entry.after,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.hash:
            return checked, BrokenLink(
                entry.seq, entry.pk, "its contents were changed after it was written"
            )
        expected_prev = entry.hash
        expected_seq += 1
        checked += 1
        newest = entry
    return checked, _check_head(checked, newest) or _check_queue()


def _check_queue() -> BrokenLink | None:
    """Each queued read event is chained once at most, and leaves the queue when it is."""
    twice = (
        AuditEntry.objects.filter(queued_id__isnull=False)
        .order_by()
        .values("queued_id")
        .annotate(n=models.Count("id"))
        .filter(n__gt=1)
        .order_by("queued_id")
        .values_list("queued_id", flat=True)
        .first()
    )
    if twice is not None:
        return BrokenLink(0, None, f"queued read event {twice} was chained more than once")
    both = (
        QueuedAuditEvent.objects.filter(
            pk__in=AuditEntry.objects.filter(queued_id__isnull=False).values("queued_id")
        )
        .values_list("pk", flat=True)
        .first()
    )
    if both is not None:
        return BrokenLink(0, None, f"queued read event {both} is chained but still in the queue")
    return None


def queued_reads() -> tuple[int, dt.datetime | None]:
    """How many read events wait to be chained, and when the oldest happened."""
    pending = QueuedAuditEvent.objects.order_by().aggregate(
        n=models.Count("id"), oldest=models.Min("at")
    )
    return int(pending["n"]), pending["oldest"]


def _check_head(checked: int, newest: AuditEntry | None) -> BrokenLink | None:
    head = AuditHead.objects.filter(pk=1).first()
    if head is None:
        if newest is None:
            return None  # nothing recorded yet: the head is created with the first row
        return BrokenLink(
            checked, newest.pk, "the chain head row is missing (it was deleted behind the triggers)"
        )
    if head.last_seq != checked:
        if head.last_seq > checked:
            problem = f"missing: the chain should reach #{head.last_seq}, it ends at #{checked}"
        else:
            problem = f"the chain head names #{head.last_seq}, but the chain goes on to #{checked}"
        return BrokenLink(checked + 1 if head.last_seq > checked else checked, None, problem)
    if head.last_hash != (newest.hash if newest is not None else GENESIS_HASH):
        return BrokenLink(
            checked,
            newest.pk if newest is not None else None,
            "the chain head's stored hash does not match this newest row's hash "
            "(the newest row was rewritten, or rows after it were deleted and the head moved back)",
        )
    return None
