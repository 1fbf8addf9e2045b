"""Who may download the documents attached to projects, expenditures and audits
(documents.access asks; registered from OversightConfig.ready()).

The rule is the page's: whoever may see the project (oversight.access) sees its papers.
A rectification's evidence follows its findings (oversight.findings.can_see_findings).
The full tech report is also public once the report is (accepted, and open or past its
embargo); before that only those who see the project. Voucher scans follow the fund
trail; an audit report is not shown to another audit firm.

The acceptance papers (the full tech report, the acceptance materials, the audit report)
are the acceptance panel's: an expert who sees the project only as one of its
application reviewers (or as a member of a panel since drawn again) is refused them
(403). An expert who sees only the project's title (no conflict declared yet) gets none
of its files (404).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.roles import Role, has_role
from documents import access
from documents.access import Visibility
from documents.kinds import OFFICE, SCANS, DocumentKind, register_kind
from documents.models import Attachment
from funding.models import Expenditure, Project

from .access import can_see_fund_trail, projects_visible_to, sees_application
from .findings import EVIDENCE_KIND, can_see_findings
from .models import AuditEngagement, RectificationAnswer
from .panels import current_panel
from .reports import public_reports

# Read where the acceptance panel decides; refused to an expert not on the panel.
ACCEPTANCE_PAPERS = frozenset({"tech_report", "acceptance_material"})


def register_checks() -> None:
    access.register("funding.project", project_document)
    access.register("funding.expenditure", expenditure_document)
    access.register("oversight.auditengagement", audit_document)
    # The unit's evidence of a rectification (整改), on its answer (issue 9).
    register_kind(
        DocumentKind(
            EVIDENCE_KIND,
            _("Rectification evidence (整改材料)"),
            ("oversight.rectificationanswer",),
            (*SCANS, *OFFICE),
        )
    )
    access.register("oversight.rectificationanswer", rectification_evidence)


def sees_project(user, project: Project) -> bool:
    return projects_visible_to(user).filter(pk=project.pk).exists()


def sits_on_panel(user, project: Project) -> bool:
    """A member of the project's acceptance panel: the one drawn last, which votes."""
    panel = current_panel(project)
    return panel is not None and panel.members.filter(pk=user.pk).exists()


def expert_outside_panel(user, project: Project) -> bool:
    """An expert who sees `project` for no reason but an expert's (a review assignment,
    a panel drawn again since): not on its acceptance panel, not its applicant's or
    unit's, not one who decides. An auditor's files follow the firm's rules instead."""
    if not has_role(user, Role.EXPERT):
        return False
    if any(has_role(user, r) for r in (Role.STAFF, Role.LEADER, Role.INTEGRITY, Role.AUDITOR)):
        return False
    own = user.organisation_id is not None and user.organisation_id == project.applicant_org_id
    if own and (has_role(user, Role.APPLICANT) or has_role(user, Role.UNIT)):
        return False
    return not sits_on_panel(user, project)


def project_document(user, project: Project, attachment: Attachment) -> Visibility:
    # The published file is the current one; earlier versions stay with the project.
    public = (
        attachment.kind == "tech_report"
        and public_reports().filter(project=project).exists()
        and attachment.is_current
    )
    if sees_project(user, project) and sees_application(user, project):
        if attachment.kind in ACCEPTANCE_PAPERS and expert_outside_panel(user, project):
            return Visibility.ALLOWED if public else Visibility.DENIED
        return Visibility.ALLOWED
    return Visibility.ALLOWED if public else Visibility.HIDDEN


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
    if expert_outside_panel(user, engagement.project):
        return (
            Visibility.DENIED if sees_application(user, engagement.project) else Visibility.HIDDEN
        )
    other_firm = (
        has_role(user, Role.AUDITOR)
        and user.organisation_id != engagement.firm_id
        and user.organisation_id != engagement.project.applicant_org_id
        and not any(has_role(user, role) for role in (Role.STAFF, Role.LEADER, Role.INTEGRITY))
    )
    return Visibility.DENIED if other_firm else Visibility.ALLOWED


def rectification_evidence(user, answer: RectificationAnswer, attachment: Attachment) -> Visibility:
    project = answer.finding.engagement.project
    if not user.is_authenticated:
        return Visibility.HIDDEN
    if can_see_findings(user, project):
        return Visibility.ALLOWED
    # An expert or a former auditor sees the project, not the unit's evidence.
    return Visibility.DENIED if sees_project(user, project) else Visibility.HIDDEN
