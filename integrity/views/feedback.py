"""Telling the user what a service call did, refusals included, in their words.

The one `attempt` of every part's pages: integrity's own, and workflows' (which adds
its lifecycle's refusal), since integrity may not import workflows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from accounts.forms import errors_onto

from ..cases import CaseRefused
from ..policy import VetoRefused

FAILED = object()  # what `attempt` returns when the call was refused
REFUSALS: tuple[type[Exception], ...] = (VetoRefused, CaseRefused, PermissionDenied)


def attempt(
    request,
    action: Callable[[], Any],
    success: str | None = None,
    form=None,
    refusals: tuple[type[Exception], ...] = (),
) -> Any:
    """Run `action`; return its result, or FAILED after showing why it was refused.

    A ValidationError goes onto `form` when there is one (the page re-renders it with
    what the user typed), else into a message; other refusals (the veto, a step not
    possible now, `refusals`) into a message.
    """
    try:
        result = action()
    except (*REFUSALS, *refusals) as refused:
        messages.error(request, str(refused) or _("You may not do this."))
    except ValidationError as error:
        if form is None:
            messages.error(request, " ".join(error.messages))
        else:
            errors_onto(form, error)
    else:
        messages.success(request, success or _("Done."))
        return result
    return FAILED
