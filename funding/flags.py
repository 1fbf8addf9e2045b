"""Red flags on a project's fund trail, for auditors (DESIGN §5).

Each rule is small and named for what it catches; thresholds are settings. The rules read
the database, never every entry (issues 9 and 10: a project of 100,000 vouchers): one
grouped read of the spending by day and category (`Ledger`) gives the totals, how many
entries each rule catches and the running sums; a rule that catches some reads its
vouchers with a query of its own. With a `limit` (the fund trail page), a flag lists at
most that many vouchers, a kind at most that many flags, and each says how many more.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import NamedTuple

from django.conf import settings
from django.db.models import (
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lists.money import grouped
from trail.kinds import EventKind
from trail.models import Event
from trail.services import history_of

from .contracts import ProjectContract
from .models import Disbursement, Expenditure, Project
from .states import RUNNING_STATES, BudgetCategory

SPLIT_WINDOW = datetime.timedelta(days=7)
RUSH_WINDOW = datetime.timedelta(days=30)
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# Payees that name nobody: a large payment to one of them is a red flag. Compared without
# case, spaces or punctuation ("N/A" is "na"); a payee of fewer than 2 characters is vague too.
VAGUE_PAYEES = (
    "个人", "本人", "私人", "现金", "多人", "多位", "若干人", "众人", "各人", "散户", "零星",
    "零星支出", "临时人员", "其他", "其它", "未知", "不详", "不明", "无", "暂无", "待定",
    "见附件", "见明细", "见清单", "详见附件", "various", "various payees", "misc",
    "miscellaneous", "cash", "individual", "individuals", "person", "people", "others",
    "other", "unknown", "none", "n/a", "nil", "tbd", "see attached",
)  # fmt: skip


LISTED = 50  # vouchers per flag, and flags per kind, on the fund trail page


@dataclass
class Flag:
    kind: str
    message: str
    vouchers: list[str] = field(default_factory=list)
    # Only with a limit: the vouchers left off `vouchers`; on the line closing a kind cut
    # short, the flags left off.
    more: int = 0


def _money(name: str) -> Decimal:
    return Decimal(str(getattr(settings, name)))


def _team_names(project: Project) -> set[str]:
    names = {project.pi.real_name} | set(project.team.values_list("name", flat=True))
    names.discard("")
    return names


# --- what the database tells of a project's spending ---------------------------------


class Catch(NamedTuple):
    """What a rule looks for in an entry, said to the database and in Python (`test`
    takes an Expenditure or a row named like one)."""

    where: Q
    test: Callable[[Expenditure], bool]


class Ledger:
    """One grouped read of a project's spending, by day and category: the totals, how
    many entries each catch finds, and the running sums through the days. Its size is
    the number of days spent on, whatever the number of entries.

    Payees are compared as stored: the forms, the API and the import strip them.
    """

    def __init__(self, project: Project):
        self.project = project
        self.team = _team_names(project)
        self.cash_limit = _money("LARGE_CASH_PAYMENT")
        self.threshold = _money("APPROVAL_THRESHOLD")
        self.vague_limit = _money("LARGE_VAGUE_PAYMENT")
        self.late_from = project.end_date - RUSH_WINDOW
        self.catches = _catches(project, self)
        counted = {
            name: catch.where
            for name, catch in self.catches.items()
            if name in ("cash", "near", "large") or (name == "team" and self.team)
        }
        rows = (
            project.expenditures.order_by()
            .values("spent_on", "category")
            .annotate(
                total=Sum("amount"),
                n=Count("pk"),
                **{name: Count("pk", filter=where) for name, where in counted.items()},
            )
        )
        self.days = sorted(rows, key=lambda row: (row["spent_on"], row["category"]))
        for row in self.days:  # SQLite sums in binary floating point: back to fen
            row["total"] = row["total"].quantize(CENT)
        self.entries = sum(row["n"] for row in self.days)
        self.spent = sum((row["total"] for row in self.days), ZERO)
        self.by_category: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for row in self.days:
            self.by_category[row["category"]] += row["total"]
        self.caught = {name: sum(row.get(name, 0) for row in self.days) for name in self.catches}
        start, end = project.start_date, project.end_date
        outside = [row for row in self.days if not start <= row["spent_on"] <= end]
        self.caught["outside"] = sum(row["n"] for row in outside)
        late = [row for row in self.days if row["spent_on"] > self.late_from]
        self.caught["late"] = sum(row["n"] for row in late)
        self.late_total = sum((row["total"] for row in late), ZERO)

    def passing(self, limit: Decimal, category: str | None, wanted: int | None) -> Passing | None:
        """Where the running total (of one category, or of all) first goes past `limit`,
        or None if it never does. `wanted`: the vouchers from there to be listed (all if
        None), which says up to which day to read."""
        daily: dict[datetime.date, list] = {}
        for row in self.days:
            if category is None or row["category"] == category:
                day = daily.setdefault(row["spent_on"], [ZERO, 0])
                day[0] += row["total"]
                day[1] += row["n"]
        days, running = list(daily.items()), ZERO
        for i, (day, (total, _n)) in enumerate(days):
            if running + total > limit:
                later, last = days[i + 1 :], None
                if wanted is not None:
                    last, seen = day, 0
                    for later_day, (_total, n) in later:
                        if seen >= wanted:
                            break
                        last, seen = later_day, seen + n
                return Passing(category, limit, day, running, sum(n for _d, (_t, n) in later), last)
            running += total
        return None

    def vouchers(self) -> VouchersInOrder:
        """The entries in the order the fund trail lists them, for a Paginator."""
        daily: dict[datetime.date, int] = {}
        for row in self.days:
            daily[row["spent_on"]] = daily.get(row["spent_on"], 0) + row["n"]
        return VouchersInOrder(self.project, list(daily.items()))


def _catches(project: Project, ledger: Ledger) -> dict[str, Catch]:
    start, end, late_from = project.start_date, project.end_date, ledger.late_from
    team, cash, cash_limit = ledger.team, Expenditure.Method.CASH, ledger.cash_limit
    low, threshold, vague_limit = (
        ledger.threshold * Decimal("0.8"),
        ledger.threshold,
        ledger.vague_limit,
    )
    return {
        "outside": Catch(
            ~Q(spent_on__range=(start, end)), lambda e: not start <= e.spent_on <= end
        ),
        "team": Catch(Q(payee__in=team), lambda e: e.payee in team),
        "cash": Catch(
            Q(method=cash, amount__gte=cash_limit),
            lambda e: e.method == cash and e.amount >= cash_limit,
        ),
        # Just under the approval line: from 80% of it up to it.
        "near": Catch(
            Q(amount__gte=low, amount__lt=threshold), lambda e: low <= e.amount < threshold
        ),
        "large": Catch(Q(amount__gte=vague_limit), lambda e: e.amount >= vague_limit),
        "late": Catch(Q(spent_on__gt=late_from), lambda e: e.spent_on > late_from),
    }


class VouchersInOrder:
    """A project's entries by date and voucher number, sliced by a Paginator. The count
    and the days a slice spans come from the daily counts, so a page reads and sorts only
    the entries of its own days, however deep it is."""

    def __init__(self, project: Project, daily: list[tuple[datetime.date, int]]):
        self.entries = project.expenditures.order_by("spent_on", "voucher_no", "pk")
        self.daily = daily

    def count(self) -> int:
        return sum(n for _day, n in self.daily)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[Expenditure]:
        start, stop = index.start or 0, index.stop
        seen, first, last, skipped = 0, None, None, 0
        for day, n in self.daily:
            if seen + n <= start:  # wholly before the slice
                seen += n
                continue
            if first is None:
                first, skipped = day, seen
            last, seen = day, seen + n
            if stop is not None and seen >= stop:
                break
        if first is None:
            return []
        days = self.entries.filter(spent_on__range=(first, last))
        return list(days[start - skipped : None if stop is None else stop - skipped])


@dataclass
class Passing:
    """The voucher that took a running total past a limit, and those after it. Amounts are
    above zero, so the running total only grows: every voucher from that one on is past."""

    category: str | None  # None: all spending
    limit: Decimal
    day: datetime.date  # the day it happened
    before: Decimal  # the running total before that day
    after: int  # entries on later days
    last: datetime.date | None  # the last day read (None: to the end)
    start: tuple[datetime.date, int] | None = None  # that voucher's (date, pk)
    vouchers: list[str] = field(default_factory=list)
    count: int = 0

    def where(self) -> Q:
        q = Q(spent_on__gte=self.day)
        if self.last is not None:
            q &= Q(spent_on__lte=self.last)
        if self.category is not None:
            q &= Q(category=self.category)
        return q

    def read(self, rows: list, wanted: int | None) -> None:
        """Find the voucher and list those from it on, from `rows` in order of date and
        pk, which hold at least the entries `where()` finds."""
        running, on_the_day = self.before, 0
        for row in rows:
            if self.category not in (None, row.category) or row.spent_on < self.day:
                continue
            if self.last is not None and row.spent_on > self.last:
                break
            if self.start is None:
                running += row.amount
                if running <= self.limit:
                    continue
                self.start = (row.spent_on, row.pk)
            if row.spent_on == self.day:
                on_the_day += 1
            if wanted is None or len(self.vouchers) < wanted:
                self.vouchers.append(row.voucher_no)
        self.count = on_the_day + self.after

    def covers(self, entry: Expenditure) -> bool:
        return (
            self.start is not None
            and self.category in (None, entry.category)
            and (entry.spent_on, entry.pk) >= self.start
        )


# --- the rules ------------------------------------------------------------------------

FEW = 200  # a catch finding at most this many entries has them read with the others
ROW = ("pk", "voucher_no", "spent_on", "category", "payee", "method", "amount")
DUPLICATES_READ = 5000  # duplicated numbers read at once; past it, the page asks for its own


class Review:
    """The red flags of a project's fund trail. `limit`: at most that many vouchers per
    flag and flags per kind (None: all of them)."""

    def __init__(self, project: Project, limit: int | None = None):
        self.project, self.limit = project, limit
        self.ledger = ledger = Ledger(project)
        share = Decimal(str(settings.LAST_MONTH_RUSH_SHARE))
        self.rush = bool(ledger.spent) and ledger.late_total / ledger.spent > share
        # What the page's rows are checked against; None: too many, ask the database.
        self.duplicates: set[str] | None = set()
        self.split_payees: set[str] | None = set()
        self.passings = self._passings()
        self.caught = self._read()
        self.flags = [flag for rule in RULES for flag in rule(self)]

    def entries(self, where: Q):
        """Entries as rows named like an Expenditure's fields, as the page lists them."""
        return (
            self.project.expenditures.filter(where)
            .order_by("spent_on", "voucher_no", "pk")
            .values_list(*ROW, named=True)
        )

    def _read(self) -> dict[str, list]:
        """In one query: the entries of every catch that finds few (of every catch,
        without a limit), and those of the days where a running total goes past its
        limit; sorted out here."""
        ledger = self.ledger
        few = [
            name
            for name, count in ledger.caught.items()
            if count and (self.limit is None or count <= FEW) and (name != "late" or self.rush)
        ]
        caught: dict[str, list] = {name: [] for name in few}
        wheres = [ledger.catches[name].where for name in few]
        wheres += [passing.where() for passing in self.passings.values()]
        if not wheres:
            return caught
        rows = list(self.entries(reduce(or_, wheres)))
        for row in rows:
            for name in few:
                if ledger.catches[name].test(row):
                    caught[name].append(row)
        if self.passings:
            in_order = sorted(rows, key=lambda row: (row.spent_on, row.pk))
            for passing in self.passings.values():
                passing.read(in_order, self.limit)
        return caught

    def caught_by(self, name: str) -> tuple[list, int]:
        """The entries a catch finds (the first `limit` of them), and how many it finds."""
        if name in self.caught:
            found = self.caught[name]
            return self.first(found), len(found)
        count = self.ledger.caught[name]
        if not count:
            return [], 0
        return list(self.entries(self.ledger.catches[name].where)[: self.limit]), count

    def first(self, items: list) -> list:
        return items if self.limit is None else items[: self.limit]

    def cut(self, vouchers: list[str], count: int | None = None) -> tuple[list[str], int]:
        """The vouchers listed, and how many are left off."""
        shown = self.first(vouchers)
        return shown, max((len(vouchers) if count is None else count) - len(shown), 0)

    def each(self, kind: str, entries: list, count: int, message) -> list[Flag]:
        """A flag per entry caught (`count` of them), each with `message(entry)`."""
        flags = [Flag(kind, message(entry), [entry.voucher_no]) for entry in entries]
        return flags + self.closing(kind, count - len(flags))

    def closing(self, kind: str, left: int) -> list[Flag]:
        if left <= 0:
            return []
        message = ngettext(
            "… and %(n)d more flag of this kind.", "… and %(n)d more flags of this kind.", left
        )
        return [Flag(kind, message % {"n": left}, [], left)]

    def _passings(self) -> dict[str | None, Passing]:
        """Spending past what was disbursed, and each category past its budget: the days
        found in the days' sums; their entries are read with the catches'."""
        ledger, project = self.ledger, self.project
        limits: dict[str | None, Decimal] = {None: project.disbursed_total}
        if ledger.by_category:
            budgets = _budgets(project)
            limits |= {c: budgets.get(c, ZERO) for c in ledger.by_category}  # no line: 0
        found = {}
        for category, limit in limits.items():
            passing = ledger.passing(limit, category, self.limit)
            if passing is not None:
                found[category] = passing
        return found

    # The rows a page shows.

    def flagged_among(self, shown: list[Expenditure]) -> set[str]:
        """The voucher numbers of the entries in `shown` that some flag covers."""
        project, catches = self.project, self.ledger.catches
        duplicates = self.duplicates
        if duplicates is None:
            duplicates = set(
                project.expenditures.filter(voucher_no__in={e.voucher_no for e in shown})
                .order_by()
                .values("voucher_no")
                .annotate(n=Count("pk"))
                .filter(n__gt=1)
                .values_list("voucher_no", flat=True)
            )
        splits = self.split_payees
        if splits is None:
            near = {e.payee for e in shown if catches["near"].test(e)}
            groups = _split_groups(project, self.ledger, near) if near else []
            splits = {group["payee"] for group in groups}
        tests = [
            catches["outside"].test,
            lambda e: e.voucher_no in duplicates,
            catches["team"].test,
            catches["cash"].test,
            lambda e: e.payee in splits and catches["near"].test(e),
            lambda e: self.rush and catches["late"].test(e),
            lambda e: any(passing.covers(e) for passing in self.passings.values()),
            lambda e: catches["large"].test(e) and is_vague_payee(e.payee),
        ]
        return {e.voucher_no for e in shown if any(test(e) for test in tests)}


