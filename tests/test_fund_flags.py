"""The auditor's red flags on the fund trail (DESIGN §5)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from funding.flags import fund_trail_flags
from funding.services import record_expenditure
from funding.states import ProjectStatus as S
from workflows import demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(county):
    project = demo.draft_project(county, "applicant", "审计项目", "600000")
    return demo.advance(county, project, S.IN_PROGRESS)


def spend(project, voucher, amount, *, days_after_start=30, payee="某供应商", method="transfer"):
    record_expenditure(
        project,
        project.pi,
        {
            "voucher_no": voucher,
            "spent_on": project.start_date + datetime.timedelta(days=days_after_start),
            "category": "operations",
            "payee": payee,
            "method": method,
            "amount": Decimal(amount),
        },
    )


def kinds(project) -> dict[str, list[str]]:
    return {flag.kind: flag.vouchers for flag in fund_trail_flags(project)}


def test_a_clean_trail_has_no_flags(running):
    spend(running, "JZ-1", "12000.00")
    spend(running, "JZ-2", "3000.00", method="cash")
    assert kinds(running) == {}


def test_spending_outside_the_project_period(running):
    spend(running, "JZ-1", "1000.00", days_after_start=-3)
    assert kinds(running)["outside_period"] == ["JZ-1"]


def test_duplicate_voucher_numbers(running):
    spend(running, "JZ-7", "1000.00")
    spend(running, "JZ-7", "2000.00", days_after_start=40)
    assert kinds(running)["duplicate_voucher"] == ["JZ-7"]


def test_payments_to_the_pi_or_a_team_member(running):
    spend(running, "JZ-1", "1000.00", payee=running.pi.real_name)
    spend(running, "JZ-2", "1000.00", payee="黄助理")
    flagged = [f for f in fund_trail_flags(running) if f.kind == "paid_to_team"]
    assert sorted(v for f in flagged for v in f.vouchers) == ["JZ-1", "JZ-2"]


def test_large_cash_payments(running):
    spend(running, "JZ-1", "4999.99", method="cash")
    spend(running, "JZ-2", "5000.00", method="cash")
    assert kinds(running)["large_cash"] == ["JZ-2"]


def test_splits_just_under_the_approval_threshold(running):
    spend(running, "JZ-1", "48000.00", payee="某设备公司", days_after_start=10)
    spend(running, "JZ-2", "49500.00", payee="某设备公司", days_after_start=13)
    spend(running, "JZ-3", "49000.00", payee="另一公司", days_after_start=60)
    assert kinds(running)["split"] == ["JZ-1", "JZ-2"]


def test_a_rush_of_spending_in_the_last_month(county):
    today = datetime.date.today()
    ended = demo.draft_project(
        county,
        "applicant",
        "刚结束的项目",
        "600000",
        start_date=today - datetime.timedelta(days=400),
        end_date=today - datetime.timedelta(days=2),
    )
    ended = demo.advance(county, ended, S.IN_PROGRESS)
    spend(ended, "JZ-1", "10000.00")
    spend(ended, "JZ-2", "20000.00", days_after_start=395)
    assert kinds(ended)["rush"] == ["JZ-2"]


def test_a_future_date_is_refused(running):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        spend(running, "JZ-1", "1000.00", days_after_start=365)
    assert not running.expenditures.exists()


def test_the_auditor_sees_the_flags_on_the_fund_trail_page(client, county, running):
    spend(running, "JZ-9", "8000.00", method="cash")
    demo.advance(county, running, S.UNDER_AUDIT)
    client.force_login(county.users["auditor"])
    html = client.get(reverse("project-funds", args=[running.pk])).content.decode()
    assert 'data-flag="large_cash"' in html and 'class="flagged"' in html


# --- spending controls (issue 9) ------------------------------------------------------------


def spend_in(project, voucher, amount, category, days_after_start=30, payee="某供应商"):
    record_expenditure(
        project,
        project.pi,
        {
            "voucher_no": voucher,
            "spent_on": project.start_date + datetime.timedelta(days=days_after_start),
            "category": category,
            "payee": payee,
            "method": "transfer",
            "amount": Decimal(amount),
        },
    )


def test_spending_beyond_what_was_disbursed_is_flagged_from_the_voucher_past_it(running):
    assert running.disbursed_total == Decimal("360000.00")  # 60% of 600,000 on contract
    spend_in(running, "JZ-1", "180000.00", "equipment", days_after_start=10)
    spend_in(running, "JZ-2", "170000.00", "operations", days_after_start=20)
    assert "spent_beyond_disbursed" not in kinds(running)
    spend_in(running, "JZ-3", "20000.00", "labour", days_after_start=30)
    spend_in(running, "JZ-4", "5000.00", "labour", days_after_start=40)
    assert kinds(running)["spent_beyond_disbursed"] == ["JZ-3", "JZ-4"]
    with translation.override("en"):
        flags = fund_trail_flags(running)
    (flag,) = [f for f in flags if f.kind == "spent_beyond_disbursed"]
    assert "375000.00 yuan spent, 15000.00 yuan more than the 360000.00 yuan disbursed" in (
        flag.message
    )


def test_a_category_past_its_current_budget_is_flagged(running):
    spend_in(running, "JZ-1", "100000.00", "labour", days_after_start=10)  # budget 120,000
    spend_in(running, "JZ-2", "30000.00", "labour", days_after_start=20)
    spend_in(running, "JZ-3", "1000.00", "equipment_other")  # nothing budgeted for it
    flagged = {
        tuple(f.vouchers) for f in fund_trail_flags(running) if f.kind == "category_over_budget"
    }
    assert flagged == {("JZ-2",), ("JZ-3",)}


def test_an_approved_adjustment_raises_the_budget_the_flag_reads(running):
    spend_in(running, "JZ-1", "130000.00", "labour")
    assert "category_over_budget" in kinds(running)
    line = running.budget_lines.get(category="labour")
    line.adjusted = Decimal("10000.00")
    line.save()
    assert "category_over_budget" not in kinds(running)


@pytest.mark.parametrize(
    "payee, flagged",
    [
        ("个人", True),
        ("现金", True),
        ("多人", True),
        ("Various", True),
        (" n/a ", True),
        ("张", True),  # shorter than 2 characters
        ("—", True),
        ("杭州某仪器有限公司", False),
        ("张三", False),
    ],
)
def test_large_payments_to_vague_payees(running, payee, flagged):
    spend(running, "JZ-1", "50000.00", payee=payee)
    spend(running, "JZ-2", "49999.99", payee=payee, days_after_start=60)
    assert kinds(running).get("vague_payee") == (["JZ-1"] if flagged else None)


def test_the_vague_payee_threshold_is_a_setting(running, settings):
    settings.LARGE_VAGUE_PAYMENT = "1000"
    spend(running, "JZ-1", "1000.00", payee="个人")
    assert kinds(running)["vague_payee"] == ["JZ-1"]
