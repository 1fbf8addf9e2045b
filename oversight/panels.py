"""Acceptance panels: drawn from the expert pool, each member's verdict, and the rule.

The panel is drawn like the random inspections: the pool (every expert who may sit on
this project's panel, in id order) and the seed are kept, and the members are
`random.Random(seed).sample` over the pool, so anyone can redo the draw. Each member
records a task verdict, a finance verdict and an opinion, checked by the veto as they
vote. The conclusion follows ACCEPTANCE_PASS_SHARE (`tally`, `check_conclusion`); the
audit opinion can block a financial pass (`audit_block`).
"""

from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass, field
from fractions import Fraction

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts.roles import Role, has_role
from funding.expert_draw import eligible_experts
from funding.models import Project
from funding.services import expert_subject
from funding.states import ProjectStatus
from integrity.gates import guard, keep_refusal
from integrity.models import Gate
from integrity.policy import VetoRefused
from trail.kinds import EventKind
from trail.services import record

from .models import AcceptancePanel, AcceptanceReview, AuditEngagement, PanelVerdict

SEED_MAX = AcceptancePanel._meta.get_field("seed").max_length


# --- the pool and the draw ----------------------------------------------------------------


def eligible_panel_experts(project: Project) -> tuple[list[int], dict[str, list[int]]]:
    """Who may sit on this project's panel today, in id order, and who was left out and
    why: the expert pool's own rule for the project, in any field (an active profile, an
    ID number, not of the applicant or a partner organisation, not the PI or on the team,
    no declared relation to them, not barred from expert work)."""
    return eligible_experts(project)


def redo_panel_draw(seed: str, pool: list[int], size: int) -> list[int]:
    """The members a seed draws from a pool: what anyone can recompute from the record."""
    return sorted(random.Random(f"{seed}|panel|{len(pool)}").sample(pool, size))


def current_panel(project: Project) -> AcceptancePanel | None:
    """The newest panel drawn for the project: the one that votes."""
    return project.acceptance_panels.order_by("-pk").first()


def current_round(project: Project) -> int:
    """1 for the first acceptance review, 2 after the one reconsideration."""
    return project.acceptances.count() + 1


def _locked(project: Project) -> Project:
    return (
        Project.objects.select_for_update().select_related("pi", "applicant_org").get(pk=project.pk)
    )


def draw_acceptance_panel(
    project: Project, by, size: int | None = None, seed: str = "", reason: str = ""
) -> AcceptancePanel:
    """Staff draw the panel once the project is under acceptance review; drawing again
    (a member barred or gone since) needs a reason. A refusal by the veto is kept."""
    try:
        return _draw(project, by, size, seed, reason)
    except VetoRefused as refused:
        keep_refusal(refused, by)
        raise


@transaction.atomic
def _draw(project: Project, by, size: int | None, seed: str, reason: str) -> AcceptancePanel:
    if not has_role(by, Role.STAFF):
        raise PermissionDenied(_("Only bureau staff draw the acceptance panel."))
    project = _locked(project)
    if project.status != ProjectStatus.UNDER_ACCEPTANCE:
        raise ValidationError(
            _("The acceptance panel is drawn once the project is under acceptance review.")
        )
    size = settings.MIN_ACCEPTANCE_PANEL if size is None else size
    if size < settings.MIN_ACCEPTANCE_PANEL:
        raise ValidationError(
            _("An acceptance panel has at least %(n)d members.")
            % {"n": settings.MIN_ACCEPTANCE_PANEL}
        )
    seed, reason = (seed or "").strip(), (reason or "").strip()
    if len(seed) > SEED_MAX:
        raise ValidationError(_("A seed has at most %(n)d characters.") % {"n": SEED_MAX})
    if current_panel(project) is not None and not reason:
        raise ValidationError(
            _("This project already has a panel; give a reason to draw it again.")
        )
    pool, excluded = eligible_panel_experts(project)
    if len(pool) < size:
        raise ValidationError(
            _(
                "Only %(n)d experts may sit on this panel (the applicant's and partners' "
                "people, the team, their declared relations, and inactive, unidentified or "
                "sanctioned experts are left out); a panel of %(size)d cannot be drawn. "
                "Add experts to the pool."
            )
            % {"n": len(pool), "size": size}
        )
    seed = seed or secrets.token_hex(8)
    picks = redo_panel_draw(seed, pool, size)
    panel = AcceptancePanel.objects.create(
        project=project,
        seed=seed,
        pool=pool,
        excluded=excluded,
        size=size,
        reason=reason,
        drawn_by=by,
    )
    panel.members.set(picks)
    drawn = get_user_model().objects.filter(pk__in=picks).order_by("pk")
    guard(project, Gate.REVIEW, [expert_subject(u, _("Panel member")) for u in drawn], by)
    # Journaled on the panel, like an inspection draw on the draw: the PI's page shows the
    # project's history, and who sits on the panel is not theirs to see.
    record(
        EventKind.EXPERTS_DRAWN,
        panel,
        actor=by,
        data={
            "project": project.pk,
            "seed": seed,
            "pool": pool,
            "members": picks,
            "excluded": excluded,
            "reason": reason,
        },
    )
    return panel


