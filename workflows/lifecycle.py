"""The project lifecycle: every state, transition, guard and effect, in one place.

`ProjectLifecycle` wraps a locked `funding.Project` with `viewflow.fsm`. Each transition
names who may fire it (`permission`), what must hold (`conditions`, and the veto gates
of DESIGN §3 in the body) and what it does. On success the project row is saved and a
trail event appended, in the caller's transaction. Nothing else writes Project.status.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from viewflow import fsm

from accounts.roles import Role, has_role
from accounts.text import check_text
from documents.attachments import current_documents
from funding import contracts, expert_draw, notice, recovery
from funding import services as funding
from funding.adjustments import pending_adjustments
from funding.calls import missing_documents
from funding.models import Project
from funding.objection_services import closing_blocker
from funding.states import PRE_CONTRACT_STATES, SUSPENDABLE_STATES
from funding.states import ProjectStatus as S
from integrity.gates import guard, keep_refusal
from integrity.models import Gate
from integrity.policy import NothingToVeto, Subject, VetoRefused, check_veto, record_check
from lists.money import grouped
from oversight import certificates, panels, supervision
from oversight import services as oversight
from oversight import supervision_engagements as engagements
from oversight.models import AcceptanceReview
from trail.buffer import hold_events
from trail.kinds import EventKind
from trail.services import history_of, record

from .unit_review import acts_for_unit, stands_in_for_unit, unit_subjects


class TransitionRefused(Exception):
    """A transition that may not happen now, with a message for the person who tried."""


# --- who may fire -------------------------------------------------------------------------


def _role(*roles: Role):
    def permission(lifecycle: ProjectLifecycle, user) -> bool:
        return any(has_role(user, role) for role in roles)

    permission.__name__ = "role_" + "_or_".join(r.value for r in roles)
    return permission


def _pi(lifecycle: ProjectLifecycle, user) -> bool:
    return user is not None and user.is_authenticated and user.pk == lifecycle.project.pi_id


def _unit_officer(lifecycle: ProjectLifecycle, user) -> bool:
    # The research office of the project's own applicant organisation (承担单位).
    return acts_for_unit(user, lifecycle.project)


def _staff_for_unit(lifecycle: ProjectLifecycle, user) -> bool:
    return stands_in_for_unit(user, lifecycle.project)


def _lead_auditor(lifecycle: ProjectLifecycle, user) -> bool:
    if user is None:
        return False
    engagement = oversight.current_engagement(lifecycle.project)
    return engagement is not None and engagement.lead_auditor_id == user.pk


def _staff_or_system(lifecycle: ProjectLifecycle, user) -> bool:
    # user None: the system acting on a rule (a sanction taking effect).
    return user is None or has_role(user, Role.STAFF)


STAFF, LEADER, STAFF_OR_LEADER = (
    _role(Role.STAFF),
    _role(Role.LEADER),
    _role(Role.STAFF, Role.LEADER),
)

# --- what must hold -----------------------------------------------------------------------

PRE_CONTRACT = sorted(PRE_CONTRACT_STATES)

# The veto gates a project in each state has still to pass (besides `apply`, which covers
# taking part in a project at all). A sanction taking effect holds a project only when it
# bars one of these; resuming passes them again.
GATES_AHEAD: dict[str, tuple[Gate, ...]] = {
    S.PENDING_APPROVAL: (Gate.APPROVAL, Gate.CONTRACT, Gate.DISBURSEMENT, Gate.CERTIFICATE),
    S.PUBLIC_NOTICE: (Gate.CONTRACT, Gate.DISBURSEMENT, Gate.CERTIFICATE),
    S.APPROVED: (Gate.CONTRACT, Gate.DISBURSEMENT, Gate.CERTIFICATE),
    S.CONTRACTED: (Gate.DISBURSEMENT, Gate.CERTIFICATE),
    S.IN_PROGRESS: (Gate.DISBURSEMENT, Gate.CERTIFICATE),
    S.ACCEPTANCE_REQUESTED: (Gate.CERTIFICATE,),
    S.UNDER_AUDIT: (Gate.CERTIFICATE,),
    S.UNDER_ACCEPTANCE: (Gate.CERTIFICATE,),
    S.RECONSIDERATION: (Gate.CERTIFICATE,),
}


def gates_to_pass(state: str) -> tuple[Gate, ...]:
    return (Gate.APPLY, *GATES_AHEAD.get(state, ()))


def notice_period_over(lifecycle: ProjectLifecycle):
    ends = lifecycle.project.notice_ends_on
    return fsm.State.CONDITION(
        notice.notice_over(lifecycle.project),
        _("The public notice runs until %(d)s; it can be closed from the day after.") % {"d": ends},
    )


def no_objection_standing(lifecycle: ProjectLifecycle):
    blocker = closing_blocker(lifecycle.project)
    return fsm.State.CONDITION(blocker is None, blocker or "")


def reviews_complete(lifecycle: ProjectLifecycle):
    return fsm.State.CONDITION(
        funding.reviews_complete(lifecycle.project),
        _("Every assigned expert must submit a review first."),
    )


def below_audit_threshold(lifecycle: ProjectLifecycle):
    threshold = Decimal(settings.SPECIAL_AUDIT_THRESHOLD)
    return fsm.State.CONDITION(
        (lifecycle.project.approved_amount or 0) < threshold,
        _("Funding of %(t)s yuan or more needs a special audit first.") % {"t": grouped(threshold)},
    )


def within_simple_filing(lifecycle: ProjectLifecycle):
    limit = Decimal(settings.SIMPLE_FILING_THRESHOLD)
    return fsm.State.CONDITION(
        (lifecycle.project.approved_amount or 0) <= limit,
        _("Only projects funded with at most %(t)s yuan may be accepted by filing.")
        % {"t": grouped(limit)},
    )


def rectification_left(lifecycle: ProjectLifecycle):
    # conclude_acceptance refuses a second 需要复议 (oversight.panels.check_conclusion), so a
    # project reaches this state once; this guard keeps a stray second one from looping.
    reconsiderations = lifecycle.project.acceptances.filter(
        conclusion=AcceptanceReview.Conclusion.RECONSIDER
    ).count()
    return fsm.State.CONDITION(reconsiderations <= 1, _("Only one rectification is allowed."))


def rectify_by(project: Project) -> datetime.date | None:
    last = project.acceptances.order_by("-pk").first()
    return last.rectify_by if last is not None else None


def rectification_deadline_passed(lifecycle: ProjectLifecycle):
    deadline = rectify_by(lifecycle.project)
    return fsm.State.CONDITION(
        deadline is not None and timezone.localdate() > deadline,
        _("The rectification deadline (%(d)s) has not passed yet.") % {"d": deadline},
    )


ACCEPTANCE_OUTCOMES = {
    AcceptanceReview.Conclusion.PASSED: S.ACCEPTED,
    AcceptanceReview.Conclusion.RECONSIDER: S.RECONSIDERATION,
    AcceptanceReview.Conclusion.FAILED: S.FAILED,
}


def _acceptance_target(lifecycle: ProjectLifecycle, *, review: dict, **kwargs) -> str:
    try:
        return ACCEPTANCE_OUTCOMES[review["conclusion"]]
    except KeyError:
        raise ValidationError(_("Choose a conclusion for the acceptance review.")) from None


def state_before_suspension(project: Project) -> str:
    last = (
        history_of(project)
        .filter(kind=EventKind.PROJECT_TRANSITION, after__status=S.SUSPENDED)
        .last()
    )
    return last.before["status"] if last else S.IN_PROGRESS


def _state_before_suspension(lifecycle: ProjectLifecycle, **kwargs) -> str:
    return lifecycle.state_before_suspension()


def suspended_before_contract(lifecycle: ProjectLifecycle):
    return fsm.State.CONDITION(
        lifecycle.project.status != S.SUSPENDED
        or lifecycle.state_before_suspension() in PRE_CONTRACT_STATES,
        _("A contracted project is terminated, not vetoed."),
    )


def _require_reason(reason: str) -> str:
    if not (reason or "").strip():
        raise ValidationError(_("Please give a reason."))
    return reason.strip()


# --- the machine --------------------------------------------------------------------------


class ProjectLifecycle:
    state = fsm.State(S, default=S.DRAFT)

    def __init__(self, project: Project, actor):
        self.project = project
        self.actor = actor
        self.source = project.status
        self.note: dict = {}  # what the trail event says beyond the states
        self.extra_fields: set[str] = set()

    @state.getter()
    def _get_state(self):
        return self.project.status

    @state.setter()
    def _set_state(self, value):
        self.project.status = value

    @state.on_success()
    def _on_success(self, descriptor, source, target, **kwargs):
        if target is fsm.base.DEFAULT:
            target = source
        self.project.save(update_fields=["status", "updated_at", *self.extra_fields])
        record(
            EventKind.PROJECT_TRANSITION,
            self.project,
            actor=self.actor,
            before={"status": source},
            after={"status": target},
            data={"transition": descriptor._func.__name__, **self.note},
        )

    def state_before_suspension(self) -> str:
        # Read once per transition: the target and the body of `resume` both ask.
        if not hasattr(self, "_before_suspension"):
            self._before_suspension = state_before_suspension(self.project)
        return self._before_suspension

    def _gate(self, gate: Gate, subjects: list[Subject]) -> None:
        """The one-vote veto at a gate: refuse, or record that the check passed."""
        check = guard(self.project, gate, subjects, self.actor)
        overrides = [o.pk for o in check.overrides.all()] if not check.passed else []
        if overrides:
            self.note.setdefault("overrides", []).extend(overrides)

    def _assess_recovery(self, reason: str) -> None:
        assessed = recovery.assess_recovery(self.project, reason, self.actor)
        self.note["to_recover"] = str(assessed.amount)

    # Application ---------------------------------------------------------------------------

    @state.transition(
        label=gettext_lazy("Sign the commitment and submit"),
        source=[S.DRAFT, S.RETURNED],
        target=S.UNIT_REVIEW,
        permission=_pi,
    )
    def submit(self, *, commitment: bool = False):
        """Sign the integrity commitment and submit (承诺制) to the unit's review."""
        if not commitment:
            raise ValidationError(_("You must sign the integrity commitment to submit."))
        if self.source == S.DRAFT and not funding.call_is_open(self.project.call):
            raise ValidationError(
                _("The call closed on %(d)s.") % {"d": self.project.call.closes_on}
            )
        if missing := missing_documents(self.project):  # the call's required papers
            raise ValidationError(
                _("Attach the documents the call requires first: %(kinds)s.")
                % {"kinds": "; ".join(missing)}
            )
        recovery.check_no_outstanding_recovery(self.project)  # 追回 unpaid: no new application
        self._gate(Gate.APPLY, funding.veto_subjects(self.project))
        self.project.commitment_signed_at = timezone.now()
        self.extra_fields.add("commitment_signed_at")

    @state.transition(
        label=gettext_lazy("Recommend the application (单位推荐)"),
        source=S.UNIT_REVIEW,
        target=S.SUBMITTED,
        permission=_unit_officer,
    )
    def recommend_by_unit(self, *, opinion: str = ""):
        """推荐: the unit vouches for the application; the veto checks the unit and everyone
        on the project (gate `apply`)."""
        check_text(opinion or "", label=_("Recommendation opinion"))
        self._gate(Gate.APPLY, unit_subjects(self.project))
        if (opinion or "").strip():
            self.note["opinion"] = opinion.strip()

    @state.transition(
        label=gettext_lazy("Return to the applicant (单位退回)"),
        source=S.UNIT_REVIEW,
        target=S.RETURNED,
        permission=_unit_officer,
    )
    def return_by_unit(self, *, reason: str = ""):
        """The unit sends the application back to the PI, saying why."""
        self.note["reason"] = _require_reason(reason)

    @state.transition(
        label=gettext_lazy("Recommend on the unit's behalf (it has no unit officer)"),
        source=S.UNIT_REVIEW,
        target=S.SUBMITTED,
        permission=_staff_for_unit,
    )
    def recommend_for_unit(self, *, reason: str = ""):
        """Only while the applicant organisation has no unit officer; the veto as above."""
        self.note["reason"] = _require_reason(reason)
        self._gate(Gate.APPLY, unit_subjects(self.project))

    @state.transition(
        label=gettext_lazy("Accept the application (受理)"),
        source=S.SUBMITTED,
        target=S.FORMAL_CHECK,
        permission=STAFF,
    )
    def accept_application(self):
        """受理: the application acceptance gate."""
        self._gate(Gate.APPLY, funding.veto_subjects(self.project))

    @state.transition(
        label=gettext_lazy("Pass the formal check and assign experts"),
        source=S.FORMAL_CHECK,
        target=S.EXPERT_REVIEW,
        permission=STAFF,
    )
    def pass_formal_check(self, *, experts: list, reason: str = ""):
        """Formal check passed; assign the reviewing experts (each checked by the veto):
        those of the latest draw, or picked by hand with a reason (funding.expert_draw)."""
        if len(experts) < settings.MIN_REVIEW_EXPERTS:
            raise ValidationError(
                _("Assign at least %(n)d experts.") % {"n": settings.MIN_REVIEW_EXPERTS}
            )
        self._gate(Gate.REVIEW, [funding.expert_subject(expert) for expert in experts])
        self.note.update(expert_draw.assign_reviewers(self.project, experts, reason=reason))
        self.note["experts"] = [e.pk for e in experts]

    @state.transition(
        label=gettext_lazy("Return for revision"),
        source=[S.SUBMITTED, S.FORMAL_CHECK, S.BUDGET_REVIEW],
        target=S.RETURNED,
        permission=STAFF,
    )
    def return_for_revision(self, *, reason: str = ""):
        self.note["reason"] = _require_reason(reason)

    @state.transition(
        label=gettext_lazy("Withdraw the application"),
        source=[S.DRAFT, S.UNIT_REVIEW, S.SUBMITTED, S.FORMAL_CHECK, S.RETURNED],
        target=S.WITHDRAWN,
        permission=_pi,
    )
    def withdraw(self, *, reason: str = ""):
        self.note["reason"] = reason

    @state.transition(
        label=gettext_lazy("Reject"),
        source=[S.SUBMITTED, S.FORMAL_CHECK, S.EXPERT_REVIEW, S.BUDGET_REVIEW],
        target=S.REJECTED,
        permission=STAFF,
    )
    @state.transition(
        label=gettext_lazy("Reject"),
        source=[S.PENDING_APPROVAL, S.PUBLIC_NOTICE],
        target=S.REJECTED,
        permission=STAFF_OR_LEADER,
    )
    def reject(self, *, reason: str = ""):
        self.note["reason"] = _require_reason(reason)

    # Review and approval ------------------------------------------------------------------

    @state.transition(
        label=gettext_lazy("Conclude the expert review"),
        source=S.EXPERT_REVIEW,
        target=S.BUDGET_REVIEW,
        permission=STAFF,
        conditions=[reviews_complete],
    )
    def finish_expert_review(self):
        reviews = self.project.assignments.filter(declined_at__isnull=True)  # declined: no score
        scores = list(reviews.values_list("score", flat=True))
        self.note["average_score"] = round(sum(scores) / len(scores), 1)

    @state.transition(
        label=gettext_lazy("Conclude the budget review"),
        source=S.BUDGET_REVIEW,
        target=S.PENDING_APPROVAL,
        permission=STAFF,
    )
    def finish_budget_review(self, *, cuts: dict | None = None):
        """Cut budget lines (each with a reason); the sum becomes the approved amount."""
        result = funding.apply_budget_cuts(self.project, cuts or {})
        total = result["total"]
        if total <= 0:
            raise ValidationError(_("The approved budget must be above zero."))
        self.project.approved_amount = total
        self.extra_fields.add("approved_amount")
        self.note.update(approved_amount=str(total), cuts=result["cuts"])

    @state.transition(
        label=gettext_lazy("Approve the project (立项)"),
        source=S.PENDING_APPROVAL,
        target=S.PUBLIC_NOTICE,
        permission=LEADER,
    )
    def approve(self):
        """立项: leadership approves; the project goes on public notice."""
        self._gate(Gate.APPROVAL, funding.veto_subjects(self.project))
        self.project.notice_ends_on = notice.notice_ends_on(timezone.localdate())
        self.extra_fields.add("notice_ends_on")
        self.note["notice_ends_on"] = self.project.notice_ends_on.isoformat()

    @state.transition(
        label=gettext_lazy("Close the public notice"),
        source=S.PUBLIC_NOTICE,
        target=S.APPROVED,
        permission=STAFF,
        conditions=[notice_period_over, no_objection_standing],
    )
    def close_public_notice(self):
        """The notice period ended without a sustained objection: no objection open or
        upheld (an upheld objection means the project is rejected instead)."""

    @state.transition(
        label=gettext_lazy("Sign the task contract"),
        source=S.APPROVED,
        target=S.CONTRACTED,
        permission=STAFF,
    )
    def sign_contract(self):
        """任务书: the approved budget is frozen from here on; progress reports are planned."""
        self._gate(Gate.CONTRACT, funding.veto_subjects(self.project))
        contracts.freeze_for_signing(self.project, self.actor)  # 任务书 terms: complete, frozen
        self.extra_fields.add("signed_on")
        plan = supervision.plan_reports(self.project)
        self.note["reports_planned"] = len(plan)
        if engagements.supervision_required(self.project):  # staff appoint the firm next
            self.note["supervision_required"] = True

    # Money and execution ------------------------------------------------------------------

    @state.transition(
        label=gettext_lazy("Disburse funds"),
        source=[S.CONTRACTED, S.IN_PROGRESS],
        target=S.IN_PROGRESS,
        permission=STAFF,
    )
    def disburse(self, *, amount: Decimal, tranche: str, reason: str = ""):
        """拨付 a tranche; never above the approved amount (also a database constraint);
        beyond the task contract's payment schedule only with a reason."""
        self._gate(Gate.DISBURSEMENT, funding.veto_subjects(self.project))
        if contracts.check_against_schedule(self.project, amount, reason):
            self.note["beyond_schedule"] = reason.strip()
        funding.record_disbursement(self.project, amount, tranche, self.actor)
        self.extra_fields.update({"disbursed_total", "first_disbursed_on"})
        self.note.update(
            amount=str(amount), tranche=tranche, total=str(self.project.disbursed_total)
        )

    @state.transition(
        label=gettext_lazy("Request completion acceptance"),
        source=S.IN_PROGRESS,
        target=S.ACCEPTANCE_REQUESTED,
        permission=_pi,
    )
    def request_acceptance(self, *, report: dict):
        """Ask for completion acceptance, filing the final tech report (科技报告)."""
        if not current_documents(self.project, "tech_report").exists():  # the full text
            raise ValidationError(
                _("Attach the full tech report (PDF) in the documents section first.")
            )
        if contracts.achieved_missing(self.project):  # the panel weighs target against achieved
            raise ValidationError(
                _("Report the achieved value of every task contract target first.")
            )
        pending = pending_adjustments(self.project).count()
        if pending:  # the budget the acceptance weighs must be settled (issue 9)
            raise ValidationError(
                ngettext(
                    "A budget adjustment still waits for the unit: have it decided or "
                    "withdraw it on the fund trail page first.",
                    "%(n)d budget adjustments still wait for the unit: have them decided or "
                    "withdraw them on the fund trail page first.",
                    pending,
                )
                % {"n": pending}
            )
        filed = oversight.file_tech_report(self.project, report)
        self.note.update(report=filed.title, access=filed.access)

    # Audit and acceptance -----------------------------------------------------------------

    @state.transition(
        label=gettext_lazy("Appoint a special audit"),
        source=S.ACCEPTANCE_REQUESTED,
        target=S.UNDER_AUDIT,
        permission=STAFF,
    )
    def appoint_audit(self, *, firm=None, auditor=None):
        """专项审计: appoint a third-party firm (the firm and its auditor pass the veto).
        A project under supervision has its firm already: the audit is the last step of
        that engagement, led by one of its auditors; the firm and all of them pass again."""
        engagement = engagements.running_supervision(self.project)
        if engagement is not None:
            if firm is not None and firm.pk != engagement.firm_id:
                raise ValidationError(
                    _(
                        "%(firm)s supervises this project: the special audit is the last step "
                        "of its engagement. End that engagement first to appoint another firm."
                    )
                    % {"firm": engagement.firm}
                )
            firm, auditor = engagement.firm, auditor or engagement.lead_auditor
            people = [*engagements.assigned(engagement), auditor]
            self._gate(Gate.AUDIT, engagements.engagement_subjects(firm, people))
            oversight.take_up_audit(self.project, engagement, auditor)
            self.note["supervision"] = engagement.pk
        else:
            if firm is None or auditor is None:
                raise ValidationError(_("Choose the audit firm and its lead auditor."))
            self._gate(Gate.AUDIT, oversight.audit_subjects(firm, auditor))
            oversight.appoint_audit(self.project, firm, auditor, self.actor)
        self.note.update(firm=firm.name, credit_code=firm.credit_code, auditor=auditor.pk)

    @state.transition(
        label=gettext_lazy("Send to acceptance review without audit"),
        source=S.ACCEPTANCE_REQUESTED,
        target=S.UNDER_ACCEPTANCE,
        permission=STAFF,
        conditions=[below_audit_threshold],
    )
    def start_acceptance(self):
        """Below the special-audit threshold the panel reviews directly."""

    @state.transition(
        label=gettext_lazy("Accept by simple filing (结题备案)"),
        source=S.ACCEPTANCE_REQUESTED,
        target=S.ACCEPTED,
        permission=STAFF,
        conditions=[within_simple_filing],
    )
    def accept_by_filing(self, *, reason: str = ""):
        """结题备案: small projects are accepted on their file; spot checks come later."""
        self.note["filing"] = _require_reason(reason)

    @state.transition(
        label=gettext_lazy("Issue the audit opinion"),
        source=S.UNDER_AUDIT,
        target=S.UNDER_ACCEPTANCE,
        permission=_lead_auditor,
    )
    def issue_audit_opinion(self, *, opinion: str, findings: str):
        """The firm and its lead auditor pass the veto again as they sign the opinion."""
        engagement = oversight.current_engagement(self.project)
        if engagement is not None and not current_documents(engagement, "audit_report").exists():
            raise ValidationError(
                _("Attach the audit report (PDF) in the documents section first.")
            )
        if engagement is not None:
            self._gate(
                Gate.AUDIT, oversight.audit_subjects(engagement.firm, engagement.lead_auditor)
            )
        oversight.record_audit_opinion(self.project, self.actor, opinion, findings)
        self.note["opinion"] = opinion

    @state.transition(
        label=gettext_lazy("Replace the audit firm"),
        source=S.UNDER_AUDIT,
        permission=STAFF,
    )
    def reappoint_audit(self, *, firm, auditor, reason: str = ""):
        """A firm sanctioned or withdrawn mid-audit is replaced; the new one is vetted."""
        self.note["reason"] = _require_reason(reason)
        self._gate(Gate.AUDIT, oversight.audit_subjects(firm, auditor))
        oversight.appoint_audit(self.project, firm, auditor, self.actor)
        self.note.update(firm=firm.name, credit_code=firm.credit_code, auditor=auditor.pk)

    @state.transition(
        label=gettext_lazy("Record the acceptance conclusion"),
        source=S.UNDER_ACCEPTANCE,
        target=fsm.State.GET_STATE(
            _acceptance_target, states=[S.ACCEPTED, S.RECONSIDERATION, S.FAILED]
        ),
        permission=STAFF,
    )
    def conclude_acceptance(self, *, review: dict):
        """The panel's conclusion: 通过验收 / 需要复议 (once) / 不通过验收.

        It follows the drawn panel's votes and the stated rule (ACCEPTANCE_PASS_SHARE);
        `review` gives the conclusion and remarks. Every member has voted, and each
        passes the veto again as the conclusion is recorded."""
        counted = panels.tally(self.project, in_progress=True)
        panels.check_conclusion(
            self.project, counted, review.get("conclusion"), review.get("remarks", "")
        )
        self._gate(
            Gate.REVIEW,
            [funding.expert_subject(m, _("Panel member")) for m in counted.members],
        )
        recorded = oversight.record_acceptance(self.project, self.actor, review, counted)
        self.note.update(
            conclusion=review["conclusion"],
            round=recorded.round,
            acceptance_panel=counted.panel.pk,
            votes={"members": counted.n, "task": counted.task_yes, "finance": counted.finance_yes},
            rule=str(counted.share),
        )
        if recorded.rectify_by:
            self.note["rectify_by"] = recorded.rectify_by.isoformat()
        if ACCEPTANCE_OUTCOMES[review["conclusion"]] == S.FAILED:
            self._assess_recovery(recovery.Recovery.Reason.FAILED)

    @state.transition(
        label=gettext_lazy("Resubmit for acceptance after rectification"),
        source=S.RECONSIDERATION,
        target=S.UNDER_ACCEPTANCE,
        permission=_pi,
        conditions=[rectification_left],
    )
    def resubmit_for_acceptance(self, *, report: str = ""):
        """The one rectification (整改) after a reconsideration; the same panel votes again
        in a second round, whose conclusion is a pass or a fail."""
        self.note["rectification"] = _require_reason(report)
        last = self.project.acceptances.order_by("-pk").first()
        if last is not None and last.rectify_by:
            self.note["rectify_by"] = last.rectify_by.isoformat()
            # Shown to staff as late; DESIGN §7 leaves what follows to the local rules.
            self.note["late"] = timezone.localdate() > last.rectify_by

    @state.transition(
        label=gettext_lazy("Fail: the rectification deadline passed"),
        source=S.RECONSIDERATION,
        target=S.FAILED,
        permission=STAFF,
        conditions=[rectification_deadline_passed],
    )
    def fail_after_rectification_deadline(self, *, reason: str = ""):
        """不通过验收 when the PI has not resubmitted by the deadline the panel set."""
        self.note["reason"] = _require_reason(reason)
        self.note["rectify_by"] = rectify_by(self.project).isoformat()
        self._assess_recovery(recovery.Recovery.Reason.FAILED)

    @state.transition(
        label=gettext_lazy("Issue the certificate and archive"),
        source=S.ACCEPTED,
        target=S.CLOSED,
        permission=STAFF,
    )
    def issue_certificate(self):
        """Issue the acceptance certificate and archive the project."""
        self._gate(Gate.CERTIFICATE, funding.veto_subjects(self.project))
        certificate = certificates.create_certificate(self.project, self.actor)
        self.note["certificate"] = certificate.serial
        balance = recovery.close_balance(self.project, self.actor)  # 结余 and where it goes
        self.note.update(balance=str(balance.amount), disposition=balance.disposition)

    # Supervision --------------------------------------------------------------------------

    @state.transition(
        label=gettext_lazy("Suspend the project"),
        source=sorted(SUSPENDABLE_STATES),
        target=S.SUSPENDED,
        permission=_staff_or_system,
    )
    def suspend(self, *, reason: str = "", sanction: int | None = None):
        """暂停: running projects, and approved ones waiting for their contract."""
        self.note["reason"] = _require_reason(reason)
        if sanction is not None:
            self.note["sanction"] = sanction

    @state.transition(
        label=gettext_lazy("Resume the project"),
        source=S.SUSPENDED,
        target=fsm.State.GET_STATE(_state_before_suspension, states=sorted(SUSPENDABLE_STATES)),
        permission=STAFF,
    )
    def resume(self, *, reason: str = ""):
        """Resuming passes the veto again: taking part, and every gate still ahead."""
        self.note["reason"] = _require_reason(reason)
        subjects = funding.veto_subjects(self.project)
        for gate in gates_to_pass(self.state_before_suspension()):
            self._gate(gate, subjects)

    @state.transition(
        label=gettext_lazy("Terminate the project"),
        source=[S.SUSPENDED, S.CONTRACTED, S.IN_PROGRESS],
        target=S.TERMINATED,
        permission=STAFF,
    )
    def terminate(self, *, reason: str = ""):
        """终止: the disbursed funds not spent are to be recovered (追回, funding.recovery)."""
        self.note["reason"] = _require_reason(reason)
        self._assess_recovery(recovery.Recovery.Reason.TERMINATED)

    @state.transition(
        label=gettext_lazy("Apply the one-vote veto"),
        source=[*PRE_CONTRACT, S.SUSPENDED],
        target=S.VETOED,
        permission=STAFF,
        conditions=[suspended_before_contract],
    )
    def veto(self):
        """一票否决: only when the register bars a subject of this project today."""
        verdict = check_veto(funding.veto_subjects(self.project), Gate.APPLY)
        if not verdict.blocking:  # a missing ID number stops a gate; it is not a sanction
            raise NothingToVeto(verdict)  # recorded after the rollback, like a refusal
        record_check(verdict, self.project, self.actor)
        self.note["reasons"] = verdict.reasons()


