"""预算调剂: moving money between budget lines after the contract (DESIGN §5, 32号).

Between operations and labour the PI decides and the change is recorded at once.
Anything that touches equipment (purchase, or trial-make, upgrade and rental), or takes
from indirect costs, waits for the unit (承担单位): an officer of the project's own
organisation, never the PI; bureau staff stand in only for a unit with no officer.
Indirect costs can never be raised, and the indirect-cost cap holds after every
adjustment. The approved total never changes.

A pending adjustment is decided by the unit or withdrawn by the PI; acceptance is not
requested while one is pending (workflows.lifecycle).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role, has_role
from lists.money import grouped
from trail.kinds import EventKind
from trail.services import record

from .budget import CapCheck, check_cap
from .models import BudgetAdjustment, BudgetLine, Project
from .states import BudgetCategory, ProjectStatus

ADJUSTABLE_STATES = (ProjectStatus.CONTRACTED, ProjectStatus.IN_PROGRESS)
EQUIPMENT_LINES = (BudgetCategory.EQUIPMENT.value, BudgetCategory.EQUIPMENT_OTHER.value)
PENDING = BudgetAdjustment.Status.PENDING
WITHDRAWN = BudgetAdjustment.Status.WITHDRAWN


def needs_unit_approval(from_category: str, to_category: str) -> bool:
    touches_equipment = from_category in EQUIPMENT_LINES or to_category in EQUIPMENT_LINES
    return touches_equipment or from_category == BudgetCategory.INDIRECT


def unit_officers_of(project: Project) -> QuerySet[User]:
    """Who decides for the unit: the active unit officers of the project's applicant
    organisation, the PI excepted (the same rule as workflows.unit_review)."""
    return User.objects.filter(
        groups__name=Role.UNIT.value, is_active=True, organisation_id=project.applicant_org_id
    ).exclude(pk=project.pi_id)


def decides_for_unit(user, project: Project) -> bool:
    """An officer of the project's own unit; bureau staff stand in for a unit that has no
    officer on the system (as they do for its recommendation, workflows.unit_review)."""
    if (
        has_role(user, Role.UNIT)
        and user.organisation_id is not None
        and user.organisation_id == project.applicant_org_id
        and user.pk != project.pi_id
    ):
        return True
    return has_role(user, Role.STAFF) and not unit_officers_of(project).exists()


def pending_adjustments(project: Project) -> QuerySet[BudgetAdjustment]:
    return project.adjustments.filter(status=PENDING)


def adjustments_waiting_for(user) -> QuerySet[BudgetAdjustment]:
    """The pending adjustments a unit officer decides: their organisation's projects,
    not one they lead."""
    pending = BudgetAdjustment.objects.filter(status=PENDING)
    if has_role(user, Role.UNIT) and user.organisation_id is not None:
        mine = pending.filter(project__applicant_org_id=user.organisation_id).exclude(
            project__pi_id=user.pk
        )
    elif has_role(user, Role.STAFF):  # standing in for units without an officer
        officers = User.objects.filter(
            groups__name=Role.UNIT.value,
            is_active=True,
            organisation_id=OuterRef("project__applicant_org_id"),
        ).exclude(pk=OuterRef("project__pi_id"))
        mine = pending.filter(~Exists(officers))
    else:
        return BudgetAdjustment.objects.none()
    return mine.select_related("project").order_by("requested_at", "pk")


def is_withdrawn(adjustment: BudgetAdjustment) -> bool:
    return adjustment.status == WITHDRAWN


def status_shown(adjustment: BudgetAdjustment) -> str:
    return adjustment.get_status_display()


def adjustment_rows(project: Project, user) -> list[BudgetAdjustment]:
    """The project's adjustments as the pages list them: each with the status shown and
    what `user` may do with it (decide for the unit, or withdraw as the PI)."""
    decides = decides_for_unit(user, project)
    is_pi = user.pk == project.pi_id
    rows = list(project.adjustments.select_related("requested_by", "decided_by"))
    for row in rows:
        row.status_shown = status_shown(row)
        row.can_decide = decides and row.status == PENDING
        row.can_withdraw = is_pi and row.status == PENDING
    return rows


def _locked_lines(project: Project) -> dict[str, BudgetLine]:
    return {line.category: line for line in project.budget_lines.select_for_update()}


def _spent(project: Project, category: str) -> Decimal:
    spent = project.expenditures.filter(category=category).aggregate(s=Sum("amount"))["s"]
    return spent or Decimal("0")


def available_to_move(project: Project, line: BudgetLine) -> Decimal:
    """What a line can give: its current amount less what was spent or is already asked."""
    pending = pending_adjustments(project).filter(from_category=line.category)
    asked = pending.aggregate(s=Sum("amount"))["s"] or 0
    return line.current - _spent(project, line.category) - asked


def cap_after(
    project: Project, lines: dict[str, BudgetLine], from_category: str, to_category: str, amount
) -> CapCheck:
    """The indirect-cost cap as it would stand once `amount` moved (a missing line is zero)."""
    amounts = {category: line.current for category, line in lines.items()}
    amounts[from_category] = amounts.get(from_category, Decimal("0")) - amount
    amounts[to_category] = amounts.get(to_category, Decimal("0")) + amount
    return check_cap(amounts, project.call.indirect_tiers)


def _refuse_above_cap(check: CapCheck) -> None:
    if check.exceeded:
        raise ValidationError(
            _(
                "After this adjustment, indirect costs of %(indirect)s yuan would exceed "
                "their cap of %(cap)s yuan (direct costs less equipment purchase: "
                "%(base)s yuan)."
            )
            % check.amounts()
        )


def _apply(project: Project, lines: dict[str, BudgetLine], adjustment: BudgetAdjustment) -> None:
    source = lines[adjustment.from_category]
    target = lines.get(adjustment.to_category)
    if target is None:  # an older project's missing trial-make line: zero until now
        target = BudgetLine.objects.create(
            project=project,
            category=adjustment.to_category,
            amount=Decimal("0"),
            approved=Decimal("0"),
        )
        lines[target.category] = target
    source.adjusted -= adjustment.amount
    target.adjusted += adjustment.amount
    BudgetLine.objects.bulk_update([source, target], ["adjusted"])


def _record(adjustment: BudgetAdjustment, by, status: str) -> None:
    record(
        EventKind.BUDGET_ADJUSTMENT,
        adjustment.project,
        actor=by,
        data={
            "adjustment": adjustment.pk,
            "from": adjustment.from_category,
            "to": adjustment.to_category,
            "amount": str(adjustment.amount),
            "status": status,
            "reason": adjustment.reason,
        },
    )


@transaction.atomic
def request_adjustment(
    project: Project, by, from_category: str, to_category: str, amount: Decimal, reason: str
) -> BudgetAdjustment:
    project = Project.objects.select_for_update().select_related("call").get(pk=project.pk)
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
    if from_category not in lines or to_category not in BudgetCategory.values:
        raise ValidationError(_("This project has no such budget line."))
    available = available_to_move(project, lines[from_category])
    if amount > available:
        raise ValidationError(
            _("Only %(a)s yuan of that line is neither spent nor already being moved.")
            % {"a": grouped(available)}
        )
    _refuse_above_cap(cap_after(project, lines, from_category, to_category, amount))
    pending = needs_unit_approval(from_category, to_category)
    adjustment = BudgetAdjustment.objects.create(
        project=project,
        from_category=from_category,
        to_category=to_category,
        amount=amount,
        reason=reason.strip(),
        status=PENDING if pending else BudgetAdjustment.Status.APPLIED,
        requested_by=by,
    )
    if not pending:
        _apply(project, lines, adjustment)
    _record(adjustment, by, adjustment.status)
    return adjustment


def _lock_pending(adjustment: BudgetAdjustment) -> tuple[Project, BudgetAdjustment]:
    project = (
        Project.objects.select_for_update().select_related("call").get(pk=adjustment.project_id)
    )
    adjustment = BudgetAdjustment.objects.select_for_update().get(pk=adjustment.pk)
    if adjustment.status != PENDING:
        raise ValidationError(_("This adjustment has already been decided or withdrawn."))
    adjustment.project = project
    return project, adjustment


@transaction.atomic
def decide_adjustment(adjustment: BudgetAdjustment, by, *, approve: bool) -> BudgetAdjustment:
    """The unit approves or refuses; an approval re-checks the line and the cap on the
    amounts as they stand now (other adjustments may have moved money since)."""
    project = Project.objects.get(pk=adjustment.project_id)
    if not decides_for_unit(by, project):
        raise PermissionDenied(
            _(
                "Only an officer of the project's own unit (承担单位) decides budget "
                "adjustments; bureau staff stand in when the unit has none."
            )
        )
    project, adjustment = _lock_pending(adjustment)
    if approve:
        if project.status not in ADJUSTABLE_STATES:
            raise ValidationError(_("The budget can be adjusted only while the project runs."))
        lines = _locked_lines(project)
        # What the line can give now, this adjustment's own amount not counted as asked.
        free = available_to_move(project, lines[adjustment.from_category]) + adjustment.amount
        if adjustment.amount > free:
            raise ValidationError(
                _("Only %(a)s yuan of that line is neither spent nor already being moved.")
                % {"a": grouped(free)}
            )
        _refuse_above_cap(
            cap_after(
                project, lines, adjustment.from_category, adjustment.to_category, adjustment.amount
            )
        )
        _apply(project, lines, adjustment)
    adjustment.status = (
        BudgetAdjustment.Status.APPLIED if approve else BudgetAdjustment.Status.REJECTED
    )
    adjustment.decided_by, adjustment.decided_at = by, timezone.now()
    adjustment.save(update_fields=["status", "decided_by", "decided_at"])
    _record(adjustment, by, adjustment.status)
    return adjustment


@transaction.atomic
def withdraw_adjustment(adjustment: BudgetAdjustment, by) -> BudgetAdjustment:
    """The PI takes back a pending adjustment (in any state: it never sits unanswered)."""
    project = Project.objects.get(pk=adjustment.project_id)
    if by.pk != project.pi_id:
        raise PermissionDenied(_("Only the PI withdraws a budget adjustment."))
    project, adjustment = _lock_pending(adjustment)
    adjustment.status = WITHDRAWN
    adjustment.decided_by, adjustment.decided_at = by, timezone.now()
    adjustment.save(update_fields=["status", "decided_by", "decided_at"])
    _record(adjustment, by, WITHDRAWN)
    return adjustment
