"""A new password, from the change form or an e-mailed reset link: saved and journaled."""

from __future__ import annotations

from django.contrib.auth.forms import SetPasswordForm
from django.db import transaction

from trail.kinds import EventKind
from trail.services import record

HOW_CHANGE = "change"
HOW_RESET = "reset"


@transaction.atomic
def save_new_password(form: SetPasswordForm, *, how: str):
    """Save a valid password form (Django's validators have run) and journal it.

    The person acts for themselves either way: signed in (a change) or proven by the
    e-mailed link (a reset). The password itself never enters the trail.
    """
    user = form.save()
    record(EventKind.PASSWORD_CHANGED, user, actor=user, data={"how": how})
    return user
