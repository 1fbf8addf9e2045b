"""The work plan's year in figures: each indicator's target, actual and months, plus the
pipeline, money and integrity figures, for the dashboard (/workplan/).

Every figure is an aggregate the database computes, so the page costs the same dozen
queries whether the county has ten projects or ten thousand.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, IntegerField, Sum
from django.db.models.functions import Cast, ExtractMonth

from funding.models import Disbursement, Expenditure, Project
from funding.states import ProjectStatus
from integrity.models import CaseStatus, MisconductCase, Sanction
from integrity.policy import effective_sanctions_q
from trail.kinds import EventKind
from trail.models import Event

from .indicators import INDICATORS, LATEST, Indicator
from .models import MonthlyActual, UpwardRecommendation, YearlyTarget

CENT = Decimal("0.01")
WAN = Decimal(10_000)  # yuan in a 万元
MONTHS = range(1, 13)
# Cases someone still works on (proposed, reported, investigated, appealed, reviewed).
OPEN_CASE_STATES = (
    CaseStatus.PROPOSED,
    CaseStatus.REPORTED,
    CaseStatus.INVESTIGATING,
    CaseStatus.APPEALED,
    CaseStatus.UNDER_REVIEW,
)


@dataclass
class IndicatorYear:
    indicator: Indicator
    target: Decimal | None
    months: dict[int, Decimal] = field(default_factory=dict)  # month -> value (if any)

    @property
    def actual(self) -> Decimal | None:
        if not self.months:
            return None
        if self.indicator.aggregate == LATEST:
            return self.months[max(self.months)]
        return sum(self.months.values(), Decimal(0))

    @property
    def percent(self) -> Decimal | None:
        """The actual as a share of the target, in percent, one decimal."""
        if not self.target:
            return None
        return (Decimal(self.actual or 0) * 100 / self.target).quantize(Decimal("0.1"))

    def monthly(self) -> list[Decimal | None]:
        return [self.months.get(month) for month in MONTHS]


@dataclass
class Money:
    approved: Decimal
    disbursed: Decimal
    spent: Decimal


@dataclass
class Integrity:
    sanctions_in_force: int
    open_cases: int


@dataclass
class Year:
    year: int
    indicators: list[IndicatorYear]
    pipeline: list[tuple[str, str, int]]  # (state, label, count)
    money: Money
    integrity: Integrity


def _yuan(value) -> Decimal:
    # SQLite sums decimals without their scale; two places everywhere.
    return Decimal(value or 0).quantize(CENT)


def _wan(yuan: Decimal) -> Decimal:
    return (yuan / WAN).quantize(CENT)


def _approve_events(year: int):
    """The leadership's 立项 decisions (the lifecycle's `approve`) made in `year`."""
    return Event.objects.filter(
        kind=EventKind.PROJECT_TRANSITION, data__transition="approve", at__year=year
    )


def computed_months(year: int) -> tuple[dict[str, dict[int, Decimal]], Decimal]:
    """Computed indicators by month, and the year's disbursed total in yuan (3 queries)."""
    approved = (
        _approve_events(year)
        .annotate(month=ExtractMonth("at"))
        .values("month")
        .annotate(n=Count("object_id", distinct=True))
        .order_by()
    )
    disbursed = (
        Disbursement.objects.filter(paid_on__year=year)
        .annotate(month=ExtractMonth("paid_on"))
        .values("month")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    won = (
        UpwardRecommendation.objects.filter(
            result=UpwardRecommendation.Result.WON, decided_on__year=year
        )
        .annotate(month=ExtractMonth("decided_on"))
        .values("month")
        .annotate(total=Sum("funds_won"))
        .order_by()
    )
    disbursed_yuan = {row["month"]: _yuan(row["total"]) for row in disbursed}
    months = {
        "projects_approved": {row["month"]: Decimal(row["n"]) for row in approved},
        "money_disbursed": {m: _wan(v) for m, v in disbursed_yuan.items()},
        "funds_won_recommended": {row["month"]: _wan(_yuan(row["total"])) for row in won},
    }
    return months, sum(disbursed_yuan.values(), Decimal(0)).quantize(CENT)


def indicator_years(year: int) -> tuple[list[IndicatorYear], Decimal]:
    targets = dict(YearlyTarget.objects.filter(year=year).values_list("indicator", "value"))
    entered: dict[str, dict[int, Decimal]] = {}
    # At most 12 rows per indicator (one per month): the year's monthly figures as stored.
    rows = MonthlyActual.objects.filter(year=year).values_list("indicator", "month", "value")
    for code, month, value in rows:
        entered.setdefault(code, {})[month] = value
    computed, disbursed_yuan = computed_months(year)
    years = [
        IndicatorYear(
            indicator=indicator,
            target=targets.get(indicator.code),
            months=(computed if indicator.computed else entered).get(indicator.code, {}),
        )
        for indicator in INDICATORS
    ]
    return years, disbursed_yuan


def pipeline() -> list[tuple[str, str, int]]:
    counts = dict(Project.objects.values_list("status").annotate(n=Count("pk")).order_by())
    return [(state.value, state.label, counts.get(state.value, 0)) for state in ProjectStatus]


def money(year: int, disbursed: Decimal) -> Money:
    """Approved (the amounts of projects approved in `year`), disbursed and spent in it."""
    approved_ids = (
        _approve_events(year)
        .annotate(project_id=Cast("object_id", IntegerField()))
        .values("project_id")
    )
    approved = Project.objects.filter(pk__in=approved_ids).aggregate(total=Sum("approved_amount"))[
        "total"
    ]
    spent = Expenditure.objects.filter(spent_on__year=year).aggregate(total=Sum("amount"))["total"]
    return Money(approved=_yuan(approved), disbursed=disbursed, spent=_yuan(spent))


def integrity(today: datetime.date) -> Integrity:
    return Integrity(
        sanctions_in_force=Sanction.objects.filter(effective_sanctions_q(today)).count(),
        open_cases=MisconductCase.objects.filter(status__in=OPEN_CASE_STATES).count(),
    )


def year_figures(year: int, today: datetime.date) -> Year:
    indicators, disbursed = indicator_years(year)
    return Year(
        year=year,
        indicators=indicators,
        pipeline=pipeline(),
        money=money(year, disbursed),
        integrity=integrity(today),
    )
