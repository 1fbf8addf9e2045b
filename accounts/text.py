"""Text and numbers checked as the database will hold them, before they get there.

PostgreSQL refuses NUL in text and in jsonb, a numeric(14, 2) overflows at 10^12, and a
line break in a title breaks the header of an e-mail: each was a server error (issue 6).
Forms check with `BoundedFormMixin`; every model of ours is checked again on save, on
every path (pages, admin, imports, commands, API), by `check_model_values`.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.forms.fields import InvalidJSONInput
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# A text without a model length (a reason, a summary, an opinion): longer belongs in a
# document, not in a form field.
LONG_TEXT_MAX = 20_000
# A form's whole-number field without bounds: PostgreSQL's integer.
INTEGER_BOUND = 2**31 - 1
# C0 and C1 controls and DEL; a multi-line text keeps tab, line feed and carriage return.
_MULTILINE_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# One line: no line breaks of any kind either (they break e-mail headers and listings).
_ONE_LINE_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The apps whose models the save-time check covers.
OUR_APPS = frozenset(
    {
        "accounts",
        "trail",
        "documents",
        "integrity",
        "funding",
        "oversight",
        "notifications",
        "workplan",
        "workflows",
    }
)


def text_problem(value: str, *, multiline: bool) -> str | None:
    """Why `value` may not be stored as text, or None."""
    found = (_MULTILINE_BAD if multiline else _ONE_LINE_BAD).search(value)
    if found is None:
        return None
    if found.group() in "\r\n\u2028\u2029":
        return str(_("Write this on one line, without line breaks."))
    return str(
        _("Remove the control character U+%(code)04X (it cannot be stored).")
        % {"code": ord(found.group())}
    )


@deconstructible
class NoControlCharacters:
    """Refuses NUL and other control characters; line breaks only in multi-line text."""

    def __init__(self, multiline: bool = True):
        self.multiline = multiline

    def __call__(self, value: Any) -> None:
        if isinstance(value, str):
            problem = text_problem(value, multiline=self.multiline)
            if problem:
                raise ValidationError(problem, code="control_characters")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoControlCharacters) and other.multiline == self.multiline


def check_text(value: str, *, label: str, max_length: int = LONG_TEXT_MAX, multiline=True):
    """A service's check of text it was handed directly (not through a form)."""
    if not isinstance(value, str):
        raise ValidationError(_("%(label)s: this must be text.") % {"label": label})
    problem = text_problem(value, multiline=multiline)
    if problem is None and len(value) > max_length:
        problem = _("at most %(n)d characters (it has %(has)d).") % {
            "n": max_length,
            "has": len(value),
        }
    if problem:
        raise ValidationError(f"{label}: {problem}")


def bound_field(field: forms.Field) -> None:
    """Give a form field the limits the database has, where the form itself set none."""
    if isinstance(field, forms.JSONField):  # a CharField too, but its value is not text
        _guard_json(field)
    elif isinstance(field, forms.CharField):
        multiline = isinstance(field.widget, forms.Textarea)
        if not any(isinstance(v, NoControlCharacters) for v in field.validators):
            field.validators.append(NoControlCharacters(multiline=multiline))
        if field.max_length is None:
            field.max_length = LONG_TEXT_MAX
            field.validators.append(MaxLengthValidator(LONG_TEXT_MAX))
            field.widget.attrs.setdefault("maxlength", str(LONG_TEXT_MAX))
    elif isinstance(field, forms.ModelChoiceField):
        _guard_integer_choices(field)

    elif isinstance(field, forms.IntegerField) and not isinstance(field, forms.DecimalField):
        if field.max_value is None:
            field.max_value = INTEGER_BOUND
            field.validators.append(MaxValueValidator(INTEGER_BOUND))
        if field.min_value is None:
            field.min_value = -INTEGER_BOUND
            field.validators.append(MinValueValidator(-INTEGER_BOUND))


