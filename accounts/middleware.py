"""The two-factor gate: after the password, nothing but the code step (or the setup).

Runs after django-otp's OTPMiddleware, which tells whether this session has proven a
device (`request.user.is_verified()`). A signed-in person who has an authenticator app
but has not given a code in this session is sent to the code step; one who must use
two-factor sign-in (accounts.two_factor.is_required_for) and has no app yet is sent to
set it up. This covers every page, the admin and the session-signed API alike.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse

from .two_factor import has_two_factor, is_required_for

# What a half-signed-in person may still reach besides the step itself (the health
# probes answer the same for everyone: ops.health).
ALWAYS_OPEN = frozenset({"logout", "set_language", "health", "ready"})


def _is_open(request, step: str) -> bool:
    if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return True
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return True  # a 404 reveals nothing
    return match.url_name == step or match.url_name in ALWAYS_OPEN


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_verified():
            step = None
            if has_two_factor(user):
                step = "account-two-factor-verify"
            elif is_required_for(user):
                step = "account-two-factor"
            if step and not _is_open(request, step):
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse(step)}?{query}")
        return self.get_response(request)
