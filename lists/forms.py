"""The form a list's filters are read with: bounded like every form of ours.

A filterset opts in with `class Meta: form = FilterForm`. Text refuses control
characters and has a length; an id beyond the database's integers is an invalid choice
(not an overflow and a server error); numbers are bounded (accounts.text).
"""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import IsoDateInput
from accounts.text import BoundedFormMixin

SEARCH_MAX = 100  # characters of a list's search box
ANY = _("any")  # the empty choice of every choice filter


class FilterForm(BoundedFormMixin, forms.Form):
    pass


def search_filter(help_text: str) -> django_filters.CharFilter:
    """Every list's search box `q`: read by the filterset's `filter_search` method."""
    return django_filters.CharFilter(
        label=_("Search"), method="filter_search", max_length=SEARCH_MAX, help_text=help_text
    )


def date_filter(label: str, field_name: str, lookup_expr: str) -> django_filters.DateFilter:
    """A day to filter from or up to, picked as YYYY-MM-DD in every language."""
    return django_filters.DateFilter(
        label=label, field_name=field_name, lookup_expr=lookup_expr, widget=IsoDateInput()
    )
