"""All projects a user may see, to filter, sort, page and export (issue 11).

Staff see drafts only when they ask for them: a draft is the applicant's until filed.
An expert who has not declared no conflict sees a project's title, call and state only,
here as on its page (access.application_withheld_from).
"""

from __future__ import annotations

import django_filters
import django_tables2 as tables
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from accounts.roles import Role, has_role
from funding.models import Call, Project
from funding.states import ProjectStatus
from lists.columns import DateColumn, MoneyColumn
from lists.forms import ANY, FilterForm, contains_q, search_filter
from lists.money import yuan
from lists.pages import ListSpec, list_response
from lists.tables import ListTable

from ..access import application_withheld_from, projects_visible_to

# Running projects past their end date that have not asked for acceptance.
RUNNING = (ProjectStatus.CONTRACTED, ProjectStatus.IN_PROGRESS)


def overdue_q(today) -> Q:
    return Q(status__in=RUNNING, end_date__lt=today)


def _year_choices():
    this_year = timezone.localdate().year
    return [(year, str(year)) for year in range(this_year + 1, this_year - 10, -1)]


class ProjectFilter(django_filters.FilterSet):
    q = search_filter(_("Title, field, organisation or principal investigator"))
    status = django_filters.ChoiceFilter(
        label=_("State"), choices=ProjectStatus.choices, empty_label=ANY
    )
    call = django_filters.ModelChoiceFilter(
        label=_("Call"), queryset=Call.objects.order_by("-opens_on"), empty_label=ANY
    )
    year = django_filters.ChoiceFilter(
        label=_("Year of the call"),
        choices=_year_choices,
        field_name="call__opens_on__year",
        empty_label=ANY,
    )
    field = django_filters.CharFilter(
        label=_("Field"), field_name="field", lookup_expr="icontains", max_length=100
    )
    organisation = django_filters.ModelChoiceFilter(
        label=_("Organisation"),
        field_name="applicant_org",
        queryset=Organisation.objects.order_by("name"),
        empty_label=ANY,
    )
    amount_min = django_filters.NumberFilter(
        label=_("Requested from (yuan)"),
        field_name="requested_amount",
        lookup_expr="gte",
        min_value=0,
    )
    amount_max = django_filters.NumberFilter(
        label=_("Requested up to (yuan)"),
        field_name="requested_amount",
        lookup_expr="lte",
        min_value=0,
    )
    overdue = django_filters.ChoiceFilter(
        label=_("Past its end date, acceptance not asked"),
        choices=[("true", _("yes")), ("false", _("no"))],
        method="filter_overdue",
        empty_label=ANY,
    )

    class Meta:
        model = Project
        fields: list[str] = []
        form = FilterForm

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        if user is not None:
            self.filters["organisation"].queryset = organisations_seen_by(user)

    @property
    def qs(self):
        rows = super().qs
        # Drafts are the applicant's until filed: staff see them when they ask.
        asked = self.form.cleaned_data.get("status") if self.is_bound else None
        if not asked and _sees_all(self.request.user):
            rows = rows.exclude(status=ProjectStatus.DRAFT)
        return rows

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(pk__in=projects_matching(term))

    def filter_overdue(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        late = overdue_q(timezone.localdate())
        return queryset.filter(late) if value == "true" else queryset.exclude(late)


def projects_matching(term: str) -> QuerySet:
    """The keys of the projects whose title, field, organisation or principal investigator
    holds `term`: one select per table, the projects' served by trigram indexes on
    PostgreSQL (funding migration 0017), the organisations and people (a few hundred, a
    few thousand) read whole. The OR of the four across the joins upper-cased all four
    columns of every project (100 ms at 100,000; issue 10)."""
    projects = Project.objects.order_by()
    return (
        projects.filter(contains_q("title", term) | contains_q("field", term))
        .values("pk")
        .union(
            projects.filter(contains_q("applicant_org__name", term)).values("pk"),
            projects.filter(contains_q("pi__real_name", term)).values("pk"),
        )
    )


def _sees_all(user) -> bool:
    return any(has_role(user, role) for role in (Role.STAFF, Role.LEADER, Role.INTEGRITY))


def organisations_seen_by(user) -> QuerySet[Organisation]:
    """The organisations offered to filter by: only those the user sees projects of."""
    if _sees_all(user):  # every organisation, no semi-join
        return Organisation.objects.order_by("name")
    return Organisation.objects.filter(
        pk__in=projects_visible_to(user).values("applicant_org_id")
    ).order_by("name")


class ProjectTable(ListTable):
    title = tables.Column(
        verbose_name=_("Title"), linkify=lambda record: reverse("project", args=[record.pk])
    )
    call = tables.Column(verbose_name=_("Call"), accessor="call__title", order_by="call__title")
    applicant_org = tables.Column(
        verbose_name=_("Organisation"),
        accessor="applicant_org__name",
        order_by="applicant_org__name",
    )
    field = tables.Column(verbose_name=_("Field"))
    status = tables.Column(verbose_name=_("State"))
    requested_amount = MoneyColumn(verbose_name=_("Requested"))
    approved_amount = MoneyColumn(verbose_name=_("Approved"))
    disbursed_total = MoneyColumn(verbose_name=_("Disbursed"))
    end_date = DateColumn(verbose_name=_("Ends on"))

    class Meta:
        model = Project
        fields = (
            "title",
            "call",
            "applicant_org",
            "field",
            "status",
            "requested_amount",
            "approved_amount",
            "disbursed_total",
            "end_date",
        )
        attrs = {"class": "list", "data-testid": "projects"}
        empty_text = _("No projects match.")
        # Unsorted, the newest first by number (projects_rows): read backwards along the
        # key, 25 rows, where the time of creation sorted all 100,000 (150 ms, issue 10).

    def __init__(self, data, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        user = getattr(request, "user", None)
        self.withheld = application_withheld_from(user) if user is not None else set()
        self.today = timezone.localdate()

    def _hidden(self, record) -> bool:
        return record.pk in self.withheld

    def render_applicant_org(self, value, record):
        return "—" if self._hidden(record) else value

    def value_applicant_org(self, value, record):
        return "" if self._hidden(record) else value

    def render_field(self, value, record):
        return "—" if self._hidden(record) else value

    def value_field(self, value, record):
        return "" if self._hidden(record) else value

    def _money(self, value, record):
        return "—" if self._hidden(record) else yuan(value)

    def _raw(self, value, record):
        return "" if self._hidden(record) else value

    render_requested_amount = render_approved_amount = render_disbursed_total = _money
    value_requested_amount = value_approved_amount = value_disbursed_total = _raw
    value_end_date = _raw

    def render_end_date(self, value, record):
        return "—" if self._hidden(record) else value.isoformat()

    def render_status(self, value, record):
        if record.status in RUNNING and record.end_date < self.today:
            return f"{value} · {_('overdue')}"
        return value


PROJECTS = ListSpec(
    title=_("Projects"),
    filterset_class=ProjectFilter,
    table_class=ProjectTable,
    export_name="projects",
    template="oversight/projects.html",
)
# The steps an application waits at before it is decided: the list offers each with how
# many wait there, one click from the filtered rows.
AWAITING = (
    ProjectStatus.UNIT_REVIEW,
    ProjectStatus.SUBMITTED,
    ProjectStatus.FORMAL_CHECK,
    ProjectStatus.RETURNED,
    ProjectStatus.EXPERT_REVIEW,
    ProjectStatus.BUDGET_REVIEW,
    ProjectStatus.PENDING_APPROVAL,
    ProjectStatus.PUBLIC_NOTICE,
)


def awaiting_each_step(rows: QuerySet[Project]) -> list[tuple[str, str, int]]:
    """(state, label, how many of `rows` wait there) for each step of AWAITING, in one
    query over the rows the user may see."""
    counts = dict(
        rows.filter(status__in=AWAITING).order_by().values_list("status").annotate(n=Count("pk"))
    )
    return [(state.value, state.label, counts.get(state.value, 0)) for state in AWAITING]


def projects_rows(user) -> QuerySet[Project]:
    return projects_visible_to(user).select_related("call", "applicant_org", "pi").order_by("-pk")


@login_required
def project_list(request):
    rows = projects_rows(request.user)
    return list_response(request, PROJECTS, rows, {"awaiting": awaiting_each_step(rows)})
