"""The list searches at 100,000 projects (issue 10): the project list and the tech reports
find the same rows whether PostgreSQL reads its trigram indexes (funding migration 0017,
oversight 0010) or every row, and the same as the words say; a bad search never fails.
And the pages drawn faster show the same: a page read keys first
(lists.pages.KeysFirstPaginator) holds its rows in order, the rows and the filters' choices
drawn in Python read as before."""

from __future__ import annotations

import pytest
from django.db import connection

from funding.models import Project
from funding.states import ProjectStatus
from lists.money import yuan
from oversight.lists.projects import ProjectTable, projects_matching
from oversight.models import TechReport
from tests.lists_support import accepted_with_report, column, copies, csv_rows
from tests.pages_support import text
from workflows import demo

pytestmark = pytest.mark.django_db
POSTGRES = connection.vendor == "postgresql"
TRIGRAM_INDEXES = {
    "project_title_trgm",
    "project_field_trgm",
    "tech_report_title_trgm",
    "tech_report_abstract_trgm",
    "tech_report_keywords_trgm",
}


@pytest.fixture
def projects(county):
    """Filed projects whose words sit in each searched column: the title (Chinese, mixed
    case Latin, LIKE's wildcards), the field, the organisation, the PI."""
    rice = demo.draft_project(county, "applicant", "水稻病虫害监测", "600000")
    theirs = demo.draft_project(county, "applicant2", "智能装备控制器", "150000")
    filed = {"status": ProjectStatus.FORMAL_CHECK}
    copies(rice, 1, **filed)
    copies(rice, 1, title="Rice Blast Monitoring", **filed)
    copies(rice, 1, title="纯度100%的种子", **filed)
    copies(rice, 1, title="a_b\\c 检测", **filed)
    copies(rice, 1, title="茶园管理", field="水稻育种", **filed)
    copies(theirs, 2, **filed)
    return county


def expected(term: str) -> set[str]:
    """The filed projects whose title, field, organisation or PI holds `term`, any case."""
    term = term.strip().upper()
    rows = Project.objects.exclude(status=ProjectStatus.DRAFT).select_related("applicant_org", "pi")
    return {
        p.title
        for p in rows
        if any(
            term in value.upper()
            for value in (p.title, p.field, p.applicant_org.name, p.pi.real_name)
        )
    }


def found(client, url: str, term: str) -> set[str]:
    """The titles the list finds for `term`: its export, and its page says as many."""
    response = client.get(url, {"q": term})
    assert response.status_code == 200
    titles = set(column(csv_rows(client.get(url, {"q": term, "export": "csv"})), "Title"))
    page = text(response)
    assert f"of {len(titles)}" in page if titles else "Nothing matches." in page
    return titles


TERMS = [
    "水稻",  # two characters: no trigram, read as it is
    "稻",
    "水稻病虫害",  # a trigram index's term
    "rice",
    "RICE",
    "blast MON",
    "ri",  # short, with case: upper-cased as before
    "浙东",  # the organisation (浙东智能装备有限公司)
    "智能装备有限",
    "刘工程师",  # the PI
    "刘",
    "100%",  # LIKE's wildcards are the characters themselves
    "%",
    "a_b",
    "_",
    "\\",
    "b\\c",
    "育种",  # the field
    "没有这个词",
]


@pytest.mark.parametrize("term", TERMS)
def test_the_project_search_finds_what_its_words_say(client_en, projects, term):
    client_en.force_login(projects.users["staff"])
    assert expected(term) or term == "没有这个词"
    assert found(client_en, "/projects/", term) == expected(term)


def force(indexes: bool) -> None:
    """For this test's transaction: read the trigram indexes wherever they can serve, or
    drop them (both undone when the test's transaction rolls back)."""
    with connection.cursor() as cursor:
        if indexes:
            cursor.execute("SET LOCAL enable_seqscan = off")
        else:
            for name in TRIGRAM_INDEXES:
                cursor.execute(f'DROP INDEX "{name}"')


@pytest.mark.skipif(not POSTGRES, reason="the trigram indexes are PostgreSQL's")
def test_postgresql_has_the_trigram_indexes_and_reads_them_for_three_characters(projects):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)", [sorted(TRIGRAM_INDEXES)]
        )
        assert {name for (name,) in cursor.fetchall()} == TRIGRAM_INDEXES
    force(indexes=True)
    plan = Project.objects.filter(pk__in=projects_matching("水稻病虫害")).explain()
    assert "project_title_trgm" in plan and "project_field_trgm" in plan
    reports = TechReport.objects.filter(title__icontains="监测科技").explain()
    assert "tech_report_title_trgm" in reports


@pytest.mark.skipif(not POSTGRES, reason="the trigram indexes are PostgreSQL's")
@pytest.mark.parametrize("indexes", [True, False])
def test_the_same_projects_with_and_without_the_indexes(client_en, projects, indexes):
    client_en.force_login(projects.users["staff"])
    force(indexes)
    for term in TERMS:
        assert found(client_en, "/projects/", term) == expected(term), term


@pytest.fixture
def reports(county):
    """Published reports whose words sit in the title, the abstract or the keywords."""
    accepted = accepted_with_report(county)
    others = copies(accepted, 3)
    TechReport.objects.bulk_create(
        [
            TechReport(
                project=others[0], title="Rice Report", abstract="Blast 稻瘟病。", access="open"
            ),
            TechReport(
                project=others[1],
                title="茶叶报告",
                abstract="茶。",
                keywords="茶叶 水稻",
                access="open",
            ),
            TechReport(
                project=others[2], title="纯度100%报告", abstract="种子_检测。", access="open"
            ),
        ]
    )
    return county


