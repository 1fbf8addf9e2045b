"""Object-level access: who may see which project."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.roles import Role, has_role
from funding.models import ExpertAssignment, Project

from .supervision_engagements import (
    engagements_of,
    projects_seen_by_auditor,
    running_engagement_of,
)


def projects_visible_to(user) -> QuerySet[Project]:
    """Staff, leaders and integrity officers see all; others only what concerns them."""
    projects = Project.objects.all()
    if not user.is_authenticated:
        return projects.none()
    if has_role(user, Role.STAFF) or has_role(user, Role.LEADER) or has_role(user, Role.INTEGRITY):
        return projects
    rule = Q(pk__in=[])
    if has_role(user, Role.APPLICANT) and user.organisation_id:
        rule |= Q(applicant_org_id=user.organisation_id)
    if has_role(user, Role.EXPERT):
        rule |= Q(assignments__expert=user)
        rule |= Q(acceptance_panels__members=user)  # drawn for its acceptance panel
    if has_role(user, Role.AUDITOR) and user.organisation_id:  # their engagements only
        rule |= Q(pk__in=projects_seen_by_auditor(user))
    if has_role(user, Role.UNIT) and user.organisation_id:  # the unit's own projects
        rule |= Q(applicant_org_id=user.organisation_id)
    return projects.filter(rule).distinct()


def application_withheld_from(user) -> set[int]:
    """Projects `user` sees only by title (and call, state): those they are assigned to
    review and have not yet declared no conflict of interest for (回避声明), or declined,
    unless they see the project for another reason (its applicant, unit, auditor or
    acceptance panel). Pages and the API show these by title only."""
    if not has_role(user, Role.EXPERT) or _decides(user):
        return set()
    pending = ExpertAssignment.objects.filter(expert=user).filter(
        Q(no_conflict_declared=False) | Q(declined_at__isnull=False)
    )
    ids = set(pending.values_list("project_id", flat=True))
    if not ids:
        return ids
    otherwise = Q(acceptance_panels__members=user)
    if user.organisation_id and any(has_role(user, r) for r in (Role.APPLICANT, Role.UNIT)):
        otherwise |= Q(applicant_org_id=user.organisation_id)
    if has_role(user, Role.AUDITOR) and user.organisation_id:
        otherwise |= Q(pk__in=projects_seen_by_auditor(user))
    seen = Project.objects.filter(otherwise, pk__in=ids).values_list("pk", flat=True)
    return ids - set(seen)


def sees_application(user, project: Project) -> bool:
    """Whether `user`, who sees `project`, may read the application beyond its title."""
    return project.pk not in application_withheld_from(user)


def _decides(user) -> bool:
    return any(has_role(user, r) for r in (Role.STAFF, Role.LEADER, Role.INTEGRITY))


def can_see_fund_trail(user, project: Project) -> bool:
    """One project's answer; fund_trail_projects below is the same rule as a queryset."""
    if sees_every_fund_trail(user):
        return True
    if has_role(user, Role.AUDITOR) and user.organisation_id:  # while their engagement runs
        return running_engagement_of(user, project) is not None
    # The applicants and the unit's research or finance office (承担单位) keep these books.
    own = user.organisation_id is not None and user.organisation_id == project.applicant_org_id
    return own and (has_role(user, Role.APPLICANT) or has_role(user, Role.UNIT))


def fund_trail_projects(user) -> QuerySet[Project]:
    """The projects whose fund trail `user` may read: can_see_fund_trail's rule for
    every project at once. Staff and leaders read all; an auditor, the projects of their
    running engagements only; the applicants and the unit office, their organisation's."""
    projects = projects_visible_to(user)
    if sees_every_fund_trail(user):
        return projects
    if has_role(user, Role.AUDITOR) and user.organisation_id:  # while their engagement runs
        running = engagements_of(user).filter(ended_at__isnull=True).values("project_id")
        return projects.filter(pk__in=running)
    keeps_books = has_role(user, Role.APPLICANT) or has_role(user, Role.UNIT)
    if keeps_books and user.organisation_id:
        return projects.filter(applicant_org_id=user.organisation_id)
    return projects.none()


def reads_fund_trails(user) -> bool:
    """Whether `user`'s role reads any fund trail at all (the menu offers the money lists)."""
    if sees_every_fund_trail(user):
        return True
    roles = (Role.AUDITOR, Role.APPLICANT, Role.UNIT)
    return bool(user.organisation_id) and any(has_role(user, role) for role in roles)


def sees_every_fund_trail(user) -> bool:
    return has_role(user, Role.STAFF) or has_role(user, Role.LEADER)
