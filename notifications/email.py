"""The e-mail of one notification: composed in the site's language, sent at most once.

Run by the Celery task (notifications.tasks), never inside a request. The row is locked
while it is sent, and one marked sent is skipped, so a task that runs twice (a retry, a
message delivered again) sends once. A send that fails leaves the row queued for the
task's retry, or failed after the last one; the action that caused it committed long
before. (Should the database fail in the instant after the server took the mail, the
retry sends it again: at least once, never lost.)
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User

from .models import EmailStatus, Notification
from .services import address_of

RETRIED = (smtplib.SMTPException, OSError)  # SMTPException is an OSError; both named


def compose(notification: Notification) -> tuple[str, str]:
    """Subject and body, in LANGUAGE_CODE (accounts keep no language of their own)."""
    base = settings.PUBLIC_BASE_URL
    with translation.override(settings.LANGUAGE_CODE):
        parts = [notification.body]
        if notification.link:
            parts.append(base + notification.link)
        parts.append(
            _("Choose which notifications you also get by e-mail: %(url)s")
            % {"url": base + reverse("notification-settings")}
        )
        return notification.title, "\n\n".join(p for p in parts if p)


def deliver(notification_id: int, *, last_try: bool) -> str:
    """Send the notification's e-mail unless it went already; says what happened."""
    try:
        with transaction.atomic():
            notification = (
                Notification.objects.select_for_update().filter(pk=notification_id).first()
            )
            if notification is None:
                return "gone"
            if notification.email_status == EmailStatus.SENT:
                return "already sent"
            recipient = User.objects.select_related("expert_profile").get(
                pk=notification.recipient_id
            )
            address = address_of(recipient)
            if not address:  # removed since it was queued
                notification.email_status = EmailStatus.NONE
                notification.save(update_fields=["email_status"])
                return "no address"
            subject, body = compose(notification)
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
            notification.email_status, notification.emailed_at = EmailStatus.SENT, timezone.now()
            notification.email_attempts += 1
            notification.save(update_fields=["email_status", "emailed_at", "email_attempts"])
            return "sent"
    except RETRIED:
        _count_failure(notification_id, EmailStatus.FAILED if last_try else EmailStatus.QUEUED)
        raise  # the task retries it, with back-off
    except ValueError:  # BadHeaderError and the like: trying again would fail the same way
        _count_failure(notification_id, EmailStatus.FAILED)
        return "failed"


def _count_failure(notification_id: int, status: str) -> None:
    Notification.objects.filter(pk=notification_id).exclude(email_status=EmailStatus.SENT).update(
        email_attempts=F("email_attempts") + 1, email_status=status
    )
