"""Pages that list what grows with the projects stay the same size (issue 10).

For each page: the same number of SQL statements with ten times the rows, and a page (or a
section) never longer than its cap. The rows are copies written with bulk_create: a few
built through the services give the shape, the copies give the volume.
"""

from __future__ import annotations

import datetime
import importlib
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Process, Task

from funding.contracts import ProjectContract
from funding.models import Project
from funding.recovery import Recovery
from funding.states import ProjectStatus as S
from oversight.models import (
    AuditEngagement,
    InspectionDraw,
    ProgressReport,
    SupervisionFinding,
    TechReport,
)
from oversight.supervision import open_reports
from workflows import demo
from workflows.models import ProjectProcess

pytestmark = pytest.mark.django_db

N = 6  # and ten times as many


def statements(client, url: str) -> tuple[int, str]:
    """How many SQL statements a GET of `url` sends, and the page. The overview's totals
    are summed every time (no cache), so both runs do the same work."""
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(captured.captured_queries), response.content.decode()


def copies(model: Project, n: int, **fields) -> list[Project]:
    """`n` projects like `model` (its call, organisation and PI), with `fields` set; each
    value may be a function of the copy's number."""
    values = Project.objects.filter(pk=model.pk).values().get()
    del values["id"]
    made = []
    for i in range(n):
        row = {**values, "title": f"{model.title}（副本{i:03d}）"}
        row.update({k: v(i) if callable(v) else v for k, v in fields.items()})
        made.append(Project(**row))
    return Project.objects.bulk_create(made)


def with_open_tasks(template: Project, projects: list[Project]) -> None:
    """Give each project a process and a copy of `template`'s open task, a minute apart
    in the order of the list (the first the oldest)."""
    task = Task.objects.get(process__projectprocess__project=template, status="NEW")
    values = Task.objects.filter(pk=task.pk).values().get()
    for name in ("id", "process_id"):
        del values[name]
    processes = Process.objects.bulk_create(
        Process(flow_class=task.process.flow_class, status=task.process.status) for _ in projects
    )
    table, ptr = ProjectProcess._meta.db_table, ProjectProcess._meta.pk.column
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({ptr}, project_id) VALUES (%s, %s)",
            [(proc.pk, p.pk) for proc, p in zip(processes, projects, strict=True)],
        )
    start = timezone.now() - datetime.timedelta(days=30)
    Task.objects.bulk_create(
        Task(**{**values, "process_id": proc.pk, "created": start + datetime.timedelta(minutes=i)})
        for i, proc in enumerate(processes)
    )


# --- the staff inbox ----------------------------------------------------------------------


@pytest.fixture
def submitted(county, draft):
    """A project waiting for staff to accept it: a real viewflow task to copy."""
    return demo.advance(county, draft, S.SUBMITTED)


def test_the_inbox_makes_as_many_statements_with_ten_times_the_tasks(client_en, county, submitted):
    client_en.force_login(county.users["staff"])
    with_open_tasks(submitted, copies(submitted, N))
    few, page = statements(client_en, reverse("inbox"))
    assert f"{N + 1} tasks waiting." in page
    with_open_tasks(submitted, copies(submitted, 9 * N))
    many, page = statements(client_en, reverse("inbox"))
    assert f"{10 * N + 1} tasks waiting." in page
    assert many == few


def tasks_shown(client, page=None) -> str:
    """The task table of the inbox (the projects listed below it left out)."""
    html = client.get(reverse("inbox"), {"page": page} if page else {}).content.decode()
    start = html.index("<h1>")
    return html[start : html.index("<h2>", start)]


def test_the_inbox_shows_25_tasks_a_page_the_oldest_first(client_en, county, submitted):
    more = copies(submitted, 35)
    with_open_tasks(submitted, more)  # a month old: older than the demo's task
    client_en.force_login(county.users["staff"])
    first, second = tasks_shown(client_en), tasks_shown(client_en, 2)
    assert first.count("Accept the application") == 25 and "Page 1 of 2" in first
    assert second.count("Accept the application") == 11 and "Page 2 of 2" in second
    assert f">{more[24].title}<" in first and f">{more[25].title}<" not in first
    assert f">{more[25].title}<" in second and f">{submitted.title}<" in second
    # Past the last page: the last page; no whole number: the first.
    assert tasks_shown(client_en, 99) == second
    assert tasks_shown(client_en, "x") == first


