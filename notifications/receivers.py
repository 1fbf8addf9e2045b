"""New trail events become notifications, after their transaction commits.

The receiver only looks the event up in the rules (no query); the work waits for the
commit, so an action rolled back tells nobody, and is queued for a Celery worker then (in
the demo, with no broker, it runs in-process), so it never undoes, blocks or slows the
action; a failure to queue is logged (robust). A second run for one event tells nobody
again (unique per event and recipient).
"""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from trail.models import Event

from .rules import rules_for
from .tasks import notify_for_trail_event


@receiver(post_save, sender=Event, dispatch_uid="notifications.on_trail_event")
def on_trail_event(sender, instance: Event, created: bool, raw: bool = False, **kwargs) -> None:
    if raw or not created or not rules_for(instance):  # raw: loading a backup
        return
    transaction.on_commit(partial(notify_for_trail_event.delay, instance.pk), robust=True)
