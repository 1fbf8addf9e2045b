"""Drawing reviewers from the pool (专家抽取) and who must be left out (回避).

Like the random inspections (oversight/inspections.py), the draw is
`random.Random(seed).sample` over the eligible experts in id order; the seed, the pool,
who was left out and why, and the picks are kept in a `ReviewDraw`, so anyone can redo
it (`redo_draw`). An expert who declines is replaced from the same draw's pool: the
candidates still eligible and not yet assigned, in id order, with
`random.Random(seed|replacement|n).choice`, n counting the replacements of that draw.
Staff may also pick by hand, with a reason kept on the assignment and in the trail.
"""

from __future__ import annotations

import datetime
import random
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import Role, has_role
from accounts.text import check_text
from integrity.gates import guard
from integrity.models import Gate, SubjectKind
from integrity.policy import Subject, check_veto
from trail.kinds import EventKind
from trail.services import record

from .expert_profiles import field_problems
from .experts import ExpertField, ExpertProfile, ReviewDraw
from .models import ExpertAssignment, Project
from .services import expert_subject
from .states import ProjectStatus

SEED_MAX = ReviewDraw._meta.get_field("seed").max_length
MAX_DRAW = 20

# Why an expert is not in a draw's pool, in the order they are tested (the first applies).
EXCLUSIONS = {
    "no_profile": gettext_lazy("no expert profile"),
    "inactive": gettext_lazy("inactive in the pool"),
    "no_identity": gettext_lazy("no ID number on record"),
    "own_organisation": gettext_lazy("works for the applicant or a partner organisation"),
    "team": gettext_lazy("is the PI or a member of the team"),
    "relation": gettext_lazy("declared a relation to the applicant, a partner or the team"),
    "sanctioned": gettext_lazy("barred from expert work by the register"),
    "other_field": gettext_lazy("works in other fields"),
    "taken": gettext_lazy("already assigned to this project, or declined it"),
}


# --- the seeded choices: pure, so anyone can recompute them from the record ------------


def seeded_sample(seed: str, pool: list[int], size: int) -> list[int]:
    return sorted(random.Random(f"{seed}|{len(pool)}").sample(pool, size))


def seeded_choice(seed: str, counter: int, candidates: list[int]) -> int:
    return random.Random(f"{seed}|replacement|{counter}").choice(candidates)


def redo_draw(draw: ReviewDraw) -> list[int]:
    """The picks the stored seed gives over the stored pool (equal to `draw.picks`)."""
    return seeded_sample(draw.seed, draw.pool, draw.size)


# --- who may review this project ---------------------------------------------------------


@dataclass(frozen=True)
class Conflicts:
    """Whom an expert of this project must not belong to or be related to."""

    organisations: frozenset[int]  # the applicant and the partner organisations
    people: frozenset[str]  # ID numbers of the PI and the team


def conflicts_of(project: Project) -> Conflicts:
    organisations = {project.applicant_org_id, *project.partner_orgs.values_list("pk", flat=True)}
    people = set(project.team.values_list("id_number", flat=True))
    if project.pi.id_number:
        people.add(project.pi.id_number)
    return Conflicts(frozenset(organisations), frozenset(people))


def _profile(user) -> ExpertProfile | None:
    try:
        return user.expert_profile
    except ObjectDoesNotExist:
        return None


def exclusion(user, conflicts: Conflicts, *, fields=(), barred=frozenset()) -> str | None:
    """Why `user` may not review a project with these conflicts (a key of EXCLUSIONS)."""
    profile = _profile(user)
    if profile is None:
        return "no_profile"
    if not user.is_active or not profile.active:
        return "inactive"
    if not user.id_number:
        return "no_identity"
    if {user.organisation_id, profile.organisation_id} & conflicts.organisations:
        return "own_organisation"
    if user.id_number in conflicts.people:
        return "team"
    for relation in profile.relations.all():
        if relation.organisation_id in conflicts.organisations or (
            relation.id_number and relation.id_number in conflicts.people
        ):
            return "relation"
    if user.id_number in barred:
        return "sanctioned"
    if fields and not set(fields) & set(profile.fields):
        return "other_field"
    return None


