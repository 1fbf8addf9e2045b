"""Finding sanctions in the register and misconduct cases: a free-text search and filters.

Each list's page and its exports run the same filterset (lists.pages), so both hold the
same rows. A person's ID number is found however it is typed, or by the part the masked
column shows.
"""

from __future__ import annotations

import datetime
import unicodedata

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import IsoDateInput
from accounts.identity import normalise_credit_code, normalise_id_number
from lists.forms import ANY, FilterForm, date_filter, search_filter

from .models import (
    CaseStatus,
    Gate,
    MisconductCase,
    MisconductType,
    Sanction,
    Severity,
    SubjectKind,
)
from .policy import effective_sanctions_q


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


def identity_q(term: str, field: str) -> Q:
    """`field` holds the ID number or credit code `term` spells, or a part of one.

    An empty Q (which an OR with another condition drops) when the term is neither.
    """
    q = Q()
    number = _parsed_number(term)
    if number:
        q |= Q(**{field: number})
    compact = _compact(term)
    # Part of a number (e.g. the last four digits that the masked column shows).
    if len(compact) >= 4 and compact.isascii() and compact.isalnum():
        q |= Q(**{f"{field}__contains": compact})
    return q


def search_q(term: str) -> Q:
    """Name, unit and decision number in part; an ID number or credit code as typed."""
    term = term.strip()
    return (
        Q(subject_name__icontains=term)
        | Q(subject_unit__icontains=term)
        | Q(decision_no__icontains=term)
        | identity_q(term, "subject_id")
    )


def case_search_q(term: str) -> Q:
    """The respondent's name and unit and the decision number in part; the case number
    (with or without '#'); the respondent's ID number or credit code as typed."""
    term = term.strip()
    q = (
        Q(respondent_name__icontains=term)
        | Q(respondent_unit__icontains=term)
        | Q(decision_no__icontains=term)
        | identity_q(term, "respondent_id")
    )
    number = _compact(term).removeprefix("#")
    if number.isascii() and number.isdigit() and len(number) <= 9:
        q |= Q(pk=int(number))
    return q


class SanctionFilter(django_filters.FilterSet):
    q = search_filter(_("Name, unit, decision number, ID number or credit code"))
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
        label=_("In force on"), method="filter_in_force", widget=IsoDateInput()
    )
    recorded_from = date_filter(_("Recorded from"), "recorded_at__date", "gte")
    recorded_to = date_filter(_("Recorded until"), "recorded_at__date", "lte")
    starts_from = date_filter(_("Starting from"), "starts_on", "gte")
    starts_to = date_filter(_("Starting until"), "starts_on", "lte")

    class Meta:
        model = Sanction
        form = FilterForm
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(search_q(value)) if value.strip() else queryset

    def filter_gate(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # JSON `contains` is PostgreSQL-only; the quoted value in the JSON text is portable
        # and exact, since no gate's name is part of another's once quoted.
        return queryset.filter(gates__icontains=f'"{Gate(value).value}"')

    def filter_in_force(self, queryset: QuerySet, name: str, value: datetime.date) -> QuerySet:
        return queryset.filter(effective_sanctions_q(value))


def case_overdue_q(today: datetime.date) -> Q:
    """Past its procedural deadline: the respondent's time to reply has run out and
    neither their statement nor the lapse is recorded, so the officer's move is late.
    (The model's other deadlines, to appeal or ask for a review, are the respondent's.)"""
    return Q(
        status=CaseStatus.INVESTIGATING,
        hearing__isnull=False,
        hearing__received_on__isnull=True,
        hearing__lapsed_on__isnull=True,
        hearing__reply_by__lt=today,
    )


class CaseFilter(django_filters.FilterSet):
    q = search_filter(_("Respondent, unit, case or decision number, ID number or credit code"))
    status = django_filters.ChoiceFilter(
        label=_("Stage"), choices=CaseStatus.choices, empty_label=ANY
    )
    misconduct = django_filters.ChoiceFilter(
        label=_("Kind of misconduct"), choices=MisconductType.choices, empty_label=ANY
    )
    respondent_kind = django_filters.ChoiceFilter(
        label=_("Subject kind"), choices=SubjectKind.choices, empty_label=ANY
    )
    opened_from = date_filter(_("Opened from"), "opened_at__date", "gte")
    opened_to = date_filter(_("Opened until"), "opened_at__date", "lte")
    overdue = django_filters.ChoiceFilter(
        label=_("Past the deadline to reply, nothing recorded"),
        choices=[("true", _("yes")), ("false", _("no"))],
        method="filter_overdue",
        empty_label=ANY,
    )

    class Meta:
        model = MisconductCase
        form = FilterForm
        fields: list[str] = []

    @property
    def qs(self):
        rows = super().qs
        # The system's proposals have a section of their own above the list: in it
        # only when asked for.
        asked = self.form.cleaned_data.get("status") if self.is_bound else None
        if not asked:
            rows = rows.exclude(status=CaseStatus.PROPOSED)
        return rows

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(case_search_q(value)) if value.strip() else queryset

    def filter_overdue(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        late = case_overdue_q(timezone.localdate())
        return queryset.filter(late) if value == "true" else queryset.exclude(late)
