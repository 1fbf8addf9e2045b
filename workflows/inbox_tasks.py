"""The inbox's task table: the viewflow tasks a page at a time, each with the deadline a
rule sets for it, headed on the first page by the supervision steps (整改 and fund checks)
that run beside the lifecycle without a viewflow task."""

from __future__ import annotations

import datetime

from django.core.paginator import Page
from django.db.models import Case, IntegerField, OuterRef, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow.models import Task

from accounts.roles import Role, has_role
from funding.contracts import ProjectContract
from funding.flags import first_disbursement_due_on
from funding.models import ExpertAssignment
from funding.notice import notice_over
from funding.states import ProjectStatus
from notifications.deadlines import acceptance_due_on
from oversight import findings
from oversight import supervision_engagements as engagements
from oversight.models import AcceptanceReview

from .actions import inbox
from .inbox_items import SECTION_CAP, capped, day, item, label, minute, pk_url
from .models import ProjectProcess
from .unit_review import UNIT_TASK
from .views.paging import window_page

# Staff see a unit's task only when the unit has no officer: they stand in for it.
STAND_IN = gettext_lazy("Recommend on the unit's behalf (it has no unit officer)")
TASKS_PER_PAGE = 25
_PROJECT = "process__projectprocess__project"
# What a row of the table reads of the task and its project (the title, its state, and
# what task_due and not_before need): not the processes' and projects' whole rows.
_TASK_SHOWS = ("flow_task", "owner_permission", "owner", "created")
_PROJECT_SHOWS = ("title", "status", "notice_ends_on", "end_date")


def not_before(project) -> datetime.date | None:
    """The day a task becomes possible, when it is not yet: closing a public notice waits
    for the end of its period."""
    if project.status == ProjectStatus.PUBLIC_NOTICE and not notice_over(project):
        return project.notice_ends_on + datetime.timedelta(days=1)
    return None


def _with_deadlines(tasks):
    """What the deadlines of the tasks need, read with the tasks in the same query: the
    expert's own review due date, the rectification deadline of the last acceptance
    review, and when the task contract was signed."""
    project = OuterRef(_PROJECT)
    review_due = ExpertAssignment.objects.filter(project=project, expert=OuterRef("owner"))
    rectify_by = AcceptanceReview.objects.filter(project=project).order_by("-pk")
    signed = ProjectContract.objects.filter(project=project, frozen_at__isnull=False)
    return tasks.annotate(
        review_due=Subquery(review_due.values("due_on")[:1]),
        rectify_by=Subquery(rectify_by.values("rectify_by")[:1]),
        signed_at=Subquery(signed.values("frozen_at")[:1]),
    )


