"""The task contract's forms (issue 8): the terms as one item a line, and the achieved
values at acceptance. Parsing and the rules live in funding.contracts."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.text import BoundedFormMixin
from funding.amounts import AmountError, PlainNumberField, parse_amount, parse_plain_number
from funding.contracts import (
    TARGET_VALUE,
    parse_milestones,
    parse_schedule,
    parse_targets,
)

LIMIT = 20_000  # characters per section
# A target's value is no money, but is written in full too (no exponent, no NaN).
TARGET_MAX = Decimal(10) ** (TARGET_VALUE["max_digits"] - TARGET_VALUE["decimal_places"]) - (
    Decimal(1).scaleb(-TARGET_VALUE["decimal_places"])
)
# What funding.contracts would take that the amount rules refuse; a plain "很多" is left to
# the contract's own message.
NUMBER_RULES = {"exponent", "not_finite", "decimals", "too_large", "control", "separator"}


def _numbers_checked(text: str, position: int, parse) -> tuple[str, list[str]]:
    """The lines of `text` whose number (field `position` of three) breaks the amount
    rules, as errors; the text returned has those lines blanked, so the contract's parser
    reports the other lines under their own numbers."""
    kept, errors = [], []
    for n, line in enumerate(text.splitlines(), start=1):  # numbered as the parser does
        fields = [f.strip() for f in line.replace("，", ",").rsplit(",", 2)]
        if len(fields) == 3 and all(fields):
            try:
                parse(fields[position])
            except AmountError as error:
                if error.code in NUMBER_RULES:
                    errors.append(
                        _("Line %(n)s: “%(v)s”: %(why)s.")
                        % {"n": n, "v": fields[position][:40], "why": error.why}
                    )
                    line = ""
        kept.append(line)
    return "\n".join(kept), errors


def _target_value(text: str) -> Decimal:
    places = TARGET_VALUE["decimal_places"]
    return parse_plain_number(text.replace(" ", ""), places=places, maximum=TARGET_MAX)


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
        targets, target_errors = _numbers_checked(data.get("targets", ""), 2, _target_value)
        schedule, schedule_errors = _numbers_checked(data.get("schedule", ""), 1, parse_amount)
        for name, parse, text in (
            ("targets", parse_targets, targets),
            ("milestones", parse_milestones, data.get("milestones", "")),
        ):
            try:
                parsed[name] = parse(text)
            except ValidationError as error:
                self.add_error(name, error)
        names = {m.name for m in parsed.get("milestones", [])}
        try:
            parsed["schedule"] = parse_schedule(schedule, names)
        except ValidationError as error:
            self.add_error("schedule", error)
        for name, errors in (("targets", target_errors), ("schedule", schedule_errors)):
            if errors:
                self.add_error(name, errors)
                parsed.pop(name, None)
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
            self.fields[f"achieved_{target.pk}"] = PlainNumberField(
                label=f"{target.indicator} ({target.unit})",
                **TARGET_VALUE,
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
