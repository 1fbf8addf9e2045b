"""事中监管: scheduled progress reports, reminders before they fall due, and the overdue.

The plan is made when the task contract is signed: a mid-term report halfway through
the project period and an annual report on each anniversary of the start date.
"""

from __future__ import annotations

import datetime
import logging
import smtplib

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import BadHeaderError, send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.text import check_text
from funding.models import Project
from funding.states import RUNNING_STATES
from trail.kinds import EventKind
from trail.services import record

from .models import ProgressReport

logger = logging.getLogger(__name__)
REMIND_BEFORE = datetime.timedelta(days=14)


def plan_reports(project: Project) -> list[ProgressReport]:
    """The reports a project owes; called by the lifecycle when the contract is signed."""
    start, end = project.start_date, project.end_date
    plan = [
        ProgressReport(
            project=project, kind=ProgressReport.Kind.MIDTERM, due_on=start + (end - start) / 2
        )
    ]
    year = 1
    while (due := _anniversary(start, year)) < end:
        plan.append(ProgressReport(project=project, kind=ProgressReport.Kind.ANNUAL, due_on=due))
        year += 1
    return ProgressReport.objects.bulk_create(plan, ignore_conflicts=True)


def _anniversary(start: datetime.date, years: int) -> datetime.date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


@transaction.atomic
def submit_report(report: ProgressReport, by, summary: str) -> ProgressReport:
    report = ProgressReport.objects.select_for_update().select_related("project").get(pk=report.pk)
    if by.pk != report.project.pi_id:
        raise PermissionDenied(_("Only the PI submits progress reports."))
    if report.project.status not in RUNNING_STATES:
        raise ValidationError(_("Progress reports are due only while the project runs."))
    if report.submitted_at:
        raise ValidationError(_("This report has already been submitted."))
    check_text(summary, label=_("Progress summary"))
    if not summary.strip():
        raise ValidationError(_("Write what the project has achieved so far."))
    report.summary, report.submitted_at = summary.strip(), timezone.now()
    report.save(update_fields=["summary", "submitted_at"])
    record(
        EventKind.PROGRESS_REPORT,
        report.project,
        actor=by,
        data={
            "kind": report.kind,
            "due_on": report.due_on,
            "late": timezone.localdate() > report.due_on,
        },
    )
    return report


def open_reports(today: datetime.date | None = None):
    """Unsubmitted reports of running projects, due within the reminder window or late."""
    today = today or timezone.localdate()
    return ProgressReport.objects.filter(
        submitted_at__isnull=True,
        project__status__in=RUNNING_STATES,
        due_on__lte=today + REMIND_BEFORE,
    ).select_related("project__pi")


def overdue_reports(today: datetime.date | None = None):
    today = today or timezone.localdate()
    return open_reports(today).filter(due_on__lt=today)


def send_reminders(today: datetime.date | None = None) -> int:
    """E-mail each PI once a day about reports due soon or late; returns how many were sent."""
    today = today or timezone.localdate()
    sent = 0
    for report in open_reports(today).exclude(reminded_on=today):
        pi = report.project.pi
        if pi.email:
            late = report.due_on < today
            subject = (
                _("Overdue: %(kind)s for “%(title)s”")
                if late
                else _("Due soon: %(kind)s for “%(title)s”")
            ) % {"kind": report.get_kind_display(), "title": report.project.title}
            body = _("The %(kind)s is due on %(due)s. Submit it on the project page.") % {
                "kind": report.get_kind_display(),
                "due": report.due_on,
            }
            # One line: a line break in a title (stored before titles were checked) would
            # make the header invalid and, raised here, stop everyone's reminders.
            subject = " ".join(str(subject).split())
            try:
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [pi.email])
            except (BadHeaderError, OSError, smtplib.SMTPException):
                logger.exception("Reminder for progress report %s not sent", report.pk)
                continue  # the others go out; this one is tried again tomorrow
            sent += 1
        ProgressReport.objects.filter(pk=report.pk).update(reminded_on=today)
    return sent
