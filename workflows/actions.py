"""The one entry point views, API, commands and tasks use to move a project.

Each action is one transaction: lock the project, fire the lifecycle transition, bring
the viewflow process along, append the trail events, commit. The events come last
(trail.buffer): the trail's one head row is locked from the first append to the commit.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from funding import services as funding
from funding.models import Project
from funding.states import ProjectStatus
from integrity.policy import NothingToVeto, VetoRefused
from trail.buffer import hold_events

from .flows import LEADER_TASK, STAFF_TASK, ProjectFlow
from .lifecycle import REASSIGNING, fire_locked, lock_project, record_refusal
from .models import ProjectProcess
from .unit_review import UNIT_TASK, unit_projects

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


def perform(project_id: int, name: str, actor, **kwargs) -> Project:
    try:
        with transaction.atomic(), hold_events():
            project = lock_project(project_id)
            source, target = fire_locked(project, name, actor, **kwargs)
            moved = source != target or name in REASSIGNING
            _advance_process(project, actor, source=source, moved=moved)
        return project
    except (VetoRefused, NothingToVeto) as refused:
        record_refusal(project_id, refused, actor)
        raise


def submit_expert_review(
    project_id: int,
    expert,
    score: int | None,
    opinion: str,
    *,
    no_conflict: bool,
    scores: dict[str, int] | None = None,
) -> Project:
    """The expert's review; `scores` per criterion when the call has criteria."""
    try:
        with transaction.atomic(), hold_events():
            project = lock_project(project_id)
            funding.record_review(
                project, expert, score, opinion, no_conflict=no_conflict, scores=scores
            )
            for task in _open_tasks(project, owner=expert, flow_task=ProjectFlow.expert_review):
                _complete(task, expert)
        return project
    except VetoRefused as refused:  # the expert was checked as they scored
        record_refusal(project_id, refused, expert)
        raise


def _advance_process(project: Project, actor, *, source: str, moved: bool) -> None:
    if source == ProjectStatus.DRAFT:  # nothing starts a draft's process but this
        ProjectFlow.start.run(project=project)
        return
    # Every open task belongs to the state just left; closing them lets `route` open the
    # task of the new state. A project moved by lifecycle.fire() alone gets its process.
    tasks = _open_tasks(project) if moved else []
    if not tasks and not ProjectProcess.objects.filter(project=project).exists():
        ProjectFlow.start.run(project=project)
    for task in tasks:
        _complete(task, actor)


def _open_tasks(project: Project, **only) -> list[Task]:
    """The open human tasks of the project's process, read with the process in one
    query; every task gets the same process instance, holding the locked project, so
    the route reads what we hold and nothing is read again."""
    tasks = list(
        Task.objects.filter(
            process__projectprocess__project=project,
            status__in=OPEN,
            flow_task_type="HUMAN",
            **only,
        ).select_related("process__projectprocess")
    )
    if tasks:
        process = tasks[0].process.projectprocess
        process.project = project
        for task in tasks:
            task.process = process
    return tasks


def _complete(task: Task, actor) -> None:
    activation = task.flow_task.activation_class(task)
    if task.status == STATUS.NEW:
        # Taken and done in one step: one write instead of viewflow's assign-then-finish.
        task.owner, task.status = actor, STATUS.ASSIGNED
    if task.status == STATUS.ASSIGNED:
        activation.start(None)
    task.data = {**task.data, "closed_by": getattr(actor, "pk", None)}
    activation.execute()


def inbox(user) -> QuerySet[Task]:
    """Open tasks for `user`: assigned to them, offered to a permission they hold, or
    their unit's (workflows.unit_review)."""
    perms = [p for p in (STAFF_TASK, LEADER_TASK) if user.has_perm(p)]
    open_tasks = Task.objects.filter(status__in=OPEN, flow_task_type="HUMAN")
    # The unit's tasks are found from the projects under the unit's review (the only
    # state with a unit task open) in a subquery of their own, which never reads the
    # tasks: the tasks are counted and ordered from an index of the open ones alone
    # (workflows migration 0002), without joining any project (issue 10).
    under_review = unit_projects(user, "project__") & Q(project__status=ProjectStatus.UNIT_REVIEW)
    units = ProjectProcess.objects.filter(under_review).values("pk")
    unit = Q(owner__isnull=True, owner_permission=UNIT_TASK, process_id__in=units)
    return (
        open_tasks.filter(Q(owner=user) | Q(owner__isnull=True, owner_permission__in=perms) | unit)
        # What an inbox row shows: the project's title and state, without a query per row.
        .select_related("process__projectprocess__project")
        .order_by("created", "pk")
    )
