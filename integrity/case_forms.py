"""The forms of the case procedure: one per step that asks for something.

Each form's cleaned data are the keyword arguments of the step in integrity.cases, so
the page adds nothing the service does not check again.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import IsoDateInput
from accounts.text import BoundedFormMixin

from .models import Gate, Measure, MisconductCase, Severity
from .services import normalise_subject

DATE = IsoDateInput()


def _date(label, required=True, help_text="", today=False) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=DATE,
        initial=timezone.localdate if today else None,
    )


def _text(label, rows=2, required=True) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, widget=forms.Textarea(attrs={"rows": rows})
    )


class CaseForm(BoundedFormMixin, forms.ModelForm):
    # Room for a number typed with spaces or full-width digits; stored canonical (18).
    respondent_id = forms.CharField(label=_("Respondent's ID number or credit code"), max_length=40)

    class Meta:
        model = MisconductCase
        fields = [
            "reporter",
            "respondent_kind",
            "respondent_id",
            "respondent_name",
            "respondent_unit",
            "misconduct",
            "allegation",
            "evidence",
        ]
        widgets = {
            "allegation": forms.Textarea(attrs={"rows": 3}),
            "evidence": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self):
        # Canonical before the model's own checks (18 characters); open_case checks again.
        cleaned = super().clean()
        kind, number = cleaned.get("respondent_kind"), cleaned.get("respondent_id")
        if kind and number:
            try:
                cleaned["respondent_id"] = normalise_subject(kind, number)
            except ValidationError as error:
                self.add_error("respondent_id", error.messages)
        return cleaned


class ReasonStep(BoundedFormMixin, forms.Form):
    reason = _text(_("Reason"))


class RecordStep(BoundedFormMixin, forms.Form):
    text = _text(_("Finding of the investigation"), rows=3)


class NotifyStep(BoundedFormMixin, forms.Form):
    reply_by = _date(
        _("Reply by"), help_text=_("The last day the respondent may state their case.")
    )


class StatementStep(BoundedFormMixin, forms.Form):
    statement = _text(_("The respondent's statement"), rows=4)
    received_on = _date(_("Received on"), today=True)


class DecideStep(BoundedFormMixin, forms.Form):
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    measures = forms.MultipleChoiceField(
        label=_("Measures (处理措施)"),
        choices=Measure.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A minor case (情节较轻) takes only talk, criticism or suspension."),
    )
    rectify_by = _date(
        _("Rectify by"),
        required=False,
        help_text=_("For a suspension with rectification (暂停项目限期整改): a date ahead."),
    )
    gates = forms.MultipleChoiceField(
        label=_("Barred actions"),
        choices=Gate.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only for a ban, or a withdrawn expert qualification (serving as an expert)."),
    )
    starts_on = _date(_("Takes effect on"), today=True)
    ends_on = _date(
        _("Ban ends on"),
        required=False,
        help_text=_("Only for a ban; empty: permanent (especially severe cases only)."),
    )
    decision_no = forms.CharField(label=_("Decision number (处理决定书)"), max_length=100)
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=300)
    reason = _text(_("Facts found"), rows=3)
    served_on = _date(
        _("Letter served on"),
        today=True,
        help_text=_("The appeal period runs from this day."),
    )


class ChallengeStep(BoundedFormMixin, forms.Form):
    filed_on = _date(_("Filed on"), today=True)
    grounds = _text(_("Grounds"), rows=3)


class ReviewRequestStep(ChallengeStep):
    authority = forms.CharField(
        label=_("Reviewing authority"),
        max_length=200,
        help_text=_("The higher authority the review was filed with."),
    )


class AnswerStep(BoundedFormMixin, forms.Form):
    answered_on = _date(_("Answered on"), today=True)
    reason = _text(_("Reasons"), rows=3)


STEP_FORMS: dict[str, type[forms.Form] | None] = {
    "accept": None,
    "record_lapse": None,
    "refuse": ReasonStep,
    "dismiss": ReasonStep,
    "clear": ReasonStep,
    "add_to_record": RecordStep,
    "notify_respondent": NotifyStep,
    "record_statement": StatementStep,
    "decide": DecideStep,
    "appeal": ChallengeStep,
    "request_review": ReviewRequestStep,
    "uphold_on_appeal": AnswerStep,
    "revoke_on_appeal": AnswerStep,
    "uphold_on_review": AnswerStep,
    "revoke_on_review": AnswerStep,
}


def step_form(name: str, data=None, initial: dict | None = None) -> forms.Form | None:
    """The form of step `name` (None: it asks nothing), prefixed so several share a page."""
    form_class = STEP_FORMS.get(name, ReasonStep)
    return form_class(data, prefix=name, initial=initial) if form_class else None
