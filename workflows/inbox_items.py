"""The inbox's rows and sections: what waits, where to do it, and by when.

Every row carries its due date where a rule sets one (and how many days it is late), or
else the day it started waiting, so the page can mark what is overdue in words and with
the class `overdue`, never by colour alone. A section shows its first SECTION_CAP rows and
says how many there are in all, counted in the same query (issue 10): the inbox makes the
same number of queries however much waits.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable

from django.db.models import Field, Model, QuerySet

from .views.paging import first_rows

SECTION_CAP = 20


def item(
    title: str,
    today: datetime.date,
    *,
    project=None,
    url: str = "",
    due: datetime.date | None = None,
    since: datetime.date | datetime.datetime | None = None,
    detail: str = "",
    mark: tuple[str, int] | None = None,
) -> dict:
    """One row: `due` the deadline a rule sets, `since` when it started waiting (shown
    when there is no deadline); `mark` a (name, id) pair the page writes as data-name=id."""
    days_late = (today - due).days if due is not None and due < today else 0
    return {
        "title": title,
        "project": project,
        "url": url,
        "due": due,
        "since": since,
        "overdue": days_late > 0,
        "days_late": days_late,
        "detail": detail,
        "mark": mark,
    }


@functools.cache
def _labels(field: Field) -> dict:
    """A field's choices, value to (lazily translated) label, built once per field."""
    return dict(field.flatchoices)


def label(obj: Model, name: str) -> str:
    """What obj.get_<name>_display() says, without its cost: Django builds the choices
    again and translates every label of the field on each call (about a hundred rows on
    a full inbox, 24 labels for a project's state)."""
    value = getattr(obj, name)
    return str(_labels(obj._meta.get_field(name)).get(value, value))


def capped(rows: QuerySet | list, cap: int = SECTION_CAP) -> dict:
    """The first `cap` rows and how many there are in all: one query for a queryset."""
    if isinstance(rows, QuerySet):
        return first_rows(rows, cap)
    return {"rows": rows[:cap], "total": len(rows), "more": max(len(rows) - cap, 0)}


def section(
    key: str,
    heading: str,
    rows: QuerySet | list,
    to_item: Callable[[object], dict],
    *,
    testid: str = "",
    link: str = "",
) -> dict:
    """A capped section of the inbox; `link` names the page listing them all."""
    first = capped(rows)
    return {
        "key": key,
        "heading": heading,
        "testid": testid or f"inbox-{key}",
        "objects": first["rows"],
        "items": [to_item(row) for row in first["rows"]],
        "count": first,
        "link": link,
    }


def shown(sections: Iterable[dict]) -> list[dict]:
    """The sections with something in them, in their order."""
    return [s for s in sections if s["items"]]
