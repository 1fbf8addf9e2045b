"""Domain operations on calls, projects, budgets and money. Never writes Project.status."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity import normalise_id_number
from accounts.models import Organisation
from accounts.roles import Role, has_role
from accounts.text import check_text
from integrity.gates import guard
from integrity.models import Gate, SubjectKind
from integrity.policy import Subject
from lists.money import grouped
from trail.kinds import EventKind
from trail.services import record

from .amounts import check_amount
from .budget import budget_problems, check_cap
from .flags import LISTED, Review, first_disbursement, spending_warnings
from .models import (
    BudgetLine,
    Call,
    Disbursement,
    Expenditure,
    ExpertAssignment,
    Project,
    TeamMember,
)
from .states import BudgetCategory, ProjectStatus


def call_is_open(call: Call, on_date: datetime.date | None = None) -> bool:
    on_date = on_date or timezone.localdate()
    return call.opens_on <= on_date <= call.closes_on


def _check_project_fields(call: Call, data: dict) -> None:
    errors: dict[str, list[str]] = {}
    requested = data["requested_amount"]
    if requested <= 0:
        errors.setdefault("requested_amount", []).append(_("The amount must be above zero."))
    elif requested > call.funding_cap:
        errors.setdefault("requested_amount", []).append(
            _("The call funds at most %(cap)s yuan per project.")
            % {"cap": grouped(call.funding_cap)}
        )
    if data["end_date"] <= data["start_date"]:
        errors.setdefault("end_date", []).append(_("The end date must follow the start date."))
    budget = data["budget"]
    if sum(budget.values(), Decimal("0")) != requested:
        errors.setdefault("requested_amount", []).append(
            _("The budget lines must add up to the requested amount.")
        )
    problems = budget_problems(budget, call.indirect_tiers)
    if problems:
        errors.setdefault("budget", []).extend(problems)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_project(user, call: Call, data: dict) -> Project:
    """File a draft project for the user's organisation; `data` comes from a validated form."""
    if not has_role(user, Role.APPLICANT) or user.organisation_id is None:
        raise PermissionDenied(_("Only an applicant with an organisation can file projects."))
    require_identity(user)
    if not call_is_open(call):
        raise ValidationError(_("This call is not open for applications."))
    _check_project_fields(call, data)
    team = _team_members(data)
    project = Project(call=call, applicant_org_id=user.organisation_id, pi=user)
    _write_application(project, data, team)
    record(EventKind.PROJECT_CREATED, project, actor=user, after=application_snapshot(project))
    return project


EDITABLE_STATES = (ProjectStatus.DRAFT, ProjectStatus.RETURNED)


@transaction.atomic
def update_application(user, project: Project, data: dict) -> Project:
    """The PI revises a draft or a returned application; the trail keeps every version."""
    project = Project.objects.select_for_update().select_related("call").get(pk=project.pk)
    if user.pk != project.pi_id:
        raise PermissionDenied(_("Only the PI can change this application."))
    if project.status not in EDITABLE_STATES:
        raise ValidationError(_("Only a draft or a returned application can be changed."))
    _check_project_fields(project.call, data)
    team = _team_members(data)
    before = application_snapshot(project)
    _write_application(project, data, team)
    record(
        EventKind.PROJECT_EDITED,
        project,
        actor=user,
        before=before,
        after=application_snapshot(project),
    )
    return project


def _team_members(data: dict) -> list[tuple[str, str, str]]:
    team = [
        (m["name"], normalise_id_number(m["id_number"]), m.get("duty", ""))
        for m in data.get("team", [])
    ]
    numbers = [number for _name, number, _duty in team]
    if len(numbers) != len(set(numbers)):
        raise ValidationError({"team": [_("The same ID number appears twice in the team.")]})
    return team


# Lines a project may not have: a zero one is not stored (projects filed before the
# equipment split have none, and the pages, review and contract work without it).
OPTIONAL_LINES = frozenset({BudgetCategory.EQUIPMENT_OTHER.value})


def _write_application(project: Project, data: dict, team: list[tuple[str, str, str]]) -> None:
    for name in ("title", "field", "requested_amount", "start_date", "end_date"):
        setattr(project, name, data[name])
    project.summary = data.get("summary", "")
    project.save()
    project.budget_lines.all().delete()
    BudgetLine.objects.bulk_create(
        BudgetLine(project=project, category=category, amount=amount)
        for category, amount in data["budget"].items()
        if amount or category not in OPTIONAL_LINES  # a missing optional line is zero
    )
    project.team.all().delete()
    TeamMember.objects.bulk_create(
        TeamMember(project=project, name=n, id_number=i, duty=d) for n, i, d in team
    )


def application_snapshot(project: Project) -> dict:
    """What the applicant wrote, as the trail keeps it (one version per event)."""
    return {
        "title": project.title,
        "field": project.field,
        "summary": project.summary,
        "requested_amount": str(project.requested_amount),
        "start_date": project.start_date,
        "end_date": project.end_date,
        "budget": {line.category: str(line.amount) for line in project.budget_lines.all()},
        "team": [[m.name, m.id_number, m.duty] for m in project.team.all()],
    }