def outside_project_period(review: Review) -> list[Flag]:
    return review.each(
        "outside_period",
        *review.caught_by("outside"),
        lambda e: _("Paid on %(d)s, outside the project period.") % {"d": e.spent_on},
    )


def duplicate_vouchers(review: Review) -> list[Flag]:
    if review.ledger.entries < 2:
        return []
    groups = (
        review.project.expenditures.order_by()
        .values("voucher_no")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .order_by("voucher_no")
    )
    read = list(groups if review.limit is None else groups[: DUPLICATES_READ + 1])
    complete = review.limit is None or len(read) <= DUPLICATES_READ
    review.duplicates = {group["voucher_no"] for group in read} if complete else None
    flags = [
        Flag(
            "duplicate_voucher",
            _("Voucher number used %(n)d times.") % {"n": group["n"]},
            [group["voucher_no"]],
        )
        for group in review.first(read)
    ]
    return flags + review.closing(
        "duplicate_voucher", (len(read) if complete else groups.count()) - len(flags)
    )


def payments_to_the_team(review: Review) -> list[Flag]:
    return review.each(
        "paid_to_team",
        *review.caught_by("team"),
        lambda e: _("Paid to %(payee)s, who works on the project.") % {"payee": e.payee},
    )


def large_cash_payments(review: Review) -> list[Flag]:
    limit = review.ledger.cash_limit
    return review.each(
        "large_cash",
        *review.caught_by("cash"),
        lambda e: (
            _("Cash payment of %(a)s yuan (limit %(l)s).")
            % {"a": grouped(e.amount), "l": grouped(limit)}
        ),
    )