def _guard_json(field: forms.JSONField) -> None:
    """Deep nesting makes json.loads raise RecursionError, which no form expects."""
    if getattr(field, "_json_guarded", False):
        return
    to_python = field.to_python

    def to_python_bounded(value):
        if isinstance(value, str) and len(value) > LONG_TEXT_MAX:
            raise ValidationError(
                _("At most %(n)d characters.") % {"n": LONG_TEXT_MAX}, code="max_length"
            )
        try:
            return to_python(value)
        except RecursionError:
            raise ValidationError(_("The data is nested too deeply."), code="invalid") from None

    bound_data = field.bound_data

    def bound_data_bounded(data, initial):
        try:
            return bound_data(data, initial)
        except RecursionError:  # shown back as typed, like any other invalid JSON
            return InvalidJSONInput(data)

    field.to_python = to_python_bounded
    field.bound_data = bound_data_bounded
    field._json_guarded = True


def _guard_integer_choices(field: forms.ModelChoiceField) -> None:
    """An id beyond the database's integers is an invalid choice, not an overflow."""
    model = field.queryset.model
    key = model._meta.pk if not field.to_field_name else model._meta.get_field(field.to_field_name)
    if not isinstance(key, models.IntegerField) or getattr(field, "_ids_guarded", False):
        return
    clean = field.clean

    def clean_in_range(value):
        for item in value if isinstance(value, list | tuple) else [value]:
            if item in field.empty_values:
                continue
            try:
                number = int(str(item).strip())
            except ValueError:
                number = None
            if number is None or not -(2**63) < number < 2**63:
                raise ValidationError(
                    field.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": str(item)[:40]},
                )
        return clean(value)

    field.clean = clean_in_range
    field._ids_guarded = True


class BoundedFormMixin:
    """Every text field refuses control characters and has a length; numbers are bounded."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            bound_field(field)

    def full_clean(self):
        # Again for fields a subclass added after __init__ (idempotent).
        for field in self.fields.values():
            bound_field(field)
        super().full_clean()


def bounded(form_class: type[forms.BaseForm]) -> type[forms.BaseForm]:
    """`form_class` with BoundedFormMixin (for forms made by the admin)."""
    if issubclass(form_class, BoundedFormMixin):
        return form_class
    return type(form_class.__name__, (BoundedFormMixin, form_class), {})


def json_problem(data: Any, depth: int = 0) -> str | None:
    """Why `data` cannot go into a JSON column: NUL or controls in text, NaN, Infinity."""
    if depth > 20:
        return str(_("The data is nested too deeply."))
    if isinstance(data, str):
        return text_problem(data, multiline=True)
    if isinstance(data, float | Decimal) and not math.isfinite(data):
        return str(_("Numbers must be finite (not NaN or Infinity)."))
    if isinstance(data, dict):
        items = [*data.keys(), *data.values()]
    elif isinstance(data, list | tuple):
        items = data
    else:
        return None
    for item in items:
        problem = json_problem(item, depth + 1)
        if problem:
            return problem
    return None


def _field_problem(field: models.Field, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json_problem(value)
    if isinstance(field, models.CharField | models.TextField):
        if not isinstance(value, str):
            return None  # an enum or a reference stored by its own field class
        problem = text_problem(value, multiline=isinstance(field, models.TextField))
        if problem is None and field.max_length and len(value) > field.max_length:
            problem = str(
                _("at most %(n)d characters (it has %(has)d).")
                % {"n": field.max_length, "has": len(value)}
            )
        return problem
    if isinstance(field, models.DecimalField | models.IntegerField):
        # max_digits/decimal_places (NaN and Infinity included), the backend's integer range.
        try:
            field.run_validators(field.to_python(value))
        except ValidationError as error:
            return " ".join(str(m) for m in error.messages)
    return None


def check_model_values(instance: models.Model) -> None:
    """Refuse, before the database does, a value it would refuse or mangle."""
    errors = {}
    for field in instance._meta.concrete_fields:
        if field.is_relation:
            continue
        problem = _field_problem(field, getattr(instance, field.attname, None))
        if problem:
            errors[field.name] = [f"{field.verbose_name}: {problem}"]
    if errors:
        raise ValidationError(errors)


def check_on_save(sender, instance, raw=False, **kwargs) -> None:
    """pre_save receiver: every model of ours (fixtures loaded raw are trusted)."""
    if not raw and sender._meta.app_label in OUR_APPS:
        check_model_values(instance)
