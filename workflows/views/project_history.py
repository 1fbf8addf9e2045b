"""What the project page tells of the project's trail, and to whom.

Whoever decides (staff, leadership, the integrity officer) sees every event as recorded.
Everyone else (the applicant, an expert, an auditor) sees the project's course but not
who reviewed it, their scores or why they declined, nor the veto's refusals of experts,
panel members, inspectors or audit firms, whose names are not theirs to see (DESIGN §6:
reviews are confidential).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from accounts.roles import Role, has_role
from funding.states import ProjectStatus
from integrity.models import Gate
from trail.kinds import EventKind
from trail.models import Event

# The gates whose subjects are the project's own people and organisations.
PROJECT_GATES = frozenset(
    {Gate.APPLY, Gate.APPROVAL, Gate.CONTRACT, Gate.DISBURSEMENT, Gate.CERTIFICATE}
)
REFUSALS_SHOWN = 3
# Events whose actor is a reviewer and whose data are theirs (scores, reasons for
# declining): others than the deciders see that they happened, not who or what.
REVIEWERS_OWN = frozenset(
    {EventKind.REVIEW_SUBMITTED, EventKind.REVIEW_DECLINED, EventKind.CONFLICT_DECLARED}
)


@dataclass(frozen=True)
class Anonymous:
    """An event as shown to someone who may not see who acted or what they wrote."""

    at: datetime.datetime
    data: dict = field(default_factory=dict)


def sees_everything(user) -> bool:
    return any(has_role(user, role) for role in (Role.STAFF, Role.LEADER, Role.INTEGRITY))


def history_rows(events: list[Event], user, labels: dict[str, str]) -> list[dict]:
    """The project's history, one row per event, reviewers anonymous unless `user` decides."""
    everything = sees_everything(user)
    kinds, states = dict(EventKind.choices), dict(ProjectStatus.choices)
    rows = []
    for event in events:
        if event.kind == EventKind.VETO_CHECK:
            continue  # shown apart, as refusals
        hidden = event.kind in REVIEWERS_OWN and not everything
        label = labels.get(event.data.get("transition")) or kinds.get(event.kind, event.kind)
        rows.append(
            {
                "event": Anonymous(event.at) if hidden else event,
                "actor": _("An expert") if hidden else event.actor_name,
                "score": None if hidden else event.data.get("score"),
                "label": label,
                "before": states.get(event.before.get("status")),
                "after": states.get(event.after.get("status")),
            }
        )
    return rows


def refusals_shown(events: list[Event], user) -> list[Event]:
    """The latest refusals by the veto; to others than deciders only those of its own people."""
    everything = sees_everything(user)
    refusals = [
        e
        for e in events
        if e.kind == EventKind.VETO_CHECK and (everything or e.data.get("gate") in PROJECT_GATES)
    ]
    return refusals[-REFUSALS_SHOWN:]