def task_page(user, number) -> Page:
    """One page of `user`'s tasks, what can be done now first (as not_before says), then
    the oldest first. The page and the count are found among the tasks alone, in one
    query; then only the page's rows are read with their projects and deadlines."""
    waiting = ProjectProcess.objects.filter(
        project__status=ProjectStatus.PUBLIC_NOTICE,
        project__notice_ends_on__gte=timezone.localdate(),
    ).values("pk")
    later = Case(
        When(process_id__in=waiting, then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    ordered = inbox(user).select_related(None).only("pk").annotate(later=later)
    page = window_page(ordered.order_by("later", "created", "pk"), number, TASKS_PER_PAGE)
    chosen = [task.pk for task in page.object_list]
    tasks = (
        _with_deadlines(Task.objects.filter(pk__in=chosen))
        .select_related(_PROJECT)
        .only(*_TASK_SHOWS, *(f"{_PROJECT}__{name}" for name in _PROJECT_SHOWS))
    )
    by_pk = {task.pk: task for task in tasks}
    page.object_list = [by_pk[pk] for pk in chosen if pk in by_pk]
    return page


def task_due(task, project) -> datetime.date | None:
    """The deadline a rule sets for the task, or None (the task shows since when it waits).

    An expert's review: its due date (funding.review_deadlines). Asking for acceptance:
    within three months of the end date. Rectifying after a reconsideration: the panel's
    deadline. The first tranche: FIRST_DISBURSEMENT_DAYS after the contract was signed
    (the task opens as it is signed, for a project signed before contracts were kept)."""
    name = task.flow_task.name
    if name == "expert_review":
        return task.review_due
    if name == "request_acceptance":
        return acceptance_due_on(project)
    if name == "rectify":
        return task.rectify_by
    if name == "first_disbursement":
        return first_disbursement_due_on(timezone.localdate(task.signed_at or task.created))
    return None


def _title(task, user) -> str:
    if task.owner_permission == UNIT_TASK and not has_role(user, Role.UNIT):
        return str(STAND_IN)
    return task.flow_task.task_title


def _table_row(row: dict, project, created, *, assigned: bool, starts=None) -> dict:
    """What the task table prints beyond an item: the state, when the task was created
    (as text) and, for a task not yet possible, from when it is (as words)."""
    row.update(
        state=label(project, "status"),
        created=minute(created) if created else "",
        assigned=assigned,
        not_before=_("from %(d)s") % {"d": day(starts)} if starts else "",
    )
    return row


def task_rows(tasks, user, today: datetime.date) -> list[dict]:
    rows = []
    for task in tasks:
        project = task.process.projectprocess.project
        row = item(
            _title(task, user),
            today,
            project=project,
            url=pk_url("project", project.pk),
            due=task_due(task, project),
            since=task.created,
        )
        starts, assigned = not_before(project), task.owner_id == user.pk
        rows.append(_table_row(row, project, task.created, assigned=assigned, starts=starts))
    return rows


def _supervision_row(title: str, project, today, *, due=None, since=None) -> dict:
    row = item(
        title,
        today,
        project=project,
        url=pk_url("supervision", project.pk),
        due=due,
        since=since,
    )
    return _table_row(row, project, since, assigned=True)


def _rectification_rows(user, today) -> tuple[list[dict], int]:
    """The rectification requests the unit answers: a unit officer's, or the PI's where
    the organisation has none (oversight.findings.answers_for_unit)."""
    rows, more = [], 0
    asked_of = [findings.rectifications_for_unit(user)]  # none for others: no query
    if has_role(user, Role.APPLICANT):
        asked_of.append(findings.rectifications_for_pi(user))
    for asked in asked_of:
        first = capped(asked)
        more += first["more"]
        for f in first["rows"]:
            title = (
                _("Rectification (整改) overdue since %(d)s: answer it")
                if f.rectify_by < today
                else _("Answer the rectification request (整改) by %(d)s")
            ) % {"d": f.rectify_by}
            rows.append(
                _supervision_row(
                    title, f.engagement.project, today, due=f.rectify_by, since=f.raised_at
                )
            )
    return rows, more


def _firm_rows(user, today) -> tuple[list[dict], int]:
    """Answered rectifications to close or reopen and fund checks to record: the firm's."""
    if not has_role(user, Role.AUDITOR):
        return [], 0
    rows = []
    answered = findings.answers_for_firm(user)  # distinct: counted apart
    shown = list(answered[:SECTION_CAP])
    more = answered.count() - len(shown)
    for f in shown:
        title = _("Close or reopen the answered rectification")
        rows.append(_supervision_row(title, f.engagement.project, today, since=f.raised_at))
    checks = capped(engagements.checks_waiting_for(user))
    more += checks["more"]
    for check in checks["rows"]:
        title = _("Record the fund check due on %(d)s") % {"d": check.due_on}
        rows.append(
            _supervision_row(title, check.engagement.project, today, due=check.due_on, since=None)
        )
    return rows, more


def supervision_rows(user, today: datetime.date) -> tuple[list[dict], int]:
    """The supervision steps waiting for `user` (at most SECTION_CAP of each kind) and
    how many more there are."""
    unit, unit_more = _rectification_rows(user, today)
    firm, firm_more = _firm_rows(user, today)
    return unit + firm, unit_more + firm_more
