"""预算调剂: moving money between budget lines after the contract (DESIGN §5).

Between operations and labour the PI decides and the change is recorded; anything that
touches equipment, or takes from indirect costs, waits for the bureau; indirect costs
can never be raised. The approved total never changes.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role, has_role
from trail.kinds import EventKind
from trail.services import record

from .models import BudgetAdjustment, BudgetLine, Project
from .states import BudgetCategory, ProjectStatus

ADJUSTABLE_STATES = (ProjectStatus.CONTRACTED, ProjectStatus.IN_PROGRESS)


def needs_bureau_approval(from_category: str, to_category: str) -> bool:
    equipment = BudgetCategory.EQUIPMENT.value
    return equipment in (from_category, to_category) or from_category == BudgetCategory.INDIRECT


def _locked_lines(project: Project) -> dict[str, BudgetLine]:
    return {line.category: line for line in project.budget_lines.select_for_update()}


def available_to_move(project: Project, line: BudgetLine) -> Decimal:
    """What a line can give: its current amount less what was spent or is already asked."""
    spent = project.expenditures.filter(category=line.category).aggregate(s=Sum("amount"))["s"]
    pending = project.adjustments.filter(
        status=BudgetAdjustment.Status.PENDING, from_category=line.category
    ).aggregate(s=Sum("amount"))["s"]
    return line.current - (spent or 0) - (pending or 0)


def _apply(lines: dict[str, BudgetLine], adjustment: BudgetAdjustment) -> None:
    lines[adjustment.from_category].adjusted -= adjustment.amount
    lines[adjustment.to_category].adjusted += adjustment.amount
    BudgetLine.objects.bulk_update(
        [lines[adjustment.from_category], lines[adjustment.to_category]], ["adjusted"]
    )


@transaction.atomic
def request_adjustment(
    project: Project, by, from_category: str, to_category: str, amount: Decimal, reason: str
) -> BudgetAdjustment:
    project = Project.objects.select_for_update().get(pk=project.pk)
    if by.pk != project.pi_id:
        raise PermissionDenied(_("Only the PI asks for budget adjustments."))
    if project.status not in ADJUSTABLE_STATES:
        raise ValidationError(_("The budget can be adjusted only while the project runs."))
    if to_category == BudgetCategory.INDIRECT:
        raise ValidationError(_("Indirect costs can never be raised."))
    if from_category == to_category:
        raise ValidationError(_("Choose two different budget lines."))
    if amount <= 0:
        raise ValidationError(_("The amount must be above zero."))
    if not reason.strip():
        raise ValidationError(_("Please give a reason."))
    lines = _locked_lines(project)
    if from_category not in lines or to_category not in lines:
        raise ValidationError(_("This project has no such budget line."))
    available = available_to_move(project, lines[from_category])
    if amount > available:
        raise ValidationError(
            _("Only %(a)s yuan of that line is neither spent nor already being moved.")
            % {"a": available}
        )
    pending = needs_bureau_approval(from_category, to_category)
    adjustment = BudgetAdjustment.objects.create(
        project=project,
        from_category=from_category,
        to_category=to_category,
        amount=amount,
        reason=reason.strip(),
        status=BudgetAdjustment.Status.PENDING if pending else BudgetAdjustment.Status.APPLIED,
        requested_by=by,
    )
    if not pending:
        _apply(lines, adjustment)
    record(
        EventKind.BUDGET_ADJUSTMENT,
        project,
        actor=by,
        data={
            "adjustment": adjustment.pk,
            "from": from_category,
            "to": to_category,
            "amount": str(amount),
            "status": adjustment.status,
            "reason": adjustment.reason,
        },
    )
    return adjustment


@transaction.atomic
def decide_adjustment(adjustment: BudgetAdjustment, by, *, approve: bool) -> BudgetAdjustment:
    if not has_role(by, Role.STAFF):
        raise PermissionDenied(_("Only bureau staff decide budget adjustments."))
    project = Project.objects.select_for_update().get(pk=adjustment.project_id)
    adjustment = BudgetAdjustment.objects.select_for_update().get(pk=adjustment.pk)
    if adjustment.status != BudgetAdjustment.Status.PENDING:
        raise ValidationError(_("This adjustment has already been decided."))
    if approve:
        if project.status not in ADJUSTABLE_STATES:
            raise ValidationError(_("The budget can be adjusted only while the project runs."))
        _apply(_locked_lines(project), adjustment)
    adjustment.status = (
        BudgetAdjustment.Status.APPLIED if approve else BudgetAdjustment.Status.REJECTED
    )
    adjustment.decided_by, adjustment.decided_at = by, timezone.now()
    adjustment.save(update_fields=["status", "decided_by", "decided_at"])
    record(
        EventKind.BUDGET_ADJUSTMENT,
        project,
        actor=by,
        data={"adjustment": adjustment.pk, "status": adjustment.status},
    )
    return adjustment
