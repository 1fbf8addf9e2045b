"""The project's money month by month, for the supervision firm's fund checks (DESIGN §5).

Budget per category (as it stands after cuts and adjustments), disbursed per month, spent
per month and category, with running totals; the database adds up (TruncMonth and Sum),
so a project with 100,000 vouchers costs three queries, like one with ten.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import TruncMonth

from .models import Project
from .states import BudgetCategory

ZERO = Decimal("0.00")
# Months without money between the first and the last are shown as empty rows, up to this
# span; a stray date decades away leaves only the months that have money.
MAX_FILLED_MONTHS = 240


@dataclass
class MonthRow:
    month: datetime.date
    disbursed: Decimal
    spent: list[Decimal]  # per category, in the order of `FundMonths.categories`
    spent_total: Decimal
    disbursed_to_date: Decimal
    spent_to_date: Decimal

    @property
    def beyond_disbursed(self) -> bool:
        """Spent to date more than disbursed to date: the unit advanced its own money."""
        return self.spent_to_date > self.disbursed_to_date


@dataclass
class FundMonths:
    categories: list[tuple[str, str]]  # (value, label)
    budget: list[Decimal]
    months: list[MonthRow] = field(default_factory=list)
    spent: list[Decimal] = field(default_factory=list)  # per category, all months
    disbursed: Decimal = ZERO
    approved: Decimal | None = None

    @property
    def budget_total(self) -> Decimal:
        return sum(self.budget, ZERO)

    @property
    def spent_total(self) -> Decimal:
        return sum(self.spent, ZERO)

    def columns(self) -> list[dict]:
        """Each category with its budget, spending and whether it is overspent."""
        return [
            {"value": v, "label": label, "budget": b, "spent": s, "overspent": s > b}
            for (v, label), b, s in zip(self.categories, self.budget, self.spent, strict=True)
        ]


def fund_months(project: Project) -> FundMonths:
    """Budget, disbursed and spent per category and month (three queries)."""
    order = [c.value for c in BudgetCategory]
    labels = dict(BudgetCategory.choices)
    budget = {line.category: line.current for line in project.budget_lines.all()}
    disbursed = {
        row["month"]: row["total"]
        for row in project.disbursements.annotate(month=TruncMonth("paid_on"))
        .values("month")
        .annotate(total=Sum("amount"))
        .order_by("month")
    }
    spent: dict[datetime.date, dict[str, Decimal]] = {}
    for row in (
        project.expenditures.annotate(month=TruncMonth("spent_on"))
        .values("month", "category")
        .annotate(total=Sum("amount"))
        .order_by("month", "category")
    ):
        spent.setdefault(_as_date(row["month"]), {})[row["category"]] = row["total"]
    disbursed = {_as_date(m): total for m, total in disbursed.items()}

    used = set(budget) | {c for month in spent.values() for c in month}
    categories = [(c, str(labels.get(c, c))) for c in order if c in used]
    categories += [(c, c) for c in sorted(used - set(order))]  # a category no longer offered
    result = FundMonths(
        categories=categories,
        budget=[budget.get(c, ZERO) for c, _label in categories],
        approved=project.approved_amount,
    )
    totals = dict.fromkeys((c for c, _label in categories), ZERO)
    paid_to_date = spent_to_date = ZERO
    for month in _months(set(disbursed) | set(spent)):
        paid = disbursed.get(month, ZERO)
        by_category = spent.get(month, {})
        row_spent = [by_category.get(c, ZERO) for c, _label in categories]
        month_total = sum(row_spent, ZERO)
        paid_to_date += paid
        spent_to_date += month_total
        for c, _label in categories:
            totals[c] += by_category.get(c, ZERO)
        result.months.append(
            MonthRow(month, paid, row_spent, month_total, paid_to_date, spent_to_date)
        )
    result.spent = [totals[c] for c, _label in categories]
    result.disbursed = paid_to_date
    return result


def _as_date(value) -> datetime.date:
    # TruncMonth of a DateField is a date; some backends hand back a datetime.
    return value.date() if isinstance(value, datetime.datetime) else value


def _months(present: set[datetime.date]) -> list[datetime.date]:
    """The months with money, and the empty ones between them (within MAX_FILLED_MONTHS)."""
    if not present:
        return []
    first, last = min(present), max(present)
    span = (last.year - first.year) * 12 + last.month - first.month
    if span > MAX_FILLED_MONTHS:
        return sorted(present)
    months, month = [], first
    while month <= last:
        months.append(month)
        month = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return months
