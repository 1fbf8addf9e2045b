"""The base of every list's table."""

from __future__ import annotations

from functools import partial

import django_tables2 as tables
from django.db import models
from django.template.base import render_value_in_context
from django.template.context import Context
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django_tables2.utils import Accessor

CELL_CONTEXT = Context()  # how `{{ cell }}` shows a value: local time, localized, escaped


def _static(attrs) -> bool:
    """Whether `attrs` (a column's or a table's) holds no value computed per row."""
    return not any(
        callable(value) or (isinstance(value, dict) and not _static(value))
        for value in attrs.values()
    )


def _label(label):
    return label


def _choice_labels(columns, records: list) -> None:
    """Gives the records of a page their choice columns' labels ready: django-tables2 shows
    such a column through the model's get_FOO_display(), which hashes every label of the
    field's choices, translating each, for each cell (~50 µs; 115 cells on a page of
    cases, issue 10). Each field's labels are translated once per page here instead."""
    labels_of: dict = {}
    for column in columns:
        accessor = Accessor(column.accessor)
        for record in records:
            owner, name = accessor.penultimate(record)
            if not isinstance(owner, models.Model):
                continue
            field = accessor.get_field(record)
            if not getattr(field, "choices", None) or getattr(field, "name", None) != name:
                continue
            if field not in labels_of:
                labels_of[field] = {value: str(text) for value, text in field.flatchoices}
            value = getattr(owner, field.attname)
            try:
                shown = labels_of[field].get(value, value)
            except TypeError:  # a value that cannot be hashed: left to Django
                continue
            owner.__dict__[f"get_{name}_display"] = partial(_label, shown)


def _cell_html(column, cell) -> str:
    """A cell as django-tables2's table.html writes it (`{{ cell }}`, or through the
    `localize` / `unlocalize` filter when the column says so)."""
    if column.localize is None:
        return render_value_in_context(cell, CELL_CONTEXT)
    return conditional_escape(str(localize(cell, use_l10n=column.localize)))


class ListTable(tables.Table):
    """A table that knows who looks (`self.request`, `self.user`) without configuring
    itself from the address: django-tables2 would then paginate in the constructor with a
    page size the address may set (?per_page=), before lists.pages sets its own."""

    def __init__(self, data, *args, request=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.request = request
        self.user = getattr(request, "user", None)

    def body_html(self) -> SafeString:
        """The rows of the page, as django-tables2's table.html draws them (the same
        cells, attributes and empty text) but in Python: the template's loop and lookups
        per cell cost ~1 ms a row of ten columns (issue 10). A cell's attributes are
        worked out once per column unless they are computed per row."""
        static = _static(self.attrs)
        td_of = {}
        rows = []
        page = self.paginated_rows
        _choice_labels(self.columns, list(page.data))
        for row in page:
            cells = []
            for column, cell in row.items():
                td = td_of.get(column.name)
                if td is None:
                    td = column.attrs["td"].as_html()
                    if static and _static(column.column.attrs):
                        td_of[column.name] = td
                cells.append(f"<td {td}>{_cell_html(column, cell)}</td>")
            rows.append(f"<tr {row.attrs.as_html()}>{''.join(cells)}</tr>")
        if not rows and self.empty_text:
            rows.append(
                format_html('<tr><td colspan="{}">{}</td></tr>', len(self.columns), self.empty_text)
            )
        return mark_safe("\n".join(rows))
