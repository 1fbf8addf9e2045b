"""The inbox is complete (issue 11): everything that waits for a person is on their page at
`/`, with its due date where a rule sets one (else since when it waits) and an overdue
marker in words and with the class `overdue`; nobody sees what waits for others; and the
page makes the same number of queries with ten times the rows.

The state is built through the services with the demo county; deadlines are made to pass
by looking at the inbox some days later (`later`), never by rewriting them.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.roles import Role
from funding.adjustments import request_adjustment
from funding.models import ExpertAssignment
from funding.objection_services import decide_objection, lodge_objection
from funding.states import ProjectStatus as S
from integrity.models import Gate, Measure, Sanction, Severity, SubjectKind
from integrity.overrides import approve_override, request_override
from integrity.services import record_rectification, record_sanction
from notifications.deadlines import acceptance_due_on
from oversight.findings import raise_finding
from oversight.inspections import draw_inspections, record_result
from oversight.supervision_engagements import appoint_supervision, create_due_checks
from workflows import demo
from workflows.actions import perform

from .cases_support import new_case, step
from .pages_support import text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def client(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def later(monkeypatch):
    """`later(n)`: from now on today is `n` days ahead (the deadlines set today pass)."""
    real = timezone.localdate

    def travel(days: int) -> datetime.date:
        def localdate(value=None, timezone=None):
            if value is not None:
                return real(value, timezone)
            return real(None, timezone) + datetime.timedelta(days=days)

        monkeypatch.setattr("django.utils.timezone.localdate", localdate)
        return TODAY + datetime.timedelta(days=days)

    return travel


def inbox(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("inbox"))
    assert response.status_code == 200
    return text(response)


def section(page: str, testid: str) -> str:
    """The section `testid` of the inbox ('' when it is not shown)."""
    opening = f'<section class="inbox-section" data-testid="{testid}">'
    found = re.search(re.escape(opening) + r"(.*?)</section>", page, re.S)
    return found.group(1) if found else ""


def task_row(page: str, title: str) -> str:
    """The row of the task table for the project `title` ('' when there is none)."""
    table = re.search(r'<table data-testid="inbox-tasks">(.*?)</table>', page, re.S)
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S) if table else []
    return next((row for row in rows if f">{title}<" in row), "")


def due_on(day: datetime.date) -> str:
    return f'due on <time datetime="{day.isoformat()}">{day.isoformat()}</time>'


def overdue(days: int) -> str:
    unit = "day" if days == 1 else "days"
    return f'<strong class="overdue" data-testid="overdue">Overdue by {days} {unit}</strong>'


def waiting_since(day: datetime.date) -> str:
    return f'waiting since <time datetime="{day.isoformat()}">{day.isoformat()}</time>'


# --- building blocks, through the services ------------------------------------------------


def project(county, title, state, *, who="applicant", amount="300000", **dates):
    return demo.advance(county, demo.draft_project(county, who, title, amount, **dates), state)


def running_since(county, title, days: int, *, who="applicant", amount="600000"):
    """A project in progress that started `days` ago: its first reports are overdue."""
    return project(
        county,
        title,
        S.IN_PROGRESS,
        who=who,
        amount=amount,
        start_date=TODAY - days * DAY,
        end_date=TODAY + 330 * DAY,
    )


def supervised(county, running):
    return appoint_supervision(
        running, county.orgs["firm"], county.users["auditor"], [], county.users["staff"]
    )


def rectification(county, running, text="差旅费报销凭证不全。", in_days=10):
    return raise_finding(running, county.users["auditor"], "minor", text, TODAY + in_days * DAY)


def overridable(county, n: int = 21) -> Sanction:
    """较重 with projects terminated: no ban, so an override may be asked for."""
    person = county.users["expert5"]
    return record_sanction(
        Sanction(
            subject_kind=SubjectKind.PERSON,
            subject_id=person.id_number,
            subject_name=person.real_name,
            severity=Severity.SERIOUS,
            measures=[Measure.TERMINATE.value],
            gates=[Gate.CONTRACT.value],
            decision_no=f"示科信〔2026〕{n}号",
            reason="未按任务书履约",
            starts_on=TODAY - 5 * DAY,
        ),
        county.users["integrity"],
    )


def ask_override(county, on, sanction, reason="县政府专题会议决定继续实施"):
    return request_override(on, Gate.CONTRACT, sanction, reason, county.users["staff"])


# --- bureau staff -------------------------------------------------------------------------


def test_staff_see_tasks_objections_late_reviews_reports_and_rectifications(client, county, later):
    staff = county.users["staff"]
    submitted = project(county, "待受理项目", S.SUBMITTED)
    contracted = project(county, "待拨付项目", S.CONTRACTED)
    on_notice = project(county, "公示中项目", S.PUBLIC_NOTICE)
    objection = lodge_objection(
        on_notice.pk, name="张先生", contact="13800000000", text="重复申报。"
    )
    reviewing = project(county, "评审中项目", S.EXPERT_REVIEW)
    running = running_since(county, "执行中项目", 400)
    supervised(county, running)
    rectification(county, running)

    page = inbox(client, staff)
    # A task with no deadline says since when it waits; the first tranche is due 30 days
    # after signing (FIRST_DISBURSEMENT_DAYS).
    row = task_row(page, submitted.title)
    assert "Accept the application" in row and '<span class="muted">—</span>' in row
    assert TODAY.isoformat() in row
    assert due_on(TODAY + 30 * DAY) in task_row(page, contracted.title)
    # The objection is decided before the notice ends.
    objections = section(page, "inbox-objections")
    assert on_notice.title in objections and due_on(on_notice.notice_ends_on) in objections
    assert f'data-objection="{objection.pk}"' in objections and "overdue" not in objections
    assert "张先生" not in objections  # the objector stays on the objection
    # The PI's two first reports (mid-term and annual) are a month late already.
    reports = section(page, "inbox-late-reports")
    assert reports.count(running.title) == 2 and reports.count('class="overdue"') >= 2
    assert section(page, "late-reviews") == ""
    assert section(page, "inbox-late-rectifications") == ""
    # Nothing of the leader's or the integrity officer's.
    for other in ("inbox-overrides", "inbox-cases", "inbox-sanction-rectifications"):
        assert section(page, other) == ""

    later(30)
    page = inbox(client, staff)
    objections = section(page, "inbox-objections")
    days = (TODAY + 30 * DAY - on_notice.notice_ends_on).days
    assert overdue(days) in objections
    reviews = section(page, "late-reviews")
    assert reviews.count(reviewing.title) == 3  # the three drawn experts, each 16 days late
    assert overdue(16) in reviews and due_on(TODAY + 14 * DAY) in reviews
    rectifications = section(page, "inbox-late-rectifications")
    assert running.title in rectifications and overdue(20) in rectifications
    assert "明信会计师事务所" in rectifications

    decide_objection(objection.pk, staff, outcome="dismissed", finding="经核实，异议不成立。")
    assert section(inbox(client, staff), "inbox-objections") == ""


# --- the leader ---------------------------------------------------------------------------


def test_the_leader_sees_approvals_and_overrides_to_approve(client, county):
    leader, staff = county.users["leader"], county.users["staff"]
    pending = project(county, "待立项项目", S.PENDING_APPROVAL)
    other = project(county, "待受理项目", S.SUBMITTED)
    override = ask_override(county, other, overridable(county))

    page = inbox(client, leader)
    assert "Approve the project (立项)" in task_row(page, pending.title)
    assert task_row(page, other.title) == ""  # staff's task, not the leader's
    overrides = section(page, "inbox-overrides")
    assert f'data-override="{override.pk}"' in overrides and other.title in overrides
    assert reverse("project", args=[other.pk]) in overrides
    assert waiting_since(TODAY) in overrides and "王科员" in overrides
    assert "Task contract" in overrides and "示科信〔2026〕21号" in overrides
    # Staff asked: the second approval is not theirs; nor is the approval of the project.
    staff_page = inbox(client, staff)
    assert section(staff_page, "inbox-overrides") == ""
    assert task_row(staff_page, pending.title) == ""

    approve_override(override, other, leader)
    assert section(inbox(client, leader), "inbox-overrides") == ""


# --- the integrity officer ----------------------------------------------------------------


def test_the_integrity_officer_sees_cases_lapsed_hearings_and_rectifications(client, county, later):
    officer = county.users["integrity"]
    reported = new_case(county)
    investigating = new_case(county, respondent_name="刘某一")
    step(county, investigating, "accept")
    heard = new_case(county, respondent_name="刘某二")
    step(county, heard, "accept")
    step(county, heard, "notify_respondent", reply_by=TODAY + 10 * DAY)
    sanction = record_sanction(
        Sanction(
            subject_kind=SubjectKind.PERSON,
            subject_id=county.users["expert5"].id_number,
            subject_name="钱高工",
            severity=Severity.MINOR,
            measures=[Measure.SUSPEND_RECTIFY.value],
            gates=[],
            decision_no="示科信〔2026〕31号",
            reason="项目执行不规范",
            starts_on=TODAY,
            ends_on=TODAY + 20 * DAY,
            rectify_by=TODAY + 20 * DAY,
        ),
        officer,
    )

    page = inbox(client, officer)
    cases = section(page, "inbox-cases")
    assert reverse("case", args=[reported.pk]) in cases and waiting_since(TODAY) in cases
    assert reverse("case", args=[investigating.pk]) in cases  # the officer's move next
    # While the respondent may still reply, the case is theirs, not the officer's.
    assert reverse("case", args=[heard.pk]) not in cases
    rectifications = section(page, "inbox-sanction-rectifications")
    assert "示科信〔2026〕31号" in rectifications and due_on(TODAY + 20 * DAY) in rectifications
    assert reverse("sanction", args=[sanction.pk]) in rectifications
    assert "overdue" not in rectifications

    later(25)
    page = inbox(client, officer)
    cases = section(page, "inbox-cases")
    assert reverse("case", args=[heard.pk]) in cases
    assert "The respondent's deadline to reply has passed" in cases and overdue(15) in cases
    assert overdue(5) in section(page, "inbox-sanction-rectifications")

    record_rectification(sanction, TODAY, officer)
    assert section(inbox(client, officer), "inbox-sanction-rectifications") == ""
    # Staff see none of it.
    staff_page = inbox(client, county.users["staff"])
    assert section(staff_page, "inbox-cases") == ""
    assert section(staff_page, "inbox-sanction-rectifications") == ""


# --- experts and inspectors ---------------------------------------------------------------


def test_an_expert_sees_reviews_due_and_inspections_drawn_for_them(client, county, later):
    reviewing = project(county, "评审中项目", S.EXPERT_REVIEW)
    running = running_since(county, "抽查项目", 60, who="applicant2", amount="300000")
    draw = draw_inspections(county.users["staff"], 1, 1, seed="inbox")
    inspector = draw.inspectors.get()
    experts = [county.users[f"expert{n}"] for n in range(1, 6)]
    bystander = next(e for e in experts if e != inspector)
    due = TODAY + 14 * DAY  # EXPERT_REVIEW_DAYS

    page = inbox(client, county.users["expert1"])
    row = task_row(page, reviewing.title)
    assert "Review the application" in row and due_on(due) in row and "overdue" not in row
    assert due_on(due) in section(page, "my-reviews")
    assert str(reviewing.applicant_org) not in page  # the title only before declaring

    page = inbox(client, inspector)
    inspections = section(page, "inbox-inspections")
    assert running.title in inspections and f'data-inspection="{draw.pk}"' in inspections
    assert waiting_since(TODAY) in inspections
    assert reverse("inspection", args=[draw.pk]) in inspections
    assert section(inbox(client, bystander), "inbox-inspections") == ""

    later(20)
    page = inbox(client, county.users["expert1"])
    assert overdue(6) in task_row(page, reviewing.title)
    assert overdue(6) in section(page, "my-reviews")
    # The other reviewers, late as well, are staff's to chase: never named to an expert.
    others = ExpertAssignment.objects.filter(project=reviewing).exclude(
        expert=county.users["expert1"]
    )
    assert others.exists() and section(page, "late-reviews") == ""
    late = section(inbox(client, county.users["staff"]), "late-reviews")
    for assignment in others.select_related("expert"):
        assert str(assignment.expert) not in page and str(assignment.expert) in late

    record_result(draw, running, inspector, "compliant", "账实相符。")
    assert section(inbox(client, inspector), "inbox-inspections") == ""


# --- the applicant (PI) -------------------------------------------------------------------


def test_an_applicant_sees_their_own_reports_and_tasks_and_nothing_of_others(client, county):
    running = running_since(county, "陈研究员的项目", 400, amount="300000")
    theirs = project(county, "刘工程师的项目", S.UNIT_REVIEW, who="applicant2")
    perform(theirs.pk, "return_by_unit", county.users["unit2"], reason="预算编制说明不完整。")

    page = inbox(client, county.users["applicant"])
    reports = section(page, "inbox-reports")
    assert reports.count(running.title) == 2 and overdue(35) in reports
    row = task_row(page, running.title)
    assert "Report and request acceptance" in row and due_on(acceptance_due_on(running)) in row
    assert theirs.title not in page

    page = inbox(client, county.users["applicant2"])
    assert "Revise and resubmit" in task_row(page, theirs.title)
    assert TODAY.isoformat() in task_row(page, theirs.title)
    assert running.title not in page and section(page, "inbox-reports") == ""


# --- the respondent of a misconduct case -------------------------------------------------


def test_a_respondent_sees_only_the_cases_concerning_them(client, county):
    own = new_case(county)  # against applicant2
    other = new_case(county, respondent_id=county.users["applicant"].id_number)
    for case in (own, other):
        step(county, case, "accept")
        step(county, case, "notify_respondent", reply_by=TODAY + 10 * DAY)

    cases = section(inbox(client, county.users["applicant2"]), "inbox-respondent-cases")
    assert reverse("respondent-case", args=[own.pk]) in cases
    assert due_on(TODAY + 10 * DAY) in cases
    assert reverse("respondent-case", args=[other.pk]) not in cases
    cases = section(inbox(client, county.users["applicant"]), "inbox-respondent-cases")
    assert reverse("respondent-case", args=[other.pk]) in cases
    assert reverse("respondent-case", args=[own.pk]) not in cases
    assert section(inbox(client, county.users["staff"]), "inbox-respondent-cases") == ""


# --- the auditor --------------------------------------------------------------------------


def test_the_auditor_sees_the_fund_checks_of_their_own_firm(client, county, later):
    running = running_since(county, "全过程监管项目", 100)
    engagement = supervised(county, running)
    create_due_checks(TODAY + 100 * DAY)
    check = engagement.checks.order_by("due_on").first()

    page = inbox(client, county.users["auditor"])
    row = task_row(page, running.title)
    assert "Record the fund check due on" in row and due_on(check.due_on) in row
    assert reverse("supervision", args=[running.pk]) in row
    assert running.title not in inbox(client, county.users["auditor2"])

    days = (TODAY + 120 * DAY - check.due_on).days
    later(120)
    assert overdue(days) in task_row(inbox(client, county.users["auditor"]), running.title)


# --- the unit officer ---------------------------------------------------------------------


def test_a_unit_officer_sees_recommendations_adjustments_and_rectifications(client, county, later):
    unit1 = county.users["unit1"]
    submitted = project(county, "待推荐项目", S.UNIT_REVIEW)
    running = running_since(county, "整改项目", 100)
    supervised(county, running)
    rectification(county, running)
    adjustment = request_adjustment(
        running, running.pi, "operations", "equipment", Decimal("1000.00"), "增购传感器"
    )

    page = inbox(client, unit1)
    assert "Recommend the application (单位推荐)" in task_row(page, submitted.title)
    row = task_row(page, running.title)
    assert "Answer the rectification request (整改) by" in row
    assert due_on(TODAY + 10 * DAY) in row and "overdue" not in row
    adjustments = section(page, "inbox-adjustments")
    assert f'data-adjustment="{adjustment.pk}"' in adjustments
    assert waiting_since(TODAY) in adjustments and "1000.00 yuan" in adjustments

    page = inbox(client, county.users["unit2"])  # another organisation's unit
    assert submitted.title not in page and running.title not in page

    later(12)
    assert overdue(2) in task_row(inbox(client, unit1), running.title)


def test_where_a_unit_has_no_officer_the_pi_answers_and_staff_decide(client, county, later):
    """An organisation with no unit officer: its PI answers the rectification requests
    (oversight.findings.answers_for_unit) and staff decide its budget adjustments."""
    lab = Organisation.objects.create(
        name="示范县新型研发机构",
        credit_code=demo.credit_code(99),
        kind=Organisation.Kind.INSTITUTE,
    )
    pi = User.objects.create_user(
        username="applicant9",
        password="x",
        real_name="褚研究员",
        id_number=demo.person_id(909),
        organisation=lab,
    )
    pi.groups.add(Group.objects.get(name=Role.APPLICANT.value))
    county.users[pi.username] = pi
    running = running_since(county, "大学的项目", 100, who="applicant9")
    supervised(county, running)
    rectification(county, running, in_days=5)
    adjustment = request_adjustment(
        running, pi, "operations", "equipment", Decimal("500.00"), "增购传感器"
    )

    row = task_row(inbox(client, pi), running.title)
    assert "Answer the rectification request (整改) by" in row and due_on(TODAY + 5 * DAY) in row
    adjustments = section(inbox(client, county.users["staff"]), "inbox-adjustments")
    assert f'data-adjustment="{adjustment.pk}"' in adjustments
    assert running.title not in inbox(client, county.users["unit1"])

    later(7)
    assert overdue(2) in task_row(inbox(client, pi), running.title)


# --- the same number of queries with ten times the rows -----------------------------------


def statements(client) -> int:
    client.get(reverse("inbox"))  # a first request may refresh the session: not counted
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("inbox"))
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_staff_and_leader_inboxes_make_as_many_queries_with_ten_times_the_rows(
    client, county, later
):
    """Every section staff and the leader see, with 2 rows and then 20 or more (10 shown)."""
    on_notice = project(county, "公示项目", S.PUBLIC_NOTICE)
    running = running_since(county, "监管项目", 400)
    supervised(county, running)
    sanction = overridable(county)
    counter = iter(range(1000))

    def more(n: int) -> None:
        for _ in range(n):
            i = next(counter)
            project(county, f"待受理{i}", S.SUBMITTED)
            project(county, f"待立项{i}", S.PENDING_APPROVAL)
            project(county, f"评审中{i}", S.EXPERT_REVIEW)
            lodge_objection(on_notice.pk, name=f"异议人{i}", contact="13800000000", text="异议。")
            rectification(county, running, text=f"问题{i}", in_days=1)
            ask_override(county, on_notice, sanction, reason=f"理由{i}")

    more(2)
    later(30)  # the reviews, reports and rectifications are late
    counts = {}
    for who in ("staff", "leader"):
        client.force_login(county.users[who])
        counts[who] = statements(client)

    later(0)
    more(18)
    # Twenty years of annual reports owed by a second project: ten times as many late.
    running_since(county, "久未报告项目", 20 * 365)
    later(30)
    for who in ("staff", "leader"):
        client.force_login(county.users[who])
        assert statements(client) == counts[who], who

    page = inbox(client, county.users["staff"])
    for testid in ("inbox-objections", "late-reviews", "inbox-late-reports"):
        assert section(page, testid).count("<li") == 10, testid
    assert "And 50 more (60 in all)." in section(page, "late-reviews")
    assert section(inbox(client, county.users["leader"]), "inbox-overrides").count("<li") == 10


def test_the_unit_and_the_pi_make_as_many_queries_with_more_rows_and_any_page_is_a_page(
    client, county
):
    """The unit officer's recommendations, rectifications and adjustments, and the PI's
    projects, 2 of each and then 12 (10 shown); a page number that is none gives a page."""
    counter = iter(range(1000))

    def more(n: int) -> None:
        for _ in range(n):
            i = next(counter)
            project(county, f"待推荐{i}", S.UNIT_REVIEW)
            running = running_since(county, f"整改{i}", 100)
            supervised(county, running)
            rectification(county, running)
            request_adjustment(running, running.pi, "operations", "equipment", Decimal("10"), "x")

    more(2)
    counts = {}
    for who in ("unit1", "applicant"):
        client.force_login(county.users[who])
        counts[who] = statements(client)
    more(10)
    for who in ("unit1", "applicant"):
        client.force_login(county.users[who])
        assert statements(client) == counts[who], who
        for number in ("abc", "-1", "0", "1e309", "9" * 30, "nan", "\x00", "9" * 5000):
            assert client.get(reverse("inbox"), {"page": number}).status_code == 200, number

    adjustments = section(inbox(client, county.users["unit1"]), "inbox-adjustments")
    assert adjustments.count("<li") == 10 and "And 2 more (12 in all)." in adjustments
    assert "待推荐0" not in inbox(client, county.users["unit2"])
