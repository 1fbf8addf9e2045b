"""Signing in and out: the password (counted by django-axes), then the two-factor code."""

from __future__ import annotations

from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .forms_security import CodeForm, SignInForm
from .two_factor import has_two_factor


def safe_next(request, default: str | None = None) -> str:
    """The `next` address if it stays on this site, else the default (the inbox)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default or reverse(settings.LOGIN_REDIRECT_URL)


def code_step_url(next_url: str) -> str:
    return f"{reverse('account-two-factor-verify')}?{urlencode({'next': next_url})}"


class SignInView(auth_views.LoginView):
    """Django's sign-in; a person with an authenticator app goes on to the code step."""

    authentication_form = SignInForm

    def get_success_url(self):
        url = super().get_success_url()
        if has_two_factor(self.request.user):
            return code_step_url(url)
        return url


class SignOutView(auth_views.LogoutView):
    pass


@login_required
def code_step(request):
    """The second step: a code from the app (or a backup code) verifies this session."""
    user = request.user
    next_url = safe_next(request)
    if user.is_verified() or not has_two_factor(user):
        return redirect(next_url)
    form = CodeForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        django_otp.login(request, form.device)
        return redirect(next_url)
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": next_url})
