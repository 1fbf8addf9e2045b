"""Object-level access: who may see which project."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.roles import Role, has_role
from funding.models import Project


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
    if has_role(user, Role.AUDITOR) and user.organisation_id:
        rule |= Q(audits__firm_id=user.organisation_id)
    return projects.filter(rule).distinct()


def can_see_fund_trail(user, project: Project) -> bool:
    if has_role(user, Role.STAFF) or has_role(user, Role.LEADER):
        return True
    if has_role(user, Role.AUDITOR) and user.organisation_id:
        return project.audits.filter(firm_id=user.organisation_id).exists()
    return has_role(user, Role.APPLICANT) and user.organisation_id == project.applicant_org_id