def _split_groups(project: Project, ledger: Ledger, payees=None):
    """In the database: the payees paid more than once just under the approval line,
    all within a week."""
    near = project.expenditures.filter(ledger.catches["near"].where)
    if payees is not None:
        near = near.filter(payee__in=payees)
    return (
        near.order_by()
        .values("payee")
        .annotate(n=Count("pk"), first_day=Min("spent_on"), last_day=Max("spent_on"))
        .filter(n__gt=1)
        .annotate(
            span=ExpressionWrapper(F("last_day") - F("first_day"), output_field=DurationField())
        )
        .filter(span__lte=SPLIT_WINDOW)
        .order_by("first_day", "payee")
    )


def _splits_among(near: list) -> list[tuple[str, list]]:
    """The same, among entries read (in order of date): each payee with its entries."""
    by_payee: dict[str, list] = defaultdict(list)
    for entry in near:
        by_payee[entry.payee].append(entry)
    groups = [
        (payee, group)
        for payee, group in by_payee.items()
        if len(group) > 1 and group[-1].spent_on - group[0].spent_on <= SPLIT_WINDOW
    ]
    return sorted(groups, key=lambda group: (group[1][0].spent_on, group[0]))


def splits_under_threshold(review: Review) -> list[Flag]:
    """Several payments to one payee within a week, each just under the approval line."""
    ledger, project = review.ledger, review.project
    if ledger.caught["near"] < 2:
        return []
    if "near" in review.caught:
        groups = _splits_among(review.caught["near"])
        review.split_payees = {payee for payee, _group in groups}
        count = len(groups)
        listed = [(payee, len(group), [e.voucher_no for e in group]) for payee, group in groups]
        listed = review.first(listed)
    else:  # many near the line: grouped in the database
        read = list(_split_groups(project, ledger)[: review.limit + 1])
        review.split_payees = None
        count = len(read) if len(read) <= review.limit else _split_groups(project, ledger).count()
        by_payee: dict[str, list[str]] = defaultdict(list)
        payees = [group["payee"] for group in read[: review.limit]]
        rows = review.entries(ledger.catches["near"].where & Q(payee__in=payees))
        for payee, voucher_no in rows.values_list("payee", "voucher_no"):
            by_payee[payee].append(voucher_no)
        listed = [(payee, len(by_payee[payee]), by_payee[payee]) for payee in payees]
    flags = [
        Flag(
            "split",
            _("%(n)d payments to %(payee)s within a week, each just under %(t)s yuan.")
            % {"n": n, "payee": payee, "t": grouped(ledger.threshold)},
            *review.cut(vouchers),
        )
        for payee, n, vouchers in listed
    ]
    return flags + review.closing("split", count - len(flags))


