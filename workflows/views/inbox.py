import datetime

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role, has_role, roles_of
from funding.adjustments import adjustments_waiting_for
from funding.notice import notice_over
from funding.states import ProjectStatus
from integrity.cases import waiting_for_officer
from integrity.respondents import cases_notified_to
from oversight.access import projects_visible_to
from oversight.panels import votes_waiting_for
from oversight.supervision import open_reports

from ..actions import inbox
from ..unit_review import UNIT_TASK
from .experts import reviews_due_section
from .supervision import supervision_tasks

# Staff see a unit's task only when the unit has no officer: they stand in for it.
STAND_IN = _("Recommend on the unit's behalf (it has no unit officer)")


def _title(task, user) -> str:
    if task.owner_permission == UNIT_TASK and not has_role(user, Role.UNIT):
        return STAND_IN
    return task.flow_task.task_title


def not_before(project) -> datetime.date | None:
    """The day a task becomes possible, when it is not yet: closing a public notice waits
    for the end of its period."""
    if project.status == ProjectStatus.PUBLIC_NOTICE and not notice_over(project):
        return project.notice_ends_on + datetime.timedelta(days=1)
    return None


@login_required
def inbox_page(request):
    tasks = list(inbox(request.user).select_related("process__projectprocess__project"))
    rows = [
        {
            "title": _title(task, request.user),
            "project": task.process.projectprocess.project,
            "created": task.created,
            "assigned": task.owner_id == request.user.pk,
            "not_before": not_before(task.process.projectprocess.project),
        }
        for task in tasks
    ]
    rows += supervision_tasks(request.user)  # rectifications (整改) and fund checks, issue 9
    rows.sort(key=lambda row: row["not_before"] is not None)  # what can be done now first
    projects = projects_visible_to(request.user).select_related("applicant_org", "call")[:50]
    reports = open_reports().filter(project__pi=request.user)
    # The integrity officer's cases wait here too: proposals first, then open cases.
    cases = waiting_for_officer() if has_role(request.user, Role.INTEGRITY) else []
    return render(
        request,
        "workflows/inbox.html",
        {
            "tasks": rows,
            "projects": projects,
            "roles": roles_of(request.user),
            "reports": reports,
            "cases": cases,
            # Equipment changes a unit officer approves for their unit (预算调剂).
            "adjustments_waiting": list(adjustments_waiting_for(request.user)),
            # Cases whose respondent this user is (or acts for), once notified.
            "respondent_cases": list(cases_notified_to(request.user)),
            # An acceptance panel member's verdict still to give (no viewflow task).
            "panel_votes": votes_waiting_for(request.user)
            if has_role(request.user, Role.EXPERT)
            else [],
            **reviews_due_section(request.user),  # late expert reviews; an expert's own
        },
    )
