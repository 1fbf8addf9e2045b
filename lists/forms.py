"""The form a list's filters are read with: bounded like every form of ours.

A filterset opts in with `class Meta: form = FilterForm`. Text refuses control
characters and has a length; an id beyond the database's integers is an invalid choice
(not an overflow and a server error); numbers are bounded (accounts.text).
"""

from __future__ import annotations

from django import forms

from accounts.text import BoundedFormMixin


class FilterForm(BoundedFormMixin, forms.Form):
    pass
