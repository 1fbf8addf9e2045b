"""The two-person override of the veto (DESIGN §4).

Staff ask, with a written reason, to let one action through one gate for one object;
a leader who is not the person asking approves; the next check at that gate uses it up.
Each step is a trail event, and the check it lets through records the override.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role, has_role
from trail.kinds import EventKind
from trail.services import record

from .models import Gate, VetoOverride


def _event(override: VetoOverride, obj: models.Model, actor, step: str) -> None:
    record(
        EventKind.VETO_OVERRIDE,
        obj,
        actor=actor,
        data={
            "override": override.pk,
            "gate": override.gate,
            "step": step,
            "reason": override.reason,
        },
    )


@transaction.atomic
def request_override(obj: models.Model, gate: str, reason: str, by) -> VetoOverride:
    if not has_role(by, Role.STAFF):
        raise PermissionDenied(_("Only bureau staff may ask for an override."))
    if not reason.strip():
        raise ValidationError(_("An override needs a written reason."))
    override = VetoOverride.objects.create(
        gate=Gate(gate).value,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        reason=reason.strip(),
        requested_by=by,
    )
    _event(override, obj, by, "requested")
    return override


@transaction.atomic
def approve_override(override: VetoOverride, obj: models.Model, by) -> VetoOverride:
    override = VetoOverride.objects.select_for_update().get(pk=override.pk)
    if not has_role(by, Role.LEADER):
        raise PermissionDenied(_("Only leadership may approve an override."))
    if by.pk == override.requested_by_id:
        raise PermissionDenied(_("The second approval must come from another person."))
    if override.status != VetoOverride.Status.PENDING:
        raise ValidationError(_("This override has already been decided."))
    override.status = VetoOverride.Status.APPROVED
    override.approved_by, override.approved_at = by, timezone.now()
    override.save(update_fields=["status", "approved_by", "approved_at"])
    _event(override, obj, by, "approved")
    return override


def use_override(obj: models.Model, gate: Gate, actor) -> VetoOverride | None:
    """Take an approved, unused override for this gate and object; inside the gate's transaction."""
    override = (
        VetoOverride.objects.select_for_update()
        .filter(
            gate=gate.value,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            status=VetoOverride.Status.APPROVED,
        )
        .order_by("approved_at")
        .first()
    )
    if override is not None:
        override.status, override.used_at = VetoOverride.Status.USED, timezone.now()
        override.save(update_fields=["status", "used_at"])
        _event(override, obj, actor, "used")
    return override


def overrides_for(obj: models.Model):
    return VetoOverride.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).select_related("requested_by", "approved_by")
