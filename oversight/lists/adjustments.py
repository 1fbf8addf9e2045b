"""Budget adjustments (预算调剂) across projects, to filter, sort, page and export (issue 11).

Adjustments are shown on a project's fund trail, and on its page only to those who read
that trail: the list holds the adjustments of the projects whose fund trail the user
may read, the same rule as the voucher list.
"""

from __future__ import annotations

import django_filters
import django_tables2 as tables
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from funding.models import BudgetAdjustment
from funding.states import BudgetCategory
from lists.columns import LocalDateColumn, MoneyColumn
from lists.forms import FilterForm, date_filter, search_filter
from lists.pages import ListSpec, list_response
from lists.tables import ListTable

from ..access import fund_trail_projects, sees_every_fund_trail
from .projects import ANY
from .vouchers import FundTrailFilter


class AdjustmentFilter(FundTrailFilter):
    q = search_filter(_("Project title or reason"))
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=BudgetAdjustment.Status.choices, empty_label=ANY
    )
    category = django_filters.ChoiceFilter(
        label=_("Budget line (from or to)"),
        choices=BudgetCategory.choices,
        method="filter_category",
        empty_label=ANY,
    )
    asked_from = date_filter(_("Asked from"), "requested_at__date", "gte")
    asked_to = date_filter(_("Asked up to"), "requested_at__date", "lte")

    class Meta:
        model = BudgetAdjustment
        fields: list[str] = []
        form = FilterForm  # bounded like every form of ours

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(Q(project__title__icontains=term) | Q(reason__icontains=term))

    def filter_category(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(from_category=value) | Q(to_category=value))


class AdjustmentTable(ListTable):
    requested_at = LocalDateColumn(verbose_name=_("Asked on"))
    project = tables.Column(
        verbose_name=_("Project"),
        accessor="project__title",
        order_by="project__title",
        linkify=lambda record: reverse("project-funds", args=[record.project_id]),
    )
    organisation = tables.Column(
        verbose_name=_("Organisation"),
        accessor="project__applicant_org__name",
        order_by="project__applicant_org__name",
    )
    from_category = tables.Column(verbose_name=_("Move from"))
    to_category = tables.Column(verbose_name=_("Move to"))
    amount = MoneyColumn(verbose_name=_("Amount"))
    reason = tables.Column(verbose_name=_("Reason"))
    status = tables.Column(verbose_name=_("Status"))
    requested_by = tables.Column(
        verbose_name=_("Asked by"),
        accessor="requested_by",
        order_by=("requested_by__real_name", "requested_by__username"),
    )
    decided_by = tables.Column(
        verbose_name=pgettext_lazy("the person who decided", "Decided by"),
        accessor="decided_by",
        order_by=("decided_by__real_name", "decided_by__username"),
    )
    decided_at = LocalDateColumn(verbose_name=_("Decided on"))

    class Meta:
        model = BudgetAdjustment
        fields = (
            "requested_at",
            "project",
            "organisation",
            "from_category",
            "to_category",
            "amount",
            "reason",
            "status",
            "requested_by",
            "decided_by",
            "decided_at",
        )
        attrs = {"class": "list", "data-testid": "adjustments"}
        row_attrs = {"data-adjustment": lambda record: record.pk}
        empty_text = _("No budget adjustments match.")
        order_by = ("-requested_at",)

    def value_requested_by(self, value):
        return str(value)

    def value_decided_by(self, value):
        return str(value) if value else ""


ADJUSTMENTS = ListSpec(
    title=_("Budget adjustments"),
    filterset_class=AdjustmentFilter,
    table_class=AdjustmentTable,
    export_name="budget-adjustments",
)


def adjustments_rows(user) -> QuerySet[BudgetAdjustment]:
    adjustments = BudgetAdjustment.objects.all()
    if not sees_every_fund_trail(user):  # staff and leaders: all of them, no semi-join
        adjustments = adjustments.filter(project__in=fund_trail_projects(user))
    return adjustments.select_related("project__applicant_org", "requested_by", "decided_by").defer(
        "project__summary"
    )


@login_required
def adjustment_list(request):
    return list_response(request, ADJUSTMENTS, adjustments_rows(request.user))
