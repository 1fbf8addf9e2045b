"""The two-person override of the veto (DESIGN §4).

Staff ask, with a written reason, to let one action through one gate for one object,
despite one named sanction; a leader who is not the person asking approves. The next
check at that gate uses it up, and only if every sanction refusing there has its own
approved override: an override is bound to the sanction it was asked for. Serious cases
(严重, 特别严重) and a ban (禁止承担) are never overridden (settings
VETO_NO_OVERRIDE_SEVERITIES and VETO_NO_OVERRIDE_MEASURES). Each step is a trail event,
and the check it lets through records the overrides.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role, has_role
from trail.kinds import EventKind
from trail.services import record

from .models import Gate, Measure, Sanction, Severity, VetoOverride
from .policy import Verdict


def _event(override: VetoOverride, obj: models.Model, actor, step: str) -> None:
    record(
        EventKind.VETO_OVERRIDE,
        obj,
        actor=actor,
        data={
            "override": override.pk,
            "gate": override.gate,
            "sanction": override.sanction_id,
            "step": step,
            "reason": override.reason,
        },
    )


def override_refusal(sanction: Sanction) -> str | None:
    """Why no override may open a gate to this sanction, or None when one may."""
    if sanction.severity in settings.VETO_NO_OVERRIDE_SEVERITIES:
        return _("A %(severity)s case is never overridden.") % {
            "severity": Severity(sanction.severity).label
        }
    barred = set(settings.VETO_NO_OVERRIDE_MEASURES) & set(sanction.measures)
    if barred:
        labels = ", ".join(str(Measure(m).label) for m in sorted(barred))
        return _("This measure is never overridden: %(measures)s.") % {"measures": labels}
    if sanction.status != Sanction.Status.EFFECTIVE:
        return _("This sanction is not in effect; there is nothing to override.")
    return None


@transaction.atomic
def request_override(
    obj: models.Model, gate: str, sanction: Sanction, reason: str, by
) -> VetoOverride:
    if not has_role(by, Role.STAFF):
        raise PermissionDenied(_("Only bureau staff may ask for an override."))
    if not (reason or "").strip():
        raise ValidationError(_("An override needs a written reason."))
    if sanction is None:
        raise ValidationError(_("Choose the sanction the override is for."))
    refusal = override_refusal(sanction)
    if refusal:
        raise ValidationError(refusal)
    if Gate(gate).value not in sanction.gates:
        raise ValidationError(_("That sanction does not bar this gate."))
    override = VetoOverride.objects.create(
        gate=Gate(gate).value,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        sanction=sanction,
        reason=reason.strip(),
        requested_by=by,
    )
    _event(override, obj, by, "requested")
    return override


@transaction.atomic
def approve_override(override: VetoOverride, obj: models.Model, by) -> VetoOverride:
    override = (
        VetoOverride.objects.select_for_update(of=("self",))
        .select_related("sanction")
        .get(pk=override.pk)
    )
    if not has_role(by, Role.LEADER):
        raise PermissionDenied(_("Only leadership may approve an override."))
    if by.pk == override.requested_by_id:
        raise PermissionDenied(_("The second approval must come from another person."))
    if override.status != VetoOverride.Status.PENDING:
        raise ValidationError(_("This override has already been decided."))
    refusal = override_refusal(override.sanction) if override.sanction else _("No sanction.")
    if refusal:
        raise ValidationError(refusal)
    override.status = VetoOverride.Status.APPROVED
    override.approved_by, override.approved_at = by, timezone.now()
    override.save(update_fields=["status", "approved_by", "approved_at"])
    _event(override, obj, by, "approved")
    return override


def use_overrides(obj: models.Model, verdict: Verdict, actor) -> list[VetoOverride]:
    """Inside the gate's transaction: the approved overrides that answer every sanction
    refusing here, now used up; or [] (nothing used) when any refusal is unanswered."""
    if verdict.unidentified or not verdict.blocking:
        return []
    found = {
        o.sanction_id: o
        for o in VetoOverride.objects.select_for_update(of=("self",))
        .select_related("sanction")
        .filter(
            gate=verdict.gate.value,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            status=VetoOverride.Status.APPROVED,
            sanction__in=[s.pk for s in verdict.blocking],
        )
        .order_by("-approved_at")
    }
    chosen = [found.get(s.pk) for s in verdict.blocking]
    if any(o is None or override_refusal(o.sanction) for o in chosen):
        return []
    now = timezone.now()
    for override in chosen:
        override.status, override.used_at = VetoOverride.Status.USED, now
        override.save(update_fields=["status", "used_at"])
        _event(override, obj, actor, "used")
    return chosen


def overrides_for(obj: models.Model):
    return VetoOverride.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).select_related("requested_by", "approved_by", "sanction")


def overrides_waiting_for(user):
    """Overrides asked for and not yet approved that `user` may approve: a leader's inbox
    (never their own request: the second approval is another person's)."""
    if not has_role(user, Role.LEADER):
        return VetoOverride.objects.none()
    return (
        VetoOverride.objects.filter(status=VetoOverride.Status.PENDING)
        .exclude(requested_by=user)
        .select_related("sanction", "requested_by")
        .order_by("requested_at", "pk")
    )