def _experts():
    return (
        get_user_model()
        .objects.filter(groups__name=Role.EXPERT.value)
        .select_related("expert_profile")
        .prefetch_related("expert_profile__relations")
        .order_by("pk")
        .distinct()
    )


def eligible_experts(project: Project, fields=()) -> tuple[list[int], dict[str, list[int]]]:
    """Who may be drawn for `project` in `fields` (any field when empty) today, in id
    order, and who was left out, by reason."""
    experts = list(_experts())
    subjects = [
        Subject(SubjectKind.PERSON, u.id_number, str(u), "") for u in experts if u.id_number
    ]
    barred = {s.subject_id for s in check_veto(subjects, Gate.REVIEW).blocking}
    conflicts = conflicts_of(project)
    pool, excluded = [], {}
    for user in experts:
        why = exclusion(user, conflicts, fields=fields, barred=barred)
        if why is None:
            pool.append(user.pk)
        else:
            excluded.setdefault(why, []).append(user.pk)
    return pool, excluded


def default_fields(project: Project) -> list[str]:
    """The pool fields a project's free-text field names: its value, its label, or the
    Chinese name in the label's brackets (农业科技 → agriculture)."""
    text = (project.field or "").strip().casefold()
    found = []
    for value, label in ExpertField.choices:
        shown = str(label).casefold()  # in the user's language
        with translation.override("en"):  # the source label carries the Chinese name
            label = str(label)
        chinese = label[label.find("(") + 1 : label.find(")")] if "(" in label else ""
        names = {value, label.casefold(), shown, chinese.casefold()} - {""}
        if text in names or (chinese and chinese in text):
            found.append(value)
    return found


def latest_draw(project: Project) -> ReviewDraw | None:
    return project.review_draws.order_by("-drawn_at", "-pk").first()


def _due_on() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=settings.EXPERT_REVIEW_DAYS)


# --- the draw, before the formal check passes ---------------------------------------------


@transaction.atomic
def draw_reviewers(
    project: Project, by, fields: list[str], size: int, seed: str = ""
) -> ReviewDraw:
    """Staff draw `size` reviewers for a project in its formal check; journaled."""
    if not has_role(by, Role.STAFF):
        raise PermissionDenied(_("Only bureau staff draw reviewers."))
    project = Project.objects.select_for_update().select_related("pi").get(pk=project.pk)
    if project.status != ProjectStatus.FORMAL_CHECK:
        raise ValidationError(
            _("Reviewers are drawn while the application is in its formal check.")
        )
    if problems := field_problems(fields):
        raise ValidationError(problems)
    seed = seed.strip() if isinstance(seed, str) else ""
    seed = seed or secrets.token_hex(8)
    check_text(seed, label=_("Seed"), max_length=SEED_MAX, multiline=False)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_DRAW:
        raise ValidationError(_("Draw between 1 and %(n)d experts.") % {"n": MAX_DRAW})
    pool, excluded = eligible_experts(project, fields)
    if size > len(pool):
        raise ValidationError(
            _(
                "Experts who may review this project in these fields: %(n)d. Draw fewer, "
                "choose more fields, or pick by hand with a reason."
            )
            % {"n": len(pool)}
        )
    picks = seeded_sample(seed, pool, size)
    draw = ReviewDraw.objects.create(
        project=project,
        seed=seed,
        fields=list(fields),
        size=size,
        pool=pool,
        excluded=excluded,
        picks=picks,
        drawn_by=by,
    )
    record(
        EventKind.EXPERTS_DRAWN,
        project,
        actor=by,
        data={
            "draw": draw.pk,
            "seed": seed,
            "fields": list(fields),
            "size": size,
            "pool": pool,
            "excluded": excluded,
            "picks": picks,
        },
    )
    return draw


