"""The work plan (issue 11): leadership's yearly targets, staff's monthly actuals typed or
imported from Excel, computed actuals, upward recommendations and the funds they win,
and the page of charts that shows them at a constant number of queries."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from funding.models import Disbursement, Expenditure
from funding.states import ProjectStatus as S
from trail.kinds import EventKind
from trail.models import Event
from trail.services import record, verify_chain
from workflows import demo
from workplan import services
from workplan.models import MonthlyActual, UpwardRecommendation, YearlyTarget

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YEAR = TODAY.year
LAST_YEAR = YEAR - 1  # every month of it has begun: imports may name any
HEADER = ["Indicator code", "Indicator", "Unit", "Year", "Month (1-12)", "Value"]


@pytest.fixture(autouse=True)
def english_pages(client):
    client.cookies["django_language"] = "en"


def head() -> int:
    return Event.objects.aggregate(seq=Max("seq"))["seq"] or 0


def stored() -> tuple:
    """Everything the work plan stores, and the trail head: 'nothing stored' exactly."""
    return (
        YearlyTarget.objects.count(),
        MonthlyActual.objects.count(),
        UpwardRecommendation.objects.count(),
        head(),
    )


def workbook(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, content: bytes, name: str = "actuals.xlsx"):
    file = io.BytesIO(content)
    file.name = name
    return client.post(reverse("workplan-import"), {"file": file})


def problem_rows(html: str) -> dict[int, str]:
    found = re.findall(r'<tr data-row="(\d+)">(.*?)</tr>', html, re.S)
    return {int(n): re.sub(r"<[^>]+>", " ", cells) for n, cells in found}


def running_project(county, title="向上推荐测试项目"):
    project = demo.draft_project(county, "applicant", title, "300000")
    return demo.advance(county, project, S.IN_PROGRESS)


# --- targets ------------------------------------------------------------------------------


def test_leadership_sets_the_targets_each_change_journaled(client, county, leader):
    client.force_login(leader)
    url = reverse("workplan-targets")
    assert client.get(url, {"year": YEAR}).status_code == 200
    response = client.post(
        url, {"year": YEAR, "rd_spending": "52,000", "rd_intensity": "2.6", "talents": "300"}
    )
    assert response.status_code == 302
    targets = dict(YearlyTarget.objects.filter(year=YEAR).values_list("indicator", "value"))
    assert targets == {
        "rd_spending": Decimal("52000"),
        "rd_intensity": Decimal("2.6"),
        "talents": Decimal("300"),
    }
    # Changed, kept, and one emptied (removed): two events, before and after.
    seq = head()
    client.post(url, {"year": YEAR, "rd_spending": "55000", "rd_intensity": "2.60"})
    events = list(Event.objects.filter(seq__gt=seq, kind=EventKind.TARGET_SET).order_by("seq"))
    assert [(e.data["indicator"], e.before, e.after) for e in events] == [
        ("rd_spending", {"value": "52000.00"}, {"value": "55000.00"}),
        ("talents", {"value": "300.00"}, {"value": None}),
    ]
    assert events[0].actor_id == leader.pk
    assert not YearlyTarget.objects.filter(indicator="talents").exists()
    # The form shows the targets again.
    page = client.get(url, {"year": YEAR}).content.decode()
    assert 'value="55000.00"' in page and 'value="2.60"' in page


@pytest.mark.parametrize(
    "field, typed, words",
    [
        ("rd_spending", "1e5", "without exponent"),
        ("rd_spending", "abc", "write digits"),
        ("rd_spending", "-5", "not below zero"),
        ("talents", "2.5", "a whole number"),
        ("rd_intensity", "120", "at most 100"),
        ("rd_spending", "1.234", "at most 2 decimals"),
    ],
)
def test_a_bad_target_is_refused_as_typed_and_nothing_stored(client, leader, field, typed, words):
    client.force_login(leader)
    before = stored()
    response = client.post(
        reverse("workplan-targets"), {"year": YEAR, field: typed, "platforms": "8"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and words in html
    assert f'value="{typed}"' in html and 'value="8"' in html  # everything typed kept
    assert stored() == before


@pytest.mark.parametrize("year", ["abc", "1999", ""])
def test_targets_for_a_bad_or_missing_year_are_refused(client, leader, year):
    client.force_login(leader)
    response = client.post(reverse("workplan-targets"), {"year": year, "rd_spending": "100"})
    assert response.status_code == 200 and 'value="100"' in response.content.decode()
    assert YearlyTarget.objects.count() == 0


def test_only_leadership_sets_targets(client, county, staff, applicant):
    for user in (staff, applicant):
        client.force_login(user)
        url = reverse("workplan-targets")
        assert client.get(url).status_code == 403
        assert client.post(url, {"year": YEAR, "rd_spending": "1"}).status_code == 403
    assert YearlyTarget.objects.count() == 0


# --- monthly actuals, one by one --------------------------------------------------------


def test_staff_enter_an_actual_and_entering_it_again_replaces_it(client, county, staff):
    client.force_login(staff)
    url = reverse("workplan-actuals")
    data = {"indicator": "tech_contracts", "year": LAST_YEAR, "month": 3, "value": "6,200.5"}
    assert client.post(url, data).status_code == 302
    seq = head()
    assert client.post(url, {**data, "value": "6300"}).status_code == 302
    row = MonthlyActual.objects.get()
    assert (row.value, row.source, row.entered_by) == (Decimal("6300"), "entered", staff)
    event = Event.objects.get(seq__gt=seq)
    assert event.kind == EventKind.ACTUAL_RECORDED
    assert event.before == {"value": "6200.50", "source": "entered"}
    assert event.after == {"value": "6300.00", "source": "entered"}
    assert event.data == {"year": LAST_YEAR, "month": 3, "indicator": "tech_contracts"}
    # The same value again: nothing to journal.
    client.post(url, {**data, "value": "6300.00"})
    assert head() == seq + 1
    page = client.get(url, {"year": LAST_YEAR}).content.decode()
    assert "6,300.00" in page


@pytest.mark.parametrize(
    "change, words",
    [
        ({"value": "1e3"}, "without exponent"),
        ({"value": "-1"}, "not below zero"),
        ({"indicator": "talents", "value": "1.5"}, "a whole number"),
        ({"indicator": "projects_approved"}, "Select a valid choice"),
        ({"month": "13"}, "Select a valid choice"),
        ({"year": str(YEAR + 1), "month": "1"}, "not a month that has begun"),
    ],
)
def test_a_bad_actual_is_refused_as_typed(client, staff, change, words):
    client.force_login(staff)
    data = {"indicator": "rd_spending", "year": LAST_YEAR, "month": 5, "value": "100", **change}
    before = stored()
    response = client.post(reverse("workplan-actuals"), data)
    html = response.content.decode()
    assert response.status_code == 200 and words in html, html
    assert f'value="{data["value"]}"' in html
    assert stored() == before


def test_a_computed_indicator_cannot_be_entered_on_any_path(staff):
    with pytest.raises(Exception, match="computed by the system"):
        services.record_actual(
            year=LAST_YEAR, month=1, indicator="money_disbursed", value=Decimal(1), by=staff
        )


# --- import from Excel ------------------------------------------------------------------


def test_the_template_fills_and_imports(client, staff):
    client.force_login(staff)
    response = client.get(reverse("workplan-template"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    codes = [r[0] for r in rows[1:]]
    assert "rd_spending" in codes and "projects_approved" not in codes  # computed: not entered
    year, month = rows[1][3], rows[1][4]
    values = {"rd_spending": 4100.5, "rd_intensity": "2.41", "talents": 22}
    for row in rows[1:]:
        row[5] = values.get(row[0])
    content = workbook([r for r in rows[1:]])
    seq = head()
    response = upload(client, content)
    assert response.status_code == 302
    got = dict(MonthlyActual.objects.values_list("indicator", "value"))
    assert got == {
        "rd_spending": Decimal("4100.50"),
        "rd_intensity": Decimal("2.41"),
        "talents": Decimal("22"),
    }
    assert set(MonthlyActual.objects.values_list("year", "month", "source")) == {
        (year, month, "imported")
    }
    assert Event.objects.filter(seq__gt=seq, kind=EventKind.ACTUAL_RECORDED).count() == 3
    page = client.get(reverse("workplan-actuals")).content.decode()
    assert "3 values recorded, 0 already so, 8 rows without a value left out" in page
    # Imported again: nothing changes, nothing journaled.
    seq = head()
    upload(client, content)
    assert head() == seq


def test_bad_rows_are_each_refused_and_nothing_is_stored(client, staff):
    client.force_login(staff)
    services.record_actual(
        year=LAST_YEAR, month=1, indicator="rd_spending", value=Decimal(1), by=staff
    )
    before = stored()
    content = workbook(
        [
            ["rd_spending", "", "", LAST_YEAR, 1, 4000],  # row 2: good, but not stored
            ["rd_spend", "", "", LAST_YEAR, 2, 1],  # 3: unknown indicator
            ["rd_spending", "", "", LAST_YEAR, 13, 1],  # 4: month out of range
            ["rd_spending", "", "", LAST_YEAR, 3, "abc"],  # 5: not a number
            ["rd_spending", "", "", LAST_YEAR, 4, "1e5"],  # 6: exponent notation
            ["talents", "", "", LAST_YEAR, 4, -3],  # 7: negative
            ["rd_spending", "", "", LAST_YEAR, 1, 5],  # 8: the same as row 2
            ["rd_spending", "", "", LAST_YEAR, 6, "=1+2"],  # 9: a formula, read as text
            ['=HYPERLINK("x")', "", "", LAST_YEAR, 6, 1],  # 10: a formula as the code
            ["projects_approved", "", "", LAST_YEAR, 6, 1],  # 11: computed
            ["talents", "", "", LAST_YEAR, 7, 2.5],  # 12: not a whole number
            ["rd_spending", "", "", YEAR + 1, 1, 1],  # 13: not begun
        ]
    )
    response = upload(client, content)
    html = response.content.decode()
    assert response.status_code == 400
    assert "11 rows have problems; nothing was imported." in html
    assert "All or nothing" in html
    rows = problem_rows(html)
    assert sorted(rows) == list(range(3, 14))
    assert "“rd_spend” is not an indicator code" in rows[3]
    assert "“13” is not a month from 1 to 12" in rows[4]
    assert "“abc”: write digits" in rows[5]
    assert "“1e5”: write the number in full, without exponent" in rows[6]
    assert "“-3”: not below zero" in rows[7]
    assert "The same indicator and month as row 2" in rows[8]
    assert "“=1+2” is a formula, which is not read" in rows[9]
    assert "“=HYPERLINK(&quot;x&quot;)” is not an indicator code" in rows[10]
    assert "computed by the system" in rows[11]
    assert "a whole number" in rows[12]
    assert "not a month that has begun" in rows[13]
    assert stored() == before
    assert MonthlyActual.objects.get().value == Decimal(1)


@pytest.mark.parametrize(
    "content, name, words",
    [
        (b"indicator,year,month,value\n", "actuals.csv", "Upload an Excel workbook (.xlsx)"),
        (b"not a zip", "actuals.xlsx", "not a readable XLSX workbook"),
        (None, "actuals.xlsx", "no values to import"),
    ],
)
def test_a_file_that_is_no_filled_template_is_refused(client, staff, content, name, words):
    client.force_login(staff)
    before = stored()
    response = upload(client, content if content is not None else workbook([]), name)
    assert response.status_code == 400 and words in response.content.decode()
    assert stored() == before


def test_a_file_past_the_upload_limits_is_refused_whole(client, staff, settings):
    client.force_login(staff)
    content = workbook([["rd_spending", "", "", LAST_YEAR, 1, 1]])
    settings.LEDGER_IMPORT_MAX_BYTES = len(content) - 1
    response = upload(client, content)
    assert response.status_code == 400 and "the limit for one upload" in response.content.decode()
    settings.LEDGER_IMPORT_MAX_BYTES = len(content) * 10
    settings.LEDGER_IMPORT_MAX_ROWS = 3
    rows = [["talents", "", "", LAST_YEAR, m, 1] for m in range(1, 6)]
    response = upload(client, workbook(rows))
    assert "more than 3 rows" in response.content.decode()
    assert MonthlyActual.objects.count() == 0


def test_one_bad_row_is_named_and_a_long_list_is_cut(client, staff):
    client.force_login(staff)
    response = upload(client, workbook([["nope", "", "", LAST_YEAR, 1, 1]]))
    assert "1 row has a problem; nothing was imported." in response.content.decode()
    rows = [["nope", "", "", LAST_YEAR, 1, n] for n in range(1, 206)]
    html = upload(client, workbook(rows)).content.decode()
    assert "205 rows have problems" in html and "And 5 more rows with problems." in html
    assert len(problem_rows(html)) == 200
    assert MonthlyActual.objects.count() == 0


def test_only_staff_enter_or_import_actuals(client, leader, applicant):
    for user in (leader, applicant):
        client.force_login(user)
        assert client.get(reverse("workplan-actuals")).status_code == 403
        assert client.get(reverse("workplan-template")).status_code == 403
        content = workbook([["rd_spending", "", "", LAST_YEAR, 1, 1]])
        assert upload(client, content).status_code == 403
    assert MonthlyActual.objects.count() == 0


# --- upward recommendations -------------------------------------------------------------


def test_staff_recommend_a_project_upward_and_the_funds_won_feed_the_work_plan(
    client, county, staff, leader
):
    project = running_project(county)
    client.force_login(staff)
    # The card on the project page, with its form.
    page = client.get(reverse("project", args=[project.pk])).content.decode()
    assert 'data-testid="upward-section"' in page and 'data-form="recommend"' in page
    url = reverse("workplan-recommend", args=[project.pk])
    day = (TODAY - datetime.timedelta(days=20)).isoformat()
    response = client.post(
        url, {"level": "province", "programme": "省重点研发计划", "recommended_on": day}
    )
    assert response.status_code == 302
    recommendation = UpwardRecommendation.objects.get()
    assert recommendation.result == "pending" and recommendation.recommended_by == staff
    # The same programme again, while waiting: refused, as typed.
    again = client.post(
        url, {"level": "province", "programme": "省重点研发计划", "recommended_on": day}
    )
    assert "already recommended" in again.content.decode()
    assert 'value="省重点研发计划"' in again.content.decode()  # as typed
    assert UpwardRecommendation.objects.count() == 1

    result_url = reverse("workplan-result", args=[recommendation.pk])
    # Won without saying how much: refused, the rest kept.
    response = client.post(result_url, {"result": "won", "decided_on": TODAY.isoformat()})
    assert "Say how much was won" in response.content.decode()
    response = client.post(
        result_url, {"result": "not_won", "funds_won": "100", "decided_on": TODAY.isoformat()}
    )
    assert "a programme not won brings no funds" in response.content.decode()
    assert 'value="100"' in response.content.decode()
    response = client.post(
        result_url, {"result": "won", "funds_won": "1e6", "decided_on": TODAY.isoformat()}
    )
    assert "without exponent" in response.content.decode()
    assert UpwardRecommendation.objects.get().result == "pending"

    seq = head()
    response = client.post(
        result_url,
        {"result": "won", "funds_won": "1,250,000.00", "decided_on": TODAY.isoformat()},
    )
    assert response.status_code == 302
    recommendation.refresh_from_db()
    assert (recommendation.result, recommendation.funds_won) == ("won", Decimal("1250000.00"))
    event = Event.objects.get(seq__gt=seq)
    assert event.kind == EventKind.UPWARD_RECOMMENDATION
    assert event.before["result"] == "pending" and event.after["funds_won"] == "1250000.00"
    assert event.data == {"project": project.pk, "step": "result"}

    # 1,250,000 yuan is 125 万元 in this year's computed indicator.
    client.force_login(leader)
    page = client.get(reverse("workplan")).content.decode()
    row = re.search(r'<tr data-indicator="funds_won_recommended">(.*?)</tr>', page, re.S)[1]
    assert "125.00" in row
    assert verify_chain() == []


def test_only_a_project_approved_or_later_is_recommended(client, county, staff, draft):
    client.force_login(staff)
    page = client.get(reverse("project", args=[draft.pk])).content.decode()
    assert 'data-form="recommend"' not in page
    before = stored()
    response = client.post(
        reverse("workplan-recommend", args=[draft.pk]),
        {"level": "city", "programme": "市科技计划", "recommended_on": TODAY.isoformat()},
    )
    html = response.content.decode()
    assert "Only a project approved (立项) or later may be recommended upward" in html
    assert stored() == before


def test_the_recommendation_pages_are_for_staff(client, county, leader, applicant):
    project = running_project(county)
    url = reverse("workplan-recommend", args=[project.pk])
    data = {"level": "city", "programme": "市科技计划", "recommended_on": TODAY.isoformat()}
    client.force_login(applicant)
    assert client.get(url).status_code == 403
    assert client.post(url, data).status_code == 403
    page = client.get(reverse("project", args=[project.pk])).content.decode()
    assert "upward-section" not in page
    client.force_login(leader)
    assert client.get(url).status_code == 200  # leadership reads
    assert client.post(url, data).status_code == 403  # staff record
    assert UpwardRecommendation.objects.count() == 0


# --- the page -----------------------------------------------------------------------------


def test_the_page_shows_targets_against_actuals_with_charts(client, county, staff, leader):
    project = running_project(county)  # approved and disbursed this year
    services.set_targets(
        YEAR,
        {
            "rd_spending": Decimal("10000"),
            "rd_intensity": Decimal("2.5"),
            "projects_approved": Decimal("4"),
            "money_disbursed": Decimal("100"),
        },
        leader,
    )
    months = range(1, TODAY.month + 1)
    for month in months:
        services.record_actual(
            year=YEAR, month=month, indicator="rd_spending", value=Decimal("1000"), by=staff
        )
        services.record_actual(
            year=YEAR,
            month=month,
            indicator="rd_intensity",
            value=Decimal("2.00") + Decimal(month) / 10,
            by=staff,
        )
    client.force_login(leader)
    page = client.get(reverse("workplan")).content.decode()

    def row(code):
        return re.search(rf'<tr data-indicator="{code}">(.*?)</tr>', page, re.S)[1]

    spent = 1000 * len(months)
    assert f"{spent:,}.00" in row("rd_spending") and "10,000.00" in row("rd_spending")
    assert f"{Decimal(spent) * 100 / 10000:.1f}%" in row("rd_spending")
    latest = Decimal("2.00") + Decimal(TODAY.month) / 10  # a level: the latest month
    assert f"{latest:.2f}" in row("rd_intensity")
    assert '<td class="num" data-actual>1</td>' in row("projects_approved")
    disbursed = sum(
        Disbursement.objects.filter(paid_on__year=YEAR).values_list("amount", flat=True)
    )
    assert disbursed == project.disbursed_total
    assert f"{disbursed / 10000:,.2f}" in row("money_disbursed")
    # Charts: inline SVG, no script; a progress bar per indicator, a trend per indicator.
    assert page.count('data-progress="') == 14
    assert 'data-chart="trend-rd_spending"' in page and 'data-chart="trend-talents"' in page
    trend = re.search(r'data-chart="trend-rd_spending".*?</svg>', page, re.S)[0]
    assert trend.count("<rect") == len(months) and "1,000.00" in trend
    assert "<polyline" in re.search(r'data-chart="trend-rd_intensity".*?</svg>', page, re.S)[0]
    pipeline = re.search(r'data-chart="pipeline".*?</svg>', page, re.S)[0]
    assert 'data-bar="in_progress"' in pipeline
    money = re.search(r'data-chart="money".*?</svg>', page, re.S)[0]
    assert f"{project.approved_amount:,.2f}" in money and f"{disbursed:,.2f}" in money
    assert 'data-chart="integrity"' in page
    assert "<script" not in page.split("</head>")[1]


def test_the_page_is_for_staff_and_leadership(client, county, staff, leader, applicant):
    for user, status in ((staff, 200), (leader, 200), (applicant, 403)):
        client.force_login(user)
        assert client.get(reverse("workplan")).status_code == status
    client.force_login(staff)
    assert "id_year" in client.get(reverse("workplan"), {"year": "abc"}).content.decode()
    overview = client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="workplan-link"' in overview


def test_the_page_costs_the_same_queries_for_ten_times_the_rows(client, county, staff, leader):
    project = running_project(county)
    codes = ["rd_spending", "tech_contracts", "talents", "information_items", "platforms"]

    def add(n: int, start: int) -> None:
        for k in range(start, start + n):
            demo.draft_project(county, "applicant", f"草稿{k}", "100000")
            Disbursement.objects.create(
                project=project,
                tranche=f"第{k}笔",
                amount=Decimal("10.00"),
                paid_on=TODAY,
                recorded_by=staff,
            )
            Expenditure.objects.create(
                project=project,
                voucher_no=f"V{k}",
                spent_on=TODAY,
                category="operations",
                payee="某公司",
                method="transfer",
                amount=Decimal("5.00"),
            )
            with transaction.atomic():
                record(
                    EventKind.PROJECT_TRANSITION, project, data={"transition": "approve", "k": k}
                )
            recommendation = services.recommend_upward(
                project.pk, staff, level="city", programme=f"计划{k}", recommended_on=TODAY
            )
            services.record_recommendation_result(
                recommendation.pk, staff, result="won", funds_won=Decimal(1000), decided_on=TODAY
            )
            services.record_actual(
                year=LAST_YEAR,
                month=k % 12 + 1,
                indicator=codes[k // 12 % len(codes)],
                value=Decimal(k),
                by=staff,
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("workplan"), {"year": YEAR})
        assert response.status_code == 200
        return len(captured)

    client.force_login(leader)
    add(3, 0)
    few = queries()
    assert few < 30  # a dozen figures, the session and the user
    add(30, 3)
    assert queries() == few
    client.get(reverse("workplan"), {"year": LAST_YEAR})
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("workplan"), {"year": LAST_YEAR})
    assert len(captured) == few


def test_the_demo_fills_a_year(county):
    from workplan.demo import fill_year

    running_project(county)
    fill_year(county.users["leader"], county.users["staff"])
    assert YearlyTarget.objects.filter(year=YEAR).count() == 14
    assert MonthlyActual.objects.filter(year=YEAR).exists()
    assert UpwardRecommendation.objects.filter(result="won").count() == 1
    fill_year(county.users["leader"], county.users["staff"])  # a second run adds nothing
    assert UpwardRecommendation.objects.count() == 1


def test_the_work_plan_never_imports_workflows():
    from pathlib import Path

    import workplan

    root = Path(workplan.__file__).parent
    sources = [p for p in root.rglob("*.py") if "migrations" not in p.parts]
    assert sources
    for path in sources:
        text = path.read_text()
        assert not re.search(r"^\s*(from|import) workflows\b", text, re.M), path