def last_month_rush(review: Review) -> list[Flag]:
    if not review.rush:
        return []
    ledger = review.ledger
    late, count = review.caught_by("late")
    message = _("%(p)d%% of all spending falls in the project's last month.") % {
        "p": int(ledger.late_total * 100 / ledger.spent)
    }
    return [Flag("rush", message, *review.cut([e.voucher_no for e in late], count))]


# --- spending beyond the money given (issue 9): warned at entry, flagged on the trail ---


def _beyond_disbursed(project: Project, spent: Decimal, vouchers=(), more: int = 0) -> list[Flag]:
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
    return [Flag("spent_beyond_disbursed", message, list(vouchers), more)]


def _over_budget(
    category: str, spent: Decimal, budget: Decimal, vouchers=(), more: int = 0
) -> list[Flag]:
    if spent <= budget:
        return []
    message = _("%(category)s: %(spent)s yuan spent against a budget of %(budget)s yuan.") % {
        "category": BudgetCategory(category).label,
        "spent": spent,
        "budget": budget,
    }
    return [Flag("category_over_budget", message, list(vouchers), more)]


def _budgets(project: Project) -> dict[str, Decimal]:
    """Each category's current budget (approved or requested, plus adjustments)."""
    return {line.category: line.current for line in project.budget_lines.all()}


