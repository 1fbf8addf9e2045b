"""Project states of DESIGN §3. Only workflows/lifecycle.py moves a project between them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    # The applicant's unit (承担单位) reviews and recommends before the bureau sees it.
    UNIT_REVIEW = "unit_review", _("Unit review (单位推荐)")
    SUBMITTED = "submitted", _("Submitted")
    FORMAL_CHECK = "formal_check", _("Formal check")
    EXPERT_REVIEW = "expert_review", _("Expert review")
    BUDGET_REVIEW = "budget_review", _("Budget review")
    PENDING_APPROVAL = "pending_approval", _("Pending approval")
    PUBLIC_NOTICE = "public_notice", _("Public notice")
    APPROVED = "approved", _("Approved")
    CONTRACTED = "contracted", _("Task contract signed")
    IN_PROGRESS = "in_progress", _("In progress")
    ACCEPTANCE_REQUESTED = "acceptance_requested", _("Acceptance requested")
    UNDER_AUDIT = "under_audit", _("Under special audit")
    UNDER_ACCEPTANCE = "under_acceptance", _("Under acceptance review")
    ACCEPTED = "accepted", _("Accepted")
    CLOSED = "closed", _("Closed and archived")
    # Side states
    RETURNED = "returned", _("Returned for revision")
    REJECTED = "rejected", _("Rejected")
    VETOED = "vetoed", _("Vetoed (one-vote veto)")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    SUSPENDED = "suspended", _("Suspended")
    TERMINATED = "terminated", _("Terminated")
    RECONSIDERATION = "reconsideration", _("Needs reconsideration")
    FAILED = "failed", _("Failed acceptance")


TERMINAL_STATES = frozenset(
    {
        ProjectStatus.CLOSED,
        ProjectStatus.REJECTED,
        ProjectStatus.VETOED,
        ProjectStatus.WITHDRAWN,
        ProjectStatus.TERMINATED,
        ProjectStatus.FAILED,
    }
)
# Funded and running: a sanction taking effect suspends these (DESIGN §4).
RUNNING_STATES = frozenset(
    {
        ProjectStatus.CONTRACTED,
        ProjectStatus.IN_PROGRESS,
        ProjectStatus.ACCEPTANCE_REQUESTED,
        ProjectStatus.UNDER_AUDIT,
        ProjectStatus.UNDER_ACCEPTANCE,
        ProjectStatus.RECONSIDERATION,
    }
)


# Filed and not yet contracted: the one-vote veto may end these (vetoed).
PRE_CONTRACT_STATES = frozenset(
    {
        ProjectStatus.UNIT_REVIEW,
        ProjectStatus.SUBMITTED,
        ProjectStatus.FORMAL_CHECK,
        ProjectStatus.EXPERT_REVIEW,
        ProjectStatus.BUDGET_REVIEW,
        ProjectStatus.PENDING_APPROVAL,
        ProjectStatus.PUBLIC_NOTICE,
        ProjectStatus.APPROVED,
    }
)
# Approved but not yet contracted: a sanction taking effect holds these too (DESIGN §4).
AWAITING_CONTRACT_STATES = frozenset(
    {ProjectStatus.PENDING_APPROVAL, ProjectStatus.PUBLIC_NOTICE, ProjectStatus.APPROVED}
)
SUSPENDABLE_STATES = RUNNING_STATES | AWAITING_CONTRACT_STATES


class BudgetCategory(models.TextChoices):
    # 32号 splits equipment: only purchase (购置) leaves the indirect-cost base.
    EQUIPMENT = "equipment", _("Equipment purchase")
    EQUIPMENT_OTHER = "equipment_other", _("Equipment trial-make, upgrade or rental")
    OPERATIONS = "operations", _("Operations")
    LABOUR = "labour", _("Labour")
    INDIRECT = "indirect", _("Indirect costs")


DIRECT_CATEGORIES = (
    BudgetCategory.EQUIPMENT,
    BudgetCategory.EQUIPMENT_OTHER,
    BudgetCategory.OPERATIONS,
    BudgetCategory.LABOUR,
)
