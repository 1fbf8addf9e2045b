"""Third-party supervision over the whole course (issue 9, DESIGN §6): the firm appointed at
contract and vetted, the quarterly fund checks, the month-by-month view, findings and the
rectification (整改) cycle with the unit, the overview, access that ends with the
engagement, the special audit as its last step, the adverse opinion, flag annotations and
the Excel export. Through the pages as staff, auditor, unit officer and PI.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import User
from accounts.roles import Role
from documents.models import Attachment
from funding.fund_months import fund_months
from funding.models import Disbursement
from funding.services import record_expenditure
from funding.states import ProjectStatus as S
from integrity.models import Gate, Sanction, Severity, SubjectKind, VetoCheck
from integrity.services import record_sanction
from oversight.models import AuditEngagement, FlagNote, FundCheck, SupervisionFinding
from oversight.panels import cast_verdict
from oversight.tasks import schedule_fund_checks
from trail.kinds import EventKind
from trail.services import history_of, verify_chain
from workflows import demo
from workflows.actions import perform

from .pages_support import text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
PDF = demo.DEMO_PDF


@pytest.fixture
def client(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def ban(county, user_or_org, gates=(Gate.AUDIT,)):
    person = isinstance(user_or_org, User)
    sanction = Sanction(
        subject_kind=SubjectKind.PERSON if person else SubjectKind.ORGANISATION,
        subject_id=user_or_org.id_number if person else user_or_org.credit_code,
        subject_name=str(user_or_org),
        severity=Severity.SERIOUS,
        measures=["ban"],
        gates=[Gate(g).value for g in gates],
        decision_no=f"示科信〔2026〕{Sanction.objects.count() + 70}号",
        reason="出具虚假审计报告",
        starts_on=TODAY - DAY,
        ends_on=TODAY + 700 * DAY,
    )
    return record_sanction(sanction, county.users["integrity"])


@pytest.fixture
def running(county):
    """A 600,000-yuan project in progress (at the supervision threshold and above)."""
    project = demo.draft_project(county, "applicant", "水稻监测全过程监管", "600000")
    return demo.advance(county, project, S.IN_PROGRESS)


def appoint(client, county, project, *, firm="firm", lead="auditor", staff=()):
    client.force_login(county.users["staff"])
    data = {
        "firm": county.orgs[firm].pk,
        "lead_auditor": county.users[lead].pk if lead else "",
        "staff": [county.users[s].pk for s in staff],
    }
    return client.post(reverse("supervision-appoint", args=[project.pk]), data, follow=True)


@pytest.fixture
def supervised(client, county, running):
    response = appoint(client, county, running)
    assert "The supervision firm has been appointed." in text(response), text(response)[:500]
    return running


def second_auditor(county, n=901) -> User:
    user = User.objects.create_user(
        username=f"auditor{n}",
        password="x",
        real_name="褚审计师",
        id_number=demo.person_id(n),
        organisation=county.orgs["firm"],
    )
    user.groups.add(Group.objects.get(name=Role.AUDITOR.value))
    county.users[user.username] = user
    return user


def spend(
    project, voucher, amount, on, *, category="operations", payee="某供应商", method="transfer"
):
    return record_expenditure(
        project,
        project.pi,
        {
            "voucher_no": voucher,
            "spent_on": on,
            "category": category,
            "payee": payee,
            "method": method,
            "amount": Decimal(amount),
        },
    )


def raise_finding(client, auditor, project, **fields):
    client.force_login(auditor)
    data = {f"finding-{k}": v for k, v in fields.items()}
    return client.post(reverse("finding-raise", args=[project.pk]), data, follow=True)


def answer(client, user, finding, text_="已补齐签收单并重新入账。", files=None):
    client.force_login(user)
    prefix = f"answer-{finding.pk}"
    data = {f"{prefix}-text": text_}
    if files is not None:
        data[f"{prefix}-evidence"] = files
    url = reverse("finding-answer", args=[finding.engagement.project_id, finding.pk])
    return client.post(url, data, follow=True)


def evidence(name="整改说明.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


# --- appointment at contract, vetted ------------------------------------------------------


def test_signing_the_contract_says_a_supervision_firm_is_needed(county, draft):
    project = demo.advance(county, draft, S.CONTRACTED)
    signed = history_of(project).get(data__transition="sign_contract")
    assert signed.data["supervision_required"] is True


def test_staff_appoint_the_firm_and_its_auditors_each_vetted(client, county, running):
    other = second_auditor(county)
    response = appoint(client, county, running, staff=["auditor", other.username])
    assert "The supervision firm has been appointed." in text(response)
    engagement = AuditEngagement.objects.get(project=running)
    assert engagement.whole_course and engagement.ended_at is None
    assert set(engagement.staff.values_list("username", flat=True)) == {"auditor", other.username}
    check = VetoCheck.objects.filter(gate=Gate.AUDIT, passed=True).latest("pk")
    assert {s["id"] for s in check.subjects} >= {
        county.orgs["firm"].credit_code,
        county.users["auditor"].id_number,
        other.id_number,
    }
    event = history_of(running).get(kind=EventKind.SUPERVISION_APPOINTED)
    assert event.data["firm"] == county.orgs["firm"].name and event.actor == county.users["staff"]
    # Once is enough: a second appointment is refused while the first runs.
    response = appoint(client, county, running, firm="firm2", lead="auditor2")
    assert "already has a running supervision engagement" in text(response)
    assert AuditEngagement.objects.filter(project=running).count() == 1


@pytest.mark.parametrize("who", ["firm", "staff member"])
def test_a_vetoed_firm_or_a_vetoed_staff_member_is_refused(client, county, running, who):
    other = second_auditor(county)
    ban(county, county.orgs["firm"] if who == "firm" else other)
    response = appoint(client, county, running, staff=[other.username])
    barred = "Audit firm 明信会计师事务所" if who == "firm" else "Auditor 褚审计师"
    assert f"{barred} is barred" in text(response)
    assert not AuditEngagement.objects.filter(project=running).exists()
    refused = VetoCheck.objects.get(gate=Gate.AUDIT, passed=False)
    assert refused.checked_by == county.users["staff"]
    # The form comes back as chosen.
    assert response.context["appoint_form"].data["firm"] == str(county.orgs["firm"].pk)


def test_only_staff_appoint_only_projects_above_the_threshold_and_only_the_firms_auditors(
    client, county, running
):
    client.force_login(county.users["auditor"])
    data = {"firm": county.orgs["firm"].pk, "lead_auditor": county.users["auditor"].pk}
    assert client.post(reverse("supervision-appoint", args=[running.pk]), data).status_code in (
        403,
        404,
    )
    response = appoint(client, county, running, staff=["auditor2"])  # another firm's auditor
    assert "冯审计师 is not an auditor of 明信会计师事务所" in text(response)
    response = appoint(client, county, running, lead="")
    assert "Please correct the fields below" in text(response)
    small = demo.advance(
        county, demo.draft_project(county, "applicant2", "小项目", "300000"), S.IN_PROGRESS
    )
    response = appoint(client, county, small)
    assert "for projects of 500,000.00 yuan or more" in text(response)
    assert not AuditEngagement.objects.exists()


def test_every_act_of_the_firm_checks_the_acting_auditor_again(client, county, supervised):
    ban(county, county.users["auditor"])
    response = raise_finding(
        client, county.users["auditor"], supervised, severity="minor", text="发票抬头不符。"
    )
    assert "Auditor 钱审计师 is barred" in text(response)
    assert not SupervisionFinding.objects.exists()
    assert (
        VetoCheck.objects.filter(gate=Gate.AUDIT, passed=False).get().checked_by
        == (county.users["auditor"])
    )
    assert "发票抬头不符。" in text(response)  # the form as typed


def test_closing_a_finding_or_recording_a_check_checks_the_acting_auditor_again(
    client, county, supervised
):
    auditor = county.users["auditor"]
    raise_finding(client, auditor, supervised, severity="minor", text="发票抬头不符。")
    finding = SupervisionFinding.objects.get()
    engagement = finding.engagement
    today = timezone.localdate()
    check = FundCheck.objects.create(engagement=engagement, period_from=today, due_on=today)
    ban(county, auditor)  # barred after the appointment: each later act is refused
    client.force_login(auditor)
    url = reverse("finding-close", args=[supervised.pk, finding.pk])
    response = client.post(url, {f"close-{finding.pk}-note": "已核实。"}, follow=True)
    assert "Auditor 钱审计师 is barred" in text(response)
    assert SupervisionFinding.objects.get(pk=finding.pk).status == "open"
    url = reverse("supervision-check", args=[supervised.pk, check.pk])
    response = client.post(url, {"summary": "经费使用基本规范。"}, follow=True)
    assert "Auditor 钱审计师 is barred" in text(response)
    assert FundCheck.objects.get(pk=check.pk).recorded_at is None
    refused = VetoCheck.objects.filter(gate=Gate.AUDIT, passed=False)
    assert refused.count() == 2 and {c.checked_by for c in refused} == {auditor}


# --- periodic fund checks -----------------------------------------------------------------


def test_the_daily_task_creates_the_quarterly_checks_once(client, county, supervised, settings):
    engagement = AuditEngagement.objects.get(project=supervised)
    assert schedule_fund_checks() == 0  # nothing due on the first day
    appointed = timezone.now() - relativedelta(months=7)
    AuditEngagement.objects.filter(pk=engagement.pk).update(appointed_at=appointed)
    assert schedule_fund_checks() == 2  # after three and six months
    assert schedule_fund_checks() == 0  # idempotent
    checks = list(FundCheck.objects.filter(engagement=engagement))
    start = timezone.localdate(appointed)
    assert [c.due_on for c in checks] == [
        start + relativedelta(months=3),
        start + relativedelta(months=6),
    ]
    assert checks[1].period_from == checks[0].due_on
    settings.SUPERVISION_CHECK_MONTHS = 1
    assert schedule_fund_checks() == 5  # monthly now: the months in between
    # The auditor's inbox asks for them; recording one needs a conclusion.
    client.force_login(county.users["auditor"])
    assert "Record the fund check due on" in text(client.get(reverse("inbox")))
    check = checks[0]
    url = reverse("supervision-check", args=[supervised.pk, check.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="fund-months"' in text(page)
    response = client.post(url, {"summary": "  "}, follow=True)
    assert FundCheck.objects.get(pk=check.pk).recorded_at is None
    response = client.post(url, {"summary": "经费使用基本规范。"}, follow=True)
    assert "The fund check has been recorded." in text(response)
    event = history_of(supervised).get(kind=EventKind.FUND_CHECK)
    assert event.data["summary"] == "经费使用基本规范。"
    assert client.post(url, {"summary": "再记一次"}).status_code == 403
    # An engagement that ended gets no more checks.
    AuditEngagement.objects.filter(pk=engagement.pk).update(ended_at=timezone.now())
    AuditEngagement.objects.filter(pk=engagement.pk).update(
        appointed_at=appointed - relativedelta(months=12)
    )
    assert schedule_fund_checks() == 0


# --- the month-by-month view --------------------------------------------------------------


def test_the_month_by_month_view_adds_up_in_the_database(client, county, supervised):
    project = supervised
    first = Disbursement.objects.get(project=project)
    start = project.start_date.replace(day=1)
    m1, m3 = start + relativedelta(months=1), start + relativedelta(months=3)
    spend(project, "JZ-1", "1000.00", m1 + 2 * DAY)
    spend(project, "JZ-2", "500.50", m1 + 9 * DAY, category="labour")
    spend(project, "JZ-3", "2500.00", m3 + 4 * DAY)
    with CaptureQueriesContext(connection) as queries:
        view = fund_months(project)
    assert len(queries) == 3
    labels = [label for _value, label in view.categories]
    assert labels[:1] == ["Equipment purchase"]
    ops = [v for v, _label in view.categories].index("operations")
    labour = [v for v, _label in view.categories].index("labour")
    by_month = {row.month: row for row in view.months}
    assert by_month[m1].spent[ops] == Decimal("1000.00")
    assert by_month[m1].spent[labour] == Decimal("500.50")
    assert by_month[m1].spent_total == Decimal("1500.50")
    assert by_month[start + relativedelta(months=2)].spent_total == 0  # an empty month between
    assert by_month[m3].spent_to_date == Decimal("4000.50")
    assert view.spent[ops] == Decimal("3500.00")
    assert view.disbursed == project.disbursed_total == first.amount
    paid_month = first.paid_on.replace(day=1)
    assert by_month[paid_month].disbursed == first.amount
    assert view.budget[ops] == project.budget_lines.get(category="operations").current
    # More vouchers, the same number of queries.
    for n in range(20):
        spend(project, f"JZ-9{n}", "10.00", m3 + n % 20 * DAY)
    with CaptureQueriesContext(connection) as queries:
        fund_months(project)
    assert len(queries) == 3

    client.force_login(county.users["auditor"])
    page = text(client.get(reverse("fund-months", args=[project.pk])))
    assert f'data-month="{m1:%Y-%m}"' in page and "1,500.50" in page and "4,200.50" in page
    client.force_login(project.pi)  # the PI keeps these books and reads them too
    assert client.get(reverse("fund-months", args=[project.pk])).status_code == 200
    client.force_login(county.users["auditor2"])
    assert client.get(reverse("fund-months", args=[project.pk])).status_code == 404


# --- findings and the rectification cycle -------------------------------------------------


def test_finding_rectification_answer_with_evidence_close_and_reopen(client, county, supervised):
    auditor, unit = county.users["auditor"], county.users["unit1"]
    deadline = TODAY + 30 * DAY
    response = raise_finding(
        client,
        auditor,
        supervised,
        severity="major",
        text="劳务费发放缺少签收单。",
        rectify_by=deadline.isoformat(),
    )
    assert "The finding has been recorded." in text(response)
    finding = SupervisionFinding.objects.get()
    assert finding.is_rectification and finding.status == "open"
    assert (
        history_of(supervised).get(kind=EventKind.SUPERVISION_FINDING).data["severity"] == "major"
    )

    # The unit officer sees it in the inbox and on the supervision page.
    client.force_login(unit)
    assert "Answer the rectification request (整改) by" in text(client.get(reverse("inbox")))
    page = text(client.get(reverse("supervision", args=[supervised.pk])))
    assert "劳务费发放缺少签收单。" in page and 'data-form="finding-answer"' in page
    # The PI does not answer for a unit that has officers; nothing without evidence.
    response = answer(client, supervised.pi, finding, files=[evidence()])
    assert "Only the project's unit answers" in text(response)
    response = answer(client, unit, finding, text_="已补齐。", files=None)
    assert "Attach the evidence of the rectification." in text(response)
    assert "已补齐。" in text(response)  # as typed
    response = answer(client, unit, finding, files=[SimpleUploadedFile("x.exe", b"MZ\x90\x00")])
    assert (
        not finding.answers.exists()
        and not Attachment.objects.filter(kind="rectification_evidence").exists()
    )
    response = answer(client, unit, finding, files=[evidence(), evidence("签收单.pdf")])
    assert "Your answer has been sent to the supervision firm." in text(response)
    finding.refresh_from_db()
    assert finding.status == "answered"
    docs = Attachment.objects.filter(kind="rectification_evidence")
    assert docs.count() == 2

    # The firm sees the answer and its evidence; another firm, an outsider do not.
    client.force_login(auditor)
    assert "Close or reopen the answered rectification" in text(client.get(reverse("inbox")))
    doc = docs.first()
    assert client.get(reverse("attachment", args=[doc.pk])).status_code == 200
    client.force_login(county.users["applicant2"])
    assert client.get(reverse("attachment", args=[doc.pk])).status_code == 404
    client.force_login(county.users["auditor2"])
    assert client.get(reverse("attachment", args=[doc.pk])).status_code == 404

    # Reopened with a reason (a refusal without one), answered again, then closed.
    client.force_login(auditor)
    url = reverse("finding-reopen", args=[supervised.pk, finding.pk])
    response = client.post(url, {f"reopen-{finding.pk}-reason": ""}, follow=True)
    assert SupervisionFinding.objects.get(pk=finding.pk).status == "answered"
    later = TODAY + 45 * DAY
    data = {f"reopen-{finding.pk}-reason": "签收单不全。", f"reopen-{finding.pk}-rectify_by": later}
    response = client.post(url, data, follow=True)
    assert "The finding has been reopened." in text(response)
    finding.refresh_from_db()
    assert finding.status == "open" and finding.rectify_by == later
    answer(client, unit, finding, text_="补交全部签收单。", files=[evidence("签收单2.pdf")])
    client.force_login(auditor)
    url = reverse("finding-close", args=[supervised.pk, finding.pk])
    response = client.post(url, {f"close-{finding.pk}-note": "已核实。"}, follow=True)
    assert "The finding has been closed." in text(response)
    finding.refresh_from_db()
    assert finding.status == "closed" and finding.closed_by == auditor
    response = client.post(url, {}, follow=True)
    assert "already closed" in text(response)
    steps = [e.data["step"] for e in history_of(supervised).filter(kind=EventKind.RECTIFICATION)]
    assert steps == ["answered", "reopened", "answered", "closed"]
    # Only the firm closes: the unit cannot.
    client.force_login(unit)
    assert client.post(url, {}, follow=True).status_code == 200
    assert "Only an auditor of the running engagement" in text(client.post(url, {}, follow=True))
    assert verify_chain() == []


def test_a_deadline_in_the_past_or_a_bad_severity_is_refused_as_typed(client, county, supervised):
    auditor = county.users["auditor"]
    response = raise_finding(
        client, auditor, supervised, severity="major", text="票据不全", rectify_by=TODAY.isoformat()
    )
    assert "must be a date after today" in text(response) and "票据不全" in text(response)
    response = raise_finding(client, auditor, supervised, severity="grave", text="票据不全")
    assert response.status_code == 200 and "Please correct the fields below" in text(response)
    response = raise_finding(client, auditor, supervised, severity="minor", text="x\x00y")
    assert response.status_code == 200
    assert not SupervisionFinding.objects.exists()


def test_overdue_rectifications_show_on_the_overview_and_in_the_unit_inbox(
    client, county, supervised
):
    raise_finding(
        client,
        county.users["auditor"],
        supervised,
        severity="serious",
        text="设备费挪用于购置办公家具。",
        rectify_by=(TODAY + 10 * DAY).isoformat(),
    )
    finding = SupervisionFinding.objects.get()
    client.force_login(county.users["staff"])
    page = text(client.get(reverse("dashboard")))
    assert f'data-late-rectification="{finding.pk}"' not in page
    SupervisionFinding.objects.filter(pk=finding.pk).update(rectify_by=TODAY - DAY)
    page = text(client.get(reverse("dashboard")))
    assert f'data-late-rectification="{finding.pk}"' in page and "Rectifications overdue" in page
    client.force_login(county.users["unit1"])
    assert "Rectification (整改) overdue since" in text(client.get(reverse("inbox")))
    page = text(client.get(reverse("project", args=[supervised.pk])))
    assert 'data-testid="supervision-section"' in page and "1 rectification overdue" in page
    # Answered late: off the overview, and the trail says it was late.
    answer(client, county.users["unit1"], finding, files=[evidence()])
    client.force_login(county.users["staff"])
    assert f'data-late-rectification="{finding.pk}"' not in text(client.get(reverse("dashboard")))
    assert history_of(supervised).get(data__step="answered").data["late"] is True


# --- access ends with the engagement ------------------------------------------------------


def test_only_the_assigned_auditors_see_it_and_only_while_it_runs(client, county, supervised):
    project = supervised
    unassigned = second_auditor(county, 902)
    pages = [
        reverse("project-funds", args=[project.pk]),
        reverse("fund-months", args=[project.pk]),
        reverse("supervision-flags", args=[project.pk]),
        reverse("supervision", args=[project.pk]),
    ]
    client.force_login(county.users["auditor"])
    for url in pages:
        assert client.get(url).status_code == 200, url
    # Read-only: the auditor records no spending.
    assert client.get(pages[0]).context["form"] is None
    for outsider in (unassigned, county.users["auditor2"]):
        client.force_login(outsider)
        for url in pages:
            assert client.get(url).status_code == 404, (outsider, url)

    client.force_login(county.users["staff"])
    engagement = AuditEngagement.objects.get(project=project)
    url = reverse("supervision-end", args=[project.pk, engagement.pk])
    response = client.post(url, {"end-reason": ""}, follow=True)
    assert AuditEngagement.objects.get(pk=engagement.pk).ended_at is None
    response = client.post(url, {"end-reason": "合同约定的监管期届满"}, follow=True)
    assert "The engagement has ended" in text(response)
    assert history_of(project).filter(kind=EventKind.SUPERVISION_ENDED).last().after == {
        "running": False
    }
    client.force_login(county.users["auditor"])
    for url in pages:
        assert client.get(url).status_code == 403, url
    voucher = spend(project, "JZ-1", "100.00", project.start_date + DAY)
    url = reverse("voucher-scan-upload", args=[project.pk, voucher.pk])
    assert client.post(url, {}).status_code in (403, 404)
    # The project page stays readable: the record of their work, without the funds link.
    page = text(client.get(reverse("project", args=[project.pk])))
    assert reverse("project-funds", args=[project.pk]) not in page
    assert 'data-testid="supervision-section"' not in page


def test_the_funds_pages_answer_403_to_the_firm_once_its_audit_opinion_ends_it(
    client, county, supervised
):
    project = demo.advance(county, supervised, S.UNDER_AUDIT)
    perform(
        project.pk,
        "issue_audit_opinion",
        county.users["auditor"],
        opinion="qualified",
        findings="缺签收。",
    )
    client.force_login(county.users["auditor"])
    assert client.get(reverse("project-funds", args=[project.pk])).status_code == 403
    assert client.get(reverse("fund-months", args=[project.pk])).status_code == 403
    # The project page with the opinion they signed stays readable.
    assert client.get(reverse("project", args=[project.pk])).status_code == 200


# --- the special audit is the engagement's last step --------------------------------------


def test_the_special_audit_reuses_the_engagement_and_builds_on_its_findings(
    client, county, supervised
):
    auditor = county.users["auditor"]
    raise_finding(client, auditor, supervised, severity="serious", text="虚列劳务费三万元。")
    raise_finding(client, auditor, supervised, severity="minor", text="凭证装订不规范。")
    engagement = AuditEngagement.objects.get(project=supervised)
    project = demo.advance(county, supervised, S.ACCEPTANCE_REQUESTED)

    # Another firm is refused: the supervision firm does the audit.
    client.force_login(county.users["staff"])
    data = {
        "appoint_audit-firm": county.orgs["firm2"].pk,
        "appoint_audit-auditor": county.users["auditor2"].pk,
    }
    response = client.post(
        reverse("project-action", args=[project.pk, "appoint_audit"]), data, follow=True
    )
    assert "supervises this project: the special audit is the last step" in text(response)
    project = demo.advance(county, project, S.UNDER_AUDIT)
    assert list(AuditEngagement.objects.filter(project=project)) == [engagement]
    transition = history_of(project).get(data__transition="appoint_audit")
    assert transition.data["supervision"] == engagement.pk

    # The lead auditor sees the findings where the opinion is written.
    client.force_login(auditor)
    page = text(client.get(reverse("project", args=[project.pk])))
    assert 'data-testid="opinion-findings"' in page and "虚列劳务费三万元。" in page
    with pytest.raises(ValidationError, match="serious findings are still open"):
        perform(project.pk, "issue_audit_opinion", auditor, opinion="unqualified", findings="无")
    perform(
        project.pk, "issue_audit_opinion", auditor, opinion="adverse", findings="存在虚列支出。"
    )
    engagement.refresh_from_db()
    assert engagement.ended_at is not None and engagement.opinion == "adverse"
    assert "Serious findings still open:" in engagement.findings
    assert "虚列劳务费三万元。" in engagement.findings
    assert "凭证装订不规范。" not in engagement.findings


def test_an_adverse_opinion_cannot_be_followed_by_a_financial_pass(client, county, supervised):
    project = demo.advance(county, supervised, S.UNDER_AUDIT)
    perform(
        project.pk,
        "issue_audit_opinion",
        county.users["auditor"],
        opinion="adverse",
        findings="挪用经费。",
    )
    panel = demo.hold_panel_vote(county, project, task=True, finance=False)
    member = panel.members.order_by("pk").first()
    with pytest.raises(ValidationError, match="the financial review cannot pass"):
        cast_verdict(project, member, task_passed=True, finance_passed=True, opinion="通过")
    client.force_login(member)
    data = {
        "verdict-task_verdict": "pass",
        "verdict-finance_verdict": "pass",
        "verdict-opinion": "通过",
    }
    response = client.post(reverse("panel-vote", args=[project.pk]), data, follow=True)
    assert "the financial review cannot pass" in text(response)
    client.force_login(county.users["staff"])
    data = {"conclude_acceptance-conclusion": "passed", "conclude_acceptance-remarks": ""}
    url = reverse("project-action", args=[project.pk, "conclude_acceptance"])
    response = client.post(url, data, follow=True)
    assert "The audit opinion is “Adverse (否定意见)”" in text(response)
    project.refresh_from_db()
    assert project.status == S.UNDER_ACCEPTANCE and not project.acceptances.exists()


# --- red flags: annotation and Excel ------------------------------------------------------


def test_auditors_annotate_flags_and_export_the_vouchers_to_excel(client, county, supervised):
    project = supervised
    day = project.start_date + 40 * DAY
    spend(project, "JZ-1", "8000.00", day, method="cash")  # a large cash payment
    spend(project, "JZ-2", "1200.00", day, payee='=HYPERLINK("http://x")')
    spend(project, "JZ-3", "300.00", day, payee=project.pi.real_name)  # paid to the PI
    auditor = county.users["auditor"]
    client.force_login(auditor)
    url = reverse("supervision-flags", args=[project.pk])
    page = text(client.get(url))
    assert 'data-flag="large_cash"' in page and 'data-voucher="JZ-1"' in page

    def annotate(code, voucher, verdict, note, severity=""):
        data = {
            "code": code,
            "voucher_no": voucher,
            "verdict": verdict,
            "note": note,
            "severity": severity,
        }
        return client.post(url, data, follow=True)

    response = annotate("large_cash", "JZ-1", "explained", "差旅现场支付，已附审批单。")
    assert "The flag has been annotated." in text(response)
    response = annotate("paid_to_team", "JZ-3", "finding_raised", "向负责人本人支付。")
    assert "Choose the severity of the finding." in text(response)
    assert "向负责人本人支付。" in text(response)  # as typed
    annotate("paid_to_team", "JZ-3", "finding_raised", "向负责人本人支付。", "major")
    response = annotate("large_cash", "JZ-2", "explained", "无此旗标")
    assert "carries no such flag" in text(response)
    notes = {n.voucher_no: n for n in FlagNote.objects.filter(project=project)}
    assert set(notes) == {"JZ-1", "JZ-3"}
    assert notes["JZ-3"].finding.severity == "major"
    assert history_of(project).filter(kind=EventKind.FLAG_ANNOTATED).count() == 2
    # Annotating again replaces the note; the trail keeps the earlier one.
    annotate("large_cash", "JZ-1", "explained", "补充：已核对发票。")
    assert FlagNote.objects.get(voucher_no="JZ-1").note == "补充：已核对发票。"
    last = history_of(project).filter(kind=EventKind.FLAG_ANNOTATED).last()
    assert last.before["note"] == "差旅现场支付，已附审批单。"

    response = client.get(reverse("supervision-flags-export", args=[project.pk]))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Voucher" and len(rows) == 4
    by_voucher = {r[0]: r for r in rows[1:]}
    assert "[large_cash]" in by_voucher["JZ-1"][6] and "补充：已核对发票。" in by_voucher["JZ-1"][7]
    assert "Finding raised" in by_voucher["JZ-3"][7]
    assert by_voucher["JZ-2"][3] == '=HYPERLINK("http://x")' and by_voucher["JZ-2"][6] in (None, "")
    assert sheet.cell(row=3, column=4).data_type == "s"  # text, never a formula
    for row in sheet.iter_rows(min_row=2):  # every text column, not only the payee
        for cell in (row[0], row[2], row[3], row[4], row[6], row[7]):
            assert cell.value in (None, "") or cell.data_type == "s"

    # The PI and another firm do not get the annotations.
    client.force_login(project.pi)
    assert client.get(url).status_code == 403
    assert client.get(reverse("supervision-flags-export", args=[project.pk])).status_code == 403
    client.force_login(county.users["auditor2"])
    assert client.get(reverse("supervision-flags-export", args=[project.pk])).status_code == 404
