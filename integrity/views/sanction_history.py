"""A sanction's trail events, told as what changed: field, before → after, in words.

The trail keeps ID numbers in full (it is the record); the page shows them masked.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from accounts.identity import mask_id_number
from trail.services import history_of

from ..models import Gate, Measure, Sanction, Severity, SubjectKind
from ..services import JOURNALED

CHOICES = {
    "subject_kind": dict(SubjectKind.choices),
    "severity": dict(Severity.choices),
    "status": dict(Sanction.Status.choices),
    "gates": dict(Gate.choices),
    "measures": dict(Measure.choices),
}
EMPTY = "—"


def field_label(name: str) -> str:
    try:
        return capfirst(str(Sanction._meta.get_field(name).verbose_name))
    except FieldDoesNotExist:  # a field journaled once and since removed
        return name


def shown_value(name: str, value, snapshot: dict) -> str:
    """One journaled value as a person reads it; a person's ID number masked."""
    if value is None or value == "" or value == []:
        return EMPTY
    if name == "subject_id":
        if snapshot.get("subject_kind") == SubjectKind.ORGANISATION:
            return str(value)
        return mask_id_number(str(value))
    labels = CHOICES.get(name)
    if isinstance(value, list):
        return "；".join(str(labels.get(v, v)) if labels else str(v) for v in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if labels:
        return str(labels.get(value, value))
    return str(value)


def changes(before: dict, after: dict) -> list[dict]:
    """The journaled fields that differ, in the register's order."""
    names = [n for n in JOURNALED if n in before or n in after]
    names += sorted((set(before) | set(after)) - set(names))
    rows = []
    for name in names:
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        rows.append(
            {
                "field": field_label(name),
                "before": shown_value(name, old, before or after),
                "after": shown_value(name, new, after or before),
            }
        )
    return rows


def sanction_history(sanction: Sanction) -> list[dict]:
    return [
        {
            "at": event.at,
            "actor": event.actor_name,
            "kind": event.get_kind_display(),
            "new": bool(event.data.get("new")),
            "reason": event.data.get("reason", ""),
            "changes": changes(event.before or {}, event.after or {}),
        }
        for event in history_of(sanction)
    ]
