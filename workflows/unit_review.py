"""The applicant's unit (承担单位): who reviews and recommends an application for it.

After the PI submits, the research or finance office of the applicant organisation
(Role.UNIT) recommends the application to the bureau (推荐) or returns it to the PI. An
officer never reviews a project they lead themselves (回避). An organisation with no
unit officer does not leave its projects stuck: bureau staff recommend on its behalf,
with a written reason (`recommend_for_unit`), and only while it has none.
"""

from __future__ import annotations

from dataclasses import replace

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role, has_role
from funding.models import Project
from funding.services import veto_subjects
from funding.states import PRE_CONTRACT_STATES, ProjectStatus
from integrity.models import SubjectKind
from integrity.policy import Subject
from trail.kinds import EventKind

# The unit's task is offered by role and organisation (below), not by a Django
# permission: the organisation is what matters, and no permission row is needed.
UNIT_TASK = "workflows.unit_task"
UNIT_WORD_SHOWN = PRE_CONTRACT_STATES | {ProjectStatus.RETURNED}
UNIT_TRANSITIONS = ["recommend_by_unit", "recommend_for_unit", "return_by_unit"]


def unit_officers(project: Project) -> QuerySet[User]:
    """Who may act for the unit on `project`: its organisation's active unit officers,
    the PI excepted."""
    return User.objects.filter(
        groups__name=Role.UNIT.value, is_active=True, organisation_id=project.applicant_org_id
    ).exclude(pk=project.pi_id)


def acts_for_unit(user, project: Project) -> bool:
    return (
        has_role(user, Role.UNIT)
        and user.organisation_id is not None
        and user.organisation_id == project.applicant_org_id
        and user.pk != project.pi_id
    )


def stands_in_for_unit(user, project: Project) -> bool:
    """Staff recommend for a unit only while it has nobody who could."""
    return has_role(user, Role.STAFF) and not unit_officers(project).exists()


def unit_subjects(project: Project) -> list[Subject]:
    """The veto at the recommendation: everyone on the project, the applicant
    organisation named as the recommending unit it now is."""
    org = (SubjectKind.ORGANISATION, project.applicant_org.credit_code)
    return [
        replace(s, capacity=_("Recommending unit")) if (s.kind, s.identity) == org else s
        for s in veto_subjects(project)
    ]


def unit_projects(user, path: str = "") -> Q:
    """The projects whose unit task `user` may take, `path` leading to the project from
    the rows filtered: their own organisation's (not a project they lead), or, for staff,
    those of an organisation with no unit officer."""
    rule = Q(pk__in=[])
    if has_role(user, Role.UNIT) and user.organisation_id:
        rule |= Q(**{f"{path}applicant_org_id": user.organisation_id}) & ~Q(
            **{f"{path}pi_id": user.pk}
        )
    if has_role(user, Role.STAFF):
        officers = User.objects.filter(
            groups__name=Role.UNIT.value,
            is_active=True,
            organisation_id=OuterRef(f"{path}applicant_org_id"),
        ).exclude(pk=OuterRef(f"{path}pi_id"))
        rule |= ~Exists(officers)
    return rule


def unit_section(project: Project, events: list) -> dict:
    """What the project page shows of the unit's review: who is to recommend, and the
    unit's last word (its recommendation opinion, or the reason it returned the project),
    found among the trail `events` the page has already read (oldest first)."""
    # Until the contract: from then on the unit's word is history, in the history.
    last = None
    if project.status in UNIT_WORD_SHOWN:
        for event in events:
            if (
                event.kind == EventKind.PROJECT_TRANSITION
                and event.data.get("transition") in UNIT_TRANSITIONS
            ):
                last = event
    waiting = project.status == ProjectStatus.UNIT_REVIEW
    shown = waiting or last is not None
    return {
        "unit_review": {
            "shown": shown,
            "waiting": waiting,
            "no_officer": waiting and not unit_officers(project).exists(),
            "last": last,
        }
    }
