"""The voucher and budget-adjustment lists (issue 11): each role reads only the fund
trails it may read; filters, sorting and exports agree; bad filters never show rows."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from funding.models import BudgetAdjustment, Expenditure
from funding.states import ProjectStatus
from oversight.models import AuditEngagement
from tests.lists_support import column, csv_rows, statements, xlsx_rows
from tests.pages_support import text
from workflows import demo

pytestmark = pytest.mark.django_db

MINE, THEIRS = "水稻病虫害监测", "智能装备控制器"


@pytest.fixture
def projects(county):
    """The institute's project (applicant, unit1) and the enterprise's (applicant2, unit2),
    both running."""
    mine = demo.draft_project(county, "applicant", MINE, "600000")
    theirs = demo.draft_project(county, "applicant2", THEIRS, "150000")
    for project in (mine, theirs):
        type(project).objects.filter(pk=project.pk).update(status=ProjectStatus.IN_PROGRESS)
        project.refresh_from_db()
    return mine, theirs


def voucher(project, n: int, **changes) -> Expenditure:
    fields = {
        "voucher_no": f"JZ-{project.pk}-{n:04d}",
        "spent_on": project.start_date + datetime.timedelta(days=1 + n % 100),
        "category": "operations",
        "payee": "某供应商",
        "method": "transfer",
        "amount": Decimal("100.00") + n,
    }
    return Expenditure(project=project, **{**fields, **changes})


def spend(project, n: int, *extra: Expenditure) -> list[Expenditure]:
    return Expenditure.objects.bulk_create([voucher(project, i) for i in range(n)] + [*extra])


@pytest.fixture
def ledgers(projects):
    """Three clean vouchers each, and on the institute's a few flagged ones."""
    mine, theirs = projects
    start = mine.start_date
    spend(
        mine,
        3,
        voucher(mine, 901, voucher_no="DUP-1"),
        voucher(mine, 902, voucher_no="DUP-1"),
        voucher(mine, 903, spent_on=start - datetime.timedelta(days=5), voucher_no="EARLY"),
        voucher(mine, 904, method="cash", amount=Decimal("6000.00"), voucher_no="CASH"),
        voucher(mine, 905, payee="黄助理", voucher_no="TEAM"),
        voucher(mine, 906, payee="个人", amount=Decimal("60000.00"), voucher_no="VAGUE"),
        voucher(mine, 907, category="equipment", amount=Decimal("50.00"), voucher_no="EQ"),
    )
    spend(theirs, 3)
    return mine, theirs


def engage(county, project, auditor="auditor", firm="firm") -> AuditEngagement:
    engagement = AuditEngagement.objects.create(
        project=project,
        firm=county.orgs[firm],
        lead_auditor=county.users[auditor],
        appointed_by=county.users["staff"],
        whole_course=True,
    )
    engagement.staff.set([county.users[auditor]])
    return engagement


# --- vouchers ---------------------------------------------------------------------------


def test_staff_see_every_voucher(client_en, county, ledgers):
    client_en.force_login(county.users["staff"])
    page = text(client_en.get("/vouchers/"))
    assert "Showing 1–13 of 13" in page and MINE in page and THEIRS in page


@pytest.mark.parametrize("who", ["applicant", "unit1"])
def test_the_institute_exports_only_its_own_vouchers(client_en, county, ledgers, who):
    client_en.force_login(county.users[who])
    page = text(client_en.get("/vouchers/"))
    assert "of 10" in page and THEIRS not in page
    rows = xlsx_rows(client_en.get("/vouchers/?export=xlsx"))
    assert len(rows) == 1 + 10
    assert set(column(rows, "Project")) == {MINE}
    rows = csv_rows(client_en.get("/vouchers/?export=csv"))
    assert set(column(rows, "Project")) == {MINE}
    # Asking for the other organisation's project or organisation finds nothing.
    _mine, theirs = ledgers
    for query in (f"project={theirs.pk}", f"organisation={county.orgs['enterprise'].pk}"):
        assert THEIRS not in text(client_en.get(f"/vouchers/?{query}"))
        assert client_en.get(f"/vouchers/?{query}&export=csv").status_code == 302


def test_an_auditor_reads_only_the_running_engagement(client_en, county, ledgers):
    _mine, theirs = ledgers
    engagement = engage(county, theirs)
    client_en.force_login(county.users["auditor"])
    rows = xlsx_rows(client_en.get("/vouchers/?export=xlsx"))
    assert set(column(rows, "Project")) == {THEIRS} and len(rows) == 1 + 3
    client_en.force_login(county.users["auditor2"])  # another firm's auditor
    assert "Nothing matches." in text(client_en.get("/vouchers/"))
    AuditEngagement.objects.filter(pk=engagement.pk).update(ended_at=timezone.now())
    client_en.force_login(county.users["auditor"])
    assert "Nothing matches." in text(client_en.get("/vouchers/"))


