"""An expert's review steps besides scoring, with the viewflow inbox kept in step.

Declining hands the expert's open review task to the replacement drawn for them, so the
parallel reviews' Join keeps waiting for one review per place; when no replacement could
be drawn the task waits in staff's inbox until they pick one by hand. The project row
lock (held from the start) makes two declines at once queue: each gets its own
replacement.
"""

from __future__ import annotations

from django.db import transaction
from viewflow.workflow.status import STATUS

from funding import expert_draw
from funding.models import ExpertAssignment, Project
from integrity.policy import VetoRefused

from .actions import _open_tasks
from .flows import STAFF_TASK, ProjectFlow
from .lifecycle import lock_project, record_refusal


def declare_no_conflict(project_id: int, expert) -> ExpertAssignment:
    with transaction.atomic():
        return expert_draw.declare_no_conflict(lock_project(project_id), expert)


def decline_review(
    project_id: int, expert, reason: str, *, conflict: bool = False
) -> ExpertAssignment | None:
    """Decline (or declare a conflict); returns the replacement's assignment, if any."""
    with transaction.atomic():
        project = lock_project(project_id)
        _declined, replacement = expert_draw.decline_review(
            project, expert, reason, conflict=conflict
        )
        _hand_over(project, expert.pk, replacement.expert if replacement else None)
    return replacement


def pick_replacement(project_id: int, by, expert, reason: str) -> ExpertAssignment:
    """Staff pick by hand in place of a declined review the draw could not replace."""
    try:
        with transaction.atomic():
            project = lock_project(project_id)
            replacement = expert_draw.pick_replacement(project, by, expert, reason)
            _hand_over(project, None, expert)
        return replacement
    except VetoRefused as refused:  # the expert picked was checked by the veto
        record_refusal(project_id, refused, by)
        raise


def _hand_over(project: Project, from_expert: int | None, to_expert) -> None:
    """Move the open review task of `from_expert` (None: the one waiting for staff) to
    `to_expert` (None: to staff's inbox, to pick one by hand)."""
    # A project moved without its process (the bare lifecycle) has no tasks: nothing to do.
    for task in _open_tasks(project, flow_task=ProjectFlow.expert_review):
        if task.data.get("expert") != from_expert:
            continue
        if to_expert is None:
            task.owner, task.status = None, STATUS.NEW
            task.owner_permission = STAFF_TASK
        else:
            task.owner, task.status = to_expert, STATUS.ASSIGNED
            task.owner_permission = None
        task.data = {**task.data, "expert": getattr(to_expert, "pk", None)}
        task.save(update_fields=["owner", "status", "owner_permission", "data"])
        return
