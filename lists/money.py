"""Amounts as people read them: thousands separators, two decimals, and 元."""

from __future__ import annotations

import decimal

from django.utils.translation import gettext as _


def grouped(value) -> str:
    """1234567.5 → '1,234,567.50'; empty for no value."""
    if value is None or value == "":
        return ""
    try:
        amount = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        return str(value)
    return f"{amount:,.2f}"


def yuan(value) -> str:
    """1234567.5 → '1,234,567.50 元' (the unit translated: 'yuan' in English)."""
    text = grouped(value)
    if not text:
        return "—"
    return _("%(amount)s yuan") % {"amount": text}
