"""Reactions of the workflow to events of lower parts (DESIGN §2: the higher subscribes)."""

from __future__ import annotations

import logging

from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from funding.models import Project
from funding.states import RUNNING_STATES
from integrity.signals import sanction_in_force

from .actions import perform
from .lifecycle import TransitionRefused

log = logging.getLogger(__name__)


def running_projects_of(subject_id: str):
    """Running projects in which the subject is PI, team member, applicant or partner."""
    return (
        Project.objects.filter(status__in=RUNNING_STATES)
        .filter(
            Q(pi__id_number=subject_id)
            | Q(team__id_number=subject_id)
            | Q(applicant_org__credit_code=subject_id)
            | Q(partner_orgs__credit_code=subject_id)
        )
        .distinct()
    )


@receiver(sanction_in_force)
def suspend_running_projects(sender, sanction, **kwargs) -> None:
    """A sanction in force suspends the subject's running projects until staff decide."""
    today = timezone.localdate()
    if sanction.starts_on > today or (sanction.ends_on and sanction.ends_on < today):
        return
    for project_id in running_projects_of(sanction.subject_id).values_list("pk", flat=True):
        reason = _("Suspended automatically: %(name)s is sanctioned by decision %(no)s.") % {
            "name": sanction.subject_name,
            "no": sanction.decision_no,
        }
        try:
            perform(project_id, "suspend", None, reason=reason)
        except TransitionRefused:  # moved on meanwhile; staff see the sanction at the next gate
            log.info("project %s not suspended: no longer running", project_id)
