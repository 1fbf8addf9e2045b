"""The task contract (任务书) as a PDF, printed from its terms (issue 8).

Like the application form (funding.application_pdf): literal Chinese labels, the same
stylesheet and fonts, rendered by documents.pdf. Not signed digitally: the bureau and the
unit sign the paper, and the signed scan comes back as a document of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from documents.pdf import render_pdf, static_file_url

from .application_pdf import STYLESHEET, category_name, chinese_date, money
from .contracts import ON_SIGNING, contract_of
from .models import Project
from .services import budget_lines_in_order

TEMPLATE = "funding/task_contract.html"


@dataclass(frozen=True)
class TargetRow:
    indicator: str
    unit: str
    target: str
    achieved: str  # "" until reported


@dataclass(frozen=True)
class TrancheRow:
    name: str
    amount: str
    when: str  # "中期检查（2027-06-30）" or "签订后"


@dataclass(frozen=True)
class TaskContractData:
    project_title: str
    call_title: str
    programme: str
    applicant_org: str
    pi_name: str
    start_date: str
    end_date: str
    approved_amount: str
    budget: tuple[tuple[str, str], ...]  # (subject, approved amount) per budget line
    targets: tuple[TargetRow, ...]
    milestones: tuple[tuple[str, str], ...]  # (name, "2027-06-30")
    tranches: tuple[TrancheRow, ...]
    schedule_total: str
    frozen_on: str  # "" while not signed
    printed_on: str


def task_contract_data(project: Project) -> TaskContractData:
    contract = contract_of(project)
    targets = list(contract.targets.all()) if contract else []
    milestones = list(contract.milestones.all()) if contract else []
    tranches = list(contract.tranches.select_related("milestone")) if contract else []
    frozen = contract.frozen_at if contract else None
    lines = budget_lines_in_order(project)
    return TaskContractData(
        project_title=project.title,
        call_title=project.call.title,
        programme=project.call.program,
        applicant_org=project.applicant_org.name,
        pi_name=str(project.pi),
        start_date=project.start_date.isoformat(),
        end_date=project.end_date.isoformat(),
        approved_amount=money(project.approved_amount),
        # The budget as approved at the budget review: what the contract freezes.
        budget=tuple(
            (category_name(line), money(line.amount if line.approved is None else line.approved))
            for line in lines
        ),
        targets=tuple(
            TargetRow(t.indicator, t.unit, t.target_text, t.achieved_text) for t in targets
        ),
        milestones=tuple((m.name, m.due_on.isoformat()) for m in milestones),
        tranches=tuple(
            TrancheRow(
                t.name,
                money(t.amount),
                f"{t.milestone.name}（{t.milestone.due_on.isoformat()}）"
                if t.milestone
                else ON_SIGNING,
            )
            for t in tranches
        ),
        schedule_total=money(sum(t.amount for t in tranches)) if tranches else "",
        frozen_on=chinese_date(timezone.localtime(frozen).date()) if frozen else "",
        printed_on=chinese_date(timezone.localdate()),
    )


def task_contract_pdf(project: Project) -> bytes:
    context = {"data": task_contract_data(project), "css_url": static_file_url(STYLESHEET)}
    return render_pdf(TEMPLATE, context)