def test_a_task_that_must_wait_comes_after_those_that_can_be_done(client_en, county, draft):
    """Closing a public notice waits for the end of its period: last in the list."""
    waiting = demo.advance(county, draft, S.PUBLIC_NOTICE)
    ended = copies(waiting, 30, notice_ends_on=timezone.localdate() - datetime.timedelta(days=1))
    with_open_tasks(waiting, ended)
    Task.objects.filter(process__projectprocess__project=waiting).update(
        created=timezone.now() - datetime.timedelta(days=60)  # the oldest of all
    )
    client_en.force_login(county.users["staff"])
    first, second = tasks_shown(client_en), tasks_shown(client_en, 2)
    assert 'data-testid="task-not-before"' not in first and f">{waiting.title}<" not in first
    assert f">{waiting.title}<" in second and 'data-testid="task-not-before"' in second
    assert second.count("Close the public notice") == 6


def test_a_section_of_the_inbox_shows_10_and_says_how_many_more(client_en, county, draft):
    running = demo.advance(county, draft, S.IN_PROGRESS)
    today = timezone.localdate()

    def owed(n: int, offset: int) -> None:
        ProgressReport.objects.bulk_create(
            ProgressReport(
                project=running,
                kind="annual",
                due_on=today - datetime.timedelta(days=offset + i),
            )
            for i in range(n)
        )

    client_en.force_login(running.pi)
    owed(25, 100)
    few, page = statements(client_en, reverse("inbox"))
    owed(225, 200)
    many, page = statements(client_en, reverse("inbox"))
    assert many == few
    reports = re.search(r"Progress reports due</h2>\s*<ul>(.*?)</ul>", page, re.S).group(1)
    assert reports.count("<li>") == 10
    total = open_reports().filter(project__pi=running.pi).count()
    assert total >= 250 and f"And {total - 10} more ({total} in all)." in page


# --- the API ------------------------------------------------------------------------------


def test_the_api_makes_as_many_statements_with_ten_times_the_projects(client, county, draft):
    client.force_login(county.users["staff"])
    copies(draft, N)
    few, _ = statements(client, reverse("api-project-list"))
    made = copies(draft, 9 * N)
    many, body = statements(client, reverse("api-project-list"))
    assert many == few
    # The newest first, 50 a page: the 51st newest leads the second page.
    newest_first = sorted(Project.objects.values_list("pk", flat=True), reverse=True)
    second = client.get(reverse("api-project-list"), {"page": 2}).json()
    assert second["results"][0]["id"] == newest_first[50]
    assert second["count"] == 10 * N + 1 and made[-1].pk == newest_first[0]


# --- the overview -------------------------------------------------------------------------


def overdue_everywhere(county, model: Project, n: int) -> None:
    """`n` running projects on every list of the overview: acceptance overdue, the first
    tranche late, a progress report overdue, a recovery outstanding, a rectification
    overdue."""
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    signed = timezone.now() - 800 * day
    projects = copies(
        model,
        n,
        status=S.CONTRACTED,
        start_date=lambda i: today - (900 + i) * day,
        end_date=lambda i: today - (200 + i) * day,
        approved_amount=Decimal("300000.00"),
        disbursed_total=Decimal("0.00"),
        signed_on=lambda i: timezone.localdate(signed - i * day),  # as sign_contract keeps it
    )
    staff, auditor = county.users["staff"], county.users["auditor"]
    ProjectContract.objects.bulk_create(
        ProjectContract(project=p, frozen_at=signed - i * day, frozen_by=staff)
        for i, p in enumerate(projects)
    )
    ProgressReport.objects.bulk_create(
        ProgressReport(project=p, kind="annual", due_on=today - (30 + i) * day)
        for i, p in enumerate(projects)
    )
    Recovery.objects.bulk_create(
        Recovery(
            project=p,
            reason="terminated",
            disbursed=Decimal("100.00"),
            spent=Decimal("0.00"),
            eligible=Decimal("0.00"),
            computed=Decimal("100.00"),
            amount=Decimal("100.00"),
        )
        for p in projects
    )
    engagements = AuditEngagement.objects.bulk_create(
        AuditEngagement(
            project=p, firm=county.orgs["firm"], lead_auditor=auditor, appointed_by=staff
        )
        for p in projects
    )
    SupervisionFinding.objects.bulk_create(
        SupervisionFinding(
            engagement=e,
            severity="minor",
            text="凭证缺少审批签字。",
            rectify_by=today - (10 + i) * day,
            raised_by=auditor,
        )
        for i, e in enumerate(engagements)
    )


SECTIONS = {
    "acceptance-overdue": "data-overdue=",
    "first-disbursement-late": "data-late-disbursement=",
    "reports-overdue": "data-late-report=",
    "recoveries-outstanding": "data-recovery=",
    "rectifications-overdue": "data-late-rectification=",
}


