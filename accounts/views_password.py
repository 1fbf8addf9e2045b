"""Changing one's password, or resetting it by e-mail: Django's views, journaled."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _

from .lockouts import client_ip
from .passwords import HOW_CHANGE, HOW_RESET, save_new_password
from .ratelimit import within_rate


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset, with a rate per address and per e-mail (each mail costs a sender's
    reputation and fills someone's inbox)."""

    def form_valid(self, form):
        ip = client_ip(self.request) or "unknown"
        if not within_rate(f"password-reset:ip:{ip}", settings.PASSWORD_RESET_PER_ADDRESS):
            form.add_error(
                None, _("Too many reset requests from your address; try again in an hour.")
            )
            return self.form_invalid(form)
        email = form.cleaned_data["email"].strip().lower()
        digest = hashlib.sha256(email.encode()).hexdigest()
        if not within_rate(f"password-reset:email:{digest}", settings.PASSWORD_RESET_PER_EMAIL):
            # The same answer as a sent mail: the page never tells which addresses exist.
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form):
        save_new_password(form, how=HOW_CHANGE)
        # Other sessions of this account end; this one stays signed in.
        update_session_auth_hash(self.request, form.user)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        save_new_password(form, how=HOW_RESET)
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())
