from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.roles import Role, has_role, roles_of
from integrity.cases import waiting_for_officer
from oversight.access import projects_visible_to
from oversight.supervision import open_reports

from ..actions import inbox


@login_required
def inbox_page(request):
    tasks = list(inbox(request.user).select_related("process__projectprocess__project"))
    rows = [
        {
            "title": task.flow_task.task_title,
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
        },
    )