def test_the_overview_makes_as_many_statements_with_ten_times_the_rows(client_en, county, draft):
    client_en.force_login(county.users["leader"])
    overdue_everywhere(county, draft, N)
    few, page = statements(client_en, reverse("dashboard"))
    for marker in SECTIONS.values():
        assert page.count(marker) == N
    overdue_everywhere(county, draft, 9 * N)
    many, page = statements(client_en, reverse("dashboard"))
    assert many == few
    # Each list: the oldest 10, how many in all, the way to the whole list.
    for slug, marker in SECTIONS.items():
        assert page.count(marker) == 10, slug
        assert f'data-testid="overview-more-{slug}">The first 10 of {10 * N}.' in page, slug
        assert reverse("dashboard-section", args=[slug]) in page
    assert f"{10 * N} projects owe {10 * N * 100:,}.00 yuan in all." in page


def test_the_oldest_come_first_on_the_overview(client_en, county, draft):
    overdue_everywhere(county, draft, 12)
    client_en.force_login(county.users["staff"])
    page = client_en.get(reverse("dashboard")).content.decode()
    shown = [int(pk) for pk in re.findall(r'data-overdue="(\d+)"', page)]
    oldest = Project.objects.filter(status=S.CONTRACTED).order_by("end_date", "pk")
    assert shown == list(oldest.values_list("pk", flat=True)[:10])
    late = [int(pk) for pk in re.findall(r'data-late-disbursement="(\d+)"', page)]
    assert late == list(oldest.values_list("pk", flat=True)[:10])  # signed the earliest


@pytest.mark.parametrize("slug", list(SECTIONS))
def test_each_whole_list_comes_50_a_page_in_as_many_statements(client_en, county, draft, slug):
    client_en.force_login(county.users["leader"])
    url = reverse("dashboard-section", args=[slug])
    overdue_everywhere(county, draft, N)
    few, page = statements(client_en, url)
    assert page.count(SECTIONS[slug]) == N
    overdue_everywhere(county, draft, 9 * N)
    many, page = statements(client_en, url)
    assert many == few
    assert page.count(SECTIONS[slug]) == 50 and "Page 1 of 2" in page
    assert f"{10 * N} in all." in page
    second = client_en.get(url, {"page": 2}).content.decode()
    assert second.count(SECTIONS[slug]) == 10 * N - 50


def test_the_whole_lists_are_for_those_who_see_the_overview(client_en, county):
    url = reverse("dashboard-section", args=["acceptance-overdue"])
    client_en.force_login(county.users["applicant"])
    assert client_en.get(url).status_code == 403
    client_en.force_login(county.users["staff"])
    assert client_en.get(reverse("dashboard-section", args=["nothing-such"])).status_code == 404


def test_the_late_first_tranches_are_those_funding_flags_finds(county, draft):
    """The overview's query and funding.flags.late_first_disbursements agree: paid late,
    unpaid and overdue, paid in time, unpaid and not yet due, signed only on the trail."""
    from funding.flags import late_first_disbursements as in_python
    from workflows.actions import perform
    from workflows.views.dashboard import _disbursement_rows as rows_of
    from workflows.views.dashboard import late_first_disbursements as in_sql

    staff = county.users["staff"]
    first = demo.advance(county, draft, S.CONTRACTED)
    others = [demo.draft_project(county, "applicant", f"拨付{i}", "300000") for i in range(4)]
    projects = [first] + [demo.advance(county, p, S.CONTRACTED) for p in others]
    now = timezone.now()
    for days, project in zip([45, 40, 20, 10, 50], projects, strict=True):
        signed = now - datetime.timedelta(days=days)  # as if signed that long ago
        ProjectContract.objects.filter(project=project).update(frozen_at=signed)
        Project.objects.filter(pk=project.pk).update(signed_on=timezone.localdate(signed))
    perform(projects[0].pk, "disburse", staff, amount=Decimal("1000"), tranche="首笔")  # late
    perform(projects[2].pk, "disburse", staff, amount=Decimal("1000"), tranche="首笔")  # in time
    # Signed before contracts had terms: the trail's transition says when (today).
    ProjectContract.objects.filter(project=projects[4]).update(frozen_at=None)
    Project.objects.filter(pk=projects[4].pk).update(signed_on=timezone.localdate())
    today = timezone.localdate()
    for day in (today, today + datetime.timedelta(days=25), today + datetime.timedelta(days=35)):
        expected = {r["project"].pk: r["timing"] for r in in_python(day)}
        found = [(row["project"].pk, row["timing"]) for row in rows_of(in_sql(day), day)]
        assert dict(found) == expected and len(found) == len(expected)
        waited = [timing.days_late for _pk, timing in found]
        assert waited == sorted(waited, reverse=True)
    assert len(expected) == 4  # at day 35: all but the one paid in time