def spent_beyond_disbursed(review: Review) -> list[Flag]:
    passing = review.passings.get(None)
    if passing is None:
        return []
    vouchers, more = review.cut(passing.vouchers, passing.count)
    return _beyond_disbursed(review.project, review.ledger.spent, vouchers, more)


def category_over_budget(review: Review) -> list[Flag]:
    flags = []
    for category in BudgetCategory.values:
        passing = review.passings.get(category)
        if passing is not None:
            spent = review.ledger.by_category[category]
            vouchers, more = review.cut(passing.vouchers, passing.count)
            flags += _over_budget(category, spent, passing.limit, vouchers, more)
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


def large_payments_to_vague_payees(review: Review) -> list[Flag]:
    ledger, project, limit = review.ledger, review.project, review.ledger.vague_limit
    if "large" in review.caught:
        vague = [e for e in review.caught["large"] if is_vague_payee(e.payee)]
        entries, count = review.first(vague), len(vague)
    elif ledger.caught["large"]:  # many large payments: their payees judged one by one
        payees = project.expenditures.filter(ledger.catches["large"].where).order_by()
        counts = payees.values_list("payee").annotate(n=Count("pk"))
        judged = {payee: n for payee, n in counts if is_vague_payee(payee)}
        where = ledger.catches["large"].where & Q(payee__in=list(judged))
        entries = list(review.entries(where)[: review.limit]) if judged else []
        count = sum(judged.values())
    else:
        return []
    return review.each(
        "vague_payee",
        entries,
        count,
        lambda e: (
            _("%(a)s yuan paid to “%(payee)s”, which names nobody (from %(l)s yuan it must).")
            % {"a": grouped(e.amount), "payee": e.payee, "l": grouped(limit)}
        ),
    )


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