def _names(users) -> str:
    return "、".join(str(u) for u in users)


def _check_hand_picked(project: Project, experts: list, conflicts: Conflicts) -> None:
    ids = [e.pk for e in experts]
    if len(ids) != len(set(ids)):
        raise ValidationError(_("An expert is listed twice."))
    users = {u.pk: u for u in _experts().filter(pk__in=ids)}
    for expert in experts:
        user = users.get(expert.pk)
        if user is None:
            raise ValidationError(_("%(name)s is not an expert reviewer.") % {"name": expert})
        why = exclusion(user, conflicts)
        if why is not None:
            raise ValidationError(
                _("%(name)s cannot review this project (回避): %(why)s.")
                % {"name": expert, "why": EXCLUSIONS[why]}
            )


def assign_reviewers(project: Project, experts: list, *, reason: str = "") -> dict:
    """Assign the reviewers as the formal check passes (the lifecycle holds the lock and
    has vetted them at the review gate). Experts of the latest draw come with it; any
    other is picked by hand and needs `reason`. Returns what the trail event records."""
    draw = latest_draw(project)
    picks = set(draw.picks) if draw else set()
    by_hand = [e for e in experts if e.pk not in picks]
    reason = reason.strip() if isinstance(reason, str) else ""
    check_text(reason, label=_("Reason"))
    if by_hand and not reason:
        raise ValidationError(
            _("Give the reason for picking %(names)s by hand (not drawn).")
            % {"names": _names(by_hand)}
        )
    _check_hand_picked(project, experts, conflicts_of(project))
    due = _due_on()
    ExpertAssignment.objects.bulk_create(
        [
            ExpertAssignment(
                project=project,
                expert=e,
                due_on=due,
                drawn=draw if e.pk in picks else None,
                picked_reason="" if e.pk in picks else reason,
            )
            for e in experts
        ]
    )
    note: dict = {"draw": draw.pk if draw else None, "due_on": due.isoformat()}
    if by_hand:
        note.update(picked_by_hand=[e.pk for e in by_hand], picked_reason=reason)
    return note


# --- declining, and the replacement ---------------------------------------------------------


def _locked(project: Project) -> Project:
    return Project.objects.select_for_update().select_related("pi", "call").get(pk=project.pk)


def _own_assignment(project: Project, expert) -> ExpertAssignment:
    assignment = (
        ExpertAssignment.objects.select_for_update().filter(project=project, expert=expert).first()
    )
    if assignment is None:
        raise PermissionDenied(_("You are not assigned to review this project."))
    return assignment


def _open_assignment(project: Project, expert) -> ExpertAssignment:
    if project.status != ProjectStatus.EXPERT_REVIEW:
        raise ValidationError(_("This project is not under expert review."))
    assignment = _own_assignment(project, expert)
    if assignment.declined_at:
        raise ValidationError(_("You have declined this review."))
    if assignment.submitted_at:
        raise ValidationError(_("You have already submitted your review."))
    return assignment


@transaction.atomic
def declare_no_conflict(project: Project, expert) -> ExpertAssignment:
    """The expert's declaration of no conflict of interest (回避声明): only then do they
    see the application beyond its title."""
    project = _locked(project)
    assignment = _open_assignment(project, expert)
    if not assignment.no_conflict_declared:
        assignment.no_conflict_declared, assignment.declared_at = True, timezone.now()
        assignment.save(update_fields=["no_conflict_declared", "declared_at"])
        record(EventKind.CONFLICT_DECLARED, project, actor=expert)
    return assignment