def test_the_project_keeps_the_days_of_its_signing_and_first_tranche(county, draft):
    """sign_contract keeps `signed_on`, the first tranche `first_disbursed_on` (a later one
    leaves it); the migrations fill both in for projects signed and paid before them."""
    from django.apps import apps

    from funding.models import Disbursement
    from workflows.actions import perform

    fill_paid = importlib.import_module("funding.migrations.0013_overview_indexes")
    fill_signed = importlib.import_module("funding.migrations.0014_project_signed_on")
    staff, today = county.users["staff"], timezone.localdate()
    project = demo.advance(county, draft, S.CONTRACTED)
    project.refresh_from_db()
    assert project.signed_on == today and project.first_disbursed_on is None
    for _ in range(2):
        perform(project.pk, "disburse", staff, amount=Decimal("1000"), tranche="一笔")
    project.refresh_from_db()
    assert project.first_disbursed_on == today

    # As before the migrations: nothing kept; the first tranche paid 20 days ago.
    Disbursement.objects.filter(project=project).update(paid_on=today - 20 * DAY)
    Project.objects.filter(pk=project.pk).update(signed_on=None, first_disbursed_on=None)
    fill_paid.fill_first_disbursed_on(apps, None)
    fill_signed.fill_signed_on(apps, None)
    project.refresh_from_db()
    assert project.first_disbursed_on == today - 20 * DAY
    assert project.signed_on == today  # the contract's frozen terms
    assert Project.objects.filter(first_disbursed_on__isnull=False).count() == 1
    # Signed before contracts had terms: the day of the trail's sign_contract transition.
    ProjectContract.objects.filter(project=project).update(frozen_at=None)
    Project.objects.filter(pk=project.pk).update(signed_on=None)
    fill_signed.fill_signed_on(apps, None)
    assert Project.objects.values_list("signed_on", flat=True).get(pk=project.pk) == today
    assert Project.objects.filter(signed_on__isnull=False).count() == 1


DAY = datetime.timedelta(days=1)


# --- the public notice, the inspections, the tech reports ---------------------------------


def test_the_notices_make_as_many_statements_with_ten_times_the_projects(client_en, county, draft):
    on_notice = demo.advance(county, draft, S.PUBLIC_NOTICE)
    copies(on_notice, N)
    few, page = statements(client_en, reverse("notices"))
    assert page.count("data-project=") == N + 1
    copies(on_notice, 9 * N)
    many, page = statements(client_en, reverse("notices"))
    assert many == few
    assert page.count("data-project=") == 50 and "Page 1 of 2" in page
    second = client_en.get(reverse("notices"), {"page": 2}).content.decode()
    assert second.count("data-project=") == 10 * N + 1 - 50


def draws(county, n: int, pool: int = 1000) -> None:
    InspectionDraw.objects.bulk_create(
        InspectionDraw(
            seed=f"抽查{i}",
            population=list(range(pool)),
            pool_size=pool,
            inspector_pool=[county.users["expert1"].pk],
            drawn_by=county.users["staff"],
        )
        for i in range(n)
    )


def test_the_inspections_make_as_many_statements_and_never_read_the_pools(client_en, county):
    client_en.force_login(county.users["staff"])
    draws(county, N)
    few, _ = statements(client_en, reverse("inspections"))
    draws(county, 9 * N)
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        page = client_en.get(reverse("inspections")).content.decode()
    assert len(captured.captured_queries) == few
    assert not any("population" in q["sql"] for q in captured.captured_queries)
    assert page.count('<td class="num">1000</td>') == 50 and "Page 1 of 2" in page


def test_the_pool_size_is_kept_when_drawing_and_filled_in_for_earlier_draws(county):
    from django.apps import apps

    from oversight.inspections import draw_inspections

    running = demo.advance(
        county, demo.draft_project(county, "applicant", "抽查项目", "300000"), S.IN_PROGRESS
    )
    drawn = draw_inspections(county.users["staff"], 1, 1, seed="种子")
    assert drawn.pool_size == len(drawn.population) == 1 and drawn.population == [running.pk]
    InspectionDraw.objects.filter(pk=drawn.pk).update(pool_size=0)  # as before the field
    migration = importlib.import_module("oversight.migrations.0008_inspection_pool_size")
    migration.fill_pool_sizes(apps, None)
    assert InspectionDraw.objects.get(pk=drawn.pk).pool_size == 1


def test_the_tech_reports_make_as_many_statements_with_ten_times_the_reports(
    client_en, county, draft
):
    accepted = demo.advance(county, draft, S.ACCEPTED)

    def reports(n: int) -> None:
        TechReport.objects.bulk_create(
            TechReport(project=p, title=f"报告{p.pk}", abstract="摘要。", access="open")
            for p in copies(accepted, n)
        )

    reports(N)
    few, page = statements(client_en, reverse("reports"))
    reports(9 * N)
    many, page = statements(client_en, reverse("reports"))
    assert many == few
    assert page.count("data-report=") == 20  # 20 a page, the newest first
    newest = TechReport.objects.order_by("-filed_at", "-pk").first()
    assert f"{newest.title}</a>" in page
