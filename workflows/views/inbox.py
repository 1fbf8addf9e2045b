from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role, has_role, roles_of
from integrity.cases import waiting_for_officer
from oversight.access import projects_visible_to
from oversight.panels import votes_waiting_for
from oversight.supervision import open_reports

from ..actions import inbox
from ..unit_review import UNIT_TASK
from .experts import reviews_due_section

# Staff see a unit's task only when the unit has no officer: they stand in for it.
STAND_IN = _("Recommend on the unit's behalf (it has no unit officer)")


def _title(task, user) -> str:
    if task.owner_permission == UNIT_TASK and not has_role(user, Role.UNIT):
        return STAND_IN
    return task.flow_task.task_title


@login_required
def inbox_page(request):
    tasks = list(inbox(request.user).select_related("process__projectprocess__project"))
    rows = [
        {
            "title": _title(task, request.user),
            "project": task.process.projectprocess.project,
            "created": task.created,
            "assigned": task.owner_id == request.user.pk,
        }
        for task in tasks
    ]
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
            # An acceptance panel member's verdict still to give (no viewflow task).
            "panel_votes": votes_waiting_for(request.user)
            if has_role(request.user, Role.EXPERT)
            else [],
            **reviews_due_section(request.user),  # late expert reviews; an expert's own
        },
    )
