"""Telling the user what a service call did, refusals included, in their words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from integrity.cases import CaseRefused
from integrity.policy import VetoRefused

from ..lifecycle import TransitionRefused

FAILED = object()  # what `attempt` returns when the call was refused


def attempt(request, action: Callable[[], Any], success: str | None = None) -> Any:
    """Run `action`; return its result, or FAILED after showing why it was refused."""
    try:
        result = action()
    except VetoRefused as refused:
        messages.error(request, str(refused))
    except (TransitionRefused, CaseRefused, PermissionDenied) as refused:
        messages.error(request, str(refused) or _("You may not do this."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success or _("Done."))
        return result
    return FAILED
