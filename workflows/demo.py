"""A realistic demo county, built only through the services (so every check runs).

Used by `manage.py load_demo` and by the tests' fixtures.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.identity import id_number_check_char, uscc_check_char
from accounts.models import Organisation, User
from accounts.roles import Role, ensure_role_groups
from funding.models import Call, Project
from funding.services import create_project
from funding.states import ProjectStatus as S
from integrity.models import Gate, Measure, Sanction, Severity, SubjectKind
from integrity.services import record_sanction
from oversight.models import AcceptanceReview, AuditEngagement

from .actions import perform, submit_expert_review

DEMO_PASSWORD = "demo-pass-2026"


def person_id(n: int, birth: str = "19800101") -> str:
    """A checksum-valid ID number for demo person `n` (area code of a made-up county)."""
    first17 = f"330127{birth}{n % 1000:03d}"
    return first17 + id_number_check_char(first17)


def credit_code(n: int) -> str:
    first17 = f"91330127MA{n:07d}"
    return first17 + uscc_check_char(first17)


@dataclass
class County:
    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    call: Call | None = None
    closed_call: Call | None = None


USERS = [
    # username, real name, role, organisation key
    ("staff", "王科员", Role.STAFF, "bureau"),
    ("leader", "李局长", Role.LEADER, "bureau"),
    ("integrity", "赵诚信", Role.INTEGRITY, "bureau"),
    ("applicant", "陈研究员", Role.APPLICANT, "institute"),
    ("applicant2", "刘工程师", Role.APPLICANT, "enterprise"),
    ("vetoed", "孙某", Role.APPLICANT, "enterprise"),
    ("expert1", "周教授", Role.EXPERT, "university"),
    ("expert2", "吴研究员", Role.EXPERT, "university"),
    ("expert3", "郑高工", Role.EXPERT, None),
    ("expert4", "孙教授", Role.EXPERT, "university"),
    ("expert5", "钱高工", Role.EXPERT, None),
    ("auditor", "钱审计师", Role.AUDITOR, "firm"),
    ("auditor2", "冯审计师", Role.AUDITOR, "firm2"),
]

ORGS = [
    ("bureau", "示范县科学技术局", Organisation.Kind.BUREAU),
    ("institute", "示范县农业科学研究所", Organisation.Kind.INSTITUTE),
    ("enterprise", "浙东智能装备有限公司", Organisation.Kind.ENTERPRISE),
    ("university", "东海理工大学", Organisation.Kind.UNIVERSITY),
    ("firm", "明信会计师事务所", Organisation.Kind.AUDIT_FIRM),
    ("firm2", "诚达会计师事务所", Organisation.Kind.AUDIT_FIRM),
]


@transaction.atomic
def create_county(password: str = DEMO_PASSWORD) -> County:
    ensure_role_groups()
    county = County()
    for n, (key, name, kind) in enumerate(ORGS, start=1):
        county.orgs[key] = Organisation.objects.create(
            name=name, credit_code=credit_code(n), kind=kind
        )
    for n, (username, real_name, role, org) in enumerate(USERS, start=1):
        user = User.objects.create_user(
            username=username,
            password=password,
            real_name=real_name,
            id_number=person_id(n),
            organisation=county.orgs.get(org) if org else None,
            # Staff and the integrity officer use the admin for calls and the register.
            is_staff=role in (Role.STAFF, Role.INTEGRITY),
        )
        user.groups.add(Group.objects.get(name=role.value))
        county.users[username] = user
    today = timezone.localdate()
    county.call = Call.objects.create(
        title=f"{today.year}年度县级科技计划项目申报指南",
        program="县级科技计划",
        description="支持农业科技、智能制造和社会发展领域的应用研究与成果转化。",
        opens_on=today - datetime.timedelta(days=30),
        closes_on=today + datetime.timedelta(days=60),
        funding_cap=Decimal("1000000.00"),
    )
    county.closed_call = Call.objects.create(
        title=f"{today.year - 1}年度科技特派员专项",
        program="科技特派员",
        opens_on=today - datetime.timedelta(days=400),
        closes_on=today - datetime.timedelta(days=300),
        funding_cap=Decimal("200000.00"),
    )
    return county


def sanction_person(user: User, by: User, gates: list[Gate] | None = None) -> Sanction:
    today = timezone.localdate()
    sanction = Sanction(
        subject_kind=SubjectKind.PERSON,
        subject_id=user.id_number,
        subject_name=user.real_name,
        severity=Severity.SEVERE,
        measures=[Measure.BAN.value],
        gates=[g.value for g in (gates or list(Gate))],
        decision_no="示科信〔2026〕3号",
        reason="在项目申报中提供虚假材料（科研失信行为）",
        starts_on=today - datetime.timedelta(days=10),
        ends_on=today.replace(year=today.year + 3),
    )
    return record_sanction(sanction, by)


def budget_for(total: Decimal) -> dict[str, Decimal]:
    equipment = (total * Decimal("0.30")).quantize(Decimal("0.01"))
    labour = (total * Decimal("0.20")).quantize(Decimal("0.01"))
    indirect = (total * Decimal("0.15")).quantize(Decimal("0.01"))
    return {
        "equipment": equipment,
        "operations": total - equipment - labour - indirect,
        "labour": labour,
        "indirect": indirect,
    }


def draft_project(county: County, applicant: str, title: str, amount: str, **extra) -> Project:
    user = county.users[applicant]
    total = Decimal(amount)
    today = timezone.localdate()
    data = {
        "title": title,
        "field": extra.get("field", "农业科技"),
        "summary": extra.get("summary", "面向本县主导产业的关键技术攻关与示范推广。"),
        "requested_amount": total,
        # Started half a year ago, so a running project has had time to spend.
        "start_date": extra.get("start_date", today - datetime.timedelta(days=180)),
        "end_date": extra.get("end_date", today + datetime.timedelta(days=550)),
        "budget": budget_for(total),
        "team": extra.get(
            "team", [{"name": "黄助理", "id_number": person_id(501), "duty": "试验"}]
        ),
    }
    return create_project(user, county.call, data)


def demo_report(project_title: str = "项目总结") -> dict:
    return {
        "title": f"{project_title}科技报告",
        "abstract": "已完成全部研究内容，形成可推广的技术规程一套。",
        "keywords": "技术规程 示范推广",
        "access": "open",
        "embargo_until": None,
    }


# The path of DESIGN §3, one action per step: (transition, actor, kwargs builder).
def _happy_path(county: County):
    u = county.users
    experts = [u["expert1"], u["expert2"], u["expert3"]]
    review = {
        "members": [u[f"expert{n}"] for n in range(1, 6)],
        "task_review_passed": True,
        "financial_review_passed": True,
        "conclusion": AcceptanceReview.Conclusion.PASSED,
        "remarks": "完成任务书约定的全部考核指标。",
    }
    return [
        (S.SUBMITTED, "submit", "pi", {"commitment": True}),
        (S.FORMAL_CHECK, "accept_application", "staff", {}),
        (S.EXPERT_REVIEW, "pass_formal_check", "staff", {"experts": experts}),
        (S.BUDGET_REVIEW, "finish_expert_review", "staff", {}),
        (S.PENDING_APPROVAL, "finish_budget_review", "staff", {}),
        (S.PUBLIC_NOTICE, "approve", "leader", {}),
        (S.APPROVED, "close_public_notice", "staff", {}),
        (S.CONTRACTED, "sign_contract", "staff", {}),
        (S.IN_PROGRESS, "disburse", "staff", {"amount": None, "tranche": "签订任务书后首笔拨付"}),
        (
            S.ACCEPTANCE_REQUESTED,
            "request_acceptance",
            "pi",
            {"report": demo_report()},
        ),
        (
            S.UNDER_AUDIT,
            "appoint_audit",
            "staff",
            {"firm": county.orgs["firm"], "auditor": u["auditor"]},
        ),
        (
            S.UNDER_ACCEPTANCE,
            "issue_audit_opinion",
            "auditor",
            {
                "opinion": AuditEngagement.Opinion.UNQUALIFIED,
                "findings": "经费使用规范，账实相符。",
            },
        ),
        (S.ACCEPTED, "conclude_acceptance", "staff", {"review": review}),
        (S.CLOSED, "issue_certificate", "staff", {}),
    ]


def advance(county: County, project: Project, target: str) -> Project:
    """Carry `project` along the main path until it reaches `target`."""
    path = _happy_path(county)
    reached = [state for state, *_ in path]
    start = reached.index(project.status) + 1 if project.status in reached else 0
    for state, name, who, kwargs in path[start:]:
        if project.status == target:
            break
        actor = project.pi if who == "pi" else county.users[who]
        if name == "request_acceptance":
            kwargs = {"report": demo_report(project.title)}
        if name == "disburse":
            kwargs = {
                **kwargs,
                "amount": (project.approved_amount * Decimal("0.6")).quantize(Decimal("0.01")),
            }
        if name == "finish_expert_review":
            pending = project.assignments.filter(submitted_at__isnull=True)
            for assignment in pending.select_related("expert"):
                submit_expert_review(
                    project.pk,
                    assignment.expert,
                    85,
                    "选题意义明确，技术路线可行。",
                    no_conflict=True,
                )
        project = perform(project.pk, name, actor, **kwargs)
        assert project.status == state, (name, project.status)
    return project
