"""The project list (issue 11): filter, sort, page, export, each as the role concerned."""

from __future__ import annotations

from decimal import Decimal

import pytest

from funding.models import ExpertAssignment, Project
from funding.states import ProjectStatus
from lists.export import safe_text
from tests.lists_support import column, copies, csv_rows, statements, xlsx_rows
from tests.pages_support import text
from workflows import demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def projects(county):
    """Two organisations' projects: the institute's in formal check, the enterprise's too,
    and a draft of each."""
    mine = demo.draft_project(county, "applicant", "水稻病虫害监测", "600000")
    theirs = demo.draft_project(county, "applicant2", "智能装备控制器", "150000")
    copies(mine, 3, status=ProjectStatus.FORMAL_CHECK)
    copies(theirs, 2, status=ProjectStatus.FORMAL_CHECK)
    return mine, theirs


def test_staff_see_filed_projects_and_drafts_only_when_they_ask(client_en, county, projects):
    client_en.force_login(county.users["staff"])
    page = text(client_en.get("/projects/"))
    assert "Showing 1–5 of 5" in page
    assert "水稻病虫害监测-000" in page and "智能装备控制器-001" in page
    drafts = text(client_en.get("/projects/?status=draft"))
    assert "Showing 1–2 of 2" in drafts


def test_an_applicant_sees_and_exports_only_their_organisations_rows(client_en, county, projects):
    client = client_en
    client.force_login(county.users["applicant"])
    page = text(client.get("/projects/"))
    assert "水稻病虫害监测" in page and "智能装备控制器" not in page
    rows = xlsx_rows(client.get("/projects/?export=xlsx"))
    assert len(rows) == 1 + 4  # the header, their draft and three filed
    assert all("水稻病虫害监测" in title for title in column(rows, "Title"))
    # Asking for the other organisation by address finds nothing of theirs.
    other = county.orgs["enterprise"].pk
    assert "智能装备控制器" not in text(client.get(f"/projects/?organisation={other}"))


def test_filters_narrow_the_page_and_the_export_alike(client_en, county, projects):
    client_en.force_login(county.users["staff"])
    query = "amount_min=200000&status=formal_check"
    assert "Showing 1–3 of 3" in text(client_en.get(f"/projects/?{query}"))
    rows = csv_rows(client_en.get(f"/projects/?{query}&export=csv"))
    assert len(rows) == 4
    assert set(column(rows, "Requested")) == {"600000.00"}
    search = text(client_en.get("/projects/?q=智能装备"))
    assert "Showing 1–2 of 2" in search


def test_sorting_by_amount_orders_the_rows_and_the_export(client_en, county, projects):
    client_en.force_login(county.users["staff"])
    rows = xlsx_rows(client_en.get("/projects/?sort=requested_amount&export=xlsx"))
    amounts = column(rows, "Requested")
    assert amounts == sorted(amounts) and amounts[0] == 150000
    rows = xlsx_rows(client_en.get("/projects/?sort=-requested_amount&export=xlsx"))
    assert column(rows, "Requested")[0] == 600000
    page = client_en.get("/projects/?sort=-requested_amount").content.decode()
    assert "600,000.00 yuan" in page


def test_a_title_that_looks_like_a_formula_is_exported_as_text(client_en, county, projects):
    mine, _theirs = projects
    Project.objects.filter(pk=mine.pk).update(
        title='=HYPERLINK("http://evil.example","x")', status=ProjectStatus.FORMAL_CHECK
    )
    client_en.force_login(county.users["staff"])
    titles = column(xlsx_rows(client_en.get("/projects/?export=xlsx")), "Title")
    assert '\'=HYPERLINK("http://evil.example","x")' in titles
    assert not any(str(t).startswith(("=", "+", "-", "@")) for t in titles)
    titles = column(csv_rows(client_en.get("/projects/?export=csv")), "Title")
    assert not any(t.startswith(("=", "+", "-", "@")) for t in titles)


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_start_is_neutralised(cell):
    assert safe_text(cell) == "'" + cell
    assert safe_text("科研") == "科研"


@pytest.mark.parametrize(
    "query", ["amount_min=abc", "status=nonsense", "year=abc", "overdue=perhaps", "call=999999"]
)
def test_a_bad_filter_says_so_and_shows_no_rows(client_en, county, projects, query):
    client_en.force_login(county.users["staff"])
    response = client_en.get(f"/projects/?{query}")
    assert response.status_code == 200
    page = text(response)
    assert "Correct the filters above" in page and "水稻病虫害监测" not in page
    export = client_en.get(f"/projects/?{query}&export=xlsx")
    assert export.status_code == 302


def test_the_overdue_filter_finds_running_projects_past_their_end(client_en, county, projects):
    mine, _theirs = projects
    late = copies(mine, 1, status=ProjectStatus.IN_PROGRESS)[0]
    Project.objects.filter(pk=late.pk).update(
        start_date="2020-01-01", end_date="2021-01-01", approved_amount=Decimal("1")
    )
    client_en.force_login(county.users["staff"])
    page = text(client_en.get("/projects/?overdue=true"))
    assert "Showing 1–1 of 1" in page and "overdue" in page


def test_signed_out_visitors_are_sent_to_sign_in(client, county):
    response = client.get("/projects/")
    assert response.status_code == 302
    assert "login" in response["Location"] and "next=/projects/" in response["Location"]


@pytest.mark.parametrize("who", ["staff", "applicant", "expert1"])
def test_the_list_makes_as_many_statements_with_ten_times_the_rows(client_en, county, who):
    mine = demo.draft_project(county, "applicant", "水稻病虫害监测", "600000")
    expert = county.users["expert1"]

    def filed(n: int) -> None:
        # The expert reviews them all, declared on half: an expert's list has rows too, some
        # withheld, so no run compares two empty pages.
        for i, project in enumerate(copies(mine, n, status=ProjectStatus.FORMAL_CHECK)):
            ExpertAssignment.objects.create(
                project=project, expert=expert, no_conflict_declared=bool(i % 2)
            )

    filed(3)
    client_en.force_login(county.users[who])
    client_en.get("/projects/")  # the first request reads what later ones keep
    assert "Nothing matches." not in text(client_en.get("/projects/"))
    few = statements(client_en, "/projects/")
    filed(30)
    assert statements(client_en, "/projects/") == few
    assert "Showing 1–25 of 3" in text(client_en.get("/projects/"))


def test_the_list_says_how_many_applications_wait_at_each_step(client_en, county, projects):
    client_en.force_login(county.users["staff"])
    page = client_en.get("/projects/").content.decode()
    assert 'data-awaiting="formal_check"' in page
    assert 'href="?status=formal_check"' in page
    step = page.split('data-awaiting="formal_check"')[1].split("</a>")[0]
    assert '<span class="count">5</span>' in step
    # An applicant's counts are of their own organisation's projects only.
    client_en.force_login(county.users["applicant"])
    step = client_en.get("/projects/").content.decode().split('data-awaiting="formal_check"')[1]
    assert '<span class="count">3</span>' in step.split("</a>")[0]


def test_an_export_above_the_cap_is_refused_with_a_clear_message(
    client_en, county, projects, settings
):
    settings.LIST_EXPORT_MAX_ROWS = 4
    client_en.force_login(county.users["staff"])
    response = client_en.get("/projects/?export=xlsx", follow=True)
    assert response.redirect_chain[0][1] == 302
    assert "More than 4 rows match; narrow the filters to export them." in text(response)
    narrowed = client_en.get("/projects/?q=智能装备&export=xlsx")
    assert len(xlsx_rows(narrowed)) == 1 + 2
