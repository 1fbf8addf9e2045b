"""Append to and verify the hash-chained journal."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from . import buffer
from .kinds import EventKind
from .models import ChainHead, Event

GENESIS = "0" * 64


def _canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(
        fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    ).encode()


def _hashable(event: Event) -> dict[str, Any]:
    at = event.at.astimezone(datetime.UTC) if timezone.is_aware(event.at) else event.at
    return {
        "seq": event.seq,
        "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": event.actor_id,
        "actor_name": event.actor_name,
        "kind": event.kind,
        "object": f"{event.object_type}:{event.object_id}",
        "before": event.before,
        "after": event.after,
        "data": event.data,
        "prev_hash": event.prev_hash,
    }


def event_hash(event: Event) -> str:
    return hashlib.sha256(_canonical(_hashable(event))).hexdigest()


def object_label(obj: models.Model) -> tuple[str, str]:
    return obj._meta.label_lower, str(obj.pk)


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any]:
    # Round-trip so what we hash is exactly what the JSON column gives back.
    return json.loads(json.dumps(value or {}, default=str, ensure_ascii=False))


def record(
    kind: EventKind,
    obj: models.Model,
    *,
    actor=None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Append one event; must run inside the transaction of the change it records.

    Inside `trail.buffer.hold_events()` the event is appended when that block ends (its
    place in the chain, time and hashes are set then, on the instance returned here)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("trail.record must run inside the change's transaction")
    object_type, object_id = object_label(obj)
    actor_id = getattr(actor, "pk", None)
    event = Event(
        actor_id=actor_id,
        actor_name=(str(actor) if actor_id else "system")[:150],
        kind=EventKind(kind).value,
        object_type=object_type,
        object_id=object_id,
        before=_jsonable(before),
        after=_jsonable(after),
        data=_jsonable(data),
    )
    if not buffer.hold(event):
        append_events([event])
    return event


def append_events(events: Sequence[Event]) -> None:
    """Chain `events` onto the head, in order. The head row stays locked until commit:
    every other append waits for this transaction from here on."""
    seq, prev_hash = _locked_head()
    for event in events:
        seq += 1
        event.seq, event.at, event.prev_hash = seq, timezone.now(), prev_hash
        event.hash = prev_hash = event_hash(event)
        event.save(force_insert=True)  # a trigger moves the head (migration 0002)


def _locked_head() -> tuple[int, str]:
    """The head's seq and hash, its row locked until commit. One plain statement: it
    runs for every append, and the ORM's query building would cost more than it."""
    connection = transaction.get_connection()
    table = connection.ops.quote_name(ChainHead._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, last_hash FROM {table} WHERE id = 1{lock}")
        row = cursor.fetchone()
    if row is None:  # made by migration 0002; a test database flushed has lost it
        ChainHead.objects.get_or_create(pk=1)
        return _locked_head()
    return row[0], row[1]


def history_of(obj: models.Model) -> models.QuerySet[Event]:
    object_type, object_id = object_label(obj)
    return Event.objects.filter(object_type=object_type, object_id=object_id).order_by("seq")


@dataclass
class Problem:
    seq: int | None
    message: str


@dataclass
class Walk:
    """One pass over the journal: what is wrong, and the hashes asked for on the way."""

    problems: list[Problem] = field(default_factory=list)
    hashes: dict[int, str] = field(default_factory=dict)  # seq -> stored hash, for `wanted`
    first_break: int | None = None  # the first event missing, moved or edited
    last_seq: int = 0
    last_hash: str = GENESIS


def walk_chain(
    start_seq: int = 0,
    start_hash: str = GENESIS,
    end_seq: int | None = None,
    wanted: frozenset[int] | set[int] = frozenset(),
    batch_size: int = 2000,
) -> Walk:
    """Walk events start_seq+1..end_seq (or the last) once; report edited, deleted,
    inserted or reordered events, and keep the hashes of the `wanted` ones."""
    walk = Walk(last_seq=start_seq, last_hash=start_hash)
    events = Event.objects.filter(seq__gt=start_seq).order_by("seq")
    if end_seq is not None:
        events = events.filter(seq__lte=end_seq)

    def broken(seq: int, message: str, first: int | None = None) -> None:
        walk.problems.append(Problem(seq, message))
        if walk.first_break is None:
            walk.first_break = seq if first is None else first

    for event in events.iterator(chunk_size=batch_size):
        expected = walk.last_seq + 1
        if event.seq != expected:
            broken(event.seq, f"events {expected}..{event.seq - 1} are missing", first=expected)
        if event.prev_hash != walk.last_hash:
            broken(event.seq, "does not follow the previous event (deleted or reordered)")
        if event_hash(event) != event.hash:
            broken(event.seq, "content does not match its hash (edited)")
        if event.seq in wanted:
            walk.hashes[event.seq] = event.hash
        walk.last_seq, walk.last_hash = event.seq, event.hash
    if end_seq is not None and walk.last_seq < end_seq:
        broken(walk.last_seq + 1, f"events {walk.last_seq + 1}..{end_seq} are missing")
    return walk


def verify_chain(batch_size: int = 2000, walk: Walk | None = None) -> list[Problem]:
    """Walk the whole journal (or take a walk already made) and check the head too."""
    walk = walk or walk_chain(batch_size=batch_size)
    problems = list(walk.problems)
    head = ChainHead.objects.filter(pk=1).first()
    if head and (head.seq != walk.last_seq or head.last_hash != walk.last_hash):
        problems.append(Problem(head.seq, "the newest events are missing (truncated)"))
    return problems
