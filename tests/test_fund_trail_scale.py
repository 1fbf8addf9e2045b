"""The fund trail at scale (issues 9 and 10): sums and flags from the database, the
vouchers 100 a page, the same queries whatever the number of entries, and flags that
still name the right vouchers across the pages."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from funding import flags
from funding.flags import fund_trail_flags
from funding.models import Expenditure
from funding.services import VOUCHERS_PER_PAGE, fund_trail
from funding.states import ProjectStatus as S
from workflows import demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(county):
    project = demo.draft_project(county, "applicant", "经费规模项目", "600000")
    return demo.advance(county, project, S.IN_PROGRESS)


def entry(project, n: int, **changes) -> Expenditure:
    """The n-th of a clean run of small payments, one day after another in the period."""
    fields = {
        "voucher_no": f"JZ-{n:05d}",
        "spent_on": project.start_date + datetime.timedelta(days=n % 150),
        "category": "operations",
        "payee": "某供应商",
        "method": "transfer",
        "amount": Decimal("12.50"),
    }
    return Expenditure(project=project, **{**fields, **changes})


def ledger(project, n: int, *extra: Expenditure) -> None:
    """n clean entries, and the same few flagged ones whatever n."""
    start = project.start_date
    flagged = [
        entry(project, 900001, voucher_no="DUP-1", spent_on=start + datetime.timedelta(days=3)),
        entry(project, 900002, voucher_no="DUP-1", spent_on=start + datetime.timedelta(days=90)),
        entry(project, 900003, spent_on=start - datetime.timedelta(days=2)),
        entry(project, 900004, method="cash", amount=Decimal("6000.00")),
        # Past the 360,000 disbursed and the equipment budget: both running sums pass.
        entry(project, 900005, category="equipment", amount=Decimal("400000.00")),
    ]
    Expenditure.objects.bulk_create([entry(project, i) for i in range(n)] + flagged + [*extra])


def page(client, project, **query) -> str:
    return client.get(reverse("project-funds", args=[project.pk]), query).content.decode()


def rows(html: str) -> list[tuple[str, bool]]:
    """The voucher rows shown: (voucher number, marked as flagged)."""
    table = re.search(r'<table data-testid="vouchers">.*?</table>', html, re.S).group(0)
    return [
        (number, bool(marked))
        for number, marked in re.findall(r'<tr data-voucher="([^"]+)"( class="flagged")?>', table)
    ]


def queries_for(client, project) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("project-funds", args=[project.pk])).status_code == 200
    return len(captured.captured_queries)


def test_the_same_queries_with_ten_and_a_thousand_entries(client, county):
    staff = county.users["staff"]
    client.force_login(staff)
    small, large = (
        demo.advance(
            county, demo.draft_project(county, "applicant", title, "600000"), S.IN_PROGRESS
        )
        for title in ("十条", "一千条")
    )
    ledger(small, 10)
    ledger(large, 1000)
    queries_for(client, small)  # the session and the user, read once whatever the page
    assert queries_for(client, small) == queries_for(client, large)
    assert {f.kind for f in fund_trail_flags(small)} == {f.kind for f in fund_trail_flags(large)}


def test_a_page_shows_at_most_100_vouchers_and_its_links_keep_the_address(client, county, running):
    ledger(running, 245)  # 250 entries: pages of 100, 100 and 50
    client.force_login(county.users["staff"])
    client.cookies["django_language"] = "en"
    first = page(client, running)
    assert len(rows(first)) == VOUCHERS_PER_PAGE == 100
    assert len(re.findall(r'<tr data-expenditure="', first)) == 100  # their scans only
    funds = reverse("project-funds", args=[running.pk])  # also when shown at another address
    assert f'href="{funds}?page=2"' in first and "Page 1 of 3" in first
    last = page(client, running, page=3, tab="vouchers")
    assert len(rows(last)) == 50
    assert f'href="{funds}?page=2&amp;tab=vouchers"' in last
    for wrong in ("0", "abc", "99"):  # the nearest page, never an error
        response = client.get(reverse("project-funds", args=[running.pk]), {"page": wrong})
        assert response.status_code == 200 and rows(response.content.decode())


def test_the_pages_together_list_every_voucher_once_in_order(running):
    ledger(running, 333)
    listed = []
    for number in range(1, 5):
        listed += [e.pk for e in fund_trail(running, number)["vouchers"]]
    in_order = running.expenditures.order_by("spent_on", "voucher_no", "pk")
    assert listed == list(in_order.values_list("pk", flat=True))


def test_the_sums_come_from_the_database(running, english):
    ledger(running, 100)
    trail = fund_trail(running)
    assert trail["spent"] == Decimal("12.50") * 103 + Decimal("6000.00") + Decimal("400000.00")
    by_row = {row["category"]: row for row in trail["rows"]}
    assert by_row["Equipment purchase"]["overspent"] and not by_row["Labour"]["overspent"]
    assert by_row["Operations"]["spent"] == Decimal("12.50") * 103 + Decimal("6000.00")


@pytest.mark.parametrize("read_at_once", [5000, 0])
def test_a_duplicate_on_page_1_and_page_3_is_one_flag_marked_on_both_pages(
    client, county, running, monkeypatch, read_at_once
):
    # Read at once, or (past DUPLICATES_READ) asked again for the rows of each page.
    monkeypatch.setattr(flags, "DUPLICATES_READ", read_at_once)
    start = running.start_date
    Expenditure.objects.bulk_create(
        [entry(running, i, spent_on=start + datetime.timedelta(days=i // 2)) for i in range(250)]
        + [
            entry(running, 9001, voucher_no="TWICE", spent_on=start),
            entry(running, 9002, voucher_no="TWICE", spent_on=start + datetime.timedelta(days=110)),
            entry(running, 9003, voucher_no="ALSO", spent_on=start + datetime.timedelta(days=1)),
            entry(running, 9004, voucher_no="ALSO", spent_on=start + datetime.timedelta(days=2)),
        ]
    )
    client.force_login(county.users["staff"])
    first, third = page(client, running), page(client, running, page=3)
    assert first.count('data-flag="duplicate_voucher"') == 2
    assert first.count("TWICE") >= 2  # in the flag and in the row
    assert ("TWICE", True) in rows(first) and ("TWICE", True) in rows(third)
    assert ("ALSO", True) in rows(first)
    assert all(not marked for number, marked in rows(third) if number != "TWICE")
    (twice,) = [f for f in fund_trail_flags(running) if f.vouchers == ["TWICE"]]
    assert twice.kind == "duplicate_voucher"


def test_the_rows_past_the_disbursed_money_are_marked_on_every_page(client, county, running):
    # 300 payments of 1,500: the running total passes the 360,000 disbursed at the 241st.
    Expenditure.objects.bulk_create(
        [
            entry(
                running, i, amount=Decimal("1500.00"), category="labour" if i % 2 else "operations"
            )
            for i in range(300)
        ]
    )
    client.force_login(county.users["staff"])
    ordered = list(running.expenditures.order_by("spent_on", "pk"))
    running_total, past = Decimal("0"), set()
    for e in ordered:
        running_total += e.amount
        if running_total > running.disbursed_total:
            past.add(e.voucher_no)
    (flag,) = [f for f in fund_trail_flags(running) if f.kind == "spent_beyond_disbursed"]
    assert set(flag.vouchers) == past and len(past) == 60
    marked = set()
    for number in (1, 2, 3):
        marked |= {v for v, flagged in rows(page(client, running, page=number)) if flagged}
    assert past <= marked  # labour and operations pass their budgets too, earlier


def test_a_flag_lists_at_most_50_vouchers_and_says_how_many_more(client, county, running):
    ledger(
        running,
        10,
        *(entry(running, 5000 + i, method="cash", amount=Decimal("5000")) for i in range(120)),
    )
    client.force_login(county.users["staff"])
    client.cookies["django_language"] = "en"
    html = page(client, running)
    cash = re.findall(r'<li data-flag="large_cash">([^<]*)</li>', html)
    assert len(cash) == flags.LISTED + 1 == 51
    assert cash[-1] == "… and 71 more flags of this kind."
    beyond = re.search(r'<li data-flag="spent_beyond_disbursed">([^<]*)</li>', html).group(1)
    assert beyond.count("、") == flags.LISTED - 1 and re.search(r"and \d+ more vouchers$", beyond)
    # Without a limit (the auditors' annotations and export), every one of them.
    every = [f for f in fund_trail_flags(running) if f.kind == "large_cash"]
    assert len(every) == 121 and all(f.more == 0 for f in every)


def test_every_rule_marks_the_same_rows_read_together_or_one_by_one(client, county, monkeypatch):
    """Catches of few entries are read in one query, of many with a query each: the
    page shows the same either way."""
    today = datetime.date.today()
    ended = demo.draft_project(
        county,
        "applicant",
        "刚结束的规模项目",
        "600000",
        start_date=today - datetime.timedelta(days=400),
        end_date=today - datetime.timedelta(days=2),
    )
    ended = demo.advance(county, ended, S.IN_PROGRESS)
    late = ended.end_date - datetime.timedelta(days=5)
    special = [
        entry(ended, 1, payee="某设备公司", amount=Decimal("48000"), spent_on=late),
        entry(ended, 2, payee="某设备公司", amount=Decimal("49000"), spent_on=late),
        entry(ended, 3, payee="个人", amount=Decimal("60000"), spent_on=late),
        entry(ended, 4, payee="黄助理"),
        entry(ended, 5, method="cash", amount=Decimal("7000")),
        entry(ended, 6, spent_on=ended.start_date - datetime.timedelta(days=1)),
        entry(ended, 7, voucher_no="JZ-00008"),
    ]
    Expenditure.objects.bulk_create([entry(ended, n) for n in range(8, 60)] + special)
    client.force_login(county.users["staff"])
    seen = []
    for few in (200, 0):
        monkeypatch.setattr(flags, "FEW", few)
        monkeypatch.setattr(flags, "DUPLICATES_READ", few)
        html = page(client, ended)
        seen.append((re.findall(r'<li data-flag="([a-z_]+)">', html), rows(html)))
    assert seen[0] == seen[1]
    kinds, marks = seen[0]
    assert set(kinds) == {
        "outside_period",
        "duplicate_voucher",
        "paid_to_team",
        "large_cash",
        "split",
        "rush",
        "vague_payee",
    }
    assert {v for v, flagged in marks if flagged} == {f"JZ-0000{n}" for n in (1, 2, 3, 4, 5, 6, 8)}