# Transitions that keep the state but hand the open task to someone else.
REASSIGNING = frozenset({"reappoint_audit"})

# --- running a transition -----------------------------------------------------------------


def transition_names() -> list[str]:
    return sorted({t.slug for ts in ProjectLifecycle.state.get_transitions().values() for t in ts})


def transition_labels() -> dict[str, str]:
    return {t.slug: t.label for ts in ProjectLifecycle.state.get_transitions().values() for t in ts}


def available_transitions(project: Project, user) -> list[fsm.Transition]:
    """What `user` may try on `project` now (conditions are checked when fired)."""
    lifecycle = ProjectLifecycle(project, user)
    return [
        t
        for t in ProjectLifecycle.state.get_outgoing_transitions(project.status)
        if t.has_perm(lifecycle, user)
    ]


def lock_project(project_id: int) -> Project:
    # FOR UPDATE OF the project's row only: the call, organisation and PI come along
    # to be read, unlocked, so projects sharing them do not queue behind each other.
    # (SQLite has no row locks; it serialises writes and ignores this.)
    return (
        Project.objects.select_for_update(of=("self",))
        .select_related("applicant_org", "pi", "call")
        .get(pk=project_id)
    )


def fire_locked(project: Project, name: str, actor, **kwargs) -> tuple[str, str]:
    """Fire `name` on a project already locked in the current transaction."""
    if name not in transition_names():
        raise TransitionRefused(_("Unknown action."))
    lifecycle = ProjectLifecycle(project, actor)
    method = getattr(lifecycle, name)
    source = project.status
    if not method.can_proceed(check_conditions=False):
        # The bound method's own label falls back to the function name in other states.
        label = next(iter(method.get_transitions())).label
        raise TransitionRefused(
            _(
                "This project is now “%(state)s”; “%(action)s” is no longer possible. "
                "Someone may have acted on it first."
            )
            % {"state": project.get_status_display(), "action": label}
        )
    if not method.has_perm(actor):
        raise TransitionRefused(_("You may not do this on this project."))
    try:
        with hold_events():  # the trail's head is locked at the end, not from the start
            method(**kwargs)
    except fsm.TransitionConditionsUnmet as unmet:
        raise TransitionRefused(unmet.unmet_message or str(unmet)) from None
    return source, project.status


def fire(project_id: int, name: str, actor, **kwargs) -> Project:
    """Lock, guard, change, record, commit. A refusal by the veto is itself recorded."""
    try:
        with transaction.atomic():
            project = lock_project(project_id)
            fire_locked(project, name, actor, **kwargs)
        return project
    except (VetoRefused, NothingToVeto) as refused:
        record_refusal(project_id, refused, actor)
        raise


def record_refusal(project_id: int, refused: VetoRefused | NothingToVeto, actor) -> None:
    """Keep the check after the transition's rollback: every check is recorded (DESIGN §4)."""
    # The refusal names its object; a bare row stands in (only its label and pk are used).
    keep_refusal(refused, actor, obj=getattr(refused, "obj", None) or Project(pk=project_id))
