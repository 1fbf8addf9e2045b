"""The calls for applications, to filter, sort, page and export (issue 11).

Every signed-in user sees every call, as on the page this list replaced; an applicant
finds an "Apply" link beside each call open today. Whether a call is open, closed or
still to open is worked out in the database, so it filters and sorts like any column.
"""

from __future__ import annotations

import django_filters
import django_tables2 as tables
from django.contrib.auth.decorators import login_required
from django.db.models import Case, CharField, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role, has_role
from funding.models import Call
from lists.columns import DateColumn, MoneyColumn
from lists.forms import FilterForm
from lists.pages import ListSpec, list_response
from lists.tables import ListTable

from .projects import ANY, _year_choices


class CallState:
    OPEN = "open"
    CLOSED = "closed"
    UPCOMING = "upcoming"
    CHOICES = [
        (OPEN, _("Open now")),
        (UPCOMING, _("Not yet open")),
        (CLOSED, _("Closed")),
    ]
    LABELS = dict(CHOICES)


def state_on(today) -> Case:
    """A call's state on `today`, as the database works it out (funding.services.call_is_open
    says the same: open from its opening day to its closing day, both included)."""
    return Case(
        When(opens_on__gt=today, then=Value(CallState.UPCOMING)),
        When(closes_on__lt=today, then=Value(CallState.CLOSED)),
        default=Value(CallState.OPEN),
        output_field=CharField(),
    )


def _program_choices():
    programs = Call.objects.order_by("program").values_list("program", flat=True).distinct()
    return [(program, program) for program in programs]


class CallFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        field_name="title",
        lookup_expr="icontains",
        max_length=100,
        help_text=_("Words of the call's title"),
    )
    state = django_filters.ChoiceFilter(
        label=_("Open for applications"), choices=CallState.CHOICES, empty_label=ANY
    )
    year = django_filters.ChoiceFilter(
        label=_("Year it opens"),
        choices=_year_choices,
        field_name="opens_on__year",
        empty_label=ANY,
    )
    program = django_filters.ChoiceFilter(
        label=_("Program"), choices=_program_choices, empty_label=ANY
    )

    class Meta:
        model = Call
        fields: list[str] = []
        form = FilterForm  # bounded like every form of ours


class CallTable(ListTable):
    title = tables.Column(verbose_name=_("Title"))
    program = tables.Column(verbose_name=_("Program"))
    opens_on = DateColumn(verbose_name=_("Opens on"))
    closes_on = DateColumn(verbose_name=_("Closes on"))
    funding_cap = MoneyColumn(verbose_name=_("Funding cap per project"))
    state = tables.Column(verbose_name=_("Open for applications"))
    apply = tables.Column(
        verbose_name=_("Apply"), accessor="pk", orderable=False, exclude_from_export=True
    )

    class Meta:
        model = Call
        fields = ("title", "program", "opens_on", "closes_on", "funding_cap", "state")
        attrs = {"class": "list", "data-testid": "calls"}
        empty_text = _("No calls match.")
        order_by = ("-opens_on",)

    def __init__(self, data, *args, request=None, **kwargs):
        user = getattr(request, "user", None)
        if not has_role(user, Role.APPLICANT):  # only applicants apply
            kwargs["exclude"] = (*kwargs.get("exclude", ()), "apply")
        super().__init__(data, *args, request=request, **kwargs)

    def render_state(self, value):
        return CallState.LABELS.get(value, value)

    def value_state(self, value):
        return str(CallState.LABELS.get(value, value))

    def render_apply(self, value, record):
        if record.state != CallState.OPEN:
            return ""
        return format_html(
            '<a class="button" href="{}">{}</a>', reverse("apply", args=[value]), _("Apply")
        )


CALLS = ListSpec(
    title=_("Calls"),
    filterset_class=CallFilter,
    table_class=CallTable,
    export_name="calls",
)


def calls_rows() -> QuerySet[Call]:
    # Long texts and the rules stay unread: the list shows none of them.
    unread = ("description", "indirect_tiers", "criteria", "required_documents")
    return Call.objects.defer(*unread).annotate(state=state_on(timezone.localdate()))


@login_required
def call_list(request):
    return list_response(request, CALLS, calls_rows())
