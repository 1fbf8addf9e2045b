"""Who calls the API and how often: token authentication, scopes and throttles for DRF."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, throttling
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .api_tokens import ApiToken, ApiTokenRefused, authenticate_api_token

KEYWORDS = (b"bearer", b"token")


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` (or `Token <token>`); the request acts as its user."""

    def authenticate(self, request):
        words = get_authorization_header(request).split()
        if not words or words[0].lower() not in KEYWORDS:
            return None  # not ours: the session may still sign the caller in
        if len(words) != 2:
            raise exceptions.AuthenticationFailed(
                _("Give the token as 'Authorization: Bearer <token>', with no spaces in it.")
            )
        try:
            full = words[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Unknown API token.")) from None
        try:
            token = authenticate_api_token(full)
        except ApiTokenRefused as refused:
            raise exceptions.AuthenticationFailed(str(refused)) from None
        return token.user, token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (with this challenge) rather than 403 when no one signed in.
        return 'Bearer realm="api"'


class HasScope(BasePermission):
    """A token reaches a view only with the view's `required_scope`, and only reads.

    Signed-in people (sessions) are not limited by scopes: they see what they may see.
    A view that declares no scope is closed to tokens.
    """

    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        if request.method not in SAFE_METHODS:
            self.message = _("API tokens only read; this method is not allowed.")
            return False
        required = getattr(view, "required_scope", None)
        if required is None or required not in token.scopes:
            self.message = _("This API token lacks the scope %(scope)s.") % {
                "scope": required or "—"
            }
            return False
        return True


class UserRateThrottle(throttling.UserRateThrottle):
    """Per signed-in user (session or token alike); the rate is read at each request."""

    def get_rate(self):
        return settings.API_USER_RATE


class AnonRateThrottle(throttling.AnonRateThrottle):
    """Per address, for callers who are not signed in."""

    def get_rate(self):
        return settings.API_ANON_RATE
