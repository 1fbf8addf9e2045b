"""A realistic demo county, built only through the services (so every check runs).

Used by `manage.py load_demo` and by the tests' fixtures.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.identity import id_number_check_char, uscc_check_char
from accounts.models import Organisation, User
from accounts.roles import Role, ensure_role_groups
from documents.attachments import attach, current_documents
from funding.calls import save_call
from funding.expert_draw import draw_reviewers
from funding.expert_profiles import save_expert_profile
from funding.experts import ExpertProfile
from funding.models import Call, Objection, Project
from funding.objection_services import decide_objection, lodge_objection
from funding.recovery import record_refund
from funding.services import create_project
from funding.states import ProjectStatus as S
from integrity.models import Gate, Measure, Sanction, Severity, SubjectKind
from integrity.services import record_sanction
from oversight.models import AcceptancePanel, AcceptanceReview, AuditEngagement
from oversight.panels import cast_verdict, current_panel, draw_acceptance_panel

from .actions import perform, submit_expert_review
from .demo_contract import fill_demo_terms, report_demo_achieved
from .unit_review import unit_officers

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
    # The research offices of the two applicant organisations (承担单位).
    ("unit1", "林科长", Role.UNIT, "institute"),
    ("unit2", "何主任", Role.UNIT, "enterprise"),
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
    create_expert_profiles(county)
    return county


# The expert pool (issue 7): username, organisation key, fields, title. Only expert1-3
# work in agriculture, so the demo's draw for an agricultural project (`advance`) picks
# exactly them whatever the seed; the others widen a draw over more fields.
EXPERT_PROFILES = [
    ("expert1", "university", ["agriculture", "environment"], "教授"),
    ("expert2", "university", ["agriculture", "biomedicine"], "研究员"),
    ("expert3", None, ["agriculture", "manufacturing"], "高级工程师"),
    ("expert4", "university", ["manufacturing", "information", "materials"], "教授"),
    ("expert5", None, ["manufacturing", "energy", "management"], "高级工程师"),
]
DEMO_FIELDS = ["agriculture"]
# The demo call's scoring criteria (set by `load_demo`; the tests' call has none).
DEMO_CRITERIA = [
    {"name": "创新性", "weight": 30, "guidance": "研究内容和技术路线的新颖程度。"},
    {"name": "可行性", "weight": 30, "guidance": "技术路线、条件保障和进度安排是否可行。"},
    {"name": "预期效益", "weight": 25, "guidance": "对本县产业的经济和社会效益。"},
    {"name": "团队能力", "weight": 15, "guidance": "负责人和团队的研究基础。"},
]


def create_expert_profiles(county: County) -> None:
    staff = county.users["staff"]
    for username, org, fields, title in EXPERT_PROFILES:
        user = county.users[username]
        profile = ExpertProfile(
            user=user,
            organisation=county.orgs.get(org) if org else None,
            fields=fields,
            title=title,
            email=f"{username}@example.com",
        )
        relations = []
        if username == "expert1":  # a declared kin relation, avoided by every draw
            relations = [{"kind": "kin", "id_number": person_id(601), "name": "周某"}]
        save_expert_profile(profile, relations, staff)


def set_demo_criteria(county: County) -> None:
    county.call.criteria = DEMO_CRITERIA
    save_call(county.call, county.users["staff"])


def draw_reviewers_for(county: County, project: Project, fields=DEMO_FIELDS, seed="") -> dict:
    """Staff draw three reviewers (a seeded draw, kept); the kwargs of pass_formal_check."""
    draw = draw_reviewers(project, county.users["staff"], fields, 3, seed or f"demo-{project.pk}")
    return {"experts": list(User.objects.filter(pk__in=draw.picks).order_by("pk"))}


def demo_scores(project: Project, score: int) -> dict | None:
    """The same score for every criterion of the call, or None when it has none."""
    return {c["name"]: score for c in project.call.criteria} or None


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


def budget_for(total: Decimal, *, trial_make: bool = False) -> dict[str, Decimal]:
    """A demo budget within the cap. With `trial_make`, a third of the equipment money goes
    to trial-make, upgrade or rental (设备试制、改造、租赁) instead of purchase."""
    equipment = (total * Decimal("0.30")).quantize(Decimal("0.01"))
    labour = (total * Decimal("0.20")).quantize(Decimal("0.01"))
    indirect = (total * Decimal("0.15")).quantize(Decimal("0.01"))
    budget = {
        "equipment": equipment,
        "operations": total - equipment - labour - indirect,
        "labour": labour,
        "indirect": indirect,
    }
    if trial_make:
        budget["equipment_other"] = (equipment / 3).quantize(Decimal("0.01"))
        budget["equipment"] = equipment - budget["equipment_other"]
    return budget


# A demo project that builds a device (研制) budgets trial-make besides purchase.
TRIAL_MAKE_WORD = "研制"


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
        "budget": budget_for(total, trial_make=extra.get("trial_make", TRIAL_MAKE_WORD in title)),
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


UNIT_OPINION = "经审核，申报材料真实完整，单位承诺配套条件，同意推荐。"
STAND_IN = {"reason": "申报单位未设科研管理人员，由科技局代为审核推荐。"}


def actor_for(county: County, project: Project, who: str) -> User | None:
    """Who takes a step of the main path: the PI, an officer of the project's own unit
    (None when it has none: staff stand in), or a demo user by name."""
    if who == "pi":
        return project.pi
    if who == "unit":
        return unit_officers(project).order_by("pk").first()
    return county.users[who]


# The path of DESIGN §3, one action per step: (transition, actor, kwargs builder).
def _happy_path(county: County):
    u = county.users
    experts = [u["expert1"], u["expert2"], u["expert3"]]
    # The members and their votes come from the drawn panel (`hold_panel_vote`).
    review = {
        "conclusion": AcceptanceReview.Conclusion.PASSED,
        "remarks": "完成任务书约定的全部考核指标。",
    }
    return [
        (S.UNIT_REVIEW, "submit", "pi", {"commitment": True}),
        (S.SUBMITTED, "recommend_by_unit", "unit", {"opinion": UNIT_OPINION}),
        (S.FORMAL_CHECK, "accept_application", "staff", {}),
        (
            S.EXPERT_REVIEW,
            "pass_formal_check",
            "staff",
            {"experts": experts, "reason": "按专业领域指定评审专家（演示）"},
        ),
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


# The smallest file the content check takes as a PDF: the demo's papers cost next to nothing.
DEMO_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def attach_step_papers(project: Project) -> None:
    """The papers the next step needs (issue 8), filed by the person who would: the task
    contract's terms once approved, the PI's achieved values and full tech report once the
    project runs, the lead auditor's report once the firm is appointed. Nothing when they
    are there already."""
    if project.status == S.APPROVED:
        fill_demo_terms(project)
    if project.status == S.IN_PROGRESS:
        report_demo_achieved(project)
    if project.status == S.IN_PROGRESS and not current_documents(project, "tech_report").exists():
        attach(project, "tech_report", ContentFile(DEMO_PDF, name="科技报告.pdf"), project.pi)
    if project.status == S.UNDER_AUDIT:
        engagement = project.audits.order_by("-appointed_at").first()
        if engagement is not None and not current_documents(engagement, "audit_report").exists():
            report = ContentFile(DEMO_PDF, name="审计报告.pdf")
            attach(engagement, "audit_report", report, engagement.lead_auditor)


def advance(county: County, project: Project, target: str) -> Project:
    """Carry `project` along the main path until it reaches `target`."""
    path = _happy_path(county)
    reached = [state for state, *_ in path]
    start = reached.index(project.status) + 1 if project.status in reached else 0
    for state, name, who, kwargs in path[start:]:
        if project.status == target:
            break
        name, actor, kwargs = prepare_step(county, project, name, who, kwargs)
        project = perform(project.pk, name, actor, **kwargs)
        assert project.status == state, (name, project.status)
        attach_step_papers(project)  # so a test may take the next step itself
    return project


def prepare_step(
    county: County, project: Project, name: str, who: str, kwargs: dict, *, reviews: bool = True
) -> tuple[str, object, dict]:
    """What happens before step `name` of the main path (reviews, the notice period, the
    panel's votes), and who takes it with what: `advance` and the benchmark share it."""
    actor = actor_for(county, project, who)
    if name in ("sign_contract", "request_acceptance", "issue_audit_opinion"):
        attach_step_papers(project)
    if name == "recommend_by_unit" and actor is None:  # a unit with no officer
        name, actor, kwargs = "recommend_for_unit", county.users["staff"], STAND_IN
    if name == "request_acceptance":
        kwargs = {"report": demo_report(project.title)}
    if name == "disburse":
        kwargs = {
            **kwargs,
            "amount": (project.approved_amount * Decimal("0.6")).quantize(Decimal("0.01")),
        }
    if name == "pass_formal_check":  # the reviewers are drawn (issue 7)
        kwargs = draw_reviewers_for(county, project)
    if name == "finish_expert_review" and reviews:
        pending = project.assignments.filter(submitted_at__isnull=True, declined_at=None)
        for assignment in pending.select_related("expert"):
            submit_expert_review(
                project.pk,
                assignment.expert,
                85,
                "选题意义明确，技术路线可行。",
                no_conflict=True,
                scores=demo_scores(project, 85),
            )
    if name == "close_public_notice":
        notice_passed(project)
    if name == "conclude_acceptance":  # the drawn panel votes first (issue 7)
        hold_panel_vote(county, project)
    return name, actor, kwargs


def hold_panel_vote(
    county: County,
    project: Project,
    *,
    task: bool = True,
    finance: bool = True,
    opinion: str = "完成任务书约定的考核指标，经费使用规范。",
) -> AcceptancePanel:
    """Staff draw the acceptance panel (unless drawn already) and every member votes."""
    panel = current_panel(project) or draw_acceptance_panel(
        project, county.users["staff"], seed=f"demo-{project.pk}"
    )
    for member in panel.members.order_by("pk"):
        cast_verdict(project, member, task_passed=task, finance_passed=finance, opinion=opinion)
    return panel


def notice_passed(project: Project) -> None:
    """Demo and tests only: the notice period is over (it ended yesterday), as if its
    working days had gone by; the real path waits them out."""
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Project.objects.filter(pk=project.pk).update(notice_ends_on=yesterday)
    project.notice_ends_on = yesterday


def objections_on_notice(county: County) -> None:
    """The public notice with objections: on the first project on notice one still open,
    on the second one dismissed after a check."""
    on_notice = list(county.call.project_set.filter(status=S.PUBLIC_NOTICE).order_by("pk"))
    if on_notice:
        lodge_objection(
            on_notice[0].pk,
            name="张先生",
            contact="13800000000",
            text="项目负责人同期承担另一县级项目，研究内容与本项目高度重复。",
        )
    if len(on_notice) > 1:
        objection = lodge_objection(
            on_notice[1].pk,
            name="李女士",
            contact="li@example.com",
            text="申报单位的合作单位资质存疑。",
        )
        decide_objection(
            objection.pk,
            county.users["staff"],
            outcome=Objection.Status.DISMISSED,
            finding="经核实，合作单位资质证书在有效期内，异议不成立。",
        )


def refund_part_of_recovery(county: County, project: Project) -> None:
    """A terminated project's unit has paid back part of what it owes (追回): the rest stays
    outstanding on the overview and blocks the PI's and the unit's next application."""
    recovery = project.recovery
    part = (recovery.amount * Decimal("0.6")).quantize(Decimal("0.01"))
    if part > 0:
        paid_on = timezone.localdate() - datetime.timedelta(days=3)
        record_refund(recovery.pk, county.users["staff"], part, paid_on, "国库退款 2026-0137")
