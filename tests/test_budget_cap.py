"""The indirect-cost cap and who adjusts a budget (国办发〔2021〕32号, issue 9).

Through the pages, signed in as the PI, the unit officers of the two demo organisations
(unit1: the institute's, whose projects these are; unit2: the enterprise's) and staff.
The cap is a share of direct costs *less equipment purchase*; trial-make, upgrade and
rental of equipment stay in that base. It holds after every cut and adjustment.
"""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from django.urls import reverse

from funding.adjustments import is_withdrawn
from funding.application_pdf import application_form_data
from funding.contract_pdf import task_contract_data
from funding.models import BudgetAdjustment, BudgetLine, Project
from funding.states import ProjectStatus as S
from trail.kinds import EventKind
from trail.models import Event
from trail.services import history_of
from workflows import demo

from .forms_support import application_form

pytestmark = pytest.mark.usefixtures("english")

D = Decimal
APPLIED, PENDING = BudgetAdjustment.Status.APPLIED, BudgetAdjustment.Status.PENDING


def as_user(client, user):
    client.force_login(user)
    client.cookies["django_language"] = "en"  # the pages in English, to read them
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def act(client, project, name, **fields):
    data = {f"{name}-{key}": value for key, value in fields.items()}
    return client.post(reverse("project-action", args=[project.pk, name]), data, follow=True)


def apply(client, call, **budget):
    return client.post(reverse("apply", args=[call.pk]), application_form(call, **budget))


def line(project, category) -> BudgetLine:
    return project.budget_lines.get(category=category)


def adjustment_events(project) -> list[dict]:
    return [e.data for e in history_of(project).filter(kind=EventKind.BUDGET_ADJUSTMENT)]


# --- applying: the base leaves out equipment purchase ------------------------------------

# Direct costs of 460,000, of which 200,000 is equipment: 140,000 of indirect costs.
OVER = {
    "requested_amount": "600000.00",
    "operations": "160000.00",
    "labour": "100000.00",
    "indirect": "140000.00",
}


def test_equipment_purchase_leaves_the_base_when_applying(client, county):
    as_user(client, county.users["applicant"])
    before = Project.objects.count()
    response = apply(client, county.call, equipment="200000.00", equipment_other="0", **OVER)
    assert response.status_code == 200
    assert (
        "Indirect costs of 140000.00 yuan exceed the cap of 78000.00 yuan "
        "(direct costs less equipment purchase: 260000.00 yuan)."
    ) in text(response)
    assert 'value="140000.00"' in text(response)  # the form comes back as typed
    assert Project.objects.count() == before

    # The same 200,000 as trial-make stays in the base: 30 % of 460,000 is 138,000.
    response = apply(client, county.call, equipment="0", equipment_other="200000.00", **OVER)
    assert "exceed the cap of 138000.00 yuan" in text(response)
    assert Project.objects.count() == before

    at_cap = {**OVER, "operations": "162000.00", "indirect": "138000.00"}
    response = apply(client, county.call, equipment="0", equipment_other="200000.00", **at_cap)
    assert response.status_code == 302
    project = Project.objects.get(title=application_form(county.call)["title"])
    assert line(project, "equipment_other").amount == D("200000.00")


def test_an_application_without_the_trial_make_field_still_files(client, county):
    as_user(client, county.users["applicant"])
    data = application_form(county.call)
    del data["equipment_other"]  # a form typed before the split
    response = client.post(reverse("apply", args=[county.call.pk]), data)
    assert response.status_code == 302
    project = Project.objects.get(title=data["title"])
    assert not project.budget_lines.filter(category="equipment_other").exists()
    assert project.budget_lines.count() == 4  # a missing line is zero