@pytest.mark.parametrize("who", ["expert1", "integrity"])
def test_those_who_do_not_read_fund_trails_see_no_vouchers(client_en, county, ledgers, who):
    client_en.force_login(county.users[who])
    page = text(client_en.get("/vouchers/"))
    assert "Nothing matches." in page and "JZ-" not in page


def test_filters_narrow_the_page_and_the_export_alike(client_en, county, ledgers):
    mine, _theirs = ledgers
    client_en.force_login(county.users["staff"])
    query = f"project={mine.pk}&amount_min=5000"
    assert "Showing 1–2 of 2" in text(client_en.get(f"/vouchers/?{query}"))
    rows = csv_rows(client_en.get(f"/vouchers/?{query}&export=csv"))
    assert sorted(column(rows, "Voucher number")) == ["CASH", "VAGUE"]
    assert "of 1" in text(client_en.get("/vouchers/?category=equipment"))
    early = (mine.start_date - datetime.timedelta(days=1)).isoformat()
    rows = xlsx_rows(client_en.get(f"/vouchers/?spent_to={early}&export=xlsx"))
    assert column(rows, "Voucher number") == ["EARLY"]
    assert "Showing 1–2 of 2" in text(client_en.get("/vouchers/?q=dup-1"))
    enterprise = county.orgs["enterprise"].pk
    rows = xlsx_rows(client_en.get(f"/vouchers/?organisation={enterprise}&export=xlsx"))
    assert set(column(rows, "Organisation")) == {county.orgs["enterprise"].name}


@pytest.mark.parametrize(
    "flag, numbers",
    [
        ("outside_period", ["EARLY"]),
        ("duplicate_voucher", ["DUP-1", "DUP-1"]),
        ("paid_to_team", ["TEAM"]),
        ("large_cash", ["CASH"]),
        ("vague_payee", ["VAGUE"]),
        ("any", ["CASH", "DUP-1", "DUP-1", "EARLY", "TEAM", "VAGUE"]),
    ],
)
def test_the_red_flags_of_funding_flags_filter_the_vouchers(
    client_en, county, ledgers, flag, numbers
):
    client_en.force_login(county.users["staff"])
    rows = xlsx_rows(client_en.get(f"/vouchers/?flagged={flag}&export=xlsx"))
    assert sorted(column(rows, "Voucher number")) == numbers
    assert all(column(rows, "Red flags"))


def test_the_page_names_each_vouchers_flags(client_en, county, ledgers):
    client_en.force_login(county.users["staff"])
    rows = xlsx_rows(client_en.get("/vouchers/?q=EARLY&export=xlsx"))
    assert column(rows, "Red flags") == ["Outside the project period"]
    rows = csv_rows(client_en.get("/vouchers/?q=JZ-&sort=amount&export=csv"))
    assert set(column(rows, "Red flags")) == {""}


def test_sorting_orders_the_page_and_the_export(client_en, county, ledgers):
    client_en.force_login(county.users["staff"])
    rows = xlsx_rows(client_en.get("/vouchers/?sort=-amount&export=xlsx"))
    amounts = column(rows, "Amount")
    assert amounts == sorted(amounts, reverse=True) and amounts[0] == Decimal("60000")
    rows = csv_rows(client_en.get("/vouchers/?sort=amount&export=csv"))
    assert column(rows, "Amount")[0] == "50.00"
    page = client_en.get("/vouchers/?sort=-amount").content.decode()
    assert page.index("60,000.00 yuan") < page.index("6,000.00 yuan")


@pytest.mark.parametrize(
    "query",
    [
        "amount_min=abc",
        "amount_max=1e400",
        "amount_min=-5",
        "spent_from=2026-13-45",
        "flagged=perhaps",
        "category=furniture",
        "project=999999",
        "project=99999999999999999999999",
        "call=abc",
        "q=%00JZ",
    ],
)
def test_a_bad_voucher_filter_says_so_and_shows_no_rows(client_en, county, ledgers, query):
    client_en.force_login(county.users["staff"])
    response = client_en.get(f"/vouchers/?{query}")
    assert response.status_code == 200
    page = text(response)
    assert "Correct the filters above" in page and "JZ-" not in page
    assert client_en.get(f"/vouchers/?{query}&export=xlsx").status_code == 302


