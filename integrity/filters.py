"""Finding sanctions in the register: one free-text search and a few filters.

Shared by the register page and its Excel export, so both show the same rows.
"""

from __future__ import annotations

import datetime
import unicodedata

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.identity import normalise_credit_code, normalise_id_number

from .models import Gate, Sanction, Severity, SubjectKind
from .policy import effective_sanctions_q

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ANY = _("any")


def _compact(term: str) -> str:
    # The same folding as the identity module: full-width → ASCII, no spaces, upper case.
    return unicodedata.normalize("NFKC", term).replace(" ", "").upper()


def _parsed_number(term: str) -> str | None:
    """The canonical ID number or credit code the term spells, if it spells one."""
    for normalise in (normalise_id_number, normalise_credit_code):
        try:
            return normalise(term)
        except ValidationError:
            continue
    return None


def search_q(term: str) -> Q:
    """Name, unit and decision number in part; an ID number or credit code as typed."""
    term = term.strip()
    q = (
        Q(subject_name__icontains=term)
        | Q(subject_unit__icontains=term)
        | Q(decision_no__icontains=term)
    )
    number = _parsed_number(term)
    if number:
        q |= Q(subject_id=number)
    compact = _compact(term)
    # Part of a number (e.g. the last four digits that the masked column shows).
    if len(compact) >= 4 and compact.isascii() and compact.isalnum():
        q |= Q(subject_id__contains=compact)
    return q


class SanctionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        max_length=100,
        help_text=_("Name, unit, decision number, ID number or credit code"),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Sanction.Status.choices, empty_label=ANY
    )
    severity = django_filters.ChoiceFilter(
        label=_("Severity"), choices=Severity.choices, empty_label=ANY
    )
    subject_kind = django_filters.ChoiceFilter(
        label=_("Subject kind"), choices=SubjectKind.choices, empty_label=ANY
    )
    gate = django_filters.ChoiceFilter(
        label=_("Bars the action"), choices=Gate.choices, method="filter_gate", empty_label=ANY
    )
    in_force_on = django_filters.DateFilter(
        label=_("In force on"), method="filter_in_force", widget=DATE_WIDGET
    )
    recorded_from = django_filters.DateFilter(
        label=_("Recorded from"),
        field_name="recorded_at__date",
        lookup_expr="gte",
        widget=DATE_WIDGET,
    )
    recorded_to = django_filters.DateFilter(
        label=_("Recorded until"),
        field_name="recorded_at__date",
        lookup_expr="lte",
        widget=DATE_WIDGET,
    )
    starts_from = django_filters.DateFilter(
        label=_("Starting from"), field_name="starts_on", lookup_expr="gte", widget=DATE_WIDGET
    )
    starts_to = django_filters.DateFilter(
        label=_("Starting until"), field_name="starts_on", lookup_expr="lte", widget=DATE_WIDGET
    )

    class Meta:
        model = Sanction
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(search_q(value)) if value.strip() else queryset

    def filter_gate(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # JSON `contains` is PostgreSQL-only; the quoted value in the JSON text is portable
        # and exact, since no gate's name is part of another's once quoted.
        return queryset.filter(gates__icontains=f'"{Gate(value).value}"')

    def filter_in_force(self, queryset: QuerySet, name: str, value: datetime.date) -> QuerySet:
        return queryset.filter(effective_sanctions_q(value))
