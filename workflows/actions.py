"""The one entry point views, API, commands and tasks use to move a project.

Each action is one transaction: lock the project, fire the lifecycle transition, bring
the viewflow process along, commit.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from funding import services as funding
from funding.models import Project
from integrity.policy import NothingToVeto, VetoRefused

from .flows import LEADER_TASK, STAFF_TASK, ProjectFlow
from .lifecycle import REASSIGNING, fire_locked, lock_project, record_refusal
from .models import ProjectProcess
from .unit_review import unit_tasks

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


def perform(project_id: int, name: str, actor, **kwargs) -> Project:
    try:
        with transaction.atomic():
            project = lock_project(project_id)
            source, target = fire_locked(project, name, actor, **kwargs)
            _advance_process(project, actor, moved=source != target or name in REASSIGNING)
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
        with transaction.atomic():
            project = lock_project(project_id)
            funding.record_review(
                project, expert, score, opinion, no_conflict=no_conflict, scores=scores
            )
            process = ProjectProcess.objects.get(project=project)
            process.project = project
            for task in _open_tasks(process):
                if task.owner_id != expert.pk or task.flow_task != ProjectFlow.expert_review:
                    continue
                _complete(task, expert)
        return project
    except VetoRefused as refused:  # the expert was checked as they scored
        record_refusal(project_id, refused, expert)
        raise


def _advance_process(project: Project, actor, *, moved: bool) -> None:
    process = ProjectProcess.objects.filter(project=project).first()
    if process is None:
        ProjectFlow.start.run(project=project)
    elif moved:
        # Every open task belongs to the state just left; closing them lets `route`
        # open the task of the new state. The route reads the locked project we hold.
        process.project = project
        for task in _open_tasks(process):
            _complete(task, actor)


def _open_tasks(process: ProjectProcess) -> list[Task]:
    tasks = list(Task.objects.filter(process=process, status__in=OPEN, flow_task_type="HUMAN"))
    for task in tasks:
        task.process = process  # the same instance all the way, no re-reads
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
    return (
        Task.objects.filter(status__in=OPEN, flow_task_type="HUMAN")
        .filter(
            Q(owner=user) | Q(owner__isnull=True, owner_permission__in=perms) | unit_tasks(user)
        )
        .select_related("process")
        .order_by("created")
    )
