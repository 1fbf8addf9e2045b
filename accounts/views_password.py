"""Changing one's password, or resetting it by e-mail: Django's views, journaled."""

from __future__ import annotations

from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect

from .passwords import HOW_CHANGE, HOW_RESET, save_new_password


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
