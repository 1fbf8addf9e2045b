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
from oversight.access import application_withheld_from, projects_visible_to

from ..inbox_sections import sections_for
from ..inbox_tasks import supervision_rows, task_page, task_rows

PROJECTS_SHOWN = 50


@login_required
def inbox_page(request):
    user = request.user
    today = timezone.localdate()
    page = task_page(user, request.GET.get("page"))
    # Rectifications (整改) and fund checks head the first page only.
    supervision, supervision_more = supervision_rows(user, today) if page.number == 1 else ([], 0)
    sections = sections_for(user, today)
    by_key = {s["key"]: s for s in sections}
    projects = projects_visible_to(user).select_related("applicant_org", "call")
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
            # The newest first: the primary key orders them as created, through its index.
            "projects": list(projects.order_by("-pk")[:PROJECTS_SHOWN]),
            "projects_shown": PROJECTS_SHOWN,
            # Before declaring no conflict an expert sees a project's title only.
            "withheld": application_withheld_from(user),
            "is_expert": has_role(user, Role.EXPERT),
            "roles": roles_of(user),
        },
    )
