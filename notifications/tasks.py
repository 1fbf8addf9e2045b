import smtplib

from celery import shared_task

# Up to six retries, waiting 1, 2, 4, 8, 16 then 30 minutes (at most; jittered): an SMTP
# server down for up to about an hour loses nothing.
MAX_RETRIES = 6


@shared_task(
    bind=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=60,
    retry_backoff_max=1800,
    max_retries=MAX_RETRIES,
)
def send_notification_email(self, notification_id: int) -> str:
    """E-mail one notification, at most once however often this runs (notifications.email)."""
    from .email import deliver

    return deliver(notification_id, last_try=self.request.retries >= MAX_RETRIES)


@shared_task
def notify_for_trail_event(event_id: int) -> int:
    """The notifications of one committed trail event, made by a worker, not the request
    (issue 10: six statements and about a quarter of a transition's time)."""
    from .services import notify_for_event

    return notify_for_event(event_id)


@shared_task
def deadline_reminders() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): deadlines approaching and missed, once a day each;
    and e-mails left queued by a lost message are queued again."""
    from .deadlines import remind_deadlines
    from .services import requeue_stalled

    requeue_stalled()
    return remind_deadlines()