def test_the_forms_and_papers_list_the_trial_make_line(client, county):
    project = demo.draft_project(county, "applicant", "病虫害监测装置研制", "600000")
    assert line(project, "equipment_other").amount == D("60000.00")  # a third of equipment
    assert line(project, "equipment").amount == D("120000.00")
    as_user(client, project.pi)
    page = text(client.get(reverse("project-edit", args=[project.pk])))
    assert 'name="equipment_other"' in page and 'value="60000.00"' in page
    rows = [row.category for row in application_form_data(project).budget]
    assert rows == ["设备费（购置）", "设备费（试制、改造、租赁）", "业务费", "劳务费", "间接费用"]

    project = demo.advance(county, project, S.BUDGET_REVIEW)
    as_user(client, county.users["staff"])
    form = text(client.get(reverse("project", args=[project.pk])))
    purchase = form.index('name="finish_budget_review-equipment_approved"')
    assert purchase < form.index('name="finish_budget_review-equipment_other_approved"')
    project = demo.advance(county, project, S.APPROVED)
    subjects = [subject for subject, _amount in task_contract_data(project).budget]
    assert subjects[:2] == ["设备费（购置）", "设备费（试制、改造、租赁）"]


# --- the budget review: the cap holds after the cuts -------------------------------------


@pytest.fixture
def at_cap(client, county):
    """The issue's example on the new base: purchase 180,000 and trial-make 180,000,
    operations 210,000, labour 120,000; 153,000 of indirect costs, the cap of 30 % of
    510,000. Filed through the page, carried to the budget review."""
    as_user(client, county.users["applicant"])
    budget = {
        "requested_amount": "843000.00",
        "equipment": "180000.00",
        "equipment_other": "180000.00",
        "indirect": "153000.00",
    }
    assert apply(client, county.call, **budget).status_code == 302
    project = Project.objects.get(title=application_form(county.call)["title"])
    return demo.advance(county, project, S.BUDGET_REVIEW)


def review(client, project, **approved):
    amounts = {
        "equipment": "180000.00",
        "equipment_other": "180000.00",
        "operations": "210000.00",
        "labour": "120000.00",
        "indirect": "153000.00",
    }
    fields = {}
    for category, amount in {**amounts, **approved}.items():
        fields[f"{category}_approved"] = amount
        fields[f"{category}_reason"] = "" if amount == amounts[category] else "核减"
    return act(client, project, "finish_budget_review", **fields)


def assert_not_reviewed(project):
    project.refresh_from_db()
    assert project.status == S.BUDGET_REVIEW and project.approved_amount is None
    assert not project.budget_lines.filter(approved__isnull=False).exists()


def test_cutting_a_base_line_cannot_leave_indirect_costs_above_the_cap(client, county, at_cap):
    as_user(client, county.users["staff"])
    response = review(client, at_cap, equipment_other="80000.00")
    assert (
        "After the cuts, indirect costs of 153000.00 yuan would exceed their cap of "
        "123000.00 yuan (direct costs less equipment purchase: 410000.00 yuan); "
        "cut the indirect costs as well."
    ) in text(response)
    assert 'value="80000.00"' in text(response)  # the form as typed
    assert_not_reviewed(at_cap)

    # Operations and labour are in the base too: 10,000 less lowers the cap by 3,000.
    response = review(client, at_cap, operations="200000.00")
    assert "exceed their cap of 150000.00 yuan" in text(response)
    assert_not_reviewed(at_cap)

    # Cutting the indirect costs with it passes.
    review(client, at_cap, equipment_other="80000.00", indirect="123000.00")
    at_cap.refresh_from_db()
    assert at_cap.status == S.PENDING_APPROVAL
    assert at_cap.approved_amount == D("713000.00")


def test_cutting_equipment_purchase_leaves_the_cap_as_it_was(client, county, at_cap):
    # The cut (180,000 to 80,000) no longer moves the base: approved as is.
    as_user(client, county.users["staff"])
    review(client, at_cap, equipment="80000.00")
    at_cap.refresh_from_db()
    assert at_cap.status == S.PENDING_APPROVAL
    assert at_cap.approved_amount == D("743000.00")
    assert line(at_cap, "indirect").approved == D("153000.00")


# --- adjustments: who decides ------------------------------------------------------------


@pytest.fixture
def running(county):
    # 600,000 yuan: purchase 180,000, operations 210,000, labour 120,000, indirect 90,000;
    # no trial-make line (as a project filed before the split). The cap: 30 % of 330,000.
    project = demo.draft_project(county, "applicant", "调剂项目", "600000")
    return demo.advance(county, project, S.IN_PROGRESS)


