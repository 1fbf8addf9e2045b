"""Idle sessions end without a session write on every request.

A session ends SESSION_IDLE_SECONDS after it was last saved (SESSION_COOKIE_AGE). Saving
it on every request (Django's SESSION_SAVE_EVERY_REQUEST) kept that exact, at the price
of one UPDATE of the session row per page view: the most frequent write of the whole
site, on the primary. This middleware saves it only when its last save is at least
SESSION_REFRESH_SECONDS old, so a session still ends after SESSION_IDLE_SECONDS without
a request, give or take that much (an active person's session is pushed ahead at most
once a minute by default).

The time of the last refresh is kept in the session itself (a key of this module), as
the database backend never reads a session's expiry back. Sessions of people who are not
signed in and carry nothing are left alone (nothing is saved for them), and so is a
session the view has just emptied (sign-out).
"""

from __future__ import annotations

import time

from django.conf import settings

REFRESHED_AT = "_refreshed_at"


def needs_refresh(refreshed_at: object, now: float) -> bool:
    """Whether a session last refreshed at `refreshed_at` (seconds) is due for a save."""
    if not isinstance(refreshed_at, int | float):
        return True  # saved before this middleware was in place
    return now - refreshed_at >= settings.SESSION_REFRESH_SECONDS or refreshed_at > now


def refreshed_at_sign_in(sender, request, user, **kwargs) -> None:
    """On user_logged_in: the sign-in saves the session anyway, so the next minute's pages
    need not save it again."""
    session = getattr(request, "session", None)
    if session is not None:
        session[REFRESHED_AT] = int(time.time())


class SessionRefreshMiddleware:
    """Put after SessionMiddleware (so its response step runs first)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or response.status_code >= 500:
            return response
        # No cookie and nothing stored by the view: nothing to refresh (and nothing read).
        if session.session_key is None and not session.modified:
            return response
        now = time.time()
        # Read (and load) only now: an emptied or expired session has no keys.
        if session.keys() and needs_refresh(session.get(REFRESHED_AT), now):
            # Setting the key marks the session modified: SessionMiddleware saves it
            # with a new expiry, now + SESSION_COOKIE_AGE, and sends the cookie again.
            session[REFRESHED_AT] = int(now)
        return response
