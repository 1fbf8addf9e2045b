"""Keeping the register: every sanction is validated and journaled."""

from __future__ import annotations

from django.db import transaction

from accounts.identity import normalise_credit_code, normalise_id_number
from trail.kinds import EventKind
from trail.services import record

from .models import Gate, Sanction, SubjectKind
from .signals import sanction_in_force


def normalise_subject(kind: str, identity: str) -> str:
    if kind == SubjectKind.PERSON:
        return normalise_id_number(identity)
    return normalise_credit_code(identity)


@transaction.atomic
def record_sanction(sanction: Sanction, by) -> Sanction:
    """Validate and save a new or edited sanction, with its trail event."""
    sanction.subject_id = normalise_subject(sanction.subject_kind, sanction.subject_id)
    sanction.gates = [Gate(g).value for g in sanction.gates]
    is_new = sanction.pk is None
    before = None if is_new else Sanction.objects.filter(pk=sanction.pk).values("status").first()
    if is_new:
        sanction.recorded_by = by
    sanction.full_clean()
    sanction.save()
    record(
        EventKind.SANCTION_RECORDED,
        sanction,
        actor=by,
        data={
            "new": is_new,
            "subject": sanction.subject_id,
            "gates": sanction.gates,
            "starts_on": sanction.starts_on,
            "ends_on": sanction.ends_on,
            "status": sanction.status,
            "decision": sanction.decision_no,
        },
    )
    took_effect = before is None or before["status"] != Sanction.Status.EFFECTIVE
    if sanction.status == Sanction.Status.EFFECTIVE and took_effect:
        transaction.on_commit(lambda: sanction_in_force.send(Sanction, sanction=sanction))
    return sanction
