"""Reactions of the workflow to events of lower parts (DESIGN §2: the higher subscribes)."""

from __future__ import annotations

import logging

from django.db.models import Q
from django.dispatch import receiver
from django.utils.translation import gettext as _

from funding.models import Project
from funding.states import RUNNING_STATES, SUSPENDABLE_STATES
from integrity.models import Measure, Sanction, SubjectKind
from integrity.signals import sanction_in_force

from .actions import perform
from .lifecycle import TransitionRefused, gates_to_pass

log = logging.getLogger(__name__)


def projects_of(sanction: Sanction, states) -> Q:
    """Projects in `states` in which the subject is PI, team member, applicant or partner."""
    if sanction.subject_kind == SubjectKind.PERSON:
        who = Q(pi__id_number=sanction.subject_id) | Q(team__id_number=sanction.subject_id)
    else:
        who = Q(applicant_org__credit_code=sanction.subject_id) | Q(
            partner_orgs__credit_code=sanction.subject_id
        )
    return Q(status__in=states) & who


def holds(sanction: Sanction, state: str) -> bool:
    """Does the sanction stop a project in `state`? Only if it bars a gate still ahead,
    or orders the projects suspended for rectification (暂停项目限期整改)."""
    if Measure.SUSPEND_RECTIFY in sanction.measures and state in RUNNING_STATES:
        return True
    return bool(set(sanction.gates) & {g.value for g in gates_to_pass(state)})


@receiver(sanction_in_force)
def suspend_projects(sender, sanction, **kwargs) -> None:
    """A sanction taking effect suspends the subject's running and approved projects,
    and stops their disbursements, until staff decide (resuming passes the veto again)."""
    candidates = (
        Project.objects.filter(projects_of(sanction, SUSPENDABLE_STATES))
        .distinct()
        .values_list("pk", "status")
    )
    reason = _("Suspended automatically: %(name)s is sanctioned by decision %(no)s.") % {
        "name": sanction.subject_name,
        "no": sanction.decision_no,
    }
    for project_id, status in candidates:
        if not holds(sanction, status):
            continue
        try:
            perform(project_id, "suspend", None, reason=reason, sanction=sanction.pk)
        except TransitionRefused:  # moved on meanwhile; staff see the sanction at the next gate
            log.info("project %s not suspended: no longer suspendable", project_id)
