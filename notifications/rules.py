"""Who hears of which trail event: the one table (issue 11, Notifications).

The trail is the source: every action that matters records an event (trail.kinds), and
a new event is looked up here once its transaction commits (notifications.receivers).
Each row names the event (its kind and, for kinds with steps, the step), who is told,
the category they choose e-mails by, and the message (notifications.messages). An event
no row matches tells nobody; the actor is never told of their own act. Deadlines are not
events: notifications.deadlines has their table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from funding.models import BudgetAdjustment
from oversight.models import AcceptanceReview
from trail.kinds import EventKind as K
from trail.models import Event

from .models import Category
from .recipients import (
    Subject,
    Who,
    assigned_experts,
    integrity_officers,
    lead_auditor,
    leaders,
    override_requester,
    panel_members,
    pi,
    picked_experts,
    replacement_expert,
    respondents,
    staff,
    unit_or_pi,
    unit_or_staff,
)

TASK, RETURN, DECISION = Category.TASK, Category.RETURN, Category.DECISION

# Where a kind keeps its step in the event's data.
STEP_FIELD = {
    K.PROJECT_TRANSITION: "transition",
    K.CASE_TRANSITION: "step",
    K.RECTIFICATION: "step",
    K.BUDGET_ADJUSTMENT: "status",
    K.VETO_OVERRIDE: "step",
}


def project_page(subject: Subject) -> str:
    return reverse("project", args=[subject.project.pk]) if subject.project else ""


def supervision_page(subject: Subject) -> str:
    return reverse("supervision", args=[subject.project.pk]) if subject.project else ""


def case_page(subject: Subject) -> str:
    return reverse("respondent-case", args=[subject.case.pk]) if subject.case else ""


def officer_case_page(subject: Subject) -> str:
    return reverse("case", args=[subject.case.pk]) if subject.case else ""


def concluded(conclusion: str) -> Callable[[Event], bool]:
    return lambda event: event.data.get("conclusion") == conclusion


def has(key: str) -> Callable[[Event], bool]:
    return lambda event: bool(event.data.get(key))


def on_panel(event: Event) -> bool:
    return event.object_type == "oversight.acceptancepanel"


@dataclass(frozen=True)
class Rule:
    kind: K
    steps: tuple[str, ...]  # empty: any event of the kind
    who: Who
    category: Category
    message: str  # a key of notifications.messages.MESSAGES
    link: Callable[[Subject], str] = project_page
    when: Callable[[Event], bool] = lambda event: True


# fmt: off
RULES: tuple[Rule, ...] = (
    # The application: each step hands the task to the next person.
    Rule(K.PROJECT_TRANSITION, ("submit",), unit_or_staff, TASK, "submitted"),
    Rule(K.PROJECT_TRANSITION, ("recommend_by_unit", "recommend_for_unit"), staff, TASK,
         "recommended"),
    Rule(K.PROJECT_TRANSITION, ("return_by_unit",), pi, RETURN, "returned_by_unit"),
    Rule(K.PROJECT_TRANSITION, ("return_for_revision",), pi, RETURN, "returned"),
    Rule(K.PROJECT_TRANSITION, ("pass_formal_check",), assigned_experts, TASK, "review_assigned"),
    Rule(K.EXPERTS_DRAWN, (), picked_experts, TASK, "review_assigned", when=has("picked_by_hand")),
    Rule(K.REVIEW_DECLINED, (), replacement_expert, TASK, "review_assigned",
         when=has("replacement")),
    Rule(K.PROJECT_TRANSITION, ("reject",), pi, RETURN, "rejected"),
    Rule(K.PROJECT_TRANSITION, ("veto",), pi, RETURN, "vetoed"),
    # A veto override: asked by staff, decided by leadership (two people, DESIGN §4).
    Rule(K.VETO_OVERRIDE, ("requested",), leaders, TASK, "override_requested"),
    Rule(K.VETO_OVERRIDE, ("approved",), override_requester, DECISION, "override_approved"),
    # Approval and the public notice.
    Rule(K.PROJECT_TRANSITION, ("finish_budget_review",), leaders, TASK, "to_approve"),
    Rule(K.PROJECT_TRANSITION, ("approve",), pi, DECISION, "approved"),
    Rule(K.OBJECTION_LODGED, (), staff, TASK, "objection"),
    # Running the project: budget adjustments and rectifications wait for the unit.
    Rule(K.BUDGET_ADJUSTMENT, (BudgetAdjustment.Status.PENDING,), unit_or_staff, TASK,
         "adjustment_pending"),
    Rule(K.BUDGET_ADJUSTMENT, (BudgetAdjustment.Status.APPLIED,), pi, DECISION,
         "adjustment_applied"),
    Rule(K.BUDGET_ADJUSTMENT, (BudgetAdjustment.Status.REJECTED,), pi, RETURN,
         "adjustment_rejected"),
    Rule(K.SUPERVISION_FINDING, (), unit_or_pi, TASK, "rectification", link=supervision_page,
         when=has("rectify_by")),
    Rule(K.RECTIFICATION, ("reopened",), unit_or_pi, TASK, "rectification_reopened",
         link=supervision_page),
    Rule(K.PROJECT_TRANSITION, ("suspend",), pi, DECISION, "suspended"),
    Rule(K.PROJECT_TRANSITION, ("terminate",), pi, DECISION, "terminated"),
    # Acceptance.
    Rule(K.PROJECT_TRANSITION, ("request_acceptance",), staff, TASK, "acceptance_requested"),
    Rule(K.PROJECT_TRANSITION, ("appoint_audit", "reappoint_audit"), lead_auditor, TASK,
         "audit_appointed"),
    Rule(K.EXPERTS_DRAWN, (), panel_members, TASK, "panel_drawn", when=on_panel),
    Rule(K.PROJECT_TRANSITION, ("conclude_acceptance",), pi, DECISION, "accepted",
         when=concluded(AcceptanceReview.Conclusion.PASSED)),
    Rule(K.PROJECT_TRANSITION, ("conclude_acceptance",), pi, DECISION, "reconsider",
         when=concluded(AcceptanceReview.Conclusion.RECONSIDER)),
    Rule(K.PROJECT_TRANSITION, ("conclude_acceptance",), pi, DECISION, "failed",
         when=concluded(AcceptanceReview.Conclusion.FAILED)),
    Rule(K.PROJECT_TRANSITION, ("fail_after_rectification_deadline",), pi, DECISION,
         "failed_late"),
    Rule(K.PROJECT_TRANSITION, ("issue_certificate",), pi, DECISION, "certificate"),
    # A case the system proposes (say, acceptance long overdue) waits for the officer.
    Rule(K.CASE_TRANSITION, ("propose",), integrity_officers, TASK, "case_proposed",
         link=officer_case_page),
    # A misconduct case reaches its respondent from the notice of the hearing on.
    Rule(K.CASE_TRANSITION, ("notify_respondent",), respondents, TASK, "case_notice",
         link=case_page),
    Rule(K.CASE_TRANSITION, ("decide",), respondents, DECISION, "case_decided", link=case_page),
    Rule(K.CASE_TRANSITION, ("clear",), respondents, DECISION, "case_cleared", link=case_page),
    Rule(K.CASE_TRANSITION, ("uphold_on_appeal", "uphold_on_review"), respondents, DECISION,
         "case_upheld", link=case_page),
    Rule(K.CASE_TRANSITION, ("revoke_on_appeal", "revoke_on_review"), respondents, DECISION,
         "case_revoked", link=case_page),
)
# fmt: on

_BY_KIND: dict[str, list[Rule]] = {}
for _rule in RULES:
    _BY_KIND.setdefault(_rule.kind.value, []).append(_rule)


def rules_for(event: Event) -> list[Rule]:
    """The rows that match `event` (usually none, sometimes one)."""
    field = STEP_FIELD.get(event.kind)
    step = event.data.get(field) if field else None
    return [
        rule
        for rule in _BY_KIND.get(event.kind, ())
        if (not rule.steps or step in rule.steps) and rule.when(event)
    ]
