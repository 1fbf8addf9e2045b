"""Red flags on a project's fund trail, for auditors (DESIGN §5).

Each rule is small and named for what it catches; thresholds are settings.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from .models import Expenditure, Project

SPLIT_WINDOW = datetime.timedelta(days=7)
RUSH_WINDOW = datetime.timedelta(days=30)


@dataclass
class Flag:
    kind: str
    message: str
    vouchers: list[str] = field(default_factory=list)


def _money(name: str) -> Decimal:
    return Decimal(str(getattr(settings, name)))


def outside_project_period(project: Project, entries: list[Expenditure]) -> list[Flag]:
    return [
        Flag(
            "outside_period",
            _("Paid on %(d)s, outside the project period.") % {"d": e.spent_on},
            [e.voucher_no],
        )
        for e in entries
        if not project.start_date <= e.spent_on <= project.end_date
    ]


def duplicate_vouchers(project: Project, entries: list[Expenditure]) -> list[Flag]:
    seen: dict[str, int] = defaultdict(int)
    for e in entries:
        seen[e.voucher_no] += 1
    return [
        Flag("duplicate_voucher", _("Voucher number used %(n)d times.") % {"n": n}, [v])
        for v, n in seen.items()
        if n > 1
    ]


def payments_to_the_team(project: Project, entries: list[Expenditure]) -> list[Flag]:
    names = {project.pi.real_name} | set(project.team.values_list("name", flat=True))
    names.discard("")
    return [
        Flag(
            "paid_to_team",
            _("Paid to %(payee)s, who works on the project.") % {"payee": e.payee},
            [e.voucher_no],
        )
        for e in entries
        if e.payee.strip() in names
    ]


def large_cash_payments(project: Project, entries: list[Expenditure]) -> list[Flag]:
    limit = _money("LARGE_CASH_PAYMENT")
    return [
        Flag(
            "large_cash",
            _("Cash payment of %(a)s yuan (limit %(l)s).") % {"a": e.amount, "l": limit},
            [e.voucher_no],
        )
        for e in entries
        if e.method == Expenditure.Method.CASH and e.amount >= limit
    ]


def splits_under_threshold(project: Project, entries: list[Expenditure]) -> list[Flag]:
    """Several payments to one payee within a week, each just under the approval line."""
    threshold = _money("APPROVAL_THRESHOLD")
    near = [e for e in entries if threshold * Decimal("0.8") <= e.amount < threshold]
    by_payee: dict[str, list[Expenditure]] = defaultdict(list)
    for e in near:
        by_payee[e.payee.strip()].append(e)
    flags = []
    for payee, group in by_payee.items():
        group.sort(key=lambda e: e.spent_on)
        if len(group) > 1 and group[-1].spent_on - group[0].spent_on <= SPLIT_WINDOW:
            flags.append(
                Flag(
                    "split",
                    _("%(n)d payments to %(payee)s within a week, each just under %(t)s yuan.")
                    % {"n": len(group), "payee": payee, "t": threshold},
                    [e.voucher_no for e in group],
                )
            )
    return flags


def last_month_rush(project: Project, entries: list[Expenditure]) -> list[Flag]:
    total = sum((e.amount for e in entries), Decimal("0"))
    late = [e for e in entries if e.spent_on > project.end_date - RUSH_WINDOW]
    late_total = sum((e.amount for e in late), Decimal("0"))
    share = Decimal(str(settings.LAST_MONTH_RUSH_SHARE))
    if total and late_total / total > share:
        return [
            Flag(
                "rush",
                _("%(p)d%% of all spending falls in the project's last month.")
                % {"p": int(late_total * 100 / total)},
                [e.voucher_no for e in late],
            )
        ]
    return []


RULES = [
    outside_project_period,
    duplicate_vouchers,
    payments_to_the_team,
    large_cash_payments,
    splits_under_threshold,
    last_month_rush,
]


def fund_trail_flags(project: Project, entries: list[Expenditure] | None = None) -> list[Flag]:
    if entries is None:
        entries = list(project.expenditures.all())
    return [flag for rule in RULES for flag in rule(project, entries)]
