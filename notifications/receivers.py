"""New trail events become notifications, after their transaction commits.

The receiver only looks the event up in the rules (no query); the work waits for the
commit, so an action rolled back tells nobody, and runs after it, so a failure here
(logged: robust) never undoes or blocks the action.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from trail.models import Event

from .rules import rules_for
from .services import notify_for_event


@receiver(post_save, sender=Event, dispatch_uid="notifications.on_trail_event")
def on_trail_event(sender, instance: Event, created: bool, raw: bool = False, **kwargs) -> None:
    if raw or not created or not rules_for(instance):  # raw: loading a backup
        return
    transaction.on_commit(partial(notify_for_event, instance.pk), robust=True)