# --- the audit opinion --------------------------------------------------------------------


def latest_engagement(project: Project) -> AuditEngagement | None:
    return (
        project.audits.select_related("firm", "lead_auditor", "answer")
        .order_by("-appointed_at", "-pk")
        .first()
    )


def audit_block(project: Project) -> str | None:
    """Why the financial review cannot pass now, or None: an adverse or disclaimer
    opinion blocks it; a qualified one until the PI has answered the findings."""
    engagement = latest_engagement(project)
    if engagement is None:
        return None
    opinion = engagement.opinion
    if opinion in (AuditEngagement.Opinion.ADVERSE, AuditEngagement.Opinion.DISCLAIMER):
        return _("The audit opinion is “%(opinion)s”: the financial review cannot pass.") % {
            "opinion": engagement.get_opinion_display()
        }
    if opinion == AuditEngagement.Opinion.QUALIFIED and not _answered(engagement):
        return _(
            "The audit opinion is qualified: the financial review can pass only after the "
            "PI has answered the findings."
        )
    return None


def _answered(engagement: AuditEngagement) -> bool:
    try:
        return bool(engagement.answer.text)
    except AuditEngagement.answer.RelatedObjectDoesNotExist:
        return False


# --- each member's verdict ----------------------------------------------------------------


def cast_verdict(
    project: Project, member, *, task_passed: bool, finance_passed: bool, opinion: str
) -> PanelVerdict:
    """A drawn member's verdict for this round (replacing their earlier one of the same
    round). The member passes the veto as they vote; a refusal is kept."""
    try:
        return _cast(project, member, task_passed, finance_passed, opinion)
    except VetoRefused as refused:
        keep_refusal(refused, member)
        raise


@transaction.atomic
def _cast(project: Project, member, task_passed: bool, finance_passed: bool, opinion: str):
    project = _locked(project)
    panel = current_panel(project)
    is_member = panel is not None and panel.members.filter(pk=member.pk).exists()
    if not (is_member and has_role(member, Role.EXPERT)):
        raise PermissionDenied(_("Only a member of the drawn acceptance panel records a verdict."))
    if project.status != ProjectStatus.UNDER_ACCEPTANCE:
        raise ValidationError(
            _("Verdicts are recorded while the project is under acceptance review.")
        )
    opinion = (opinion or "").strip()
    if not opinion:
        raise ValidationError(_("Write your opinion."))
    block = audit_block(project) if finance_passed else None
    if block:
        raise ValidationError(block)
    guard(project, Gate.REVIEW, [expert_subject(member, _("Panel member"))], member)
    round_ = current_round(project)
    verdict, _created = PanelVerdict.objects.update_or_create(
        panel=panel,
        member=member,
        round=round_,
        defaults={
            "task_passed": task_passed,
            "finance_passed": finance_passed,
            "opinion": opinion,
        },
    )
    record(
        EventKind.PANEL_VERDICT,
        panel,  # on the panel: a member's vote is not the PI's to see
        actor=member,
        data={
            "project": project.pk,
            "round": round_,
            "task_passed": task_passed,
            "finance_passed": finance_passed,
            "opinion": opinion,
        },
    )
    return verdict


# --- the rule -----------------------------------------------------------------------------


def pass_share() -> Fraction:
    return Fraction(settings.ACCEPTANCE_PASS_SHARE)


