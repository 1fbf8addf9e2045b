"""Red flags on a project's fund trail, for auditors (DESIGN §5).

Each rule is small and named for what it catches; thresholds are settings.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import CharField, OuterRef, Subquery, Sum
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from trail.kinds import EventKind
from trail.models import Event
from trail.services import history_of

from .contracts import ProjectContract
from .models import Disbursement, Expenditure, Project
from .states import RUNNING_STATES, BudgetCategory

SPLIT_WINDOW = datetime.timedelta(days=7)
RUSH_WINDOW = datetime.timedelta(days=30)
ZERO = Decimal("0.00")
# Payees that name nobody: a large payment to one of them is a red flag. Compared without
# case, spaces or punctuation ("N/A" is "na"); a payee of fewer than 2 characters is vague too.
VAGUE_PAYEES = (
    "个人", "本人", "私人", "现金", "多人", "多位", "若干人", "众人", "各人", "散户", "零星",
    "零星支出", "临时人员", "其他", "其它", "未知", "不详", "不明", "无", "暂无", "待定",
    "见附件", "见明细", "见清单", "详见附件", "various", "various payees", "misc",
    "miscellaneous", "cash", "individual", "individuals", "person", "people", "others",
    "other", "unknown", "none", "n/a", "nil", "tbd", "see attached",
)  # fmt: skip


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


# --- spending beyond the money given (issue 9): warned at entry, flagged on the trail ---


def _in_order(entries: list[Expenditure]) -> list[Expenditure]:
    return sorted(entries, key=lambda e: (e.spent_on, e.pk or 0))


def _beyond(entries: list[Expenditure], limit: Decimal) -> list[str]:
    """The vouchers from the one that took the running total past `limit` on."""
    running, past = ZERO, []
    for entry in _in_order(entries):
        running += entry.amount
        if running > limit:
            past.append(entry.voucher_no)
    return past


def _beyond_disbursed(project: Project, spent: Decimal, vouchers=()) -> list[Flag]:
    if spent <= project.disbursed_total:
        return []
    message = _(
        "%(spent)s yuan spent, %(over)s yuan more than the %(disbursed)s yuan disbursed "
        "(the unit advanced its own money)."
    ) % {
        "spent": spent,
        "over": spent - project.disbursed_total,
        "disbursed": project.disbursed_total,
    }
    return [Flag("spent_beyond_disbursed", message, list(vouchers))]


def _over_budget(category: str, spent: Decimal, budget: Decimal, vouchers=()) -> list[Flag]:
    if spent <= budget:
        return []
    message = _("%(category)s: %(spent)s yuan spent against a budget of %(budget)s yuan.") % {
        "category": BudgetCategory(category).label,
        "spent": spent,
        "budget": budget,
    }
    return [Flag("category_over_budget", message, list(vouchers))]


def _budgets(project: Project) -> dict[str, Decimal]:
    """Each category's current budget (approved or requested, plus adjustments)."""
    return {line.category: line.current for line in project.budget_lines.all()}


def spent_beyond_disbursed(project: Project, entries: list[Expenditure]) -> list[Flag]:
    spent = sum((e.amount for e in entries), ZERO)
    return _beyond_disbursed(project, spent, _beyond(entries, project.disbursed_total))


def category_over_budget(project: Project, entries: list[Expenditure]) -> list[Flag]:
    budgets, by_category = _budgets(project), defaultdict(list)
    for entry in entries:
        by_category[entry.category].append(entry)
    flags = []
    for category, group in by_category.items():
        budget = budgets.get(category, ZERO)  # no line: nothing was budgeted for it
        spent = sum((e.amount for e in group), ZERO)
        flags += _over_budget(category, spent, budget, _beyond(group, budget))
    return flags


def spending_warnings(project: Project) -> list[Flag]:
    """What the PI is warned of after recording spending: more spent than disbursed, or a
    category past its current budget. Not a refusal (units may advance their own money);
    read from the database's totals, whatever the number of entries."""
    rows = project.expenditures.order_by().values_list("category").annotate(total=Sum("amount"))
    spent = {category: total for category, total in rows}
    warnings = _beyond_disbursed(project, sum(spent.values(), ZERO))
    budgets = _budgets(project)
    for category in BudgetCategory.values:
        if category in spent:
            warnings += _over_budget(category, spent[category], budgets.get(category, ZERO))
    return warnings


