"""Load the demo county: users for every role, projects in every state, a vetoed
applicant and an issued certificate. Safe to run twice."""

import datetime
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from funding.reviews import release_opinions
from funding.services import record_expenditure
from funding.states import ProjectStatus as S
from integrity.cases import open_case, take_step
from integrity.models import MisconductCase, MisconductType, SubjectKind
from integrity.policy import VetoRefused
from oversight.inspections import draw_inspections, record_result
from oversight.models import AcceptanceReview
from oversight.overdue import propose_overdue_acceptance_cases
from workflows import demo
from workflows.actions import perform, submit_expert_review
from workflows.demo import DEMO_PASSWORD, USERS
from workflows.reviewing import declare_no_conflict, decline_review
from workplan import demo as workplan_demo

# (title, applicant, amount, main-path state to reach, then side action or None)
PROJECTS = [
    ("设施蔬菜水肥一体化智能控制系统研发", "applicant", "300000", S.DRAFT, None),
    ("茶园病虫害绿色防控技术集成示范", "applicant", "280000", S.SUBMITTED, None),
    # Waiting for the unit's recommendation (unit1 and unit2 each have one in the inbox).
    ("红壤茶园土壤改良技术示范", "applicant", "230000", S.UNIT_REVIEW, None),
    ("工业机器人视觉定位模块研制", "applicant2", "360000", S.UNIT_REVIEW, None),
    ("县域农村生活污水低成本处理技术研究", "applicant2", "450000", S.FORMAL_CHECK, None),
    # Reviewers drawn; one reviewed, one declined and was replaced (issue 7).
    ("高端轴承精密磨削工艺优化", "applicant2", "620000", S.FORMAL_CHECK, ("draw", "staff", {})),
    ("食用菌菌渣资源化利用关键技术", "applicant", "350000", S.BUDGET_REVIEW, None),
    ("基于北斗的农机作业监测平台", "applicant2", "520000", S.PENDING_APPROVAL, None),
    ("特色水果采后保鲜技术研究", "applicant", "260000", S.PUBLIC_NOTICE, None),
    ("智慧养殖环境监控系统应用示范", "applicant2", "320000", S.PUBLIC_NOTICE, None),
    ("中小企业工业互联网标识解析应用", "applicant2", "480000", S.APPROVED, None),
    ("稻渔综合种养模式优化与推广", "applicant", "400000", S.CONTRACTED, None),
    ("水稻病虫害智能监测预警技术研究与示范", "applicant", "600000", S.IN_PROGRESS, None),
    ("竹材高值化加工关键装备研制", "applicant2", "700000", S.ACCEPTANCE_REQUESTED, None),
    ("智能装备远程运维云平台", "applicant2", "800000", S.UNDER_AUDIT, None),
    ("山区小水电生态流量监测技术", "applicant", "420000", S.UNDER_ACCEPTANCE, None),
    ("生猪养殖废弃物处理工艺改进", "applicant", "380000", S.ACCEPTED, None),
    ("杨梅品种选育与标准化栽培", "applicant", "550000", S.CLOSED, None),
    (
        "农产品质量安全快速检测方法",
        "applicant",
        "240000",
        S.SUBMITTED,
        ("return_for_revision", "staff", {"reason": "预算说明不完整，请补充设备购置明细。"}),
    ),
    (
        "设施农业物联网传感器国产化替代",
        "applicant",
        "290000",
        S.UNIT_REVIEW,
        ("return_by_unit", "unit1", {"reason": "合作单位协议未盖章，请补齐后重新提交。"}),
    ),
    (
        "传统酿造工艺数字化改造",
        "applicant2",
        "330000",
        S.FORMAL_CHECK,
        ("reject", "staff", {"reason": "不符合本批次指南支持方向。"}),
    ),
    (
        "小型无人机植保作业规范研究",
        "applicant",
        "210000",
        S.DRAFT,
        ("withdraw", "applicant", {"reason": "申报单位调整计划。"}),
    ),
    (
        "电机能效在线检测装置研制",
        "applicant2",
        "460000",
        S.IN_PROGRESS,
        ("suspend", "staff", {"reason": "中期检查发现经费使用不规范，暂停整改。"}),
    ),
    (
        "光伏组件清洗机器人开发",
        "applicant2",
        "390000",
        S.IN_PROGRESS,
        ("terminate", "staff", {"reason": "承担单位无法继续履行任务书，终止并追回经费。"}),
    ),
    (
        "低温储粮技术示范",
        "applicant",
        "300000",
        S.UNDER_ACCEPTANCE,
        ("conclude_acceptance", "staff", "reconsider"),
    ),
    (
        "林下中药材种植技术推广",
        "applicant",
        "280000",
        S.UNDER_ACCEPTANCE,
        ("conclude_acceptance", "staff", "failed"),
    ),
]