@dataclass
class Tally:
    """The current panel's votes in the current round, and what the rule makes of them."""

    panel: AcceptancePanel | None
    round: int
    members: list = field(default_factory=list)
    verdicts: list[PanelVerdict] = field(default_factory=list)
    share: Fraction = Fraction(2, 3)
    audit_block: str | None = None

    @property
    def n(self) -> int:
        return len(self.members)

    @property
    def missing(self) -> list:
        voted = {v.member_id for v in self.verdicts}
        return [m for m in self.members if m.pk not in voted]

    @property
    def task_yes(self) -> int:
        return sum(v.task_passed for v in self.verdicts)

    @property
    def finance_yes(self) -> int:
        return sum(v.finance_passed for v in self.verdicts)

    @property
    def needed(self) -> int:
        """How many pass verdicts of each kind the rule asks for."""
        return math.ceil(self.share * self.n)

    @property
    def task_passed(self) -> bool:
        return self.n > 0 and self.task_yes >= self.needed

    @property
    def financial_passed(self) -> bool:
        return self.n > 0 and self.finance_yes >= self.needed and self.audit_block is None

    @property
    def passes(self) -> bool:
        return self.task_passed and self.financial_passed

    def rule(self) -> str:
        return _(
            "The project passes when at least %(share)s of the panel (%(needed)d of "
            "%(n)d members) pass the task and at least as many pass the finances; "
            "otherwise it fails."
        ) % {"share": self.share, "needed": self.needed, "n": self.n}

    def rows(self) -> list[dict]:
        """Each member with their verdict of this round (None: not yet voted)."""
        by_member = {v.member_id: v for v in self.verdicts}
        return [{"member": m, "verdict": by_member.get(m.pk)} for m in self.members]


def tally(project: Project, *, in_progress: bool | None = None) -> Tally:
    """The votes of the round in progress (under acceptance review), else of the round
    last concluded, so the page shows the votes a conclusion followed. The conclusion
    passes `in_progress=True`: the lifecycle has set the target state by then."""
    panel, round_ = current_panel(project), current_round(project)
    if in_progress is None:
        in_progress = project.status == ProjectStatus.UNDER_ACCEPTANCE
    if not in_progress:
        last = project.acceptances.exclude(drawn_panel=None).order_by("-pk").first()
        if last is not None:
            panel, round_ = last.drawn_panel, last.round
    result = Tally(panel=panel, round=round_, share=pass_share())
    if panel is None:
        return result
    result.members = list(panel.members.order_by("pk"))
    result.verdicts = list(panel.verdicts.filter(round=round_).order_by("member_id"))
    result.audit_block = audit_block(project)
    return result


def check_conclusion(project: Project, counted: Tally, conclusion: str, remarks: str) -> None:
    """Refuse a conclusion recorded too early or contrary to the rule."""
    C = AcceptanceReview.Conclusion
    if conclusion not in C.values:
        raise ValidationError(_("Choose a conclusion for the acceptance review."))
    if counted.panel is None:
        raise ValidationError(_("Draw the acceptance panel first; the panel's votes conclude."))
    if counted.missing:
        raise ValidationError(
            _("Every panel member votes before the conclusion; still to vote: %(names)s.")
            % {"names": "、".join(str(m) for m in counted.missing)}
        )
    if conclusion == C.PASSED and not counted.passes:
        problems = [
            _("The panel's votes do not pass the project: %(rule)s") % {"rule": counted.rule()}
        ]
        if counted.audit_block:
            problems.append(counted.audit_block)
        raise ValidationError(problems)
    if conclusion != C.PASSED and counted.passes:
        raise ValidationError(
            _("The panel's votes pass the project (%(rule)s); the conclusion is a pass.")
            % {"rule": counted.rule()}
        )
    if conclusion == C.RECONSIDER:
        if project.acceptances.filter(conclusion=C.RECONSIDER).exists():
            raise ValidationError(
                _(
                    "Reconsideration (需要复议) is allowed once and this project has had it; "
                    "this second conclusion is a pass or a fail."
                )
            )
        if not (remarks or "").strip():
            raise ValidationError(
                _("Write the panel's remarks: the PI rectifies by them before resubmitting.")
            )


def panels_waiting_for(member):
    """Panels of projects under acceptance that count `member` and still wait for their
    verdict in this round (the newest panel of each project; oldest drawn first): the
    member's inbox, counted and capped in one query."""
    newest = AcceptancePanel.objects.filter(project=OuterRef("project")).order_by("-pk")
    reviews = AcceptanceReview.objects.filter(project=OuterRef("project")).values("project")
    round_ = Coalesce(Subquery(reviews.annotate(n=Count("pk")).values("n")), 0) + 1
    voted = PanelVerdict.objects.filter(panel=OuterRef("pk"), member=member, round=OuterRef("r"))
    return (
        AcceptancePanel.objects.filter(
            members=member,
            project__status=ProjectStatus.UNDER_ACCEPTANCE,
            pk=Subquery(newest.values("pk")[:1]),
        )
        .annotate(r=round_)
        .exclude(Exists(voted))
        .select_related("project")
        .order_by("drawn_at", "pk")
    )
