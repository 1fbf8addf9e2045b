"""The working day's journeys in Chromium (issue 11): find and export, revise after a
return in Chinese, keep what was typed."""

from __future__ import annotations

import io
import shutil

import pytest
from openpyxl import load_workbook

from funding.models import Project
from funding.states import ProjectStatus as S
from workflows import demo
from workflows.actions import perform

from .browser_support import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed"),
]


def sign_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", demo.DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def filed_projects(county) -> None:
    for n, amount in enumerate(["300000", "120000", "450000"]):
        project = demo.draft_project(county, "applicant", f"示范项目{n}", amount)
        demo.advance(county, project, S.SUBMITTED)


def test_staff_filter_sort_and_export_the_project_list(live_server, browser_page):
    county = demo.create_county()
    filed_projects(county)
    # One the search must leave out, so that the three rows are the filter's doing.
    other = demo.draft_project(county, "applicant2", "智能装备控制器", "200000")
    demo.advance(county, other, S.SUBMITTED)
    page = browser_page
    sign_in(page, live_server.url, "staff")
    page.goto(f"{live_server.url}/projects/")
    page.fill("#id_q", "示范项目")
    with page.expect_navigation():
        page.click("[data-testid=filters] button[type=submit]")
    assert page.locator("table[data-testid=projects] tbody tr").count() == 3
    assert "智能装备控制器" not in page.inner_text("table[data-testid=projects]")
    # Sort by the requested amount: a click on its header, the largest last.
    with page.expect_navigation():
        page.click("table[data-testid=projects] th.amount >> nth=0 >> a")
    titles = page.locator("table[data-testid=projects] tbody tr td:first-child").all_inner_texts()
    assert titles == ["示范项目1", "示范项目0", "示范项目2"]
    with page.expect_download() as download:
        page.click("[data-testid=export-xlsx]")
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["示范项目1", "示范项目0", "示范项目2"]


def test_a_returned_application_is_revised_in_chinese_and_an_error_keeps_the_typing(
    live_server, browser_page
):
    county = demo.create_county()
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "初稿题目", "300000"), S.SUBMITTED
    )
    perform(project.pk, "return_for_revision", county.users["staff"], reason="题目不够具体")
    page = browser_page
    sign_in(page, live_server.url, "applicant")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    assert "题目不够具体" in page.inner_text("main")  # the reason, at the top
    page.goto(f"{live_server.url}/projects/{project.pk}/edit/")
    assert page.get_attribute("html", "lang") == "zh-hans"
    # The dates are there as the browser's date input reads them (ISO), not empty.
    assert page.input_value("#id_start_date") == project.start_date.isoformat()
    assert page.input_value("#id_end_date") == project.end_date.isoformat()
    page.fill("#id_title", "修改后的题目")
    page.fill("#id_summary", "补充了技术路线。")
    page.fill("#id_end_date", "2000-01-01")  # before the start: refused
    with page.expect_navigation():
        page.click("form.card button[type=submit]")
    assert "结束日期须晚于开始日期" in page.inner_text("main")  # the error, in Chinese
    assert page.input_value("#id_title") == "修改后的题目"
    assert page.input_value("#id_summary") == "补充了技术路线。"
    assert page.input_value("#id_end_date") == "2000-01-01"
    assert Project.objects.get(pk=project.pk).title == "初稿题目"  # nothing stored
    page.fill("#id_end_date", project.end_date.isoformat())
    with page.expect_navigation():
        page.click("form.card button[type=submit]")
    assert Project.objects.get(pk=project.pk).title == "修改后的题目"