def _payee_key(payee: str) -> str:
    return re.sub(r"[\W_]+", "", payee).lower()


_VAGUE = frozenset(_payee_key(p) for p in VAGUE_PAYEES)


def is_vague_payee(payee: str) -> bool:
    key = _payee_key(payee)
    return len(key) < 2 or key in _VAGUE


def large_payments_to_vague_payees(project: Project, entries: list[Expenditure]) -> list[Flag]:
    limit = _money("LARGE_VAGUE_PAYMENT")
    return [
        Flag(
            "vague_payee",
            _("%(a)s yuan paid to “%(payee)s”, which names nobody (from %(l)s yuan it must).")
            % {"a": e.amount, "payee": e.payee, "l": limit},
            [e.voucher_no],
        )
        for e in entries
        if e.amount >= limit and is_vague_payee(e.payee)
    ]


RULES = [
    outside_project_period,
    duplicate_vouchers,
    payments_to_the_team,
    large_cash_payments,
    splits_under_threshold,
    last_month_rush,
    spent_beyond_disbursed,
    category_over_budget,
    large_payments_to_vague_payees,
]


def fund_trail_flags(project: Project, entries: list[Expenditure] | None = None) -> list[Flag]:
    if entries is None:
        entries = list(project.expenditures.all())
    return [flag for rule in RULES for flag in rule(project, entries)]


# --- the first disbursement, due within FIRST_DISBURSEMENT_DAYS of signing (issue 9) ---


@dataclass(frozen=True)
class FirstDisbursement:
    signed_on: datetime.date
    due_on: datetime.date
    paid_on: datetime.date | None  # None: not paid yet
    days_late: int  # 0: paid in time, or not yet due

    @property
    def late(self) -> bool:
        return self.days_late > 0


def _first_disbursement(
    signed_at: datetime.datetime | None, paid_on: datetime.date | None, today: datetime.date
) -> FirstDisbursement | None:
    if signed_at is None:
        return None
    signed_on = timezone.localtime(signed_at).date()
    due_on = signed_on + datetime.timedelta(days=settings.FIRST_DISBURSEMENT_DAYS)
    days_late = max(((paid_on or today) - due_on).days, 0)
    return FirstDisbursement(signed_on, due_on, paid_on, days_late)


def _signing_events():
    """The `sign_contract` transition of each project, for projects signed before the task
    contract's terms existed (no frozen contract row)."""
    return Event.objects.filter(
        object_type=Project._meta.label_lower,
        object_id=Cast(OuterRef("pk"), CharField()),
        kind=EventKind.PROJECT_TRANSITION,
        data__transition="sign_contract",
    ).order_by("seq")


def first_disbursement(project: Project, today: datetime.date | None = None):
    """When the contract was signed, when the first tranche was due and paid; None for a
    project whose contract is not signed."""
    signed_at = (
        ProjectContract.objects.filter(project=project, frozen_at__isnull=False)
        .values_list("frozen_at", flat=True)
        .first()
    )
    if signed_at is None:
        event = (
            history_of(project)
            .filter(kind=EventKind.PROJECT_TRANSITION, data__transition="sign_contract")
            .first()
        )
        signed_at = event.at if event is not None else None
    paid_on = project.disbursements.order_by("paid_on").values_list("paid_on", flat=True).first()
    return _first_disbursement(signed_at, paid_on, today or timezone.localdate())


def late_first_disbursements(today: datetime.date | None = None) -> list[dict]:
    """Running projects whose first disbursement came late or is overdue, most late first;
    one query for all of them."""
    today = today or timezone.localdate()
    projects = (
        Project.objects.filter(status__in=RUNNING_STATES)
        .select_related("applicant_org")
        .annotate(
            frozen_at=Subquery(
                ProjectContract.objects.filter(project=OuterRef("pk")).values("frozen_at")[:1]
            ),
            signed_event_at=Subquery(_signing_events().values("at")[:1]),
            first_paid_on=Subquery(
                Disbursement.objects.filter(project=OuterRef("pk"))
                .order_by("paid_on")
                .values("paid_on")[:1]
            ),
        )
    )
    rows = []
    for project in projects:
        timing = _first_disbursement(
            project.frozen_at or project.signed_event_at, project.first_paid_on, today
        )
        if timing is not None and timing.late:
            rows.append({"project": project, "timing": timing})
    return sorted(rows, key=lambda row: -row["timing"].days_late)
