"""The random inspections (双随机、一公开), to filter, sort, page and export (issue 11).

Every draw is public, as it always was: anyone, signed in or not, sees the draws, their
seeds, the projects and inspectors drawn and how many results are in. Staff draw from
this page. A draw's pools (every project in progress, every eligible inspector) are never
read here: the list shows the stored pool_size, and the pools are on the draw's own page.
"""

from __future__ import annotations

import django_filters
import django_tables2 as tables
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role, has_role
from accounts.text import BoundedFormMixin
from funding.models import Project
from integrity.views.feedback import FAILED, attempt
from lists.columns import LocalDateColumn
from lists.forms import FilterForm, search_filter
from lists.pages import ListSpec, list_response
from lists.tables import ListTable

from ..inspections import draw_inspections
from ..models import InspectionDraw, InspectionResult
from .projects import ANY, _year_choices

DRAWN_PROJECTS = InspectionDraw.projects.through
DRAWN_INSPECTORS = InspectionDraw.inspectors.through


class DrawState:
    OPEN = "open"
    COMPLETE = "complete"
    CHOICES = [(OPEN, _("Results outstanding")), (COMPLETE, _("All results recorded"))]
    LABELS = dict(CHOICES)


class DrawForm(BoundedFormMixin, forms.Form):
    n_projects = forms.IntegerField(label=_("Projects to draw"), min_value=1)
    n_inspectors = forms.IntegerField(label=_("Inspectors to draw"), min_value=1)
    seed = forms.CharField(
        label=_("Seed (empty: a random one, published with the draw)"),
        required=False,
        max_length=64,
    )


def _count(rows: QuerySet, key: str) -> Subquery:
    """How many of `rows` belong to the draw, as a subquery (no join that multiplies)."""
    counted = rows.filter(**{key: OuterRef("pk")}).order_by().values(key)
    return Coalesce(
        Subquery(counted.annotate(n=Count("*")).values("n"), output_field=IntegerField()),
        0,
    )


def draws_rows() -> QuerySet[InspectionDraw]:
    """Every draw with its counts and state, its drawn projects and inspectors fetched
    once for the whole page; its pools left in the database."""
    user_model = get_user_model()
    return (
        InspectionDraw.objects.defer("population", "inspector_pool")
        .annotate(
            drawn_n=_count(DRAWN_PROJECTS.objects.all(), "inspectiondraw"),
            recorded_n=_count(InspectionResult.objects.all(), "draw"),
        )
        .annotate(
            state=Case(
                When(recorded_n__lt=F("drawn_n"), then=Value(DrawState.OPEN)),
                default=Value(DrawState.COMPLETE),
                output_field=CharField(),
            )
        )
        .prefetch_related(
            Prefetch("projects", queryset=Project.objects.only("pk", "title").order_by("pk")),
            Prefetch(
                "inspectors",
                queryset=user_model.objects.only("pk", "username", "real_name").order_by("pk"),
            ),
        )
        .order_by("-drawn_at", "-pk")
    )


def _inspectors_drawn():
    return (
        get_user_model()
        .objects.filter(pk__in=DRAWN_INSPECTORS.objects.values("user_id"))
        .order_by("real_name", "pk")
    )


class InspectionFilter(django_filters.FilterSet):
    q = search_filter(_("Seed, a project drawn or an inspector's name"))
    year = django_filters.ChoiceFilter(
        label=_("Year drawn"), choices=_year_choices, field_name="drawn_at__year", empty_label=ANY
    )
    state = django_filters.ChoiceFilter(
        label=_("State"), choices=DrawState.CHOICES, field_name="state", empty_label=ANY
    )
    inspector = django_filters.ModelChoiceFilter(
        label=_("Inspector"),
        queryset=_inspectors_drawn(),
        method="filter_inspector",
        empty_label=ANY,
    )

    class Meta:
        model = InspectionDraw
        form = FilterForm
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        term = value.strip()
        if not term:
            return queryset
        drawn = DRAWN_PROJECTS.objects.filter(
            inspectiondraw=OuterRef("pk"), project__title__icontains=term
        )
        inspected_by = DRAWN_INSPECTORS.objects.filter(
            inspectiondraw=OuterRef("pk"), user__real_name__icontains=term
        )
        return queryset.filter(Q(seed__icontains=term) | Exists(drawn) | Exists(inspected_by))

    def filter_inspector(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(
            Exists(DRAWN_INSPECTORS.objects.filter(inspectiondraw=OuterRef("pk"), user=value))
        )


def _joined(names) -> str:
    return "、".join(names)


class InspectionTable(ListTable):
    drawn_at = LocalDateColumn(
        verbose_name=_("Date"), linkify=lambda record: reverse("inspection", args=[record.pk])
    )
    seed = tables.Column(verbose_name=_("Seed"), attrs={"td": {"class": "hash"}})
    pool_size = tables.Column(
        verbose_name=_("Pool"), attrs={"td": {"class": "num"}, "th": {"class": "num"}}
    )
    projects = tables.Column(
        verbose_name=_("Projects drawn"), accessor="pk", orderable=False, empty_values=()
    )
    inspectors = tables.Column(
        verbose_name=_("Inspectors drawn"), accessor="pk", orderable=False, empty_values=()
    )
    results = tables.Column(
        verbose_name=_("Results recorded"), accessor="recorded_n", order_by="recorded_n"
    )
    state = tables.Column(verbose_name=_("State"), order_by="state")

    class Meta:
        model = InspectionDraw
        fields = (
            "drawn_at",
            "seed",
            "pool_size",
            "projects",
            "inspectors",
            "results",
            "state",
        )
        sequence = fields
        attrs = {"class": "list", "data-testid": "inspections"}
        row_attrs = {"data-draw": lambda record: record.pk}
        empty_text = _("No draw matches.")

    def render_projects(self, record: InspectionDraw) -> str:
        return _joined(p.title for p in record.projects.all())

    def render_inspectors(self, record: InspectionDraw) -> str:
        return _joined(str(u) for u in record.inspectors.all())

    def render_results(self, record: InspectionDraw) -> str:
        return f"{record.recorded_n} / {record.drawn_n}"

    def render_state(self, value) -> str:
        return str(DrawState.LABELS.get(value, value))

    value_projects = render_projects
    value_inspectors = render_inspectors
    value_results = render_results
    value_state = render_state


INSPECTIONS = ListSpec(
    title=_("Random inspections (双随机、一公开)"),
    filterset_class=InspectionFilter,
    table_class=InspectionTable,
    export_name="inspections",
    per_page=50,
    template="oversight/inspections.html",
    intro=_(
        "Projects in progress and inspectors are drawn at random with a published seed; "
        "anyone can repeat a draw and get the same result."
    ),
)


def inspection_list(request):
    """The public list of draws; staff draw here (a refused draw comes back as typed)."""
    form = DrawForm(request.POST or None) if has_role(request.user, Role.STAFF) else None
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        draw = attempt(
            request,
            lambda: draw_inspections(
                request.user, data["n_projects"], data["n_inspectors"], data["seed"]
            ),
            gettext("Drawn. The seed and the pool are published with the result."),
            form=form,
        )
        if draw is not FAILED:
            return redirect("inspection", pk=draw.pk)
    return list_response(request, INSPECTIONS, draws_rows(), context={"form": form})
