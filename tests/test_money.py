"""Money: applications, budget rules, cuts and disbursements refuse bad amounts clearly."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from funding.budget import indirect_cap
from funding.models import (
    BudgetLine,
    Call,
    Disbursement,
    Project,
    TeamMember,
    default_indirect_tiers,
)
from funding.services import create_project
from funding.states import ProjectStatus as S
from trail.models import Event
from workflows import demo
from workflows.actions import perform

pytestmark = pytest.mark.usefixtures("english")

D = Decimal


def application(**overrides) -> dict:
    today = timezone.localdate()
    data = {
        "title": "茶园智能灌溉系统研发",
        "field": "农业科技",
        "summary": "",
        "requested_amount": D("600000.00"),
        "start_date": today + datetime.timedelta(days=30),
        "end_date": today + datetime.timedelta(days=730),
        "budget": {
            "equipment": D("180000.00"),
            "operations": D("210000.00"),
            "labour": D("120000.00"),
            "indirect": D("90000.00"),
        },
        "team": [],
    }
    data.update(overrides)
    return data


def counts() -> tuple[int, ...]:
    return (
        Project.objects.count(),
        BudgetLine.objects.count(),
        TeamMember.objects.count(),
        Event.objects.count(),
    )


def refused(user, call, data) -> dict[str, list[str]]:
    """File `data`; assert it is refused and stores nothing; return the errors by field."""
    before = counts()
    with pytest.raises(ValidationError) as caught:
        create_project(user, call, data)
    assert counts() == before
    return (
        caught.value.message_dict
        if hasattr(caught.value, "error_dict")
        else {"__all__": caught.value.messages}
    )


# --- applications -------------------------------------------------------------------------


def test_a_sound_application_is_stored_as_a_draft(county, applicant):
    project = create_project(applicant, county.call, application())
    assert project.status == S.DRAFT and project.requested_amount == D("600000.00")
    assert project.budget_lines.count() == 4


@pytest.mark.parametrize("amount", ["-600000.00", "0.00"])
def test_a_negative_or_zero_amount_is_refused(county, applicant, amount):
    total = D(amount)
    budget = {"equipment": total, "operations": D(0), "labour": D(0), "indirect": D(0)}
    errors = refused(applicant, county.call, application(requested_amount=total, budget=budget))
    assert "The amount must be above zero." in errors["requested_amount"]


def test_a_negative_budget_line_is_refused(county, applicant):
    budget = {
        "equipment": D("700000.00"),
        "operations": D("-100000.00"),
        "labour": D("0"),
        "indirect": D("0"),
    }
    errors = refused(applicant, county.call, application(budget=budget))
    assert "Budget amounts cannot be negative." in errors["budget"]


def test_an_amount_above_the_call_cap_is_refused(county, applicant):
    total = county.call.funding_cap + D("0.01")
    errors = refused(
        applicant, county.call, application(requested_amount=total, budget=demo.budget_for(total))
    )
    assert errors["requested_amount"] == ["The call funds at most 1,000,000.00 yuan per project."]


def test_the_cap_itself_is_allowed(county, applicant):
    total = county.call.funding_cap
    data = application(requested_amount=total, budget=demo.budget_for(total))
    assert create_project(applicant, county.call, data).requested_amount == total


def test_a_budget_that_does_not_add_up_is_refused(county, applicant):
    data = application(requested_amount=D("600000.01"))
    errors = refused(applicant, county.call, data)
    assert errors["requested_amount"] == ["The budget lines must add up to the requested amount."]


def test_indirect_costs_above_the_cap_are_refused(county, applicant):
    # Direct 460,000 less 200,000 of equipment purchase allows 30 % of 260,000 = 78,000.
    over = {
        "equipment": D("200000.00"),
        "operations": D("160000.00"),
        "labour": D("100000.00"),
        "indirect": D("140000.00"),
    }
    errors = refused(applicant, county.call, application(budget=over))
    assert errors["budget"] == [
        "Indirect costs of 140000.00 yuan exceed the cap of 78000.00 yuan "
        "(direct costs less equipment purchase: 260000.00 yuan)."
    ]

    at_cap = {
        "equipment": D("210000.00"),
        "operations": D("160000.00"),
        "labour": D("140000.00"),
        "indirect": D("90000.00"),
    }
    assert create_project(applicant, county.call, application(budget=at_cap))


def test_an_end_date_before_the_start_is_refused(county, applicant):
    today = timezone.localdate()
    errors = refused(applicant, county.call, application(start_date=today, end_date=today))
    assert errors["end_date"] == ["The end date must follow the start date."]


def test_a_bad_team_member_id_number_is_refused(county, applicant):
    team = [{"name": "张三", "id_number": "110105194912310021", "duty": "试验"}]
    errors = refused(applicant, county.call, application(team=team))
    assert "check digit" in errors["__all__"][0]


def test_a_closed_call_takes_no_applications(county, applicant):
    errors = refused(applicant, county.closed_call, application(requested_amount=D("1")))
    assert errors["__all__"] == ["This call is not open for applications."]


@pytest.mark.parametrize("who", ["staff", "expert1", "leader"])
def test_only_applicants_file_projects(county, who):
    before = counts()
    with pytest.raises(PermissionDenied, match="Only an applicant"):
        create_project(county.users[who], county.call, application())
    assert counts() == before


# --- the progressive indirect cap (国办发〔2021〕32号) ---------------------------------------


@pytest.mark.parametrize(
    "direct, cap",
    [
        ("0", "0.00"),
        ("1000000", "300000.00"),  # 30 %
        ("5000000", "1500000.00"),  # top of the first tier
        ("8000000", "2250000.00"),  # 1.5M + 25 % of 3M
        ("10000000", "2750000.00"),  # top of the second tier
        ("12000000", "3150000.00"),  # 2.75M + 20 % of 2M
        ("333.33", "99.99"),  # rounded down to the cent, never up
    ],
)
def test_indirect_cap_tiers(direct, cap):
    assert indirect_cap(D(direct), default_indirect_tiers()) == D(cap)


def test_the_progressive_cap_applies_to_a_large_call(county, applicant):
    big = Call.objects.create(
        title="重大专项",
        program="重大专项",
        opens_on=county.call.opens_on,
        closes_on=county.call.closes_on,
        funding_cap=D("20000000.00"),
    )
    # Trial-make equipment stays in the base (32号): the base is the 8M of direct costs.
    direct = {
        "equipment_other": D("4000000"),
        "operations": D("3000000"),
        "labour": D("1000000"),
    }
    # A flat 30 % would allow 2.4M; the tiers allow 2.25M on 8M direct.
    over = application(requested_amount=D("10300000"), budget={**direct, "indirect": D("2300000")})
    errors = refused(applicant, big, over)
    assert errors["budget"] == [
        "Indirect costs of 2300000 yuan exceed the cap of 2250000.00 yuan "
        "(direct costs less equipment purchase: 8000000 yuan)."
    ]
    ok = application(requested_amount=D("10250000"), budget={**direct, "indirect": D("2250000")})
    assert create_project(applicant, big, ok).requested_amount == D("10250000")


# --- budget review ------------------------------------------------------------------------


def test_a_budget_cut_needs_a_reason(county, draft, staff):
    project = demo.advance(county, draft, S.BUDGET_REVIEW)
    with pytest.raises(ValidationError, match="Give a reason for cutting Equipment"):
        perform(project.pk, "finish_budget_review", staff, cuts={"equipment": (D("100000"), " ")})
    project.refresh_from_db()
    assert project.status == S.BUDGET_REVIEW and project.approved_amount is None
    assert not project.budget_lines.filter(approved__isnull=False).exists()

    with pytest.raises(ValidationError, match="between 0 and the request"):
        perform(project.pk, "finish_budget_review", staff, cuts={"labour": (D("120000.01"), "")})

    project = perform(
        project.pk, "finish_budget_review", staff, cuts={"equipment": (D("100000"), "设备可共享")}
    )
    assert project.status == S.PENDING_APPROVAL
    assert project.approved_amount == D("520000.00")
    line = project.budget_lines.get(category="equipment")
    assert line.approved == D("100000.00") and line.cut_reason == "设备可共享"


# --- disbursement -------------------------------------------------------------------------


@pytest.fixture
def contracted(county, draft):
    project = demo.advance(county, draft, S.CONTRACTED)
    assert project.approved_amount == D("600000.00")
    return project


def disburse(project, staff, amount):
    # With a reason, so the schedule lets it through and the approved amount is what binds.
    return perform(
        project.pk, "disburse", staff, amount=D(amount), tranche="拨付", reason="按进度拨付"
    )


def assert_nothing_paid(project, events_before: int):
    project.refresh_from_db()
    assert project.status == S.CONTRACTED and project.disbursed_total == 0
    assert not Disbursement.objects.filter(project=project).exists()
    assert Event.objects.count() == events_before


def test_a_disbursement_above_the_approved_amount_is_refused(contracted, staff):
    events = Event.objects.count()
    with pytest.raises(ValidationError) as caught:
        disburse(contracted, staff, "600000.01")
    assert caught.value.messages == [
        "Only 600,000.00 yuan of the approved amount remain to be disbursed."
    ]
    assert_nothing_paid(contracted, events)


@pytest.mark.parametrize("amount", ["0", "-1"])
def test_a_zero_or_negative_disbursement_is_refused(contracted, staff, amount):
    events = Event.objects.count()
    with pytest.raises(ValidationError, match="must be above zero"):
        disburse(contracted, staff, amount)
    assert_nothing_paid(contracted, events)


def test_tranches_add_up_to_the_approved_amount_and_no_further(contracted, staff):
    disburse(contracted, staff, "360000.00")
    with pytest.raises(ValidationError, match="Only 240,000.00 yuan"):
        disburse(contracted, staff, "240000.01")
    project = disburse(contracted, staff, "240000.00")
    assert project.disbursed_total == project.approved_amount
    with pytest.raises(ValidationError, match="Only 0.00 yuan"):
        disburse(contracted, staff, "0.01")
    assert project.disbursements.count() == 2


def test_the_database_itself_refuses_over_disbursement(county, contracted):
    draft = demo.draft_project(county, "applicant2", "尚未立项", "300000")
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(pk=contracted.pk).update(
            disbursed_total=F("approved_amount") + D("0.01")
        )
    # Nor can money go to a project that has no approved amount.
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(pk=draft.pk, status=S.DRAFT).update(disbursed_total=D("1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(pk=contracted.pk).update(disbursed_total=D("-1"))
    contracted.refresh_from_db()
    assert contracted.disbursed_total == 0
