"""The work plan's forms. Values are checked by each indicator's own rules
(indicators.parse_value); a form with an error comes back as typed."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.forms import IsoDateInput
from accounts.text import BoundedFormMixin
from funding.amounts import AmountField

from .indicators import BY_CODE, ENTERED_INDICATORS, INDICATORS, Indicator, parse_value
from .models import YEAR_MAX, YEAR_MIN, UpwardRecommendation
from .services import PROGRAMME_MAX

DATE = IsoDateInput()
VALUE_CHARS = 40


def shown(indicator: Indicator, value: Decimal | None) -> str:
    """A stored value as the form shows it again (no separators: typed back as is)."""
    return "" if value is None else f"{value:.{indicator.places}f}"


class YearForm(BoundedFormMixin, forms.Form):
    year = forms.IntegerField(
        label=gettext_lazy("Year"), min_value=YEAR_MIN, max_value=YEAR_MAX, required=False
    )

    def chosen(self) -> int:
        """The year asked for, or this year (a bad one is said, and this year shown)."""
        if self.is_valid() and self.cleaned_data["year"]:
            return self.cleaned_data["year"]
        return timezone.localdate().year


class IndicatorValueField(forms.CharField):
    """A value of one indicator, as typed; empty is None."""

    def __init__(self, indicator: Indicator, **kwargs):
        self.indicator = indicator
        kwargs.setdefault("max_length", VALUE_CHARS)
        kwargs.setdefault("required", False)
        super().__init__(label=indicator.label, **kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        try:
            return parse_value(self.indicator, text)
        except ValidationError as error:
            raise ValidationError(f"{error.messages[0]}.", code=error.code) from None


class TargetsForm(BoundedFormMixin, forms.Form):
    """One field per indicator; an emptied field removes that target."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for indicator in INDICATORS:
            self.fields[indicator.code] = IndicatorValueField(indicator)

    def rows(self):
        return [(BY_CODE[name], self[name]) for name in self.fields]


class ActualForm(BoundedFormMixin, forms.Form):
    indicator = forms.ChoiceField(
        label=gettext_lazy("Indicator"),
        choices=[(i.code, i.label) for i in ENTERED_INDICATORS],
    )
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=YEAR_MIN, max_value=YEAR_MAX)
    month = forms.TypedChoiceField(
        label=gettext_lazy("Month"), coerce=int, choices=[(m, str(m)) for m in range(1, 13)]
    )
    value = forms.CharField(
        label=gettext_lazy("Value"),
        max_length=VALUE_CHARS,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def clean(self):
        data = super().clean()
        indicator = BY_CODE.get(data.get("indicator", ""))
        if indicator is not None and "value" in data:
            try:
                data["value"] = parse_value(indicator, data["value"])
            except ValidationError as error:
                self.add_error("value", f"{error.messages[0]}.")
        return data


class ImportForm(BoundedFormMixin, forms.Form):
    file = forms.FileField(label=gettext_lazy("Filled template (.xlsx)"))


class RecommendForm(BoundedFormMixin, forms.Form):
    level = forms.ChoiceField(
        label=gettext_lazy("Programme level"), choices=UpwardRecommendation.Level.choices
    )
    programme = forms.CharField(label=gettext_lazy("Programme"), max_length=PROGRAMME_MAX)
    recommended_on = forms.DateField(label=gettext_lazy("Recommended on"), widget=DATE)


class ResultForm(BoundedFormMixin, forms.Form):
    Result = UpwardRecommendation.Result

    result = forms.ChoiceField(
        label=gettext_lazy("Result"),
        choices=[(Result.WON, Result.WON.label), (Result.NOT_WON, Result.NOT_WON.label)],
    )
    funds_won = AmountField(label=gettext_lazy("Funds won (yuan)"), required=False)
    decided_on = forms.DateField(label=gettext_lazy("Decided on"), widget=DATE)

    def clean(self):
        data = super().clean()
        if data.get("result") == self.Result.WON and data.get("funds_won") is None:
            if "funds_won" not in self.errors:
                self.add_error("funds_won", _("Say how much was won, in yuan (0 if none)."))
        return data
