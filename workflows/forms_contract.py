"""The task contract's forms (issue 8): the terms as one item a line, and the achieved
values at acceptance. Parsing and the rules live in funding.contracts."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.text import BoundedFormMixin
from funding.contracts import parse_milestones, parse_schedule, parse_targets

LIMIT = 20_000  # characters per section


def _area(label, help_text) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class ContractTermsForm(BoundedFormMixin, forms.Form):
    targets = _area(
        _("Targets (考核指标)"),
        _("One a line: indicator, unit, target value. E.g. “识别准确率, %, 90”."),
    )
    milestones = _area(
        _("Milestones"),
        _("One a line: milestone, YYYY-MM-DD. E.g. “中期检查, 2027-06-30”."),
    )
    schedule = _area(
        _("Payment schedule"),
        _(
            "One a line: tranche, amount in yuan, milestone name or 签订后 (on signing). "
            "The amounts add up to the approved amount."
        ),
    )

    def clean(self):
        data = super().clean()
        parsed = {}
        for name, parse in (("targets", parse_targets), ("milestones", parse_milestones)):
            try:
                parsed[name] = parse(data.get(name, ""))
            except ValidationError as error:
                self.add_error(name, error)
        names = {m.name for m in parsed.get("milestones", [])}
        try:
            parsed["schedule"] = parse_schedule(data.get("schedule", ""), names)
        except ValidationError as error:
            self.add_error("schedule", error)
        if "targets" in parsed and not parsed["targets"]:
            self.add_error("targets", _("Write at least one target."))
        self.parsed = parsed
        return data


class AchievedForm(BoundedFormMixin, forms.Form):
    """One achieved value (and an optional note) per target."""

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.targets = list(targets)
        for target in self.targets:
            self.fields[f"achieved_{target.pk}"] = forms.DecimalField(
                label=f"{target.indicator} ({target.unit})",
                max_digits=18,
                decimal_places=4,
                min_value=Decimal("0"),
                initial=target.achieved_value,
            )
            self.fields[f"note_{target.pk}"] = forms.CharField(
                label=_("Note"), max_length=500, required=False, initial=target.note
            )

    def values(self) -> dict[int, tuple[Decimal, str]]:
        return {
            t.pk: (self.cleaned_data[f"achieved_{t.pk}"], self.cleaned_data[f"note_{t.pk}"])
            for t in self.targets
        }
