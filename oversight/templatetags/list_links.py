"""The menu's links to the lists of issue 11: `{% load list_links %}`, then
`{% if user|reads_fund_trails %}` for the voucher and budget-adjustment lists."""

from __future__ import annotations

from django import template

from ..access import reads_fund_trails as _reads_fund_trails

register = template.Library()


@register.filter
def reads_fund_trails(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and _reads_fund_trails(user)
