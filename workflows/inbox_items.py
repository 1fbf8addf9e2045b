"""The inbox's rows and sections: what waits, where to do it, and by when.

Every row carries its due date where a rule sets one (and how many days it is late), or
else the day it started waiting, so the page can mark what is overdue in words and with
the class `overdue`, never by colour alone. A section shows its first SECTION_CAP rows and
says how many there are in all, counted in the same query (issue 10): the inbox makes the
same number of queries however much waits.

The rows arrive at the template ready to print (issue 10): the deadline's markup, the
dates as text and each address are made here, once per row, because the template engine
spends more on an include, a date filter, a plural translation or a `{% url %}` per row
than on everything else the page draws.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable

from django.db.models import Field, Model, QuerySet
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext

from .views.paging import first_rows

SECTION_CAP = 10

# A pk no row has: reversed once, then replaced by each row's own (pk_url).
_ANY_PK = 987654321987654321


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
    when there is no deadline); `mark` a (name, id) pair the page writes as data-name=id.
    `when` is the markup saying either, ready to print."""
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
        "when": when(due, since, days_late),
    }


@functools.lru_cache(maxsize=8)
def _words(language: str | None) -> dict[str, str]:
    """The words every row repeats, translated and escaped once per language."""
    return {
        "due on": escape(gettext("due on")),
        "waiting since": escape(gettext("waiting since")),
    }


def day(value: datetime.date | datetime.datetime) -> str:
    """A date as the page writes it (Y-m-d); a moment on its local day, as `|date` does."""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        value = value.date()
    return value.isoformat()


def minute(value: datetime.datetime) -> str:
    """A moment as the task table writes it (Y-m-d H:i, local time)."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m-%d %H:%M")


def when(due, since, days_late: int) -> SafeString:
    """The deadline and, in words and with the class `overdue`, whether it has passed; or,
    without one, since when the row waits ('' when neither is known)."""
    words = _words(get_language())
    if due is not None:
        on = day(due)
        late = " overdue" if days_late else ""
        html = f'<span class="due{late}">{words["due on"]} <time datetime="{on}">{on}</time></span>'
        if days_late:
            late_by = ngettext("Overdue by %(n)s day", "Overdue by %(n)s days", days_late)
            late_by = escape(late_by % {"n": days_late})
            html += f' <strong class="overdue" data-testid="overdue">{late_by}</strong>'
        return mark_safe(html)  # noqa: S308 - every part is escaped or a date we wrote
    if since is not None:
        on = day(since)
        return mark_safe(  # noqa: S308 - the same
            f'<span class="since">{words["waiting since"]} <time datetime="{on}">{on}</time></span>'
        )
    return mark_safe("")


@functools.lru_cache(maxsize=64)
def _around_pk(name: str, prefix: str, urlconf) -> tuple[str, str]:
    url = reverse(name, urlconf=urlconf, args=[_ANY_PK])
    head, _, tail = url.partition(str(_ANY_PK))
    return head, tail


def pk_url(name: str, pk) -> str:
    """What reverse(name, args=[pk]) gives, for an address whose only argument is a pk,
    without resolving the pattern again for every row."""
    head, tail = _around_pk(name, get_script_prefix(), get_urlconf())
    return f"{head}{int(pk)}{tail}"


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
    """A capped section of the inbox; `link` is the address of the page listing them all."""
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
