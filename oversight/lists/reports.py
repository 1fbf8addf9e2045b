"""The public library of tech reports (科技报告), to filter, sort, page and export (issue 11).

Anyone, signed in or not, sees the same rows as before: the reports of accepted projects,
open ones and embargoed ones once their date has passed (oversight.reports.public_reports).
The list shows what the report's page shows; the full-text file stays behind its own
access rule on the report's page.
"""

from __future__ import annotations

import django_filters
import django_tables2 as tables
from django.db.models import Q, QuerySet
from django.template.defaultfilters import truncatechars
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from lists.columns import LocalDateColumn
from lists.forms import FilterForm, contains_q, search_filter
from lists.pages import ListSpec, list_response
from lists.tables import ListTable

from ..models import TechReport
from ..reports import public_reports
from .projects import ANY, _year_choices

MAX_WORDS = 5  # as oversight.reports: a search of more words uses the first five


def words_q(term: str) -> Q:
    """Every word in the title, the abstract or the keywords (as the library always did)."""
    q = Q()
    for word in term.split()[:MAX_WORDS]:
        q &= contains_q("title", word) | contains_q("abstract", word) | contains_q("keywords", word)
    return q


class ReportFilter(django_filters.FilterSet):
    q = search_filter(_("Words of the title, the abstract or the keywords"))
    year = django_filters.ChoiceFilter(
        label=_("Year filed"), choices=_year_choices, field_name="filed_at__year", empty_label=ANY
    )
    field = django_filters.CharFilter(
        label=_("Field"), field_name="project__field", lookup_expr="icontains", max_length=100
    )
    # Words of the organisation's name, not a choice of organisations: a list of them
    # would name every one registered, and working out which have a published report
    # reads every project (80 ms at 100,000).
    organisation = django_filters.CharFilter(
        label=_("Organisation"),
        field_name="project__applicant_org__name",
        lookup_expr="icontains",
        max_length=100,
    )

    class Meta:
        model = TechReport
        form = FilterForm
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(words_q(value)) if value.strip() else queryset


class ReportTable(ListTable):
    # Sorted by what an index holds (the date filed, the title): the organisation, the
    # project and its field would sort every published report through two joins
    # (75–100 ms at 50,000 reports on PostgreSQL, against 0.3 ms from an index).
    title = tables.Column(
        verbose_name=_("Title"), linkify=lambda record: reverse("report", args=[record.pk])
    )
    organisation = tables.Column(
        verbose_name=_("Organisation"), accessor="project__applicant_org__name", orderable=False
    )
    project = tables.Column(verbose_name=_("Project"), accessor="project__title", orderable=False)
    field = tables.Column(verbose_name=_("Field"), accessor="project__field", orderable=False)
    keywords = tables.Column(verbose_name=_("Keywords"), orderable=False)
    abstract = tables.Column(verbose_name=_("Abstract"), orderable=False)
    filed_at = LocalDateColumn(verbose_name=_("Filed on"))

    class Meta:
        model = TechReport
        fields = ("title", "organisation", "project", "field", "keywords", "abstract", "filed_at")
        sequence = fields
        attrs = {"class": "list", "data-testid": "reports"}
        row_attrs = {"data-report": lambda record: record.pk}
        empty_text = _("No report matches.")

    def render_abstract(self, value) -> str:
        return truncatechars(value, 120)

    def value_abstract(self, value) -> str:
        return value  # the whole abstract in the export


REPORTS = ListSpec(
    title=_("Tech reports"),
    filterset_class=ReportFilter,
    table_class=ReportTable,
    export_name="tech-reports",
    per_page=20,
    # Counting every published report joins each to its project's state: 87 ms at
    # 41,000 reports; counted to 10,000 it is a few ms (issue 10).
    count_cap=10_000,
    intro=_("Final reports of accepted projects, shared openly or once their embargo ends."),
)


def report_list(request):
    """Public: no sign-in needed, the same reports for everyone."""
    return list_response(request, REPORTS, public_reports())