class IdentityMissing(ValidationError):
    """A person acts at a gate without an ID number on their account."""


def require_identity(user) -> None:
    """Nobody acts at a gate unidentified: refuse, saying where to add the number."""
    if not user.id_number:
        raise IdentityMissing(
            _(
                "%(name)s has no ID number on the account. Add it on the account page "
                "(%(url)s) before applying, reviewing, auditing or inspecting."
            )
            % {"name": user, "url": reverse("account-identity")}
        )


def veto_subjects(project: Project) -> list[Subject]:
    """Everyone the veto covers for a project: PI, team, applicant and partners.

    A subject without an ID number or credit code is listed all the same: the check
    then refuses instead of leaving them out.
    """
    subjects = [
        Subject(
            SubjectKind.ORGANISATION,
            project.applicant_org.credit_code,
            project.applicant_org.name,
            _("Applicant organisation"),
        ),
        Subject(SubjectKind.PERSON, project.pi.id_number, str(project.pi), _("PI")),
    ]
    # Team and partners in one query: the veto runs at every gate.
    team = TeamMember.objects.filter(project=project).values_list(
        "id_number", "name", Value(SubjectKind.PERSON.value)
    )
    partners = Organisation.objects.filter(
        pk__in=project.partner_orgs.through.objects.filter(project=project).values(
            "organisation_id"
        )
    ).values_list("credit_code", "name", Value(SubjectKind.ORGANISATION.value))
    for identity, name, kind in team.order_by().union(partners.order_by(), all=True):
        capacity = _("Team member") if kind == SubjectKind.PERSON else _("Partner organisation")
        subjects.append(Subject(SubjectKind(kind), identity, name, capacity))
    return subjects


def expert_subject(expert, capacity: str | None = None) -> Subject:
    return Subject(SubjectKind.PERSON, expert.id_number, str(expert), capacity or _("Expert"))


def record_review(
    project: Project,
    expert,
    score: int | None,
    opinion: str,
    *,
    no_conflict: bool,
    scores: dict[str, int] | None = None,
) -> ExpertAssignment:
    """An expert's score and opinion, after the no-conflict declaration (回避声明).

    The declaration is made on its own first (funding.expert_draw.declare_no_conflict),
    or with the review (`no_conflict`). A call with scoring criteria takes a score per
    criterion (`scores`) and the total is their weighted mean (funding.reviews); a call
    without them takes the single `score`.

    The expert is checked by the veto at the moment they score, not only when assigned:
    a sanction recorded since then refuses the review (the caller holds the project lock
    and records a refusal after the rollback).
    """
    from .reviews import checked_scores, criteria_of, weighted_total

    if project.status != ProjectStatus.EXPERT_REVIEW:
        raise ValidationError(_("This project is not under expert review."))
    assignment = (
        ExpertAssignment.objects.select_for_update().filter(project=project, expert=expert).first()
    )
    if assignment is None:
        raise PermissionDenied(_("You are not assigned to review this project."))
    if not (no_conflict or assignment.no_conflict_declared):
        raise ValidationError(
            _("Declare that you have no conflict of interest, or ask to be excused.")
        )
    if assignment.declined_at:
        raise ValidationError(_("You have declined this review."))
    if assignment.submitted_at:
        raise ValidationError(_("You have already submitted your review."))
    criteria = criteria_of(project)
    if criteria:
        scores = checked_scores(criteria, scores)
        score = weighted_total(criteria, scores)
    else:
        scores = {}
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
            raise ValidationError(_("The score must be between 0 and 100."))
    if not isinstance(opinion, str) or not opinion.strip():
        raise ValidationError(_("Please write your opinion."))
    check_text(opinion, label=_("Opinion"))
    guard(project, Gate.REVIEW, [expert_subject(expert)], expert)
    now = timezone.now()
    if not assignment.no_conflict_declared:  # declared with the review: one more event
        assignment.no_conflict_declared, assignment.declared_at = True, now
        record(EventKind.CONFLICT_DECLARED, project, actor=expert)
    assignment.score, assignment.scores, assignment.opinion = score, scores, opinion.strip()
    assignment.submitted_at = now
    assignment.save()
    record(
        EventKind.REVIEW_SUBMITTED, project, actor=expert, data={"score": score, "scores": scores}
    )
    return assignment


def reviews_complete(project: Project) -> bool:
    # A declined review is no longer waited for (its replacement is).
    counts = project.assignments.filter(declined_at__isnull=True).aggregate(
        assigned=Count("pk"), pending=Count("pk", filter=Q(submitted_at__isnull=True))
    )
    return counts["assigned"] > 0 and counts["pending"] == 0