SPENT_STATES = {
    S.IN_PROGRESS,
    S.ACCEPTANCE_REQUESTED,
    S.UNDER_AUDIT,
    S.UNDER_ACCEPTANCE,
    S.ACCEPTED,
    S.CLOSED,
}


class Command(BaseCommand):
    help = "Load a realistic demo county (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="where it is served")

    def handle(self, *args, **options):
        if not User.objects.filter(username="staff").exists():
            self._load()
            propose_overdue_acceptance_cases()  # the late project proposes a case
            self._checkpoint()
        else:
            self.stdout.write("The demo county is already loaded.")
        self._print_logins(options["url"])

    def _load(self):
        county = demo.create_county()
        demo.set_demo_criteria(county)  # the call's scoring criteria (issue 7)
        u = county.users
        # Filed before the terminated project (below) made its unit owe a recovery (追回).
        # Ended seven months ago and never asked for acceptance: the overview flags it.
        today = timezone.localdate()
        late = demo.draft_project(
            county,
            "applicant2",
            "数控机床故障诊断系统",
            "260000",
            start_date=today - datetime.timedelta(days=940),
            end_date=today - datetime.timedelta(days=210),
        )
        demo.advance(county, late, S.IN_PROGRESS)
        # The vetoed applicant: submitted before the sanction, vetoed by staff after it.
        project = demo.draft_project(county, "vetoed", "新型电池隔膜材料中试", "500000")
        project = perform(project.pk, "submit", project.pi, commitment=True)
        project = perform(project.pk, "recommend_by_unit", u["unit2"])
        demo.sanction_person(u["vetoed"], u["integrity"])
        try:
            perform(project.pk, "accept_application", u["staff"])
        except VetoRefused:
            perform(project.pk, "veto", u["staff"])
        # And a draft of theirs whose submission the veto refuses.
        refused = demo.draft_project(county, "vetoed", "锂电池回收工艺研究", "200000")
        try:
            perform(refused.pk, "submit", refused.pi, commitment=True)
        except VetoRefused:
            pass
        for title, applicant, amount, state, side in PROJECTS:
            with transaction.atomic():
                project = demo.draft_project(county, applicant, title, amount)
            if state in SPENT_STATES:  # it ran: show a fund trail with real vouchers
                project = demo.advance(county, project, S.IN_PROGRESS)
                self._spend(project)
            project = demo.advance(county, project, state)
            if side:
                name, who, kwargs = side
                if name == "draw":
                    self._draw_and_review(county, project)
                    continue
                actor = project.pi if who == "applicant" else u[who]
                if name == "conclude_acceptance":  # the drawn panel finds targets unmet
                    unmet = "部分考核指标未完成。"
                    demo.hold_panel_vote(county, project, task=False, opinion=unmet)
                    kwargs = {"review": self._review(kwargs)}
                perform(project.pk, name, actor, **kwargs)
                if name == "terminate":  # part of the recovery refunded, the rest owed
                    demo.refund_part_of_recovery(county, project)
        demo.objections_on_notice(county)  # one objection open, one dismissed
        # A published random inspection with one result.
        draw = draw_inspections(u["staff"], 1, 1, seed="2026-demo")
        record_result(
            draw,
            draw.projects.get(),
            draw.inspectors.get(),
            "rectify",
            "两笔现金支付缺少审批签字，限期整改。",
        )
        # A report under investigation, for the integrity officer's desk.
        case = open_case(
            u["integrity"],
            MisconductCase(
                reporter="张某（实名）",
                respondent_kind=SubjectKind.ORGANISATION,
                respondent_id=demo.credit_code(99),
                respondent_name="某检测中心",
                misconduct=MisconductType.FABRICATION,
                allegation="为多个项目出具的检测报告数据雷同，疑似伪造。",
                evidence="三份检测报告复印件。",
            ),
        )
        take_step(case.pk, "accept", u["integrity"])
        self._release_opinions(county)
        workplan_demo.fill_year(u["leader"], u["staff"])  # targets, months, upward (issue 11)

    def _draw_and_review(self, county, project):
        """Staff draw three reviewers over two fields; the first declares no conflict and
        scores, the second declines (a conflict) and a replacement is drawn."""
        fields = ["agriculture", "manufacturing"]
        kwargs = demo.draw_reviewers_for(county, project, fields=fields, seed="2026-评审")
        perform(project.pk, "pass_formal_check", county.users["staff"], **kwargs)
        first, second, *_rest = kwargs["experts"]
        declare_no_conflict(project.pk, first)
        scores = {"创新性": 90, "可行性": 86, "预期效益": 85, "团队能力": 88}
        opinion = "技术路线清晰，磨削工艺参数优化方案可行，建议立项。"
        submit_expert_review(project.pk, first, None, opinion, no_conflict=True, scores=scores)
        decline_review(project.pk, second, "本人曾在申报单位兼职，申请回避。", conflict=True)

    def _release_opinions(self, county):
        """Staff release the opinions, anonymised, on the project in budget review."""
        project = county.call.project_set.filter(status=S.BUDGET_REVIEW).first()
        if project is not None:
            text = "选题意义明确，技术路线可行，建议细化推广方案。"
            texts = dict.fromkeys(project.assignments.values_list("pk", flat=True), text)
            release_opinions(project, county.users["staff"], texts)

    def _checkpoint(self):
        """Sign the demo's trail once, so /trail/checkpoints/ has something to show."""
        from trail.checkpoints import make_checkpoint
        from trail.signing import SigningKeyMissing

        try:
            make_checkpoint()
        except SigningKeyMissing:
            self.stdout.write("No trail signing key (manage.py trail_key): no checkpoint made.")

    def _review(self, conclusion: str) -> dict:
        return {
            "conclusion": AcceptanceReview.Conclusion(conclusion),
            "remarks": "部分考核指标未完成，请补充田间试验数据后重新提交验收。",
        }

    def _spend(self, project):
        today = timezone.localdate()
        rows = [
            ("JZ-0001", "equipment", "杭州某仪器有限公司", "transfer", "85000.00"),
            ("JZ-0002", "operations", "某检测中心", "transfer", "12000.00"),
            ("JZ-0003", "labour", "黄助理", "transfer", "6000.00"),
            ("JZ-0004", "operations", "某五金店", "cash", "4800.00"),
        ]
        for n, (voucher, category, payee, method, amount) in enumerate(rows):
            entry = {
                "voucher_no": voucher,
                "spent_on": today - datetime.timedelta(days=120 - 25 * n),
                "category": category,
                "payee": payee,
                "method": method,
                "amount": Decimal(amount),
            }
            record_expenditure(project, project.pi, entry)

    def _print_logins(self, url: str):
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        for username, real_name, role, _org in USERS:
            self.stdout.write(f"  {username:<12} {real_name:<8} {role.label}")
        self.stdout.write(f"Open {url} and sign in.")
