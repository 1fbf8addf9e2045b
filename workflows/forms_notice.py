"""The public notice's forms: an objection anyone lodges, and staff's decision on it."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from accounts.text import BoundedFormMixin
from funding.objection_services import OBJECTION_TEXT_MAX, objection_context
from funding.objections import Objection

# A telephone number loosely: an optional +, then 7 to 15 digits, with spaces, dashes
# or brackets between them as people write them (0571-8888 8888, +86 138 0000 0000).
PHONE = re.compile(r"\+?[0-9]{7,15}")
PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")


def _limit(name: str) -> int:
    return Objection._meta.get_field(name).max_length


class ObjectionForm(BoundedFormMixin, forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=_limit("name"))
    contact = forms.CharField(
        label=_("Telephone or e-mail"),
        max_length=_limit("contact"),
        help_text=_("So the bureau can ask you about it and tell you the outcome."),
    )
    text = forms.CharField(
        label=_("Your objection: what is wrong, and how you know"),
        max_length=OBJECTION_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def clean_contact(self) -> str:
        contact = self.cleaned_data["contact"].strip()
        if "@" in contact:
            try:
                validate_email(contact)
            except ValidationError:
                raise ValidationError(_("This e-mail address does not look right.")) from None
        elif not PHONE.fullmatch(PHONE_SEPARATORS.sub("", contact)):
            raise ValidationError(
                _("Give a telephone number (7 to 15 digits) or an e-mail address.")
            )
        return contact


class ObjectionDecisionForm(BoundedFormMixin, forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            (Objection.Status.UPHELD, _("Upheld: the project cannot be approved")),
            (Objection.Status.DISMISSED, _("Dismissed")),
        ],
        widget=forms.RadioSelect,
    )
    finding = forms.CharField(
        label=_("Finding (what was checked and found)"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def objection_section(project, user, typed: dict) -> dict:
    """The project page's objections, with a decision form on each open one for staff
    (the one just refused comes back as typed, in `typed`)."""
    context = objection_context(project, user)
    if context["can_decide_objections"]:
        for objection in context["objections"]:
            if objection.status != Objection.Status.OPEN:
                continue
            if typed.get("objection") == objection.pk:
                objection.decision_form = typed["objection_form"]
            else:
                objection.decision_form = ObjectionDecisionForm(prefix=f"objection-{objection.pk}")
    return context