def test_a_payee_that_looks_like_a_formula_is_exported_as_text(client_en, county, projects):
    mine, _theirs = projects
    spend(mine, 0, voucher(mine, 1, payee='=HYPERLINK("http://evil.example","x")'))
    client_en.force_login(county.users["applicant"])
    payees = column(xlsx_rows(client_en.get("/vouchers/?export=xlsx")), "Payee")
    assert payees == ['\'=HYPERLINK("http://evil.example","x")']
    payees = column(csv_rows(client_en.get("/vouchers/?export=csv")), "Payee")
    assert not any(p.startswith(("=", "+", "-", "@")) for p in payees)


@pytest.mark.parametrize("who", ["staff", "applicant", "auditor"])
def test_the_voucher_list_makes_as_many_statements_with_ten_times_the_rows(
    client_en, county, ledgers, who
):
    mine, _theirs = ledgers
    engage(county, mine)
    client_en.force_login(county.users[who])
    url = "/vouchers/?flagged=any&sort=-amount"
    client_en.get("/vouchers/")  # the first request reads what later ones keep
    assert "DUP-1" in text(client_en.get(url))  # both runs read rows, not two empty pages
    few = statements(client_en, "/vouchers/"), statements(client_en, url)
    spend(mine, 130, *(voucher(mine, 1000 + i, voucher_no=f"DUP-{i}") for i in range(40)))
    assert (statements(client_en, "/vouchers/"), statements(client_en, url)) == few


def test_signed_out_visitors_are_sent_to_sign_in(client, county):
    for url in ("/vouchers/", "/adjustments/"):
        assert client.get(url).status_code == 302
        assert f"next={url}" in client.get(url)["Location"]


# --- budget adjustments -----------------------------------------------------------------


def adjustment(project, by, n: int = 0, **changes) -> BudgetAdjustment:
    fields = {
        "from_category": "operations",
        "to_category": "labour",
        "amount": Decimal("1000.00") + n,
        "reason": f"调整测试费用 {n}",
        "status": BudgetAdjustment.Status.APPLIED,
        "requested_by": by,
    }
    return BudgetAdjustment(project=project, **{**fields, **changes})


@pytest.fixture
def adjustments(county, projects):
    mine, theirs = projects
    pi, pi2 = county.users["applicant"], county.users["applicant2"]
    BudgetAdjustment.objects.bulk_create(
        [
            adjustment(mine, pi, 1),
            adjustment(mine, pi, 2, status=BudgetAdjustment.Status.PENDING),
            adjustment(mine, pi, 3, from_category="equipment", amount=Decimal("50000")),
            adjustment(theirs, pi2, 4, status=BudgetAdjustment.Status.REJECTED),
        ]
    )
    return mine, theirs


def test_staff_see_every_adjustment_and_an_applicant_only_their_own(client_en, county, adjustments):
    client_en.force_login(county.users["staff"])
    assert "Showing 1–4 of 4" in text(client_en.get("/adjustments/"))
    for who in ("applicant", "unit1"):
        client_en.force_login(county.users[who])
        rows = xlsx_rows(client_en.get("/adjustments/?export=xlsx"))
        assert len(rows) == 1 + 3 and set(column(rows, "Project")) == {MINE}
    client_en.force_login(county.users["unit2"])
    rows = csv_rows(client_en.get("/adjustments/?export=csv"))
    assert column(rows, "Project") == [THEIRS]


def test_an_auditor_sees_the_adjustments_of_the_running_engagement_only(
    client_en, county, adjustments
):
    mine, _theirs = adjustments
    client_en.force_login(county.users["auditor"])
    assert "Nothing matches." in text(client_en.get("/adjustments/"))
    engage(county, mine)
    rows = xlsx_rows(client_en.get("/adjustments/?export=xlsx"))
    assert set(column(rows, "Project")) == {MINE}
    client_en.force_login(county.users["expert1"])
    assert "Nothing matches." in text(client_en.get("/adjustments/"))


def test_adjustment_filters_narrow_the_page_and_the_export_alike(client_en, county, adjustments):
    mine, _theirs = adjustments
    client_en.force_login(county.users["staff"])
    assert "Showing 1–1 of 1" in text(client_en.get("/adjustments/?status=pending"))
    rows = csv_rows(client_en.get("/adjustments/?status=pending&export=csv"))
    assert column(rows, "Status") == ["Waiting for the unit"]
    rows = xlsx_rows(client_en.get("/adjustments/?category=equipment&export=xlsx"))
    assert column(rows, "Amount") == [Decimal("50000")]
    assert "of 3" in text(client_en.get(f"/adjustments/?project={mine.pk}"))
    enterprise = county.orgs["enterprise"].pk
    rows = xlsx_rows(client_en.get(f"/adjustments/?organisation={enterprise}&export=xlsx"))
    assert column(rows, "Project") == [THEIRS]
    today = timezone.localdate()
    assert "of 4" in text(client_en.get(f"/adjustments/?asked_from={today.isoformat()}"))
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    assert "Nothing matches." in text(client_en.get(f"/adjustments/?asked_from={tomorrow}"))
    assert "of 1" in text(client_en.get("/adjustments/?q=调整测试费用 4"))


