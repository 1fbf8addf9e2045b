"""Telling the officer what a service call did, refusals included (integrity's own pages).

workflows has the same helper for its pages; integrity may not import workflows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from ..cases import CaseRefused

FAILED = object()  # what `attempt` returns when the call was refused


def errors_onto(form: forms.Form | None, error: ValidationError) -> bool:
    """Put a service's ValidationError on the form's fields; False if there is no form."""
    if form is None:
        return False
    for field, messages_ in getattr(error, "message_dict", {None: error.messages}).items():
        form.add_error(field if field in form.fields else None, messages_)
    return True


def attempt(request, action: Callable[[], Any], success: str | None = None, form=None) -> Any:
    """Run `action`; return its result, or FAILED after showing why it was refused.

    A ValidationError goes onto `form` when there is one (the page re-renders it with
    what the user typed), else into a message.
    """
    try:
        result = action()
    except (CaseRefused, PermissionDenied) as refused:
        messages.error(request, str(refused) or _("You may not do this."))
    except ValidationError as error:
        if not errors_onto(form, error):
            messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success or _("Done."))
        return result
    return FAILED
