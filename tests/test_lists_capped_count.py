"""Long lists count no further than a cap, and offer a box for a project's number when
there are too many projects to choose from (issue 10: every page bounded)."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

import pytest
from django.core.paginator import EmptyPage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from funding.models import Expenditure
from funding.states import ProjectStatus
from lists.pages import AtLeast, CappedPaginator
from oversight.lists import vouchers as voucher_list
from tests.lists_support import xlsx_rows
from tests.pages_support import text
from workflows import demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(county):
    made = demo.draft_project(county, "applicant", "水稻病虫害监测", "600000")
    type(made).objects.filter(pk=made.pk).update(status=ProjectStatus.IN_PROGRESS)
    made.refresh_from_db()
    return made


def spend(project, n: int, start: int = 0) -> None:
    Expenditure.objects.bulk_create(
        Expenditure(
            project=project,
            voucher_no=f"JZ-{i:04d}",
            spent_on=project.start_date + datetime.timedelta(days=1),
            category="operations",
            payee="某供应商",
            method="transfer",
            amount=Decimal("100.00") + i,
        )
        for i in range(start, start + n)
    )


@pytest.fixture
def capped(monkeypatch):
    """The voucher list counting to 10."""
    spec = dataclasses.replace(voucher_list.VOUCHERS, count_cap=10, per_page=5)
    monkeypatch.setattr(voucher_list, "VOUCHERS", spec)


def test_a_capped_paginator_counts_to_its_cap_and_pages_no_further(project):
    spend(project, 12)
    rows = Expenditure.objects.order_by("pk")
    paginator = CappedPaginator(rows, 5, cap=10)
    assert paginator.count == 10 and paginator.capped
    assert isinstance(paginator.count, AtLeast) and str(paginator.count) == "10+"
    assert paginator.num_pages == 2 and str(paginator.num_pages) == "2+"
    assert [e.voucher_no for e in paginator.page(2)] == [f"JZ-{i:04d}" for i in range(5, 10)]
    with pytest.raises(EmptyPage):
        paginator.page(3)
    exact = CappedPaginator(rows, 5, cap=12)
    assert exact.count == 12 and not exact.capped and str(exact.count) == "12"
    assert exact.num_pages == 3 and str(exact.num_pages) == "3"
    assert CappedPaginator(rows.none(), 5, cap=10).count == 0
    assert CappedPaginator(list(range(11)), 5, cap=10).count == 10  # a list too


def test_a_list_past_its_cap_says_so_and_still_exports_every_row(
    client_en, county, project, capped
):
    spend(project, 13)
    client_en.force_login(county.users["staff"])
    page = text(client_en.get("/vouchers/"))
    assert "Showing 1–5 of more than 10" in page and "Page 1 of 2+" in page
    # The last page reached: the next are for narrower filters.
    assert "Page 2 of 2+" in text(client_en.get("/vouchers/?page=9"))
    # A filter under the cap is counted exactly.
    assert "Showing 1–1 of 1" in text(client_en.get("/vouchers/?q=JZ-0012"))
    assert len(xlsx_rows(client_en.get("/vouchers/?export=xlsx"))) == 1 + 13


def test_the_capped_count_costs_the_same_statements_with_ten_times_the_rows(
    client_en, county, project, capped
):
    client_en.force_login(county.users["staff"])
    spend(project, 8)
    client_en.get("/vouchers/")  # warm-up

    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client_en.get("/vouchers/").status_code == 200
        return len(captured.captured_queries)

    few = statements()
    spend(project, 80, start=8)
    assert statements() == few


def test_past_so_many_projects_the_voucher_filter_asks_for_a_number(
    client_en, county, project, monkeypatch
):
    theirs = demo.draft_project(county, "applicant2", "智能装备控制器", "150000")
    spend(project, 3)
    Expenditure.objects.create(
        project=theirs,
        voucher_no="THEIRS-1",
        spent_on=theirs.start_date,
        category="operations",
        payee="某供应商",
        method="transfer",
        amount=Decimal("50.00"),
    )
    client_en.force_login(county.users["staff"])
    chosen = client_en.get("/vouchers/").content.decode()
    assert '<select name="project"' in chosen
    monkeypatch.setattr(voucher_list, "PROJECT_CHOICES_SHOWN", 1)
    typed = client_en.get("/vouchers/").content.decode()
    assert '<select name="project"' not in typed and 'type="number" name="project"' in typed
    page = text(client_en.get(f"/vouchers/?project={theirs.pk}"))
    assert "Showing 1–1 of 1" in page and "THEIRS-1" in page
    # A project with no vouchers is no choice, typed or not.
    client_en.force_login(county.users["applicant"])
    page = text(client_en.get(f"/vouchers/?project={theirs.pk}"))
    assert "Correct the filters above" in page and "THEIRS-1" not in page
