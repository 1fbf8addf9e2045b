"""The public list of final serious decisions (DESIGN §4, §7): no login, no ID numbers.

What a published sanction shows (沪科规〔2024〕12号 art. 2): subject, unit, misconduct,
measures, deciding body, legal basis, effective date and period. Never an ID number or
a credit code: identity numbers are not on this page at all.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from ..models import MisconductCase, Sanction, Severity

# 较重 and above: the severities that ban (DESIGN §4). A minor case (情节较轻: talk,
# criticism, rectification) is told to the respondent, not published.
PUBLISHED_SEVERITIES = (Severity.SERIOUS, Severity.SEVERE, Severity.EXTREME)


def published_decisions(on_date=None):
    """Final decisions of 较重 and above whose sanction is still effective and running."""
    on_date = on_date or timezone.localdate()
    return (
        MisconductCase.objects.final(on_date)
        .filter(
            sanction__severity__in=PUBLISHED_SEVERITIES,
            sanction__status=Sanction.Status.EFFECTIVE,
        )
        .filter(Q(sanction__ends_on__isnull=True) | Q(sanction__ends_on__gte=on_date))
        .select_related("sanction")
        .order_by("-served_on", "-pk")
    )


def decision_list(request):
    page = Paginator(published_decisions(), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "integrity/decisions.html",
        {"page": page, "bureau": getattr(settings, "BUREAU_NAME", "")},
    )


urlpatterns = [path("decisions/", decision_list, name="decisions")]
