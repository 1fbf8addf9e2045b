"""Passing a gate: check the veto, use a bound override, record the check (DESIGN §4).

`guard` runs inside the action's transaction and raises VetoRefused to roll it back;
`keep_refusal` then records the refused check on its own, since every check is kept.
Views, commands and the lifecycle all go through these two.
"""

from __future__ import annotations

from django.db import models, transaction

from trail.kinds import EventKind
from trail.services import record

from .models import Gate, VetoCheck
from .overrides import use_overrides
from .policy import NothingToVeto, Subject, VetoRefused, check_veto, record_check


def guard(obj: models.Model, gate: Gate, subjects: list[Subject], actor) -> VetoCheck:
    """Refuse (VetoRefused) or record that `subjects` passed `gate` for `obj`."""
    verdict = check_veto(subjects, gate)
    overrides = [] if verdict.passed else use_overrides(obj, verdict, actor)
    if not verdict.passed and not overrides:
        raise VetoRefused(verdict, obj)
    return record_check(verdict, obj, actor, overrides=overrides)


def keep_refusal(refused: VetoRefused | NothingToVeto, actor, obj: models.Model | None = None):
    """Record a refused check after the action's rollback, with its trail event."""
    obj = obj if obj is not None else getattr(refused, "obj", None)
    if obj is None:
        return None
    with transaction.atomic():
        check = record_check(refused.verdict, obj, actor)
        if refused.verdict.passed:
            return check
        record(
            EventKind.VETO_CHECK,
            obj,
            actor=actor,
            data={
                "gate": refused.verdict.gate.value,
                "passed": False,
                "check": check.pk,
                "reasons": refused.verdict.reasons(),
            },
        )
    return check
