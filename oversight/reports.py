"""The public library of tech reports: open ones, and embargoed ones once the date passes."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from funding.states import ProjectStatus

from .models import TechReport

# Only results the bureau has accepted are published.
PUBLISHED_STATES = (ProjectStatus.ACCEPTED, ProjectStatus.CLOSED)


def public_reports(query: str = "") -> QuerySet[TechReport]:
    today = timezone.localdate()
    reports = TechReport.objects.filter(project__status__in=PUBLISHED_STATES).filter(
        Q(access=TechReport.Access.OPEN) | Q(embargo_until__lte=today)
    )
    for word in query.split()[:5]:
        reports = reports.filter(
            Q(title__icontains=word) | Q(abstract__icontains=word) | Q(keywords__icontains=word)
        )
    return reports.select_related("project__applicant_org").order_by("-filed_at")
