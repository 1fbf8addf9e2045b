"""Forms of the sign-in pages: the code step, two-factor setup and removal, staff tools."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from .models import User
from .text import BoundedFormMixin
from .two_factor import verify_code

CODE_MAX = 32  # a six-digit code or a backup code, with room for spaces
REASON_MAX = 500


class _BoundedUsernameMixin:
    """Django's sign-in form sets the name's max_length but never checks it: do so, so
    an over-long name is a clear error before it reaches the lockout records."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class SignInForm(_BoundedUsernameMixin, AuthenticationForm):
    pass


class AdminSignInForm(_BoundedUsernameMixin, AdminAuthenticationForm):
    pass


def _code_field(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=CODE_MAX,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


class CodeForm(BoundedFormMixin, forms.Form):
    """The second step of the sign-in: a code from the app, or a backup code."""

    code = _code_field(_("Code from your authenticator app, or a backup code"))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.device = None

    def clean_code(self):
        code = self.cleaned_data["code"]
        try:
            self.device = verify_code(self.user, code)
        except ValidationError as error:
            raise ValidationError(error.messages) from None
        return code


class SetupForm(BoundedFormMixin, forms.Form):
    code = _code_field(_("The six-digit code your app shows now"))


class RemoveTwoFactorForm(BoundedFormMixin, forms.Form):
    """Proof that it is the person: a current code, or the password."""

    code = forms.CharField(
        label=_("A code from your app (or a backup code)"),
        max_length=CODE_MAX,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )
    password = forms.CharField(
        label=_("Or your password"),
        required=False,
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self):
        cleaned = super().clean()
        code, password = cleaned.get("code"), cleaned.get("password")
        user = self.request.user
        if code:
            try:
                verify_code(user, code)
            except ValidationError as error:
                self.add_error("code", error.messages)
        elif password:
            # Through authenticate(), so that failed guesses count towards the lockout.
            if authenticate(self.request, username=user.get_username(), password=password) is None:
                self.add_error("password", _("This password is not right."))
        else:
            raise ValidationError(_("Enter a code from your app, or your password."))
        return cleaned


class UnlockForm(BoundedFormMixin, forms.Form):
    kind = forms.ChoiceField(
        choices=[("username", _("account name")), ("ip_address", _("address"))],
        widget=forms.HiddenInput,
    )
    value = forms.CharField(max_length=255, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX, required=False)


class ResetTwoFactorForm(BoundedFormMixin, forms.Form):
    username = forms.CharField(label=_("Account name"), max_length=150)
    reason = forms.CharField(
        label=_("Reason (kept in the trail)"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        self.account = User.objects.filter(username=username).first()
        if self.account is None:
            raise ValidationError(_("There is no account with this name."))
        return username
