"""Vouchers (expenditures) across projects, to filter, sort, page and export (issue 11).

A voucher is part of its project's fund trail: the list holds the vouchers of the
projects whose fund trail the user may read (access.can_see_fund_trail, here said once
to the database for all projects, never asked row by row).

The red flags the list can find are those of funding/flags.py that a single voucher
carries (paid outside the project period, a voucher number used twice in a project,
paid to the project team, a large cash payment, a large payment to a payee that names
nobody). The flags of running sums (past the budget, past what was disbursed, splits
and the last-month rush) stay on each project's fund trail, where they are worked out.
"""

from __future__ import annotations

from decimal import Decimal

import django_filters
import django_tables2 as tables
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from funding.amounts import COLUMN_MAX
from funding.flags import is_vague_payee
from funding.models import Call, Expenditure, Project, TeamMember
from funding.states import BudgetCategory
from lists.columns import DateColumn, MoneyColumn
from lists.forms import FilterForm, date_filter, search_filter
from lists.pages import ListSpec, list_response
from lists.tables import ListTable

from ..access import (
    fund_trail_projects,
    sees_every_fund_trail,
)
from .projects import ANY

# --- who reads which fund trails ---------------------------------------------------------


def offer_fund_trail_choices(filterset: django_filters.FilterSet, rows_model) -> None:
    """Offer to filter by only the projects that have rows of `rows_model` and the
    organisations whose books the user reads (the vouchers' and adjustments' lists)."""
    user = filterset.request.user
    projects = fund_trail_projects(user)
    having = rows_model.objects.filter(project_id=OuterRef("pk"))
    offer_projects(filterset.filters["project"], projects.filter(Exists(having)).order_by("title"))
    filterset.filters["organisation"].queryset = organisations_of(projects, user)


def organisations_of(projects: QuerySet[Project], user) -> QuerySet[Organisation]:
    """The organisations offered to filter by: those of the projects the user reads."""
    if sees_every_fund_trail(user):
        return Organisation.objects.order_by("name")
    return Organisation.objects.filter(pk__in=projects.values("applicant_org_id")).order_by("name")


# Past this many projects to choose from, the filter asks for the project's number: a
# choice of every project with vouchers (65,000 at 100,000 projects) took ~27 s of
# Python a page to draw (issue 10).
PROJECT_CHOICES_SHOWN = 200


def offer_projects(choice: django_filters.ModelChoiceFilter, projects: QuerySet[Project]) -> None:
    """Offer `projects` as a choice when they are few, else a box for a project's number
    (checked against the same projects)."""
    choice.queryset = projects
    probe = projects.order_by().values_list("pk", flat=True)[: PROJECT_CHOICES_SHOWN + 1]
    if len(probe) > PROJECT_CHOICES_SHOWN:
        choice.extra["widget"] = forms.NumberInput(attrs={"min": 1})
        choice.extra["help_text"] = _("The project's number, as in its address")


# --- the red flags a voucher carries -----------------------------------------------------


class FlagKind:
    OUTSIDE = "outside_period"
    DUPLICATE = "duplicate_voucher"
    TEAM = "paid_to_team"
    CASH = "large_cash"
    VAGUE = "vague_payee"
    ANY = "any"
    LABELS = {
        OUTSIDE: _("Outside the project period"),
        DUPLICATE: _("Voucher number used more than once"),
        TEAM: _("Paid to the project team"),
        CASH: _("Large cash payment"),
        VAGUE: _("Large payment to a payee naming nobody"),
    }
    CHOICES = [(ANY, _("any red flag")), *LABELS.items()]


def _money(name: str) -> Decimal:
    return Decimal(str(getattr(settings, name)))


def _duplicate() -> Exists:
    same_number = Expenditure.objects.filter(
        project_id=OuterRef("project_id"), voucher_no=OuterRef("voucher_no")
    ).exclude(pk=OuterRef("pk"))
    return Exists(same_number)


def _team_member() -> Exists:
    named = TeamMember.objects.filter(project_id=OuterRef("project_id"), name=OuterRef("payee"))
    return Exists(named.exclude(name=""))


def _paid_to_team() -> Q:
    # The PI or a team member by name, as funding.flags.Ledger compares them.
    pi = Q(payee=F("project__pi__real_name")) & ~Q(project__pi__real_name="")
    return pi | Q(_team_member())


def _flag_where(kind: str, rows: QuerySet[Expenditure]) -> Q:
    """What the database looks for: the same rules as funding/flags.py's catches."""
    if kind == FlagKind.OUTSIDE:
        return Q(spent_on__lt=F("project__start_date")) | Q(spent_on__gt=F("project__end_date"))
    if kind == FlagKind.DUPLICATE:
        return Q(_duplicate())
    if kind == FlagKind.TEAM:
        return _paid_to_team()
    if kind == FlagKind.CASH:
        return Q(method=Expenditure.Method.CASH, amount__gte=_money("LARGE_CASH_PAYMENT"))
    if kind == FlagKind.VAGUE:
        # Payees are judged in Python (funding.flags.is_vague_payee): read the payees of
        # the large payments once, keep those naming nobody.
        large = Q(amount__gte=_money("LARGE_VAGUE_PAYMENT"))
        payees = rows.filter(large).order_by().values_list("payee", flat=True).distinct()
        return large & Q(payee__in=[p for p in payees if is_vague_payee(p)])
    return Q(pk__in=[])


