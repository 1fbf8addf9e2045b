"""Append to and verify the hash-chained journal."""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

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
    """Append one event; must run inside the transaction of the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("trail.record must run inside the change's transaction")
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        head, _created = ChainHead.objects.get_or_create(pk=1)
        head = ChainHead.objects.select_for_update().get(pk=1)
    object_type, object_id = object_label(obj)
    actor_id = getattr(actor, "pk", None)
    event = Event(
        seq=head.seq + 1,
        at=timezone.now(),
        actor_id=actor_id,
        actor_name=(str(actor) if actor_id else "system")[:150],
        kind=EventKind(kind).value,
        object_type=object_type,
        object_id=object_id,
        before=_jsonable(before),
        after=_jsonable(after),
        data=_jsonable(data),
        prev_hash=head.last_hash,
    )
    event.hash = event_hash(event)
    event.save(force_insert=True)  # a trigger moves the head (migration 0002)
    return event


def history_of(obj: models.Model) -> models.QuerySet[Event]:
    object_type, object_id = object_label(obj)
    return Event.objects.filter(object_type=object_type, object_id=object_id).order_by("seq")


@dataclass
class Problem:
    seq: int | None
    message: str


def verify_chain(batch_size: int = 2000) -> list[Problem]:
    """Walk the journal; report edited, deleted, inserted or reordered events."""
    problems: list[Problem] = []
    expected_seq, prev_hash = 1, GENESIS
    for event in Event.objects.order_by("seq").iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            problems.append(
                Problem(event.seq, f"events {expected_seq}..{event.seq - 1} are missing")
            )
        if event.prev_hash != prev_hash:
            problems.append(
                Problem(event.seq, "does not follow the previous event (deleted or reordered)")
            )
        if event_hash(event) != event.hash:
            problems.append(Problem(event.seq, "content does not match its hash (edited)"))
        expected_seq, prev_hash = event.seq + 1, event.hash
    head = ChainHead.objects.filter(pk=1).first()
    if head and (head.seq != expected_seq - 1 or head.last_hash != prev_hash):
        problems.append(Problem(head.seq, "the newest events are missing (truncated)"))
    return problems