def adjust(client, project, from_category, to_category, amount, reason="调剂"):
    data = {
        "from_category": from_category,
        "to_category": to_category,
        "amount": amount,
        "reason": reason,
    }
    return client.post(reverse("budget-adjust", args=[project.pk]), data, follow=True)


def answer(client, project, adjustment, decision, back="project"):
    url = reverse("budget-adjust-decide", args=[project.pk, adjustment.pk])
    return client.post(url, {"decision": decision, "back": back}, follow=True)


def test_the_pi_moves_money_between_operations_and_labour_at_once(client, running):
    as_user(client, running.pi)
    response = adjust(client, running, "operations", "labour", "10000")
    assert "The budget adjustment has been recorded." in text(response)
    assert line(running, "operations").current == D("200000.00")
    assert line(running, "labour").current == D("130000.00")
    adjustment = BudgetAdjustment.objects.get()
    assert adjustment.status == APPLIED and adjustment.decided_by is None
    assert [e["status"] for e in adjustment_events(running)] == [APPLIED]


def test_equipment_changes_wait_for_the_projects_own_unit(client, county, running):
    as_user(client, running.pi)
    adjust(client, running, "operations", "equipment_other", "5000", "样机试制")
    adjustment = BudgetAdjustment.objects.get()
    assert adjustment.status == PENDING
    assert not running.budget_lines.filter(category="equipment_other").exists()

    # Staff see it, read-only: they no longer decide.
    as_user(client, county.users["staff"])
    page = text(client.get(reverse("project", args=[running.pk])))
    assert f'data-adjustment="{adjustment.pk}"' in page
    assert 'data-form="decide-adjustment"' not in page
    response = answer(client, running, adjustment, "approve")
    assert "Only an officer of the project's own unit" in text(response)
    # Another organisation's unit officer does not even see the project.
    as_user(client, county.users["unit2"])
    assert answer(client, running, adjustment, "approve").status_code == 404
    assert BudgetAdjustment.objects.get(pk=adjustment.pk).status == PENDING

    # The project's own unit officer finds it in the inbox and decides on the project page.
    as_user(client, county.users["unit1"])
    inbox = client.get(reverse("inbox"))
    assert [a.pk for a in inbox.context["adjustments_waiting"]] == [adjustment.pk]
    page = text(client.get(reverse("project", args=[running.pk])))
    assert 'data-form="decide-adjustment"' in page and "Waiting for the unit" in page
    response = answer(client, running, adjustment, "approve")
    assert "The budget adjustment has been approved." in text(response)
    adjustment.refresh_from_db()
    assert adjustment.status == APPLIED and adjustment.decided_by == county.users["unit1"]
    # The missing trial-make line was zero; it now holds what was moved.
    assert line(running, "equipment_other").current == D("5000.00")
    assert line(running, "operations").current == D("205000.00")
    events = history_of(running).filter(kind=EventKind.BUDGET_ADJUSTMENT)
    assert [(e.data["status"], e.actor_id) for e in events] == [
        (PENDING, running.pi.pk),
        (APPLIED, county.users["unit1"].pk),
    ]
    assert client.get(reverse("inbox")).context["adjustments_waiting"] == []


def test_the_unit_refuses_and_nothing_moves(client, county, running):
    as_user(client, running.pi)
    adjust(client, running, "equipment", "labour", "20000")
    adjustment = BudgetAdjustment.objects.get()
    as_user(client, county.users["unit1"])
    response = answer(client, running, adjustment, "reject", back="funds")
    assert response.redirect_chain[-1][0] == reverse("project-funds", args=[running.pk])
    adjustment.refresh_from_db()
    assert adjustment.status == BudgetAdjustment.Status.REJECTED and not is_withdrawn(adjustment)
    assert line(running, "equipment").current == D("180000.00")
    assert adjustment_events(running)[-1]["status"] == BudgetAdjustment.Status.REJECTED


def test_taking_from_indirect_costs_waits_and_raising_them_is_refused(client, county, running):
    as_user(client, running.pi)
    adjust(client, running, "indirect", "operations", "10000")
    assert BudgetAdjustment.objects.get().status == PENDING
    response = adjust(client, running, "labour", "indirect", "1")
    assert "Indirect costs can never be raised." in text(response)
    assert 'value="1"' in text(response)  # the form as typed
    assert BudgetAdjustment.objects.count() == 1
    assert line(running, "indirect").current == D("90000.00")


