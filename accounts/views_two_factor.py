"""A person's own two-factor sign-in: set up an authenticator app, or remove it."""

from __future__ import annotations

import django_otp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .forms_security import RemoveTwoFactorForm, SetupForm
from .two_factor import (
    confirm_setup,
    has_two_factor,
    is_required_for,
    pending_device,
    qr_code_svg,
    remove_own_two_factor,
    secret_text,
)
from .views_signin import safe_next


def _page(request, *, setup_form=None, remove_form=None):
    user = request.user
    context = {
        "enabled": has_two_factor(user),
        "required": is_required_for(user),
        "next": safe_next(request, default=""),
        "remove_form": remove_form or RemoveTwoFactorForm(request=request),
    }
    if not context["enabled"]:
        device = pending_device(user)
        context.update(
            setup_form=setup_form or SetupForm(),
            qr_svg=qr_code_svg(device.config_url),
            secret=secret_text(device),
            otpauth_uri=device.config_url,
        )
    return render(request, "accounts/two_factor.html", context)


@login_required
def two_factor(request):
    """Shows the QR code and the secret until the person confirms a code from the app."""
    if request.method != "POST":
        return _page(request)
    if has_two_factor(request.user):
        messages.info(request, _("Two-factor sign-in is already on."))
        return redirect("account-two-factor")
    form = SetupForm(request.POST)
    if form.is_valid():
        try:
            device, codes = confirm_setup(request.user, form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", error.messages)
        else:
            # This session has just proven the new device.
            django_otp.login(request, device)
            # Shown once, in this answer only: the codes are not kept anywhere readable.
            return render(
                request,
                "accounts/two_factor_backup_codes.html",
                {"codes": codes, "next": safe_next(request, default="")},
            )
    return _page(request, setup_form=form)


@login_required
@require_POST
def remove_two_factor(request):
    form = RemoveTwoFactorForm(request.POST, request=request)
    if not has_two_factor(request.user):
        return redirect("account-two-factor")
    if form.is_valid():
        remove_own_two_factor(request.user)
        messages.success(request, _("Two-factor sign-in is off for your account."))
        return redirect("account-two-factor")
    return _page(request, remove_form=form)
