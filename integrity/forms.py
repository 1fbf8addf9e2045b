"""Forms of the register pages: record or correct a sanction, revoke it, note a rectification."""

from __future__ import annotations

import copy

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import IsoDateInput
from accounts.text import BoundedFormMixin

from .models import Gate, Measure, Sanction
from .services import normalise_subject, sanction_problems
from .tables import shown_number

DATE_WIDGET = IsoDateInput()


# What sanction_problems reads; when one of these is already wrong it cannot judge.
RULE_INPUTS = ("severity", "measures", "gates", "starts_on", "ends_on", "rectify_by")


class SanctionForm(BoundedFormMixin, forms.ModelForm):
    """A sanction decided by another body, or a correction of one already recorded.

    The register's rules (measures fit the severity, ban lengths) are `record_sanction`'s
    own `sanction_problems`, run here too so the admin (which builds on this form) shows
    them on its fields before it saves.
    """

    # Generous: a number may arrive with spaces or in full-width characters.
    subject_id = forms.CharField(
        label=_("ID number or credit code"),
        max_length=60,
        help_text=_("A person's 18-character ID number, or an organisation's credit code."),
    )
    measures = forms.MultipleChoiceField(
        label=_("Measures"), choices=Measure.choices, widget=forms.CheckboxSelectMultiple
    )
    gates = forms.MultipleChoiceField(
        label=_("Barred actions"),
        choices=Gate.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Sanction
        fields = [
            "subject_kind",
            "subject_id",
            "subject_name",
            "subject_unit",
            "severity",
            "measures",
            "gates",
            "decision_no",
            "reason",
            "starts_on",
            "ends_on",
            "rectify_by",
        ]
        widgets = {
            "reason": forms.Textarea(attrs={"rows": 3}),
            "starts_on": DATE_WIDGET,
            "ends_on": DATE_WIDGET,
            "rectify_by": DATE_WIDGET,
        }
        help_texts = {
            "ends_on": _("Empty: permanent (only for an especially severe case)."),
            "rectify_by": _("Only for projects suspended for rectification (暂停项目限期整改)."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A correction need not show the full number again: empty keeps it.
            self.fields["subject_id"].required = False
            self.fields["subject_id"].help_text = _(
                "Now %(number)s. Leave empty to keep it; type the full number to change it."
            ) % {"number": shown_number(self.instance)}
            self.initial["subject_id"] = ""

    def clean(self):
        cleaned = super().clean()
        kind, number = cleaned.get("subject_kind"), cleaned.get("subject_id")
        if not number and self.instance.pk and "subject_id" not in self.errors:
            number = self.instance.subject_id  # kept, but checked against the kind chosen
        if number and kind:
            try:
                cleaned["subject_id"] = normalise_subject(kind, number)
            except ValidationError as error:
                self.add_error("subject_id", error)
        if not any(field in self.errors for field in RULE_INPUTS):
            candidate = copy.copy(self.instance)
            for field in RULE_INPUTS:
                setattr(candidate, field, cleaned.get(field))
            for field, messages in sanction_problems(candidate).items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned


class RevokeForm(BoundedFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason for revocation"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example the review decision that revoked it."),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("A revocation needs a reason."))
        return reason


class RectificationForm(BoundedFormMixin, forms.Form):
    done_on = forms.DateField(label=_("Rectified on"), widget=DATE_WIDGET)

    def clean_done_on(self):
        done_on = self.cleaned_data["done_on"]
        if done_on > timezone.localdate():
            raise ValidationError(_("A rectification cannot be dated in the future."))
        return done_on
