"""{% load money %} … {{ project.approved_amount|yuan }} → 1,234,567.50 元."""

from django import template

from .. import money

register = template.Library()


@register.filter
def yuan(value) -> str:
    return money.yuan(value)


@register.filter
def grouped(value) -> str:
    return money.grouped(value)