def fund_trail_flags(
    project: Project, entries: list[Expenditure] | None = None, *, limit: int | None = None
) -> list[Flag]:
    """Every red flag on the project's spending. The rules read the database, so
    `entries` (kept for callers that hold them already) is not needed and not read.
    `limit`: at most that many vouchers per flag and flags per kind."""
    return Review(project, limit).flags


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


def first_disbursement_due_on(signed_on: datetime.date) -> datetime.date:
    """The day the first tranche is due: FIRST_DISBURSEMENT_DAYS after the (local) day the
    contract was signed (the inbox's task and the overview use it too)."""
    return signed_on + datetime.timedelta(days=settings.FIRST_DISBURSEMENT_DAYS)


def first_disbursement_timing(
    signed_on: datetime.date, paid_on: datetime.date | None, today: datetime.date
) -> FirstDisbursement:
    """When the first tranche was due and how late it came (or is, while unpaid)."""
    due_on = first_disbursement_due_on(signed_on)
    return FirstDisbursement(signed_on, due_on, paid_on, max(((paid_on or today) - due_on).days, 0))


def _first_disbursement(
    signed_at: datetime.datetime | None, paid_on: datetime.date | None, today: datetime.date
) -> FirstDisbursement | None:
    if signed_at is None:
        return None
    return first_disbursement_timing(timezone.localtime(signed_at).date(), paid_on, today)


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
