"""What leadership watches: the pipeline, the money, and the risks (DESIGN §1, §6)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from funding.budget import CENT
from funding.models import Expenditure, Project
from funding.states import ProjectStatus
from integrity.models import Sanction, VetoCheck
from integrity.policy import effective_sanctions_q

from .overdue import months_before

# DESIGN §6: apply within 3 months after the end date; beyond
# ACCEPTANCE_OVERDUE_CASE_MONTHS (6), an integrity matter (oversight.overdue proposes a case).
ACCEPTANCE_DUE = datetime.timedelta(days=91)


@dataclass
class Overdue:
    project: Project
    days_late: int
    propose_integrity_record: bool


def pipeline() -> list[tuple[str, str, int]]:
    """(state, its label, how many projects are in it), in the lifecycle's order."""
    counts = dict(Project.objects.values_list("status").annotate(n=Count("pk")).order_by())
    return [(state.value, state.label, counts.get(state.value, 0)) for state in ProjectStatus]


def money() -> dict[str, Decimal]:
    totals = Project.objects.aggregate(
        approved=Sum("approved_amount"), disbursed=Sum("disbursed_total")
    )
    spent = Expenditure.objects.aggregate(total=Sum("amount"))["total"]
    amounts = {"approved": totals["approved"], "disbursed": totals["disbursed"], "spent": spent}
    # SQLite sums decimals without their scale; show yuan with two places everywhere.
    return {k: Decimal(v or 0).quantize(CENT) for k, v in amounts.items()}


def late_for_acceptance(today: datetime.date | None = None) -> QuerySet[Project]:
    """Running projects whose end date passed more than 3 months ago without a request,
    the most overdue first."""
    today = today or timezone.localdate()
    return (
        Project.objects.filter(
            status__in=[ProjectStatus.CONTRACTED, ProjectStatus.IN_PROGRESS],
            end_date__lt=today - ACCEPTANCE_DUE,
        )
        .select_related("applicant_org", "pi")
        .order_by("end_date", "pk")
    )


def overdue_rows(projects, today: datetime.date | None = None) -> list[Overdue]:
    today = today or timezone.localdate()
    seriously_late = months_before(today, settings.ACCEPTANCE_OVERDUE_CASE_MONTHS)
    return [
        Overdue(
            project=p,
            days_late=(today - p.end_date - ACCEPTANCE_DUE).days,
            propose_integrity_record=p.end_date < seriously_late,
        )
        for p in projects
    ]


def overdue_acceptance(today: datetime.date | None = None) -> list[Overdue]:
    return overdue_rows(late_for_acceptance(today), today)


def integrity_watch(today: datetime.date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    year_start = today.replace(month=1, day=1)
    return {
        "sanctions_in_force": Sanction.objects.filter(effective_sanctions_q(today)).count(),
        "refusals_this_year": VetoCheck.objects.filter(
            passed=False, checked_at__date__gte=year_start
        ).count(),
        "suspended": Project.objects.filter(status=ProjectStatus.SUSPENDED).count(),
    }
