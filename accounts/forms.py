"""Form fields that read identities the way people type them, and the forms using them."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from .identity import normalise_credit_code, normalise_id_number
from .models import Organisation, User
from .services import check_credit_code_change, check_id_number_change, may_manage_identities
from .text import BoundedFormMixin

# Room for spaces, hyphens and stray characters; what is stored is the canonical 18.
TYPED_LENGTH = 40
# The only format <input type="date"> reads and writes, whatever the page's language.
ISO_DATE = "%Y-%m-%d"


class IsoDateInput(forms.DateInput):
    """A date picker whose value is YYYY-MM-DD in every language.

    Django's DateInput writes a date in the language's first input format (zh-hans:
    2024/09/05), which a browser's date picker cannot read: it showed an empty field
    and the date was lost on the next save. What is typed back is ISO, which DateField
    reads in every language.
    """

    input_type = "date"

    def __init__(self, attrs=None, format=None):
        super().__init__(attrs, format=format or ISO_DATE)


class IdNumberField(forms.CharField):
    """Accepts '330127 19800101 0016', full-width digits or a lower-case x; gives the canonical."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", TYPED_LENGTH)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalise_id_number(value) if value else value


class CreditCodeField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", TYPED_LENGTH)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalise_credit_code(value) if value else value


def _reason_field() -> forms.CharField:
    return forms.CharField(
        label=_("Reason for the identity change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the ID number or credit code changes; kept in the trail."),
    )


def errors_onto(form: forms.BaseForm, error: ValidationError, field: str | None = None) -> None:
    """Put a service's refusal on the form, so the page comes back with what was typed.

    Each message goes on its own field when the form has one, else on `field` (None: the
    form as a whole). Every part's pages use this one helper.
    """
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            form.add_error(name if name in form.fields else field, messages)
    else:
        form.add_error(field, error.messages)


def _add_refusal(form: forms.BaseForm, field: str, refusal: Exception) -> None:
    if isinstance(refusal, ValidationError):
        errors_onto(form, refusal, field)
    else:
        form.add_error(field, str(refusal))


class IdentityPageForm(BoundedFormMixin, forms.Form):
    """The user's own first entry of their ID number (and real name, if missing)."""

    real_name = forms.CharField(label=_("Real name (as on your ID card)"), max_length=50)
    id_number = IdNumberField(label=_("ID number (居民身份证号)"))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        if user.real_name:
            del self.fields["real_name"]


class _AdminIdentityMixin(BoundedFormMixin):
    """For admin forms: `acting_user` is set by the admin, to check before saving."""

    acting_user = None


class AdminUserChangeForm(_AdminIdentityMixin, UserChangeForm):
    id_number = IdNumberField(label=_("ID number"), required=False)
    reason = _reason_field()

    def clean(self):
        cleaned = super().clean()
        if "id_number" not in cleaned:
            return cleaned
        before, after = self.instance.id_number if self.instance.pk else "", cleaned["id_number"]
        if before == after:
            return cleaned
        if before and not after:
            self.add_error(
                "id_number",
                _("An ID number cannot be removed from an account; correct it instead."),
            )
            return cleaned
        try:
            check_id_number_change(self.instance, before, self.acting_user, cleaned.get("reason"))
        except (PermissionDenied, ValidationError) as refusal:
            _add_refusal(self, "id_number", refusal)
        return cleaned


class AdminAccountCreationForm(_AdminIdentityMixin, AdminUserCreationForm):
    id_number = IdNumberField(label=_("ID number"), required=False)

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "real_name", "id_number", "organisation")

    def clean(self):
        cleaned = super().clean()
        # A new account's ID number needs no reason (its creation is one), only the role.
        if cleaned.get("id_number") and not may_manage_identities(self.acting_user):
            self.add_error("id_number", _("Only bureau staff may enter someone's ID number."))
        return cleaned


class AdminOrganisationForm(_AdminIdentityMixin, forms.ModelForm):
    credit_code = CreditCodeField(label=_("unified social credit code"))
    reason = _reason_field()

    class Meta:
        model = Organisation
        fields = ("name", "credit_code", "kind")

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            if not may_manage_identities(self.acting_user):
                self.add_error(None, _("Only bureau staff may register organisations."))
            return cleaned
        before, after = self.instance.credit_code, cleaned.get("credit_code")
        if after is None or before == after:
            return cleaned
        try:
            check_credit_code_change(self.acting_user, cleaned.get("reason"))
        except (PermissionDenied, ValidationError) as refusal:
            _add_refusal(self, "credit_code", refusal)
        return cleaned
