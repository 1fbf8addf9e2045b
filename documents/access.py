"""Who may download an attachment: asked of the part that owns it.

This lowest part cannot know who may see a project or a case, so each owning part
registers a check for its models in its AppConfig.ready():

    documents.access.register("funding.project", can_view)

`can_view(user, owner, attachment)` answers with a `Visibility` (or a bool: True is
ALLOWED, False HIDDEN). An owner type nobody registered is HIDDEN to everyone.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from django.db import models

from .models import Attachment


class Visibility(enum.Enum):
    # The user may not know the document exists: 404.
    HIDDEN = "hidden"
    # The user sees the owner but may not have this document (e.g. case evidence): 403
    # when signed in, 404 to anyone not signed in.
    DENIED = "denied"
    ALLOWED = "allowed"


CanView = Callable[[object, models.Model, Attachment], "Visibility | bool"]

_checks: dict[str, CanView] = {}


def register(model_label: str, can_view: CanView) -> None:
    """Let the owning part decide for attachments on `model_label` ("app.model")."""
    _checks[model_label.lower()] = can_view


def registered(model_label: str) -> bool:
    return model_label.lower() in _checks


def visibility(user, attachment: Attachment) -> Visibility:
    check = _checks.get(attachment.owner_label)
    if check is None:
        return Visibility.HIDDEN
    owner = attachment.owner
    if owner is None:  # the owner row is gone
        return Visibility.HIDDEN
    return _ask(check, user, owner, attachment)


def _ask(check: CanView, user, owner: models.Model, attachment: Attachment) -> Visibility:
    """The owning part's answer, a bool read as ALLOWED or HIDDEN."""
    answer = check(user, owner, attachment)
    if isinstance(answer, Visibility):
        return answer
    return Visibility.ALLOWED if answer else Visibility.HIDDEN


def allowed_of(user, owner: models.Model, attachments) -> list[Attachment]:
    """The attachments of `owner` that `user` may download (a page lists only these):
    the same check as `visibility`, with the owner already at hand."""
    check = _checks.get(owner._meta.label_lower)
    if check is None:
        return []
    return [a for a in attachments if _ask(check, user, owner, a) is Visibility.ALLOWED]
