"""The inbox (`/`): everything that waits for the signed-in person, with its due date.

The viewflow tasks come a page at a time (headed on the first page by the supervision
steps); every other kind of work has a section of its own, by role
(workflows.inbox_sections). The page makes the same number of queries whatever the number
of rows (issue 10): pages and capped sections, each counted in the query that reads it.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from accounts.roles import Role, has_role, roles_of
from funding.models import Project
from oversight.access import application_withheld_from, projects_visible_to

from ..inbox_items import label, pk_url
from ..inbox_sections import sections_for
from ..inbox_tasks import supervision_rows, task_page, task_rows

# The newest few: the projects list (`projects`) pages, filters and sorts them all.
PROJECTS_SHOWN = 20


def newest_projects(user) -> list[Project]:
    """The newest projects `user` sees (the primary key orders them as created, through
    its index), with only what the table prints: each carries its address and its state's
    label, made here rather than by a `{% url %}` and get_status_display() per row."""
    projects = (
        projects_visible_to(user)
        .select_related("applicant_org")
        .only("pk", "title", "status", "applicant_org__name")
        .order_by("-pk")[:PROJECTS_SHOWN]
    )
    listed = list(projects)
    for project in listed:
        project.url = pk_url("project", project.pk)
        project.state = label(project, "status")
    return listed


@login_required
def inbox_page(request):
    user = request.user
    today = timezone.localdate()
    page = task_page(user, request.GET.get("page"))
    # Rectifications (整改) and fund checks head the first page only.
    supervision, supervision_more = supervision_rows(user, today) if page.number == 1 else ([], 0)
    sections = sections_for(user, today)
    by_key = {s["key"]: s for s in sections}
    projects = newest_projects(user)
    return render(
        request,
        "workflows/inbox.html",
        {
            "page": page,
            "today": today,
            "tasks": supervision + task_rows(page, user, today),
            "supervision_more": supervision_more,
            "sections": sections,
            # What the unit decides, as the budget pages' tests read it.
            "adjustments_waiting": by_key.get("adjustments", {}).get("objects", []),
            "projects": projects,
            "projects_shown": PROJECTS_SHOWN,
            # Before declaring no conflict an expert sees a project's title only.
            "withheld": application_withheld_from(user),
            "is_expert": has_role(user, Role.EXPERT),
            "roles": roles_of(user),
        },
    )
