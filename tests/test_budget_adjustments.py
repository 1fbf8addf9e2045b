"""预算调剂 after the contract: who may move money between lines, and how far."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from funding.adjustments import decide_adjustment, request_adjustment
from funding.models import BudgetAdjustment
from funding.services import record_expenditure
from funding.states import ProjectStatus as S
from trail.kinds import EventKind
from trail.services import history_of
from workflows import demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(county):
    # 600,000 yuan: equipment 180,000, operations 210,000, labour 120,000, indirect 90,000.
    project = demo.draft_project(county, "applicant", "调剂项目", "600000")
    return demo.advance(county, project, S.IN_PROGRESS)


def line(project, category):
    return project.budget_lines.get(category=category)


def test_the_pi_moves_money_between_operations_and_labour_at_once(running):
    request_adjustment(running, running.pi, "operations", "labour", Decimal("10000"), "增加劳务")
    assert line(running, "operations").current == Decimal("200000.00")
    assert line(running, "labour").current == Decimal("130000.00")
    assert history_of(running).filter(kind=EventKind.BUDGET_ADJUSTMENT).count() == 1


def test_equipment_changes_wait_for_the_unit(county, running):
    # 32号: the unit (承担单位) approves equipment changes, not the bureau.
    adjustment = request_adjustment(
        running, running.pi, "operations", "equipment", Decimal("20000"), "增购设备"
    )
    assert adjustment.status == BudgetAdjustment.Status.PENDING
    assert line(running, "equipment").current == Decimal("180000.00")
    with pytest.raises(PermissionDenied):
        decide_adjustment(adjustment, running.pi, approve=True)
    with pytest.raises(PermissionDenied):
        decide_adjustment(adjustment, county.users["staff"], approve=True)
    decide_adjustment(adjustment, county.users["unit1"], approve=True)
    assert line(running, "equipment").current == Decimal("200000.00")
    with pytest.raises(ValidationError):
        decide_adjustment(adjustment, county.users["unit1"], approve=False)


def test_indirect_costs_can_never_be_raised(running):
    with pytest.raises(ValidationError):
        request_adjustment(running, running.pi, "operations", "indirect", Decimal("1"), "增加")
    assert not BudgetAdjustment.objects.exists()


def test_money_already_spent_or_being_moved_cannot_be_moved(running):
    record_expenditure(
        running,
        running.pi,
        {
            "voucher_no": "JZ-1",
            "spent_on": datetime.date.today(),
            "category": "labour",
            "payee": "某劳务公司",
            "method": "transfer",
            "amount": Decimal("100000"),
        },
    )
    with pytest.raises(ValidationError):
        request_adjustment(running, running.pi, "labour", "operations", Decimal("20000.01"), "调出")
    request_adjustment(running, running.pi, "equipment", "labour", Decimal("150000"), "待批")
    with pytest.raises(ValidationError):
        request_adjustment(
            running, running.pi, "equipment", "operations", Decimal("30000.01"), "再调"
        )


def test_only_the_pi_and_only_while_running(county, running):
    with pytest.raises(PermissionDenied):
        request_adjustment(
            running, county.users["staff"], "operations", "labour", Decimal("1"), "x"
        )
    draft = demo.draft_project(county, "applicant", "草稿", "300000")
    with pytest.raises(ValidationError):
        request_adjustment(draft, draft.pi, "operations", "labour", Decimal("1"), "x")


def test_the_unit_approves_a_pending_adjustment_on_the_funds_page(client, county, running):
    client.force_login(running.pi)
    client.post(
        reverse("budget-adjust", args=[running.pk]),
        {
            "from_category": "operations",
            "to_category": "equipment",
            "amount": "5000",
            "reason": "设备",
        },
    )
    adjustment = BudgetAdjustment.objects.get()
    client.force_login(county.users["unit1"])
    page = client.get(reverse("project-funds", args=[running.pk])).content.decode()
    assert f'data-adjustment="{adjustment.pk}"' in page
    client.post(
        reverse("budget-adjust-decide", args=[running.pk, adjustment.pk]), {"decision": "approve"}
    )
    adjustment.refresh_from_db()
    assert adjustment.status == BudgetAdjustment.Status.APPLIED
