"""Trail events held back and appended as the last step before the commit.

Why: the chain head (`trail.models.ChainHead`) is one row that every append locks until
its transaction ends. Whatever a transaction does after its first event it does holding
every other writer of the trail off, so the whole system moves one such transaction at
a time. `workflows.actions.perform()` does much after the transition's event (the
viewflow bookkeeping); inside `hold_events()` `trail.services.record` only builds the
event, and the end of the block appends every event held, in the order recorded. Put
at the end of the transaction's atomic block, the head is held for those inserts and
the commit only.

Outside such a block `record` appends at once, as it always has. Blocks nest: the
outermost appends. An exception leaving the block drops what it held (the transaction
rolls back anyway). So does rolling back a savepoint: each held event registers an
on-commit callback, which Django discards with the savepoint it was registered in, and
only events whose callback is still pending are appended.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.db import transaction

if TYPE_CHECKING:
    from .models import Event

_state = threading.local()  # Django's connections are per thread, and so is this


class _Held:
    """One held event; also its on-commit callback, which has nothing left to do."""

    __slots__ = ("event",)

    def __init__(self, event: Event):
        self.event = event

    def __call__(self) -> None:
        pass


def hold(event: Event) -> bool:
    """Keep `event` for the end of the open `hold_events()` block; False if none is open."""
    held = getattr(_state, "held", None)
    if held is None:
        return False
    entry = _Held(event)
    transaction.on_commit(entry)  # dropped by Django if its savepoint rolls back
    held.append(entry)
    return True


@contextmanager
def hold_events() -> Iterator[None]:
    """Hold the trail events recorded in the block; append them as it ends."""
    if getattr(_state, "held", None) is not None:  # an outer block appends them
        yield
        return
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("hold_events() must run inside the change's transaction")
    _state.held = held = []
    try:
        yield
    finally:
        _state.held = None  # on an exception, the held events go with the rollback
    pending = {id(func) for _sids, func, _robust in connection.run_on_commit}
    events = [entry.event for entry in held if id(entry) in pending]
    if events:
        from .services import append_events  # services imports this module

        append_events(events)
