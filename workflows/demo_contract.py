"""The demo's task contracts (任务书): terms written while approved, achieved values
reported before acceptance, both through funding.contracts like the contract page."""

from __future__ import annotations

import datetime
from decimal import Decimal

from funding.contracts import (
    ContractTarget,
    Milestone,
    Target,
    Tranche,
    contract_of,
    report_achieved,
    save_contract_terms,
)
from funding.models import Project

# indicator, unit, target value, achieved value reported at acceptance
DEMO_TARGETS = [
    ("发表学术论文", "篇", Decimal("2"), Decimal("3")),
    ("申请发明专利", "件", Decimal("1"), Decimal("1")),
    ("示范推广面积", "亩", Decimal("500"), Decimal("620")),
]
FIRST_SHARE = Decimal("0.6")  # paid on signing; the rest after the mid-term check


def midterm_day(project: Project) -> datetime.date:
    start, end = project.start_date, project.end_date
    return start + (end - start) / 2


def fill_demo_terms(project: Project) -> None:
    """The PI writes the terms of an approved project that has none yet."""
    contract = contract_of(project)
    if contract is not None and contract.targets.exists():
        return
    first = (project.approved_amount * FIRST_SHARE).quantize(Decimal("0.01"))
    midterm = Milestone("中期检查", midterm_day(project))
    save_contract_terms(
        project,
        project.pi,
        [Target(indicator, unit, value) for indicator, unit, value, _ in DEMO_TARGETS],
        [midterm],
        [
            Tranche("签订任务书后首笔拨付", first, ""),  # "": paid on signing
            Tranche("中期检查后第二笔拨付", project.approved_amount - first, midterm.name),
        ],
    )


def report_demo_achieved(project: Project) -> None:
    """The PI reports what was achieved, before asking for acceptance."""
    targets = list(ContractTarget.objects.filter(contract__project=project))
    if not targets or all(t.achieved_value is not None for t in targets):
        return
    achieved = {indicator: value for indicator, _, _, value in DEMO_TARGETS}
    report_achieved(
        project,
        project.pi,
        {t.pk: (achieved.get(t.indicator, t.target_value), "") for t in targets},
    )