REPORT_TERMS = {
    "水稻": {"水稻监测科技报告", "茶叶报告"},
    "稻": {"水稻监测科技报告", "茶叶报告", "Rice Report"},
    "监测 水稻": {"水稻监测科技报告"},  # every word, in any of the three columns
    "病虫害监测": {"水稻监测科技报告"},
    "rice BLAST": {"Rice Report"},
    "稻瘟病": {"Rice Report"},
    "100%": {"纯度100%报告"},
    "_": {"纯度100%报告"},
    "%": {"纯度100%报告"},
    "没有": set(),
}


@pytest.mark.parametrize("indexes", [None, True, False])
def test_the_report_search_finds_every_word_with_and_without_the_indexes(
    client_en, reports, indexes
):
    if indexes is not None:
        if not POSTGRES:
            pytest.skip("the trigram indexes are PostgreSQL's")
        force(indexes)
    for term, titles in REPORT_TERMS.items():
        assert found(client_en, "/reports/", term) == titles, term


BAD = [
    "\x00",
    "水稻\x01",
    "a" * 101,
    " " * 50,
    "%_\\" * 30,
    "😀" * 100,
    "水稻 " * 20,  # more words than are read
    "'; DROP TABLE funding_project; --",
]


@pytest.mark.parametrize("url", ["/projects/", "/reports/"])
@pytest.mark.parametrize("term", BAD)
def test_a_bad_search_never_fails(client_en, projects, url, term):
    client_en.force_login(projects.users["staff"])
    assert client_en.get(url, {"q": term}).status_code == 200
    assert client_en.get(url, {"q": term, "export": "csv"}).status_code in (200, 302)


@pytest.mark.parametrize("url", ["/projects/", "/reports/"])
def test_a_search_that_is_not_utf8_never_fails(client_en, projects, url):
    client_en.force_login(projects.users["staff"])
    assert client_en.get(f"{url}?q=%FF%FE%00%E6%B0").status_code == 200


def test_a_page_read_keys_first_holds_its_rows_in_order(client_en, county):
    """Page 2 of 30 projects, newest first: the five oldest, oldest last."""
    first = demo.draft_project(county, "applicant", "分页项目", "100000")
    copies(first, 29, status=ProjectStatus.FORMAL_CHECK)
    Project.objects.filter(pk=first.pk).update(status=ProjectStatus.FORMAL_CHECK)
    client_en.force_login(county.users["staff"])
    ordered = list(Project.objects.order_by("-pk").values_list("title", flat=True))
    page = text(client_en.get("/projects/", {"page": 2}))
    assert "Showing 26–30 of 30" in page
    shown = [title for title in ordered if f">{title}<" in page]
    assert shown == ordered[25:]
    assert [page.index(f">{title}<") for title in shown] == sorted(
        page.index(f">{title}<") for title in shown
    )
    assert not any(f">{title}<" in page for title in ordered[:25])


def test_a_page_of_a_search_reads_its_rows_by_their_keys_alone(client_en, county):
    """The search runs for the count and the keys, not a third time for the rows."""
    from django.test.utils import CaptureQueriesContext

    first = demo.draft_project(county, "applicant", "分页项目", "100000")
    copies(first, 29, status=ProjectStatus.FORMAL_CHECK)
    Project.objects.filter(pk=first.pk).update(status=ProjectStatus.FORMAL_CHECK)
    client_en.force_login(county.users["staff"])
    with CaptureQueriesContext(connection) as captured:
        page = text(client_en.get("/projects/", {"q": "分页", "page": 2}))
    assert "Showing 26–30 of 30" in page
    ordered = list(Project.objects.order_by("-pk").values_list("title", flat=True))
    assert [title for title in ordered if f">{title}<" in page] == ordered[25:]
    rows = [q["sql"] for q in captured if '"funding_project"."summary"' in q["sql"]]
    assert len(rows) == 1 and "LIKE" not in rows[0] and "分页" not in rows[0], rows


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_rows_and_filters_are_drawn_as_before(client, projects, language):
    """The rows and the filters' choices drawn in Python (lists.tables, lists.forms): the
    states' labels in the reader's language, amounts with their unit, the choice asked for
    selected, and the empty text when nothing matches."""
    from django.utils import translation

    client.cookies["django_language"] = language
    client.force_login(projects.users["staff"])
    page = client.get("/projects/", {"status": "formal_check"}).content.decode()
    with translation.override(language):
        state = str(ProjectStatus.FORMAL_CHECK.label)
        amount = yuan("600000")
    filed = Project.objects.filter(status=ProjectStatus.FORMAL_CHECK).count()
    assert filed == 7 and page.count(f"<td >{state}</td>") == filed
    assert f'<td class="amount">{amount}</td>' in page
    assert f'<option value="formal_check" selected>{state}</option>' in page
    institute = projects.orgs["institute"]
    assert f'\n  <option value="{institute.pk}">{institute.name}</option>' in page
    empty = client.get("/projects/", {"q": "没有这个词"}).content.decode()
    with translation.override(language):
        assert f'<tr><td colspan="9">{ProjectTable._meta.empty_text}</td></tr>' in empty
