"""The form a list's filters are read with: bounded like every form of ours.

A filterset opts in with `class Meta: form = FilterForm`. Text refuses control
characters and has a length; an id beyond the database's integers is an invalid choice
(not an overflow and a server error); numbers are bounded (accounts.text).
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.forms.renderers import get_default_renderer
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.translation import gettext_lazy as _

from accounts.forms import IsoDateInput
from accounts.text import BoundedFormMixin

SEARCH_MAX = 100  # characters of a list's search box
ANY = _("any")  # the empty choice of every choice filter


SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"


def _text(value) -> str:
    """`{{ value }}` in a template: localized, escaped unless safe."""
    return conditional_escape(str(localize(value)))


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: ` name="value"`, a bare name for True, none for False."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def select_html(widget: dict) -> str | None:
    """A `<select>` as Django's select.html writes it, drawn in Python: the template
    includes one template per option, ~20 ms for the 206 organisations of a county
    (issue 10). None for an option drawn by another template (left to it)."""
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in options:
            if option["template_name"] != OPTION:
                return None
            parts.append(
                f'\n  <option value="{conditional_escape(option["value"])}"'
                f"{_attrs(option['attrs'])}>{_text(option['label'])}</option>"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


class FilterRenderer:
    """The site's form renderer, but with `<select>` drawn by select_html."""

    def __getattr__(self, name):
        return getattr(get_default_renderer(), name)

    def render(self, template_name, context, request=None):
        if template_name == SELECT:
            html = select_html(context["widget"])
            if html is not None:
                return html
        return get_default_renderer().render(template_name, context, request=request)


class FilterForm(BoundedFormMixin, forms.Form):
    default_renderer = FilterRenderer()


def search_filter(help_text: str) -> django_filters.CharFilter:
    """Every list's search box `q`: read by the filterset's `filter_search` method."""
    return django_filters.CharFilter(
        label=_("Search"), method="filter_search", max_length=SEARCH_MAX, help_text=help_text
    )


# A trigram index (pg_trgm) can look up a term of three characters or more; a shorter one,
# such as 水稻, is found by reading every row whatever the indexes (issue 10).
TRIGRAM = 3


def contains_q(field: str, term: str) -> Q:
    """`field` holds `term`, whatever its case: `icontains`, which the trigram indexes on
    UPPER(column) serve on PostgreSQL. A term too short for them that has no case
    (Chinese: 水稻, digits) is matched as it is: the same rows, without upper-casing every
    row read (23 against 57 ms over 100,000 projects' titles and fields on PostgreSQL)."""
    caseless = term.upper() == term.lower()
    lookup = "contains" if len(term) < TRIGRAM and caseless else "icontains"
    return Q(**{f"{field}__{lookup}": term})


def date_filter(label: str, field_name: str, lookup_expr: str) -> django_filters.DateFilter:
    """A day to filter from or up to, picked as YYYY-MM-DD in every language."""
    return django_filters.DateFilter(
        label=label, field_name=field_name, lookup_expr=lookup_expr, widget=IsoDateInput()
    )
