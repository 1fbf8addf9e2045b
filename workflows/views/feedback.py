"""Telling the user what a service call did: integrity's `attempt`, plus the lifecycle's
own refusal (a transition no longer possible, or not this user's to take)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integrity.views.feedback import FAILED
from integrity.views.feedback import attempt as attempt_service

from ..lifecycle import TransitionRefused

__all__ = ["FAILED", "attempt"]


def attempt(request, action: Callable[[], Any], success: str | None = None, form=None) -> Any:
    return attempt_service(request, action, success, form=form, refusals=(TransitionRefused,))
