"""Deadlines approaching and missed: the daily job's table (notifications.tasks).

Each row finds the open items due within its window or late, and who must act on them;
every person is told once a day per item (a second run the same day tells nobody). The
lists come from the parts that own the deadlines (funding.review_deadlines,
oversight.supervision, oversight.findings); this job replaces the reminders those parts
used to e-mail by themselves, so that each person's e-mail choices apply to them too.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from funding.models import ExpertAssignment, Project
from funding.review_deadlines import pending_reviews
from funding.states import RUNNING_STATES, ProjectStatus
from oversight.models import ProgressReport, SupervisionFinding
from oversight.overdue import months_before
from oversight.supervision import open_reports

from .models import Category
from .recipients import Subject, unit_or_pi
from .services import Reminder, notify_deadlines

DAY = datetime.timedelta(days=1)
# Reminders start this many days before a rectification deadline and before the last day
# to ask for acceptance (reviews: REVIEW_REMIND_DAYS; reports: oversight.supervision).
RECTIFICATION_REMIND_DAYS = 7
ACCEPTANCE_REMIND_DAYS = 30
# Completion acceptance is asked for within this many months of the end date (DESIGN §6).
ACCEPTANCE_WITHIN_MONTHS = 3


def _label(obj) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


def _project_page(project_id: int) -> str:
    return reverse("project", args=[project_id])


def reviews(today: datetime.date) -> Iterator[Reminder]:
    """Expert reviews due within REVIEW_REMIND_DAYS, or late: the expert."""
    window = today + datetime.timedelta(days=settings.REVIEW_REMIND_DAYS)
    for assignment in pending_reviews().filter(due_on__lte=window).order_by("due_on", "pk"):
        yield Reminder(
            "review",
            _label(assignment),
            assignment.due_on,
            [assignment.expert_id],
            Category.DEADLINE,
            {"title": assignment.project.title},  # only the title: no conflict declared yet
            _project_page(assignment.project_id),
        )


def reports(today: datetime.date) -> Iterator[Reminder]:
    """Progress reports due within oversight.supervision's window, or late: the PI."""
    for report in open_reports(today).order_by("due_on", "pk"):
        yield Reminder(
            "report",
            _label(report),
            report.due_on,
            [report.project.pi_id],
            Category.DEADLINE,
            {"title": report.project.title, "kind": report.kind},
            _project_page(report.project_id),
        )


def rectifications(today: datetime.date) -> Iterator[Reminder]:
    """Rectification requests unanswered, due within a week or late: the unit (the PI
    where it has no officer), as long as the engagement runs."""
    findings = (
        SupervisionFinding.objects.filter(
            status=SupervisionFinding.Status.OPEN,
            rectify_by__isnull=False,
            rectify_by__lte=today + datetime.timedelta(days=RECTIFICATION_REMIND_DAYS),
            engagement__ended_at__isnull=True,
            engagement__project__status__in=RUNNING_STATES,
        )
        .select_related("engagement__project")
        .order_by("rectify_by", "pk")
    )
    for finding in findings:
        project = finding.engagement.project
        who = unit_or_pi(Subject(event=None, project=project))
        yield Reminder(
            "rectification",
            _label(finding),
            finding.rectify_by,
            list(who.values_list("pk", flat=True)),
            Category.DEADLINE,
            {"title": project.title, "finding": finding.text[:500]},
            reverse("supervision", args=[project.pk]),
        )


def acceptance_due_on(project: Project) -> datetime.date:
    return months_before(project.end_date, -ACCEPTANCE_WITHIN_MONTHS)  # that many after


def acceptances(today: datetime.date) -> Iterator[Reminder]:
    """Completion acceptance to ask for within three months of the end date: the PI, from
    a month before that day until they ask."""
    last_end = months_before(
        today + datetime.timedelta(days=ACCEPTANCE_REMIND_DAYS), ACCEPTANCE_WITHIN_MONTHS
    )
    projects = Project.objects.filter(
        status__in=[ProjectStatus.CONTRACTED, ProjectStatus.IN_PROGRESS],
        end_date__lte=last_end,
    ).order_by("end_date", "pk")
    for project in projects:
        yield Reminder(
            "acceptance",
            _label(project),
            acceptance_due_on(project),
            [project.pi_id],
            Category.DEADLINE,
            {"title": project.title, "end": project.end_date.isoformat()},
            _project_page(project.pk),
        )


DEADLINES: tuple[Callable[[datetime.date], Iterator[Reminder]], ...] = (
    reviews,
    reports,
    rectifications,
    acceptances,
)


def remind_deadlines(today: datetime.date | None = None) -> int:
    """Run every row of the table; returns how many people were told today."""
    today = today or timezone.localdate()
    reminders = [reminder for rows in DEADLINES for reminder in rows(today)]
    told = notify_deadlines(reminders, today)
    # The parts' own reminder jobs, if still run, skip what was reminded here today.
    reminded = {r.obj.rsplit(":", 1)[1] for r in reminders if r.deadline == "review"}
    ExpertAssignment.objects.filter(pk__in=reminded).update(reminded_on=today)
    reported = {r.obj.rsplit(":", 1)[1] for r in reminders if r.deadline == "report"}
    ProgressReport.objects.filter(pk__in=reported).update(reminded_on=today)
    return told