def apply_budget_cuts(project: Project, cuts: dict[str, tuple[Decimal, str]]) -> dict:
    """Set approved amounts per line; each cut needs a reason. Returns what was cut."""
    lines = list(project.budget_lines.all())
    made = {}
    for line in lines:
        approved, reason = cuts.get(line.category, (line.amount, ""))
        if approved < 0 or approved > line.amount:
            raise ValidationError(
                _("The approved %(cat)s amount must be between 0 and the request.")
                % {"cat": line.get_category_display()}
            )
        if approved < line.amount and not reason.strip():
            raise ValidationError(
                _("Give a reason for cutting %(cat)s.") % {"cat": line.get_category_display()}
            )
        if approved < line.amount:
            made[line.category] = {"from": str(line.amount), "to": str(approved), "reason": reason}
        line.approved, line.cut_reason = approved, reason.strip()
    # The cap holds after the cuts: cutting a line of the base lowers the cap with it.
    check = check_cap({line.category: line.approved for line in lines}, project.call.indirect_tiers)
    if check.exceeded:
        raise ValidationError(
            _(
                "After the cuts, indirect costs of %(indirect)s yuan would exceed their cap "
                "of %(cap)s yuan (direct costs less equipment purchase: %(base)s yuan); "
                "cut the indirect costs as well."
            )
            % check.amounts()
        )
    BudgetLine.objects.bulk_update(lines, ["approved", "cut_reason"])
    return {"cuts": made, "total": sum((line.approved for line in lines), Decimal("0"))}


def record_disbursement(project: Project, amount: Decimal, tranche: str, by) -> Disbursement:
    """Pay a tranche. The caller holds the project row lock and saves `disbursed_total`
    (the database refuses a total above the approved amount) and `first_disbursed_on`."""
    if amount <= 0:
        raise ValidationError(_("A disbursement must be above zero."))
    amount = check_amount(amount, _("Disbursement"))
    remaining = (project.approved_amount or Decimal("0")) - project.disbursed_total
    if amount > remaining:
        raise ValidationError(
            _("Only %(left)s yuan of the approved amount remain to be disbursed.")
            % {"left": grouped(remaining)}
        )
    project.disbursed_total += amount
    paid_on = timezone.localdate()
    if project.first_disbursed_on is None:
        project.first_disbursed_on = paid_on
    return Disbursement.objects.create(
        project=project,
        tranche=tranche,
        amount=amount,
        paid_on=paid_on,
        recorded_by=by,
    )


SPENDING_STATES = {ProjectStatus.IN_PROGRESS, ProjectStatus.ACCEPTANCE_REQUESTED}


@transaction.atomic
def record_expenditure(project: Project, by, data: dict) -> Expenditure:
    project = Project.objects.select_for_update().get(pk=project.pk)
    if by.pk != project.pi_id:
        raise PermissionDenied(_("Only the PI records this project's spending."))
    if project.status not in SPENDING_STATES:
        raise ValidationError(_("Spending is recorded only while the project runs."))
    if data["amount"] <= 0:
        raise ValidationError(_("An expenditure must be above zero."))
    data = {**data, "amount": check_amount(data["amount"], _("Expenditure"))}
    if data["spent_on"] > timezone.localdate():
        raise ValidationError(_("An expenditure cannot be dated in the future."))
    entry = Expenditure.objects.create(project=project, **data)
    # Beyond what was disbursed or budgeted: recorded all the same (units may advance
    # their own money), the warning kept with the event; the page shows it
    # (flags.spending_warnings) and the fund trail flags it.
    warnings = [w.kind for w in spending_warnings(project)]
    record(
        EventKind.EXPENDITURE_RECORDED,
        project,
        actor=by,
        data={"voucher": entry.voucher_no, "amount": str(entry.amount), "warnings": warnings},
    )
    return entry


def budget_lines_in_order(project: Project) -> list[BudgetLine]:
    """Equipment purchase, equipment trial-make, operations, labour, indirect: the order
    of the budget form (an older project has no trial-make line)."""
    order = [c.value for c in BudgetCategory]
    return sorted(project.budget_lines.all(), key=lambda line: order.index(line.category))


VOUCHERS_PER_PAGE = 100


def fund_trail(project: Project, page: int | str | None = 1) -> dict:
    """Budget vs disbursed vs spent per category, the red flags (at most LISTED vouchers
    each) and one page of the vouchers (the auditor's view). Sums and flags come from the
    database, so the time and the queries do not grow with the number of entries."""
    review = Review(project, limit=LISTED)
    ledger = review.ledger
    rows = []
    for line in budget_lines_in_order(project):
        budget = line.current
        used = ledger.by_category.get(line.category, Decimal("0.00"))
        rows.append(
            {
                "category": line.get_category_display(),
                "budget": budget,
                "spent": used,
                "overspent": used > budget,
            }
        )
    vouchers = Paginator(ledger.vouchers(), VOUCHERS_PER_PAGE).get_page(page)
    return {
        "rows": rows,
        "disbursed": project.disbursed_total,
        "approved": project.approved_amount,
        "spent": ledger.spent,
        "vouchers": vouchers,  # a Page: iterate it, or its paginator for the links
        "flags": review.flags,
        "flagged": review.flagged_among(list(vouchers)),  # of the vouchers shown
        "disbursements": list(project.disbursements.order_by("paid_on", "pk")),
        # Due within FIRST_DISBURSEMENT_DAYS of signing; None before the contract.
        "first_disbursement": first_disbursement(project),
    }
