"""Amounts of money as people type them, checked the same way on every path (DESIGN §5).

An amount is written in yuan with ASCII digits, a point and at most two decimals:
``1234.56``. Commas may group thousands (``1,234,567.89``, as finance software exports
them) and nothing else; spaces around the number are ignored; a leading minus is read
(the caller says whether it may be negative). Refused, with a message naming the rule:
exponent notation (``1e10``), NaN and Infinity, more than two decimals, more than
AMOUNT_MAX yuan (a setting, default 100,000,000), control characters such as NUL.
Trailing zeros do not count as decimals: ``1.500`` is 1.50.

One parser (`parse_amount`, used by the ledger import) and the two fields built on it:
`AmountField` for Django forms and `AmountSerializerField` for the API. Numbers that
are not money (a contract target's value) use `parse_plain_number` and
`PlainNumberField`: the same rules, with their own decimals and bound.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers

from .models import MONEY

CENT = Decimal("0.01")
# The largest amount the database column holds (numeric(14, 2)); AMOUNT_MAX is below it.
COLUMN_MAX = Decimal(10) ** (MONEY["max_digits"] - MONEY["decimal_places"]) - CENT
# Longer than any amount: not worth reading further (and never echoed whole).
MAX_CHARS = 40
_PLAIN = re.compile(r"[+-]?(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)")
# Scientific notation: a digit somewhere before the e, digits after it ("1e10", "1.5E+5").
_EXPONENT = re.compile(r"[+-]?(?=[.,]?[0-9])[0-9,]*\.?[0-9]*[eE][+-]?[0-9]+")
_NOT_FINITE = re.compile(r"[+-]?(?:s?nan[0-9]*|inf|infinity)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class AmountError(ValidationError):
    """Why a text is not an amount; `why` is a short phrase ("at most two decimals")."""

    def __init__(self, why: str, code: str):
        super().__init__(why, code=code)
        self.why = why


def amount_max() -> Decimal:
    """The largest amount accepted anywhere, in yuan (setting AMOUNT_MAX)."""
    return Decimal(str(settings.AMOUNT_MAX))


def yuan(amount: Decimal) -> str:
    """1234567.5 as “1,234,567.50”."""
    return f"{amount:,.2f}"


def parse_plain_number(text: str, *, places: int, maximum: Decimal, money: bool = False) -> Decimal:
    """`text` as a Decimal of at most `places` decimals and at most `maximum` in size.

    Raises AmountError (a ValidationError) whose `why` names the rule broken.
    """
    if not isinstance(text, str):
        raise AmountError(_("this is not a number"), "invalid")
    if _CONTROL.search(text):
        raise AmountError(_("a control character (such as NUL) is not part of a number"), "control")
    text = text.strip()
    if not text:
        raise AmountError(_("no number"), "empty")
    if len(text) > MAX_CHARS:
        raise AmountError(_("too long to be a number"), "invalid")
    if _EXPONENT.fullmatch(text):
        raise AmountError(
            _("write the number in full, without exponent (10000000000, not 1e10)"), "exponent"
        )
    if _NOT_FINITE.fullmatch(text):
        raise AmountError(_("NaN and Infinity are not numbers"), "not_finite")
    found = _PLAIN.fullmatch(text)
    if found is None:
        if "," in text:
            raise AmountError(_("commas may only group thousands, as in 1,234,567.89"), "separator")
        raise AmountError(_("write digits, with a point for decimals, e.g. 1234.56"), "invalid")
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:  # not reached after the pattern; kept as a guard
        raise AmountError(_("this is not a number"), "invalid") from None
    # The size first: quantizing 40 nines would overflow the decimal context.
    if abs(value) > maximum:
        if money:
            raise AmountError(_("at most %(max)s yuan") % {"max": yuan(maximum)}, "too_large")
        raise AmountError(_("at most %(max)s") % {"max": f"{maximum:,f}"}, "too_large")
    quantum = Decimal(1).scaleb(-places)
    if value != value.quantize(quantum):  # 1.50 and 1.500 are the same amount; 1.505 is not
        if money:
            raise AmountError(_("at most two decimals"), "decimals")
        raise AmountError(_("at most %(n)d decimals") % {"n": places}, "decimals")
    return value.quantize(quantum)


def parse_amount(text: str, *, maximum: Decimal | None = None) -> Decimal:
    """An amount in yuan, two decimals, at most `maximum` (default: AMOUNT_MAX)."""
    limit = min(maximum if maximum is not None else amount_max(), COLUMN_MAX)
    return parse_plain_number(text, places=2, maximum=limit, money=True)


def check_amount(value: Decimal, label: str) -> Decimal:
    """A service's check of an amount handed over as a number (not through a form or the
    import): the same rules, the message led by `label`."""
    text = _as_text(value)
    try:
        return parse_amount(text if text is not None else "")
    except AmountError as error:
        raise ValidationError(
            _("%(label)s: %(why)s.") % {"label": label, "why": error.why}, code=error.code
        ) from None


def _as_text(value) -> str | None:
    """A value handed over already as a number (an initial value, JSON), as typed text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal | float):
        number = Decimal(repr(value)) if isinstance(value, float) else value
        return f"{number:f}" if number.is_finite() else str(number)
    return value if isinstance(value, str) else None


class PlainNumberField(forms.DecimalField):
    """A number written in full: no exponent, no NaN or Infinity (DESIGN §5)."""

    money = False

    def __init__(self, *, max_digits: int, decimal_places: int, **kwargs):
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)

    def maximum(self) -> Decimal:
        return Decimal(10) ** (self.max_digits - self.decimal_places) - Decimal(1).scaleb(
            -self.decimal_places
        )

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = _as_text(value)
        if text is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return parse_plain_number(
                text, places=self.decimal_places, maximum=self.maximum(), money=self.money
            )
        except AmountError as error:
            raise ValidationError(
                _("Value: %(why)s.") % {"why": error.why}, code=error.code
            ) from None

    def validate(self, value):
        forms.Field.validate(self, value)  # finiteness and digits: checked in to_python


class AmountField(PlainNumberField):
    """An amount in yuan: two decimals, at most AMOUNT_MAX, written in full.

    Takes the `MONEY` keywords of a model or form (max_digits and decimal_places are the
    column's, 14 and 2, whatever is passed).
    """

    money = True

    def __init__(self, *, max_digits=None, decimal_places=None, **kwargs):
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(
            max_digits=MONEY["max_digits"], decimal_places=MONEY["decimal_places"], **kwargs
        )

    def maximum(self) -> Decimal:
        return min(amount_max(), COLUMN_MAX)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = _as_text(value)
        if text is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return parse_amount(text)
        except AmountError as error:
            raise ValidationError(
                _("Amount: %(why)s.") % {"why": error.why}, code=error.code
            ) from None

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if isinstance(widget, forms.NumberInput) and "max" not in widget.attrs:
            attrs["max"] = str(self.maximum())
        return attrs


class AmountSerializerField(serializers.DecimalField):
    """The API's amount: the same rules as the forms' (`parse_amount`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", MONEY["max_digits"])
        kwargs.setdefault("decimal_places", MONEY["decimal_places"])
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = _as_text(data)
        if text is None:
            self.fail("invalid")
        try:
            value = parse_amount(text)
        except AmountError as error:
            raise serializers.ValidationError(
                _("Amount: %(why)s.") % {"why": error.why}, code=error.code
            ) from None
        return self.quantize(self.validate_precision(value))
