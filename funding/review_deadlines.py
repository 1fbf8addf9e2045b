"""Review deadlines: each assignment is due EXPERT_REVIEW_DAYS after it was made; the
expert is reminded from REVIEW_REMIND_DAYS before (once a day, Celery beat), and staff
see the late ones."""

from __future__ import annotations

import datetime
import logging
import smtplib

from django.conf import settings
from django.core.mail import BadHeaderError, send_mail
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ExpertAssignment
from .states import ProjectStatus

logger = logging.getLogger(__name__)


def pending_reviews() -> QuerySet[ExpertAssignment]:
    """Reviews still owed: assigned, neither submitted nor declined, under expert review."""
    return ExpertAssignment.objects.filter(
        submitted_at__isnull=True,
        declined_at__isnull=True,
        project__status=ProjectStatus.EXPERT_REVIEW,
        due_on__isnull=False,
    ).select_related("project", "expert__expert_profile")


def late_reviews(today: datetime.date | None = None) -> QuerySet[ExpertAssignment]:
    today = today or timezone.localdate()
    return pending_reviews().filter(due_on__lt=today).order_by("due_on", "pk")


def reviews_to_remind(today: datetime.date | None = None) -> QuerySet[ExpertAssignment]:
    today = today or timezone.localdate()
    window = today + datetime.timedelta(days=settings.REVIEW_REMIND_DAYS)
    return pending_reviews().filter(due_on__lte=window).exclude(reminded_on=today)


def _address(expert) -> str:
    """The profile's contact e-mail, else the account's."""
    profile = getattr(expert, "expert_profile", None)  # none: RelatedObjectDoesNotExist
    return (profile.email if profile else "") or expert.email


def send_review_reminders(today: datetime.date | None = None) -> int:
    """E-mail each expert once a day about reviews due soon or late; returns how many."""
    today = today or timezone.localdate()
    sent = 0
    for assignment in reviews_to_remind(today):
        expert, project = assignment.expert, assignment.project
        address = _address(expert)
        if address:
            late = assignment.due_on < today
            # Only the title: the expert may not have declared no conflict yet.
            subject = (
                _("Overdue: your review of “%(title)s”")
                if late
                else _("Due soon: your review of “%(title)s”")
            ) % {"title": project.title}
            body = _(
                "Your review of “%(title)s” is due on %(due)s. Open the project page to "
                "declare no conflict of interest and review it, or to decline."
            ) % {"title": project.title, "due": assignment.due_on}
            # One line: a line break in a title would make the header invalid and, raised
            # here, stop everyone's reminders.
            subject = " ".join(str(subject).split())
            try:
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
            except (BadHeaderError, OSError, smtplib.SMTPException):
                logger.exception("Reminder for review %s not sent", assignment.pk)
                continue  # the others go out; this one is tried again tomorrow
            sent += 1
        ExpertAssignment.objects.filter(pk=assignment.pk).update(reminded_on=today)
    return sent
