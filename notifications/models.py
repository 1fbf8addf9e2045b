"""What a person has been told: in the notification centre always, by e-mail as they choose.

A notification keeps a message key and its parameters, not finished text: the centre
renders it in the reader's language when shown (notifications.messages), and the e-mail
in the site's language (LANGUAGE_CODE) when sent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """What a person chooses to get by e-mail (EmailPreference has one switch each)."""

    TASK = "task", _("Tasks assigned to me")
    RETURN = "return", _("Returns and refusals")
    DECISION = "decision", _("Decisions")
    DEADLINE = "deadline", _("Deadlines approaching and missed")


class EmailStatus(models.TextChoices):
    NONE = "none", _("Not e-mailed")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    # The trail event it tells of; none for a deadline reminder.
    event = models.ForeignKey(
        "trail.Event",
        verbose_name=_("trail event"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A reminder's "deadline:object:day": the same reminder once a day at most.
    dedupe = models.CharField(max_length=150, blank=True, default="")
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    message = models.CharField(_("message"), max_length=50)
    params = models.JSONField(default=dict, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    email_status = models.CharField(
        _("e-mail"), max_length=10, choices=EmailStatus.choices, default=EmailStatus.NONE
    )
    email_attempts = models.PositiveSmallIntegerField(_("e-mail attempts"), default=0)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One event tells a person once, however often its receiver runs.
            models.UniqueConstraint(fields=["event", "recipient"], name="notified_once_per_event"),
            models.UniqueConstraint(
                fields=["recipient", "dedupe"],
                condition=~Q(dedupe=""),
                name="reminded_once_per_day",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
            models.Index(fields=["recipient", "-created_at"], name="notification_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.message} → {self.recipient_id}"

    @property
    def title(self) -> str:
        from .messages import render_title

        return render_title(self)

    @property
    def body(self) -> str:
        from .messages import render_body

        return render_body(self)


class EmailPreference(models.Model):
    """Which notifications a person also gets by e-mail; no row: all of them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    email_task = models.BooleanField(Category.TASK.label, default=True)
    email_return = models.BooleanField(Category.RETURN.label, default=True)
    email_decision = models.BooleanField(Category.DECISION.label, default=True)
    email_deadline = models.BooleanField(Category.DEADLINE.label, default=True)

    class Meta:
        verbose_name = _("e-mail preference")
        verbose_name_plural = _("e-mail preferences")

    def wants(self, category: str) -> bool:
        return getattr(self, f"email_{category}", True)
