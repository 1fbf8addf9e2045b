"""Shared by the list tests: reading a list's exports (the workbook's and the CSV's rows),
counting a page's statements, copying a project into many."""

from __future__ import annotations

import csv
import io

from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from funding.models import Project
from funding.states import ProjectStatus
from oversight.models import TechReport
from workflows import demo

# Every list on the list framework (lists.pages), as its address.
LISTS = [
    "/projects/",
    "/calls/",
    "/vouchers/",
    "/adjustments/",
    "/certificates/",
    "/inspections/",
    "/reports/",
    "/integrity/register/",
    "/integrity/cases/",
]


def xlsx_rows(response) -> list[list]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def column(rows: list[list], header: str) -> list:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


def statements(client, url: str) -> int:
    """The SQL statements the page at `url` makes; it must answer."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def copies(model: Project, n: int, **fields) -> list[Project]:
    """`n` copies of a project, titled after it with a number, with `fields` changed."""
    values = Project.objects.filter(pk=model.pk).values().get()
    del values["id"]
    made = [Project(**{**values, "title": f"{model.title}-{i:03d}", **fields}) for i in range(n)]
    return Project.objects.bulk_create(made)


def accepted_with_report(county) -> Project:
    """The institute's rice project accepted, its report published with 水稻 in its title
    and keywords and 稻田 in its abstract: the model the report lists' tests copy."""
    accepted = demo.advance(
        county,
        demo.draft_project(county, "applicant", "水稻病虫害监测", "300000"),
        ProjectStatus.ACCEPTED,
    )
    TechReport.objects.filter(project=accepted).update(
        title="水稻监测科技报告", keywords="水稻 监测", abstract="稻田病虫害监测。"
    )
    return accepted
