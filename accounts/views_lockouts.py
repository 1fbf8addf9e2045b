"""Bureau staff: current sign-in lockouts with an unlock button, and two-factor resets."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .forms import errors_onto
from .forms_security import ResetTwoFactorForm, UnlockForm
from .lockouts import current_lockouts, may_manage_sign_in, unlock_sign_in
from .two_factor import reset_two_factor


def _staff_only(request) -> None:
    if not may_manage_sign_in(request.user):
        raise PermissionDenied(_("Only bureau staff may manage sign-ins."))


def _page(request, *, reset_form=None, unlock=None, status=200):
    """`unlock`: the row's refused unlock (kind, value, the reason as typed, the error),
    shown again on that row."""
    return render(
        request,
        "accounts/lockouts.html",
        {
            "lockouts": current_lockouts(),
            "reset_form": reset_form or ResetTwoFactorForm(),
            "unlock": unlock,
        },
        status=status,
    )


@login_required
def lockouts(request):
    _staff_only(request)
    if request.method != "POST":
        return _page(request)
    if "unlock" in request.POST:
        form = UnlockForm(request.POST)
        if not form.is_valid() and set(form.errors) == {"reason"}:  # the typed reason: kept
            typed = {**form.cleaned_data, "reason": form.data.get("reason", "")}
            refused = {**typed, "error": " ".join(form.errors["reason"])}
            return _page(request, unlock=refused, status=400)
        if not form.is_valid():
            messages.error(request, _("This lockout could not be read; reload the page."))
            return redirect("account-lockouts")
        value = form.cleaned_data["value"]
        target = {form.cleaned_data["kind"]: value}
        try:
            removed = unlock_sign_in(by=request.user, reason=form.cleaned_data["reason"], **target)
        except ValidationError as error:
            refused = {**form.cleaned_data, "error": " ".join(error.messages)}
            return _page(request, unlock=refused, status=400)
        if removed:
            messages.success(request, _("“%(value)s” can sign in again.") % {"value": value})
        else:
            messages.info(request, _("“%(value)s” was not locked.") % {"value": value})
        return redirect("account-lockouts")
    form = ResetTwoFactorForm(request.POST)
    if form.is_valid():
        try:
            done = reset_two_factor(
                form.account, by=request.user, reason=form.cleaned_data["reason"]
            )
        except PermissionDenied as refused:
            form.add_error("username", str(refused))
        except ValidationError as error:
            errors_onto(form, error)
        else:
            if done:
                messages.success(
                    request,
                    _("Two-factor sign-in of “%(name)s” is reset; they set it up again.")
                    % {"name": form.cleaned_data["username"]},
                )
            else:
                messages.info(
                    request,
                    _("“%(name)s” had no two-factor sign-in.")
                    % {"name": form.cleaned_data["username"]},
                )
            return redirect("account-lockouts")
    return _page(request, reset_form=form)