def test_an_adjustment_that_would_break_the_cap_is_refused(client, county, running):
    as_user(client, running.pi)
    # 31,000 more equipment purchase: the base falls to 299,000, the cap to 89,700.
    events = Event.objects.count()
    response = adjust(client, running, "operations", "equipment", "31000")
    assert (
        "After this adjustment, indirect costs of 90000.00 yuan would exceed their cap of "
        "89700.00 yuan (direct costs less equipment purchase: 299000.00 yuan)."
    ) in text(response)
    assert not BudgetAdjustment.objects.exists() and Event.objects.count() == events

    # Two that each keep the cap, but not together: the second approval re-checks.
    adjust(client, running, "operations", "equipment", "20000")
    adjust(client, running, "labour", "equipment", "20000")
    first, second = BudgetAdjustment.objects.order_by("pk")
    as_user(client, county.users["unit1"])
    answer(client, running, first, "approve")
    response = answer(client, running, second, "approve")
    assert "exceed their cap of 87000.00 yuan" in text(response)
    second.refresh_from_db()
    assert second.status == PENDING
    assert line(running, "labour").current == D("120000.00")
    assert line(running, "equipment").current == D("200000.00")


def test_staff_stand_in_for_a_unit_without_an_officer(client, county, running):
    county.users["unit1"].groups.clear()  # the institute has no unit officer left
    as_user(client, running.pi)
    adjust(client, running, "operations", "equipment", "1000", "更换传感器")
    adjustment = BudgetAdjustment.objects.get()
    assert adjustment.status == PENDING
    as_user(client, county.users["staff"])
    assert f'data-adjustment="{adjustment.pk}"' in text(client.get(reverse("inbox")))
    answer(client, running, adjustment, "approve")
    adjustment.refresh_from_db()
    assert adjustment.status == BudgetAdjustment.Status.APPLIED
    assert adjustment.decided_by == county.users["staff"]


# --- withdrawal, and acceptance waits for it ---------------------------------------------


def test_the_pi_withdraws_a_pending_adjustment(client, county, running):
    as_user(client, running.pi)
    adjust(client, running, "operations", "equipment", "5000")
    adjustment = BudgetAdjustment.objects.get()
    for who in ("staff", "unit1"):
        as_user(client, county.users[who])
        page = text(client.get(reverse("project", args=[running.pk])))
        assert 'data-form="withdraw-adjustment"' not in page
        response = answer(client, running, adjustment, "withdraw")
        assert "Only the PI withdraws a budget adjustment." in text(response)
    as_user(client, running.pi)
    page = text(client.get(reverse("project", args=[running.pk])))
    assert 'data-form="withdraw-adjustment"' in page
    response = answer(client, running, adjustment, "withdraw")
    assert "The budget adjustment has been withdrawn." in text(response)
    adjustment.refresh_from_db()
    assert is_withdrawn(adjustment)
    assert adjustment_events(running)[-1]["status"] == "withdrawn"
    funds = text(client.get(reverse("project-funds", args=[running.pk])))
    assert "Withdrawn by the PI" in funds

    as_user(client, county.users["unit1"])
    response = answer(client, running, adjustment, "approve")
    assert "already been decided or withdrawn" in text(response)
    assert line(running, "equipment").current == D("180000.00")


def test_acceptance_waits_until_no_adjustment_is_pending(client, county, running):
    demo.attach_step_papers(running)  # the tech report and achieved values it needs
    as_user(client, running.pi)
    adjust(client, running, "operations", "equipment", "5000")
    adjustment = BudgetAdjustment.objects.get()
    report = demo.demo_report()
    fields = {k: v for k, v in report.items() if v is not None}
    response = act(client, running, "request_acceptance", **fields)
    assert (
        "A budget adjustment still waits for the unit: have it decided or withdraw it "
        "on the fund trail page first."
    ) in text(response)
    running.refresh_from_db()
    assert running.status == S.IN_PROGRESS

    answer(client, running, adjustment, "withdraw")
    act(client, running, "request_acceptance", **fields)
    running.refresh_from_db()
    assert running.status == S.ACCEPTANCE_REQUESTED
