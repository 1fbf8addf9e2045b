"""The demo county's work plan: this year's targets, its months so far, and one project
recommended upward that won funds (called at the end of `manage.py load_demo`).

Everything goes through workplan.services, so the demo's trail is the real one.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from funding.models import Project

from . import services
from .indicators import BY_CODE
from .models import UpwardRecommendation

# code: (yearly target, a typical month); a level (intensity) gives its month's value.
PLAN = {
    "rd_spending": ("52000", "4100.50"),
    "rd_intensity": ("2.60", "2.38"),
    "high_tech_enterprises": ("25", "2"),
    "tech_smes": ("120", "9"),
    "high_tech_output": ("260", "19.80"),
    "tech_contracts": ("80000", "6200"),
    "funds_won": ("30000", "2300"),
    "talents": ("300", "22"),
    "sci_tech_finance": ("50000", "3600"),
    "information_items": ("600", "48"),
    "platforms": ("8", "1"),
    "projects_approved": ("30", None),
    "money_disbursed": ("1500", None),
    "funds_won_recommended": ("200", None),
}
# Months differ a little, the same way on every run.
SWING = [Decimal(s) for s in ("0.8", "0.9", "1.1", "1.0", "1.2", "0.95", "1.05", "1.1", "0.9")]


def fill_year(leader, staff, today: datetime.date | None = None) -> None:
    today = today or timezone.localdate()
    year = today.year
    services.set_targets(year, {code: Decimal(t) for code, (t, _m) in PLAN.items()}, leader)
    last = max(today.month - 1, 1)  # the months so far (January: itself)
    for month in range(1, last + 1):
        swing = SWING[(month - 1) % len(SWING)]
        for code, (_target, typical) in PLAN.items():
            if typical is None:
                continue  # computed by the system
            value = _month_value(code, Decimal(typical), swing, month)
            services.record_actual(
                year=year, month=month, indicator=code, value=value, by=staff, today=today
            )
    _recommend(staff, today)


def _month_value(code: str, typical: Decimal, swing: Decimal, month: int) -> Decimal:
    if code == "rd_intensity":
        return typical + Decimal(month) / 100  # a level creeping up
    return (typical * swing).quantize(Decimal(1).scaleb(-BY_CODE[code].places))


def _recommend(staff, today: datetime.date) -> None:
    """One project that won a provincial programme's funds, one still waiting."""
    if UpwardRecommendation.objects.exists():
        return
    projects = list(
        Project.objects.filter(status__in=services.RECOMMENDABLE_STATES).order_by("pk")[:2]
    )
    if not projects:
        return
    won = services.recommend_upward(
        projects[0].pk,
        staff,
        level=UpwardRecommendation.Level.PROVINCE,
        programme="省重点研发计划（农业领域）",
        recommended_on=today - datetime.timedelta(days=45),
    )
    services.record_recommendation_result(
        won.pk,
        staff,
        result=UpwardRecommendation.Result.WON,
        funds_won=Decimal("800000.00"),
        decided_on=today,
    )
    if len(projects) > 1:
        services.recommend_upward(
            projects[1].pk,
            staff,
            level=UpwardRecommendation.Level.CITY,
            programme="市科技计划项目",
            recommended_on=today - datetime.timedelta(days=10),
        )