@transaction.atomic
def decline_review(
    project: Project, expert, reason: str, *, conflict: bool = False
) -> tuple[ExpertAssignment, ExpertAssignment | None]:
    """The expert declines (or declares a conflict) before scoring; a replacement is drawn
    from the same draw's pool at once. The project row lock makes two declines at once
    queue, so the second sees the first one's replacement and draws another."""
    project = _locked(project)
    assignment = _open_assignment(project, expert)
    reason = reason.strip() if isinstance(reason, str) else ""
    check_text(reason, label=_("Reason"))
    if not reason:
        raise ValidationError(
            _("Describe the conflict of interest.")
            if conflict
            else _("Give the reason for declining.")
        )
    assignment.declined_at, assignment.decline_reason = timezone.now(), reason
    assignment.conflict = bool(conflict)
    replacement, drawn = _draw_replacement(project, assignment)
    assignment.replaced_by = replacement
    assignment.save(update_fields=["declined_at", "decline_reason", "conflict", "replaced_by"])
    record(
        EventKind.REVIEW_DECLINED,
        project,
        actor=expert,
        data={
            "assignment": assignment.pk,
            "conflict": assignment.conflict,
            "reason": reason,
            "replacement": replacement.expert_id if replacement else None,
            **drawn,
        },
    )
    return assignment, replacement


def _draw_replacement(
    project: Project, declined: ExpertAssignment
) -> tuple[ExpertAssignment | None, dict]:
    draw = declined.drawn or latest_draw(project)
    if draw is None:
        return None, {"draw": None}
    taken = set(project.assignments.values_list("expert_id", flat=True))
    eligible = set(eligible_experts(project, draw.fields)[0])
    candidates = [pk for pk in draw.pool if pk in eligible and pk not in taken]
    if not candidates:
        return None, {"draw": draw.pk, "candidates": []}
    counter = draw.replacements + 1
    chosen = seeded_choice(draw.seed, counter, candidates)
    ReviewDraw.objects.filter(pk=draw.pk).update(replacements=counter)
    expert = get_user_model().objects.get(pk=chosen)
    guard(project, Gate.REVIEW, [expert_subject(expert)], None)  # recorded, like assigning
    replacement = ExpertAssignment.objects.create(
        project=project, expert=expert, due_on=_due_on(), drawn=draw
    )
    return replacement, {"draw": draw.pk, "counter": counter, "candidates": candidates}


def awaiting_replacement(project: Project) -> ExpertAssignment | None:
    """The oldest declined review no replacement could be drawn for."""
    return (
        project.assignments.filter(declined_at__isnull=False, replaced_by__isnull=True)
        .order_by("declined_at", "pk")
        .first()
    )


@transaction.atomic
def pick_replacement(project: Project, by, expert, reason: str) -> ExpertAssignment:
    """Staff pick by hand, with a reason, in place of a declined review the draw could not
    replace. The expert passes the veto (the caller keeps a refusal after the rollback)."""
    if not has_role(by, Role.STAFF):
        raise PermissionDenied(_("Only bureau staff pick reviewers."))
    project = _locked(project)
    if project.status != ProjectStatus.EXPERT_REVIEW:
        raise ValidationError(_("This project is not under expert review."))
    declined = awaiting_replacement(project)
    if declined is None:
        raise ValidationError(
            _("A reviewer is picked by hand only in place of one who declined unreplaced.")
        )
    reason = reason.strip() if isinstance(reason, str) else ""
    check_text(reason, label=_("Reason"))
    if not reason:
        raise ValidationError(_("Give the reason for picking %(name)s by hand.") % {"name": expert})
    if project.assignments.filter(expert=expert).exists():
        raise ValidationError(
            _("%(name)s is already assigned to this project, or declined it.") % {"name": expert}
        )
    _check_hand_picked(project, [expert], conflicts_of(project))
    guard(project, Gate.REVIEW, [expert_subject(expert)], by)
    replacement = ExpertAssignment.objects.create(
        project=project, expert=expert, due_on=_due_on(), picked_reason=reason
    )
    declined.replaced_by = replacement
    declined.save(update_fields=["replaced_by"])
    record(
        EventKind.EXPERTS_DRAWN,
        project,
        actor=by,
        data={"picked_by_hand": [expert.pk], "picked_reason": reason, "replaces": declined.pk},
    )
    return replacement
