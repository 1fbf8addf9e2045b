"""A page of a long list and how long the list is, read in one query (issue 10).

Django's Paginator counts the rows, then reads the page: two passes over everything the
filter matches. Here the count rides along with the page (COUNT(*) OVER ()), so a list of
20,000 tasks is walked once per request. Only a page past the end (or an empty list)
costs a separate count, to land on the last page as Paginator.get_page does.

Not for a queryset with .distinct(): the window counts the rows before DISTINCT.
"""

from __future__ import annotations

import math

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window

TOTAL = "_list_total"
MAX_PAGE = 1_000_000


def window_page(queryset: QuerySet, number, per_page: int) -> Page:
    """Page `number` (1 when it is no whole number above 0; the last when past the end)
    of the ordered `queryset`, whose paginator knows the count without counting again."""
    try:
        number = max(int(number), 1)
    except (TypeError, ValueError):
        number = 1
    # Past any list's end; a bigger offset would not even fit the database's integer.
    number = min(number, MAX_PAGE)
    counted = queryset.annotate(**{TOTAL: Window(Count("pk"))})

    def rows_of(n: int) -> list:
        start = (n - 1) * per_page
        return list(counted[start : start + per_page])

    rows = rows_of(number)
    if rows:
        total = getattr(rows[0], TOTAL)
    else:
        total = queryset.count()
        number = max(math.ceil(total / per_page), 1)
        rows = rows_of(number) if total else []
    paginator = Paginator(queryset, per_page)
    paginator.count = total  # Paginator.count is a cached property: this is its value
    return Page(rows, number, paginator)


def first_rows(queryset: QuerySet, n: int) -> dict:
    """The first `n` rows of the ordered `queryset` and how many rows it has, in one query."""
    rows = list(queryset.annotate(**{TOTAL: Window(Count("pk"))})[:n])
    total = getattr(rows[0], TOTAL) if rows else 0
    return {"rows": rows, "total": total, "more": total - len(rows)}