def test_adjustments_sort_by_amount_on_the_page_and_in_the_export(client_en, county, adjustments):
    client_en.force_login(county.users["staff"])
    rows = xlsx_rows(client_en.get("/adjustments/?sort=-amount&export=xlsx"))
    amounts = column(rows, "Amount")
    assert amounts == sorted(amounts, reverse=True) and amounts[0] == Decimal("50000")
    rows = xlsx_rows(client_en.get("/adjustments/?sort=amount&export=xlsx"))
    assert column(rows, "Amount")[0] == Decimal("1001")
    assert column(rows, "Asked on")[0].date() == timezone.localdate()


@pytest.mark.parametrize(
    "query",
    [
        "status=lost",
        "asked_from=yesterday",
        "category=x",
        "project=abc",
        "organisation=0",
        "organisation=99999999999999999999999",
        "q=%01",
    ],
)
def test_a_bad_adjustment_filter_says_so_and_shows_no_rows(client_en, county, adjustments, query):
    client_en.force_login(county.users["staff"])
    response = client_en.get(f"/adjustments/?{query}")
    assert response.status_code == 200
    page = text(response)
    assert "Correct the filters above" in page and "data-adjustment=" not in page
    # The marker is an attribute, gone from the text: read the markup, which has it unfiltered.
    assert "data-adjustment=" not in response.content.decode()
    assert "data-adjustment=" in client_en.get("/adjustments/").content.decode()
    assert client_en.get(f"/adjustments/?{query}&export=csv").status_code == 302


def test_a_reason_that_looks_like_a_formula_is_exported_as_text(client_en, county, projects):
    mine, _theirs = projects
    adjustment(mine, county.users["applicant"], 1, reason="@SUM(A1:A9)").save()
    client_en.force_login(county.users["staff"])
    reasons = column(xlsx_rows(client_en.get("/adjustments/?export=xlsx")), "Reason")
    assert reasons == ["'@SUM(A1:A9)"]
    reasons = column(csv_rows(client_en.get("/adjustments/?export=csv")), "Reason")
    assert reasons == ["'@SUM(A1:A9)"]


@pytest.mark.parametrize("who", ["staff", "applicant"])
def test_the_adjustment_list_makes_as_many_statements_with_ten_times_the_rows(
    client_en, county, adjustments, who
):
    mine, _theirs = adjustments
    staff = county.users["staff"]
    client_en.force_login(county.users[who])
    client_en.get("/adjustments/")
    assert "data-adjustment=" in client_en.get("/adjustments/").content.decode()
    few = statements(client_en, "/adjustments/")
    BudgetAdjustment.objects.bulk_create(
        [adjustment(mine, county.users["applicant"], 10 + i, decided_by=staff) for i in range(40)]
    )
    assert statements(client_en, "/adjustments/") == few


@pytest.mark.parametrize(
    "who, offered",
    [("staff", True), ("applicant", True), ("unit1", True), ("auditor", True), ("expert1", False)],
)
def test_the_menu_offers_the_money_lists_to_those_who_read_fund_trails(
    client_en, county, who, offered
):
    client_en.force_login(county.users[who])
    page = client_en.get("/calls/").content.decode()
    assert ('href="/vouchers/"' in page) is offered
    assert ('href="/adjustments/"' in page) is offered
    assert 'href="/certificates/"' in page


@pytest.mark.parametrize(
    "who",
    [
        "staff",
        "leader",
        "applicant",
        "applicant2",
        "unit1",
        "auditor",
        "auditor2",
        "expert1",
        "integrity",
    ],
)
def test_the_fund_trail_rule_for_one_project_and_for_a_list_agree(county, who):
    from oversight.access import can_see_fund_trail, fund_trail_projects

    mine = demo.draft_project(county, "applicant", "一致性", "300000")
    theirs = demo.draft_project(county, "applicant2", "一致性二", "300000")
    user = county.users[who]
    listed = set(fund_trail_projects(user).values_list("pk", flat=True))
    for project in (mine, theirs):
        assert (project.pk in listed) == can_see_fund_trail(user, project), project
