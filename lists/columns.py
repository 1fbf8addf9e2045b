"""Columns every list uses the same way."""

from __future__ import annotations

import django_tables2 as tables
from django.utils import timezone

from .money import yuan


class MoneyColumn(tables.Column):
    """Shown as '1,234,567.50 元', right-aligned; exported as the number itself."""

    def __init__(self, *args, **kwargs):
        attrs = kwargs.pop("attrs", {})
        attrs.setdefault("td", {"class": "amount"})
        attrs.setdefault("th", {"class": "amount"})
        super().__init__(*args, attrs=attrs, **kwargs)

    def render(self, value):
        return yuan(value)

    def value(self, value):
        return value


class DateColumn(tables.Column):
    """ISO dates (2026-11-26) in every language."""

    def render(self, value):
        return value.isoformat() if hasattr(value, "isoformat") else value

    def value(self, value):
        return value


class LocalDateColumn(tables.Column):
    """A moment shown and exported as its day in the site's time zone, ISO (2026-11-26)."""

    def render(self, value):
        return timezone.localdate(value).isoformat()

    def value(self, value):
        return timezone.localdate(value) if value else ""
