"""The acceptance panel's forms: staff draw it, members vote, the PI answers the findings."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.text import BoundedFormMixin
from oversight.models import AcceptancePanel

VERDICTS = [("pass", _("Pass")), ("fail", _("Fail"))]


class PanelDrawForm(BoundedFormMixin, forms.Form):
    # The minimum is the service's rule (MIN_ACCEPTANCE_PANEL), with its own message.
    size = forms.IntegerField(label=_("Panel members to draw"), min_value=1, max_value=99)
    seed = forms.CharField(
        label=_("Seed (empty: a random one, kept with the draw)"),
        required=False,
        max_length=AcceptancePanel._meta.get_field("seed").max_length,
    )
    reason = forms.CharField(
        label=_("Reason for drawing again (only when a panel was drawn before)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="panel_draw", **kwargs)
        self.fields["size"].initial = settings.MIN_ACCEPTANCE_PANEL


class VerdictForm(BoundedFormMixin, forms.Form):
    task_verdict = forms.ChoiceField(
        label=_("Task verdict (the contract's targets met?)"),
        choices=VERDICTS,
        widget=forms.RadioSelect,
    )
    finance_verdict = forms.ChoiceField(
        label=_("Finance verdict (the funds used as budgeted and audited?)"),
        choices=VERDICTS,
        widget=forms.RadioSelect,
    )
    opinion = forms.CharField(label=_("Your opinion"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="verdict", **kwargs)

    def verdict(self) -> dict:
        data = self.cleaned_data
        return {
            "task_passed": data["task_verdict"] == "pass",
            "finance_passed": data["finance_verdict"] == "pass",
            "opinion": data["opinion"],
        }


class FindingsAnswerForm(BoundedFormMixin, forms.Form):
    answer = forms.CharField(
        label=_("Your answer to the audit findings (what was corrected, with evidence)"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="findings", **kwargs)
