"""Recovery (追回) and the closing balance (结余), issue 9: assessed when a project is
terminated or fails acceptance, refunds recorded by staff, the next application blocked
until settled, the balance and its disposition at closure, the overview.

Each step is taken through the pages as the role concerned.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from funding.models import BudgetLine, ClosingBalance, Project, Recovery, Refund
from funding.recovery import Basis, amount_to_recover, record_refund
from funding.services import record_expenditure
from funding.states import ProjectStatus as S
from oversight.models import AcceptanceReview
from trail.kinds import EventKind
from trail.services import history_of, verify_chain
from workflows import demo
from workflows.actions import perform

from .pages_support import text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def client(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- helpers ------------------------------------------------------------------------------


def spend(project, category: str, amount: str, voucher: str) -> None:
    entry = {
        "voucher_no": voucher,
        "spent_on": TODAY - 10 * DAY,
        "category": category,
        "payee": "杭州某仪器有限公司",
        "method": "transfer",
        "amount": Decimal(amount),
    }
    record_expenditure(project, project.pi, entry)


def line(project, category: str) -> Decimal:
    return BudgetLine.objects.get(project=project, category=category).current


def act(client, user, project, name: str, **fields):
    client.force_login(user)
    data = {f"{name}-{k}": v for k, v in fields.items()}
    url = reverse("project-action", args=[project.pk, name])
    return client.post(url, data, follow=True)


def terminated(client, county, draft) -> Project:
    """The 600,000-yuan draft, 360,000 disbursed, 100,000 spent, terminated by staff."""
    project = demo.advance(county, draft, S.IN_PROGRESS)
    spend(project, "operations", "60000.00", "JZ-1")
    spend(project, "labour", "40000.00", "JZ-2")
    act(client, county.users["staff"], project, "terminate", reason="无法继续履行任务书。")
    project.refresh_from_db()
    assert project.status == S.TERMINATED
    return project


def post_refund(client, user, project, amount, paid_on=None, reference="国库退款 001"):
    client.force_login(user)
    paid_on = paid_on or TODAY
    paid_on = paid_on if isinstance(paid_on, str) else paid_on.isoformat()
    data = {"amount": amount, "paid_on": paid_on, "reference": reference}
    return client.post(reverse("recovery-refund", args=[project.pk]), data, follow=True)


def page(client, user, project) -> str:
    client.force_login(user)
    return text(client.get(reverse("project", args=[project.pk])))


def new_draft(county, who: str, title: str) -> Project:
    return demo.draft_project(county, who, title, "300000")


def submit(client, project):
    return act(client, project.pi, project, "submit", commitment="on")


def status(project) -> str:
    project.refresh_from_db()
    return project.status


# --- the rule -----------------------------------------------------------------------------


def test_the_rule_is_the_unspent_disbursed_balance_never_below_zero():
    basis = Basis(disbursed=Decimal("360000.00"), spent=Decimal("1"), eligible=Decimal("100000"))
    assert amount_to_recover(basis) == Decimal("260000.00")
    overspent = Basis(Decimal("100.00"), Decimal("500.00"), Decimal("500.00"))
    assert amount_to_recover(overspent) == Decimal("0.00")
    assert "32号" in amount_to_recover.__doc__ and "Terminated" in amount_to_recover.__doc__


# --- assessment ---------------------------------------------------------------------------


def test_termination_assesses_the_unspent_disbursed_funds(client, county, draft):
    project = terminated(client, county, draft)
    recovery = Recovery.objects.get(project=project)
    assert recovery.reason == Recovery.Reason.TERMINATED
    assert (recovery.disbursed, recovery.spent, recovery.eligible) == (
        Decimal("360000.00"),
        Decimal("100000.00"),
        Decimal("100000.00"),
    )
    assert recovery.computed == recovery.amount == recovery.outstanding == Decimal("260000.00")
    event = history_of(project).get(kind=EventKind.RECOVERY_ASSESSED)
    assert event.data["amount"] == "260000.00" and event.data["cause"] == "terminated"
    shown = page(client, county.users["staff"], project)
    assert "Recovery of funds" in shown and "260,000.00" in shown and "360,000.00" in shown
    assert "Record a refund" in shown
    # The PI sees what is owed, and no staff form.
    shown = page(client, project.pi, project)
    assert "260,000.00" in shown and "Record a refund" not in shown
    assert "may submit a new application" in shown


def test_spending_above_a_budget_line_does_not_reduce_the_recovery(client, county, draft):
    project = demo.advance(county, draft, S.IN_PROGRESS)
    labour = line(project, "labour")
    spend(project, "labour", str(labour + 10000), "JZ-9")  # 10,000 beyond the line
    act(client, county.users["staff"], project, "terminate", reason="终止。")
    recovery = Recovery.objects.get(project=project)
    assert recovery.spent == labour + 10000 and recovery.eligible == labour
    assert recovery.amount == project.disbursed_total - labour


def under_acceptance(county, draft) -> Project:
    project = demo.advance(county, draft, S.UNDER_AUDIT)
    perform(project.pk, "issue_audit_opinion", county.users["auditor"], opinion="unqualified",
            findings="账实相符。")  # fmt: skip
    project.refresh_from_db()
    return project


def test_a_failed_acceptance_assesses_a_recovery(client, county, draft):
    project = under_acceptance(county, draft)
    spend_before = project.expenditures.count()
    demo.hold_panel_vote(county, project, task=False, opinion="考核指标未完成。")
    response = act(
        client,
        county.users["staff"],
        project,
        "conclude_acceptance",
        conclusion="failed",
        remarks="考核指标未完成。",
    )
    assert status(project) == S.FAILED, text(response)[:400]
    recovery = Recovery.objects.get(project=project)
    assert recovery.reason == Recovery.Reason.FAILED and spend_before == 0
    assert recovery.amount == project.disbursed_total == Decimal("360000.00")
    assert "Acceptance failed" in page(client, county.users["staff"], project)


def test_failing_after_the_rectification_deadline_assesses_a_recovery(client, county, draft):
    project = under_acceptance(county, draft)
    demo.hold_panel_vote(county, project, task=False)
    act(client, county.users["staff"], project, "conclude_acceptance",
        conclusion="reconsider", remarks="补充材料。")  # fmt: skip
    assert status(project) == S.RECONSIDERATION and not Recovery.objects.exists()
    AcceptanceReview.objects.filter(project=project).update(rectify_by=TODAY - DAY)
    act(client, county.users["staff"], project, "fail_after_rectification_deadline",
        reason="逾期未整改。")  # fmt: skip
    assert status(project) == S.FAILED
    assert Recovery.objects.get(project=project).amount == Decimal("360000.00")


# --- refunds ------------------------------------------------------------------------------


def test_refunds_reduce_what_is_outstanding_until_settled(client, county, draft):
    project = terminated(client, county, draft)
    staff = county.users["staff"]
    response = post_refund(client, staff, project, "100000.50", TODAY - DAY, "国库退款 2026-01")
    assert "The refund has been recorded" in text(response)
    recovery = Recovery.objects.get(project=project)
    assert recovery.refunded == Decimal("100000.50")
    assert recovery.outstanding == Decimal("159999.50")
    event = history_of(project).filter(kind=EventKind.REFUND_RECORDED).get()
    assert event.before == {"refunded": "0.00"} and event.after == {"refunded": "100000.50"}
    assert event.data["reference"] == "国库退款 2026-01" and event.actor_id == staff.pk
    shown = page(client, staff, project)
    assert "159,999.50" in shown and "国库退款 2026-01" in shown

    post_refund(client, staff, project, "159999.50", reference="国库退款 2026-02")
    recovery.refresh_from_db()
    assert recovery.settled and recovery.outstanding == 0
    shown = page(client, staff, project)
    assert "Settled: nothing is outstanding" in shown and "Record a refund" not in shown
    assert verify_chain() == []


def test_a_refund_above_what_is_outstanding_is_refused_as_typed(client, county, draft):
    project = terminated(client, county, draft)
    response = post_refund(client, county.users["staff"], project, "260000.01", reference="超额")
    said = text(response)
    assert response.status_code == 200
    assert "Only 260000.00 yuan is outstanding" in said
    assert 'value="260000.01"' in response.content.decode()  # as typed
    assert 'value="超额"' in response.content.decode()
    assert not Refund.objects.exists()
    assert Recovery.objects.get(project=project).refunded == 0


@pytest.mark.parametrize(
    "amount, paid_on, reference, says",
    [
        ("1e5", TODAY, "r", "exponent"),
        ("NaN", TODAY, "r", "NaN"),
        ("100.005", TODAY, "r", "at most two decimals"),
        ("-5", TODAY, "r", "greater than or equal to 0"),
        ("0", TODAY, "r", "above zero"),
        ("", TODAY, "r", "Amount refunded (yuan): This field is required"),
        ("1000", TODAY + DAY, "r", "in the future"),
        ("1000", TODAY, "", "Payment reference: This field is required"),
        ("1000", TODAY, "bad\x00ref", "control character"),
        ("1000", TODAY, "x" * 101, "at most 100"),
        ("9999999999999", TODAY, "r", "Amount: at most"),
        ("1000", "2026-13-45", "r", "Paid on: Enter a valid date"),
    ],
)
def test_bad_refunds_are_refused_and_nothing_is_stored(
    client, county, draft, amount, paid_on, reference, says
):
    project = terminated(client, county, draft)
    response = post_refund(client, county.users["staff"], project, amount, paid_on, reference)
    assert response.status_code == 200
    assert says in text(response)
    assert not Refund.objects.exists()
    assert not history_of(project).filter(kind=EventKind.REFUND_RECORDED).exists()


def test_only_staff_record_refunds(client, county, draft):
    project = terminated(client, county, draft)
    for who in ("applicant", "unit1", "leader"):
        response = post_refund(client, county.users[who], project, "1000.00")
        assert response.status_code in (403, 404), who
    client.force_login(county.users["applicant2"])  # another organisation
    response = client.post(reverse("recovery-adjust", args=[project.pk]), {"amount": "1"})
    assert response.status_code in (403, 404)
    with pytest.raises(PermissionDenied):
        record_refund(project.recovery.pk, project.pi, Decimal("1000"), TODAY, "r")
    assert not Refund.objects.exists()
    assert Recovery.objects.get(project=project).amount == Decimal("260000.00")


# --- adjusting the assessment -------------------------------------------------------------


def test_staff_adjust_the_amount_with_a_reason(client, county, draft):
    project = terminated(client, county, draft)
    staff = county.users["staff"]
    client.force_login(staff)
    url = reverse("recovery-adjust", args=[project.pk])
    response = client.post(url, {"amount": "280000", "reason": ""}, follow=True)
    assert "Reason: This field is required" in text(response)
    assert 'value="280000"' in response.content.decode()
    response = client.post(url, {"amount": "400000", "reason": "审计发现违规"}, follow=True)
    assert "At most the 360000.00 yuan disbursed" in text(response)
    response = client.post(
        url, {"amount": "280000", "reason": "审计发现 20000 元违规列支。"}, follow=True
    )
    assert "The amount to recover has been adjusted" in text(response)
    recovery = Recovery.objects.get(project=project)
    assert recovery.amount == Decimal("280000.00") and recovery.computed == Decimal("260000.00")
    event = history_of(project).filter(kind=EventKind.RECOVERY_ASSESSED).last()
    assert event.before == {"amount": "260000.00"} and event.after == {"amount": "280000.00"}
    assert event.data["reason"] == "审计发现 20000 元违规列支。"
    assert "审计发现 20000 元违规列支。" in page(client, staff, project)

    post_refund(client, staff, project, "200000")
    response = client.post(url, {"amount": "150000", "reason": "复核"}, follow=True)
    assert "200000.00 yuan have been refunded already" in text(response)
    assert Recovery.objects.get(project=project).amount == Decimal("280000.00")


# --- the next application -----------------------------------------------------------------


def test_an_outstanding_recovery_blocks_the_pi_and_the_organisation_until_settled(
    client, county, draft
):
    project = terminated(client, county, draft)
    # The PI, a colleague of the same organisation, and the PI under another account.
    colleague = User.objects.create_user(
        username="colleague",
        password="x",
        real_name="方研究员",
        id_number=demo.person_id(601),
        organisation=county.orgs["institute"],
    )
    colleague.groups.add(Group.objects.get(name=Role.APPLICANT.value))
    county.users["colleague"] = colleague
    mine = new_draft(county, "applicant", "后续研究")
    theirs = new_draft(county, "colleague", "同单位项目")
    response = submit(client, mine)
    said = text(response)
    assert "still owes 260000.00 yuan" in said and f"“{project.title}”" in said
    assert status(mine) == S.DRAFT
    response = submit(client, theirs)
    assert "示范县农业科学研究所 still owes 260000.00 yuan" in text(response)
    assert status(theirs) == S.DRAFT

    # Another organisation's applicant is not concerned.
    other = new_draft(county, "applicant2", "他单位项目")
    submit(client, other)
    assert status(other) == S.UNIT_REVIEW

    # Settled: both may apply.
    post_refund(client, county.users["staff"], project, "260000.00")
    submit(client, mine)
    submit(client, theirs)
    assert status(mine) == S.UNIT_REVIEW and status(theirs) == S.UNIT_REVIEW


def test_the_pi_is_blocked_under_another_account_and_organisation(client, county, draft):
    terminated(client, county, draft)
    twin = User.objects.create_user(
        username="twin",
        password="x",
        real_name="陈研究员",
        id_number=county.users["applicant"].id_number,  # the same person
        organisation=county.orgs["enterprise"],
    )
    twin.groups.add(Group.objects.get(name=Role.APPLICANT.value))
    county.users["twin"] = twin
    elsewhere = new_draft(county, "twin", "换单位申报")
    response = submit(client, elsewhere)
    assert "陈研究员 still owes 260000.00 yuan" in text(response)
    assert status(elsewhere) == S.DRAFT


# --- the closing balance ------------------------------------------------------------------


def accepted(county, draft) -> Project:
    project = demo.advance(county, draft, S.IN_PROGRESS)
    spend(project, "operations", "50000.00", "JZ-1")
    return demo.advance(county, project, S.ACCEPTED)


def test_closing_records_the_balance_kept_by_the_unit_by_default(client, county, draft):
    project = accepted(county, draft)
    shown = page(client, county.users["staff"], project)
    assert "Closing balance" in shown and "if you record nothing" in shown
    act(client, county.users["staff"], project, "issue_certificate")
    assert status(project) == S.CLOSED
    balance = ClosingBalance.objects.get(project=project)
    assert (balance.disbursed, balance.eligible, balance.amount) == (
        Decimal("360000.00"),
        Decimal("50000.00"),
        Decimal("310000.00"),
    )
    assert balance.disposition == ClosingBalance.Disposition.KEPT and balance.by_default
    assert not Recovery.objects.exists()
    event = history_of(project).get(kind=EventKind.BALANCE_RECORDED)
    assert event.data["by_default"] is True and event.after["amount"] == "310000.00"
    shown = page(client, project.pi, project)
    assert "310,000.00" in shown and "Kept by the unit for research use" in shown
    assert "recorded by default at closing" in shown


def test_staff_record_a_return_to_the_bureau_before_closing(client, county, draft):
    project = accepted(county, draft)
    staff = county.users["staff"]
    url = reverse("closing-balance", args=[project.pk])
    client.force_login(project.pi)
    assert client.post(url, {"disposition": "returned"}).status_code == 403
    client.force_login(staff)
    response = client.post(url, {"disposition": "returned", "note": ""}, follow=True)
    assert "Say why the balance is returned" in text(response)
    assert not ClosingBalance.objects.exists()
    response = client.post(url, {"disposition": "elsewhere", "note": "x"}, follow=True)
    assert "Select a valid choice" in text(response)
    response = client.post(
        url, {"disposition": "returned", "note": "承担单位信用评价差。"}, follow=True
    )
    assert "The closing balance has been recorded" in text(response)
    act(client, staff, project, "issue_certificate")
    assert status(project) == S.CLOSED
    balance = ClosingBalance.objects.get(project=project)
    assert balance.disposition == "returned" and not balance.by_default
    assert balance.note == "承担单位信用评价差。" and balance.amount == Decimal("310000.00")
    # Returned to the bureau: owed back like a recovery.
    recovery = Recovery.objects.get(project=project)
    assert recovery.reason == Recovery.Reason.BALANCE and recovery.amount == balance.amount
    # Closed: the disposition is no longer changed.
    response = client.post(url, {"disposition": "kept", "note": ""}, follow=True)
    assert "until it closes" in text(response)
    assert ClosingBalance.objects.get(project=project).disposition == "returned"


def test_the_balance_is_recorded_only_for_an_accepted_project(client, county, draft):
    project = demo.advance(county, draft, S.IN_PROGRESS)
    client.force_login(county.users["staff"])
    url = reverse("closing-balance", args=[project.pk])
    response = client.post(url, {"disposition": "kept", "note": ""}, follow=True)
    assert "once the project has passed acceptance" in text(response)
    assert not ClosingBalance.objects.exists()


# --- the overview -------------------------------------------------------------------------


def test_the_overview_shows_outstanding_recoveries(client, county, draft):
    project = terminated(client, county, draft)
    staff = county.users["staff"]
    post_refund(client, staff, project, "60000.00")
    client.force_login(county.users["leader"])
    shown = text(client.get(reverse("dashboard")))
    assert "Recoveries outstanding" in shown
    assert "1 project owes 200,000.00 yuan." in shown and project.title in shown
    post_refund(client, staff, project, "200000.00")
    shown = text(client.get(reverse("dashboard")))
    assert "0 projects owe 0.00 yuan in all." in shown and project.title not in shown
