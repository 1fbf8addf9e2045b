from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .kinds import EventKind


class ChainHead(models.Model):
    """One row; locking it serialises appends so the chain never forks."""

    seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)


class Event(models.Model):
    seq = models.BigIntegerField(_("sequence"), unique=True)
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    # Copied so the record stays readable (and hashable) if the account changes.
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    kind = models.CharField(_("kind"), max_length=50, choices=EventKind.choices)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=64)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id", "seq"])]
        verbose_name = _("trail event")
        verbose_name_plural = _("trail events")

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("Trail events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Trail events are append-only.")


class Checkpoint(models.Model):
    """The chain head at a moment, signed with a key kept outside the database.

    Rewriting events and recomputing every later hash fools `verify_chain`, but not a
    signature over the old head hash (see trail/signing.py for the signed bytes).
    """

    seq = models.BigIntegerField(_("event"), unique=True)
    hash = models.CharField(_("event hash"), max_length=64)
    made_at = models.DateTimeField(_("made at"))
    key_id = models.CharField(_("key id"), max_length=16)
    signature = models.CharField(_("signature"), max_length=88)
    # SHA-256 of the previous checkpoint's signature: deleting one leaves a visible gap.
    prev = models.CharField(_("previous signature hash"), max_length=64)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("trail checkpoint")
        verbose_name_plural = _("trail checkpoints")

    def __str__(self) -> str:
        return f"checkpoint #{self.pk} (event {self.seq})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("Trail checkpoints are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Trail checkpoints are append-only.")