def flags_of(record: Expenditure) -> list[str]:
    """The flags a listed voucher carries (the two read from the database are annotated)."""
    project = record.project
    kinds = []
    if not project.start_date <= record.spent_on <= project.end_date:
        kinds.append(FlagKind.OUTSIDE)
    if record.is_duplicate:
        kinds.append(FlagKind.DUPLICATE)
    if record.paid_to_team:
        kinds.append(FlagKind.TEAM)
    if record.method == Expenditure.Method.CASH and record.amount >= _money("LARGE_CASH_PAYMENT"):
        kinds.append(FlagKind.CASH)
    if record.amount >= _money("LARGE_VAGUE_PAYMENT") and is_vague_payee(record.payee):
        kinds.append(FlagKind.VAGUE)
    return kinds


# --- the list ----------------------------------------------------------------------------


class FundTrailFilter(django_filters.FilterSet):
    """The filters the vouchers' and adjustments' lists share: a search (each list says
    what it searches by declaring its own `q`, which keeps this first place), then the
    project, call and organisation among the fund trails the user reads."""

    q = search_filter("")
    project = django_filters.ModelChoiceFilter(
        label=_("Project"), queryset=Project.objects.none(), empty_label=ANY
    )
    call = django_filters.ModelChoiceFilter(
        label=_("Call"),
        field_name="project__call",
        queryset=Call.objects.order_by("-opens_on"),
        empty_label=ANY,
    )
    organisation = django_filters.ModelChoiceFilter(
        label=_("Organisation"),
        field_name="project__applicant_org",
        queryset=Organisation.objects.none(),
        empty_label=ANY,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        offer_fund_trail_choices(self, self._meta.model)


class VoucherFilter(FundTrailFilter):
    q = search_filter(_("Voucher number, payee or project title"))
    category = django_filters.ChoiceFilter(
        label=_("Category"), choices=BudgetCategory.choices, empty_label=ANY
    )
    spent_from = date_filter(_("Paid from"), "spent_on", "gte")
    spent_to = date_filter(_("Paid up to"), "spent_on", "lte")
    amount_min = django_filters.NumberFilter(
        label=_("Amount from (yuan)"),
        field_name="amount",
        lookup_expr="gte",
        min_value=0,
        max_value=COLUMN_MAX,
    )
    amount_max = django_filters.NumberFilter(
        label=_("Amount up to (yuan)"),
        field_name="amount",
        lookup_expr="lte",
        min_value=0,
        max_value=COLUMN_MAX,
    )
    flagged = django_filters.ChoiceFilter(
        label=_("Red flag"), choices=FlagKind.CHOICES, method="filter_flagged", empty_label=ANY
    )

    class Meta:
        model = Expenditure
        fields: list[str] = []
        form = FilterForm  # bounded like every form of ours

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(
            Q(voucher_no__icontains=term)
            | Q(payee__icontains=term)
            | Q(project__title__icontains=term)
        )

    def filter_flagged(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        kinds = list(FlagKind.LABELS) if value == FlagKind.ANY else [value]
        where = Q(pk__in=[])
        for kind in kinds:
            where |= _flag_where(kind, queryset)
        return queryset.filter(where)


class VoucherTable(ListTable):
    voucher_no = tables.Column(verbose_name=_("Voucher number"))
    spent_on = DateColumn(verbose_name=_("Date"))
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
    category = tables.Column(verbose_name=_("Category"))
    payee = tables.Column(verbose_name=_("Payee"))
    method = tables.Column(verbose_name=_("Payment method"))
    amount = MoneyColumn(verbose_name=_("Amount"))
    flags = tables.Column(
        verbose_name=_("Red flags"), accessor="pk", orderable=False, empty_values=()
    )

    class Meta:
        model = Expenditure
        fields = (
            "voucher_no",
            "spent_on",
            "project",
            "organisation",
            "category",
            "payee",
            "method",
            "amount",
            "flags",
        )
        attrs = {"class": "list", "data-testid": "vouchers"}
        row_attrs = {"data-voucher": lambda record: record.voucher_no}
        empty_text = _("No vouchers match.")
        # Unsorted, the newest recorded first (vouchers_rows): an index of the dates
        # across all projects would slow every ledger import.

    def render_flags(self, record):
        return " · ".join(str(FlagKind.LABELS[kind]) for kind in flags_of(record)) or "—"

    def value_flags(self, record):
        return "; ".join(str(FlagKind.LABELS[kind]) for kind in flags_of(record))


VOUCHERS = ListSpec(
    title=_("Vouchers"),
    filterset_class=VoucherFilter,
    table_class=VoucherTable,
    export_name="vouchers",
    count_cap=10_000,  # 1,350,000 vouchers at 100,000 projects: 0.8 s to count them all
    intro=_(
        "The vouchers of the fund trails you may read. Red flags of running totals (past "
        "the budget or the money disbursed, split payments, a last-month rush) are on each "
        "project's fund trail."
    ),
)


def vouchers_rows(user) -> QuerySet[Expenditure]:
    vouchers = Expenditure.objects.all()
    if not sees_every_fund_trail(user):  # staff and leaders: every voucher, no semi-join
        vouchers = vouchers.filter(project__in=fund_trail_projects(user))
    return (
        vouchers.select_related("project__applicant_org")
        .defer("project__summary")
        .annotate(
            is_duplicate=_duplicate(),
            paid_to_team=ExpressionWrapper(_paid_to_team(), output_field=BooleanField()),
        )
        .order_by("-pk")  # the newest recorded first, read backwards along the key
    )


@login_required
def voucher_list(request):
    rows = vouchers_rows(request.user)
    return list_response(request, VOUCHERS, rows)
