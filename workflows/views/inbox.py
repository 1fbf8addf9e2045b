import datetime

from django.contrib.auth.decorators import login_required
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Task

from accounts.roles import Role, has_role, roles_of
from funding.adjustments import adjustments_waiting_for
from funding.notice import notice_over
from funding.review_deadlines import late_reviews
from funding.states import ProjectStatus
from integrity.cases import waiting_for_officer
from integrity.respondents import cases_notified_to
from oversight import findings
from oversight import supervision_engagements as engagements
from oversight.access import projects_visible_to
from oversight.panels import votes_waiting_for
from oversight.supervision import open_reports

from ..actions import inbox
from ..models import ProjectProcess
from ..unit_review import UNIT_TASK
from .experts import reviews_due_section
from .paging import first_rows, window_page
from .supervision import supervision_tasks

# Staff see a unit's task only when the unit has no officer: they stand in for it.
STAND_IN = _("Recommend on the unit's behalf (it has no unit officer)")
# The page stays the same size whatever the number of projects (issue 10): the tasks come
# in pages, every other section shows its first few and says how many there are in all.
TASKS_PER_PAGE = 50
SECTION_CAP = 20
PROJECTS_SHOWN = 50


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


def capped(name: str, items, cap: int = SECTION_CAP) -> dict:
    """`name`: the first `cap` of a queryset (counted in the same query) or of a list;
    `name`_count: how many there are in all and how many are left out."""
    if isinstance(items, QuerySet):
        first = first_rows(items, cap)
    else:
        first = {"rows": items[:cap], "total": len(items), "more": max(len(items) - cap, 0)}
    return {name: first["rows"], f"{name}_count": first}


def task_page(user, number):
    """One page of `user`'s tasks, what can be done now first (as not_before says), then
    the oldest first. The page and the count are found among the tasks alone, in one
    query; then only the page's rows are read with their projects (issue 10)."""
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
    tasks = Task.objects.filter(pk__in=chosen).select_related("process__projectprocess__project")
    by_pk = {task.pk: task for task in tasks}
    page.object_list = [by_pk[pk] for pk in chosen if pk in by_pk]
    return page


def _rows(tasks, user) -> list[dict]:
    return [
        {
            "title": _title(task, user),
            "project": task.process.projectprocess.project,
            "state": state_label(task.process.projectprocess.project),
            "created": task.created,
            "assigned": task.owner_id == user.pk,
            "not_before": not_before(task.process.projectprocess.project),
        }
        for task in tasks
    ]


def state_label(project) -> str:
    """The state's name; get_status_display translates every state's name to find one."""
    return ProjectStatus(project.status).label


def _supervision_more(user, shown: int) -> int:
    """How many supervision rows the inbox leaves out (no query for other roles)."""
    kinds = [
        findings.rectifications_for_unit(user),
        findings.answers_for_firm(user),
        engagements.checks_waiting_for(user),
    ]
    return sum(kind.count() for kind in kinds) - shown


@login_required
def inbox_page(request):
    user = request.user
    page = task_page(user, request.GET.get("page"))
    # Rectifications (整改) and fund checks (issue 9) head the first page only.
    supervision = supervision_tasks(user, SECTION_CAP) if page.number == 1 else []
    supervision_more = _supervision_more(user, len(supervision)) if page.number == 1 else 0
    projects = projects_visible_to(user).select_related("applicant_org", "call")
    reviews = reviews_due_section(user)  # late expert reviews (the first 50); an expert's own
    late_more = 0
    if has_role(user, Role.STAFF):  # reviews_due_section shows staff the first 50
        late_more = late_reviews().count() - len(reviews["late_reviews"])
    return render(
        request,
        "workflows/inbox.html",
        {
            "page": page,
            "tasks": supervision + _rows(page, user),
            "supervision_more": supervision_more,
            # The newest first: the primary key orders them as created, through its index.
            "projects": list(projects.order_by("-pk")[:PROJECTS_SHOWN]),
            "projects_shown": PROJECTS_SHOWN,
            "roles": roles_of(user),
            **capped("reports", open_reports().filter(project__pi=user).order_by("due_on", "pk")),
            # The integrity officer's cases wait here too: proposals first, then open cases.
            **capped("cases", waiting_for_officer() if has_role(user, Role.INTEGRITY) else []),
            # Equipment changes a unit officer approves for their unit (预算调剂).
            **capped("adjustments_waiting", adjustments_waiting_for(user)),
            # Cases whose respondent this user is (or acts for), once notified.
            **capped("respondent_cases", cases_notified_to(user)),
            # An acceptance panel member's verdict still to give (no viewflow task).
            **capped("panel_votes", votes_waiting_for(user) if has_role(user, Role.EXPERT) else []),
            "late_reviews_more": late_more,
            **reviews,
        },
    )
