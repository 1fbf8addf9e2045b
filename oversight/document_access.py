"""Who may download the documents attached to projects, expenditures and audits
(documents.access asks; registered from OversightConfig.ready()).

The rule is the page's: whoever may see the project (oversight.access) sees its papers.
The full tech report is also public once the report is (accepted, and open or past its
embargo); before that only those who see the project. Voucher scans follow the fund
trail; an audit report is not shown to another audit firm.
"""

from __future__ import annotations

from accounts.roles import Role, has_role
from documents import access
from documents.access import Visibility
from documents.models import Attachment
from funding.models import Expenditure, Project

from .access import can_see_fund_trail, projects_visible_to
from .models import AuditEngagement
from .reports import public_reports


def register_checks() -> None:
    access.register("funding.project", project_document)
    access.register("funding.expenditure", expenditure_document)
    access.register("oversight.auditengagement", audit_document)


def sees_project(user, project: Project) -> bool:
    return projects_visible_to(user).filter(pk=project.pk).exists()


def project_document(user, project: Project, attachment: Attachment) -> Visibility:
    if sees_project(user, project):
        return Visibility.ALLOWED
    # The published file is the current one; earlier versions stay with the project.
    if (
        attachment.kind == "tech_report"
        and public_reports().filter(project=project).exists()
        and attachment.is_current
    ):
        return Visibility.ALLOWED
    return Visibility.HIDDEN


def expenditure_document(user, expenditure: Expenditure, attachment: Attachment) -> Visibility:
    if not user.is_authenticated:
        return Visibility.HIDDEN
    if can_see_fund_trail(user, expenditure.project):
        return Visibility.ALLOWED
    # An expert sees the project but not its books.
    return Visibility.DENIED if sees_project(user, expenditure.project) else Visibility.HIDDEN


def audit_document(user, engagement: AuditEngagement, attachment: Attachment) -> Visibility:
    if not user.is_authenticated or not sees_project(user, engagement.project):
        return Visibility.HIDDEN
    other_firm = (
        has_role(user, Role.AUDITOR)
        and user.organisation_id != engagement.firm_id
        and user.organisation_id != engagement.project.applicant_org_id
        and not any(has_role(user, role) for role in (Role.STAFF, Role.LEADER, Role.INTEGRITY))
    )
    return Visibility.DENIED if other_firm else Visibility.ALLOWED
