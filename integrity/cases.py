"""The misconduct case procedure (DESIGN §4), from report to review, in one place.

`CaseLifecycle` wraps a locked `MisconductCase` with `viewflow.fsm`, like the project
lifecycle: every step names who may take it and what it does, is one transaction and
one trail event. The order the rules ask for:

    proposed (by the system) ─┐
    reported ─ accept ────────┴→ investigating ─ decide → decided ─ appeal → appealed
       └ refuse → refused      │  (hearing: notify, then            │ uphold → appeal_answered
    proposed ─ dismiss →       │   statement or lapse)              │ revoke → revoked
       dismissed               └ clear → cleared     appeal_answered ─ request_review
                                                     → under_review ─ uphold → upheld
                                                                    └ revoke → revoked

A decision records the sanction in the register (and so the veto) and its decision
letter; an appeal or a review marks the sanction under appeal without lifting the veto;
a revocation revokes the sanction.
"""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow import fsm

from accounts.roles import Role, has_role
from trail.kinds import EventKind
from trail.services import record

from .models import (
    Appeal,
    DecisionLetter,
    Measure,
    MisconductCase,
    MisconductType,
    RespondentHearing,
    Sanction,
    Severity,
    SubjectKind,
)
from .models import CaseStatus as C
from .services import normalise_subject, record_sanction, revoke_sanction

# Funding violations fall under the 2026 rules; research misconduct under the 2022 rules.
_FUNDING_VIOLATIONS = {
    MisconductType.FALSE_APPLICATION,
    MisconductType.LOBBYING,
    MisconductType.MISUSE,
    MisconductType.CONTRACT,
    MisconductType.FALSE_RECTIFICATION,
}
RULES_2022 = "《科研失信行为调查处理规则》（国科发监〔2022〕221号）"
RULES_2026 = "《科学技术活动违规行为调查处理规定》（科学技术部令第24号）"


class CaseRefused(Exception):
    """A step that may not be taken now, with the reason for the officer."""


def default_legal_basis(misconduct: str) -> str:
    return RULES_2026 if misconduct in _FUNDING_VIOLATIONS else RULES_2022


def normalise_decision_no(text: str) -> str:
    """One spelling per number: full-width digits and stray spaces do not make a new one."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def decision_no_taken(number: str, case_id: int | None = None) -> bool:
    """Used by another case's decision or by any sanction in the register."""
    other_cases = MisconductCase.objects.filter(decision_no=number).exclude(pk=case_id)
    return (
        other_cases.exists()
        or Sanction.objects.filter(decision_no=number).exists()
        or DecisionLetter.objects.filter(number=number).exists()
    )


def _officer(lifecycle: CaseLifecycle, user) -> bool:
    return has_role(user, Role.INTEGRITY)


def _require(text: str, field: str = "reason") -> str:
    if not (text or "").strip():
        raise ValidationError({field: _("Please give a reason.")})
    return text.strip()


def _not_future(day: datetime.date, field: str) -> datetime.date:
    if day > timezone.localdate():
        raise ValidationError({field: _("This date cannot be in the future.")})
    return day


class CaseLifecycle:
    state = fsm.State(C, default=C.REPORTED)

    def __init__(self, case: MisconductCase, actor):
        self.case, self.actor, self.note = case, actor, {}

    @state.getter()
    def _get(self):
        return self.case.status

    @state.setter()
    def _set(self, value):
        self.case.status = value

    @state.on_success()
    def _on_success(self, descriptor, source, target, **kwargs):
        target = source if target is fsm.base.DEFAULT else target
        self.case.save()
        record(
            EventKind.CASE_TRANSITION,
            self.case,
            actor=self.actor,
            before={"status": source},
            after={"status": target},
            data={"step": descriptor._func.__name__, **self.note},
        )

    # --- acceptance (受理) ---

    @state.transition(
        label=gettext_lazy("Accept and investigate (受理)"),
        source=[C.REPORTED, C.PROPOSED],
        target=C.INVESTIGATING,
        permission=_officer,
    )
    def accept(self):
        if not self.case.reporter and not self.case.evidence.strip():
            raise ValidationError(_("An anonymous report is accepted only with evidence."))

    @state.transition(
        label=gettext_lazy("Do not accept"),
        source=C.REPORTED,
        target=C.REFUSED,
        permission=_officer,
    )
    def refuse(self, *, reason: str):
        """No named respondent, anonymous without evidence, or a matter for a court."""
        self.note["reason"] = _require(reason)

    @state.transition(
        label=gettext_lazy("Dismiss the proposal"),
        source=C.PROPOSED,
        target=C.DISMISSED,
        permission=_officer,
    )
    def dismiss(self, *, reason: str):
        """A case the system proposed that needs no investigation (say, a late request on file)."""
        self.note["reason"] = _require(reason)

    # --- investigation and hearing the respondent ---

    @state.transition(
        label=gettext_lazy("Add to the investigation record"),
        source=C.INVESTIGATING,
        permission=_officer,
    )
    def add_to_record(self, *, text: str):
        """Findings of the investigation. The respondent's statement is recorded below."""
        entry = _require(text, "text")
        stamp = timezone.localdate().isoformat()
        self.case.notes = f"{self.case.notes}\n[{stamp}] {entry}".strip()
        self.note["added"] = entry

    def _open_hearing(self) -> RespondentHearing:
        hearing = RespondentHearing.objects.select_for_update().filter(case=self.case).first()
        if hearing is None:
            raise ValidationError(_("Notify the respondent first, with a deadline to reply."))
        if hearing.heard:
            raise ValidationError(_("The respondent's hearing is already on record."))
        return hearing

    @state.transition(
        label=gettext_lazy("Notify the respondent (deadline to reply)"),
        source=C.INVESTIGATING,
        permission=_officer,
    )
    def notify_respondent(self, *, reply_by: datetime.date):
        """The respondent is told the allegation and may state their case until the deadline.

        Notifying again before they answer sets a new deadline.
        """
        today = timezone.localdate()
        if reply_by < today:
            raise ValidationError({"reply_by": _("The deadline to reply cannot be in the past.")})
        hearing = RespondentHearing.objects.select_for_update().filter(case=self.case).first()
        if hearing is not None and hearing.heard:
            raise ValidationError(_("The respondent's hearing is already on record."))
        if hearing is None:
            hearing = RespondentHearing(case=self.case)
        hearing.notified_on, hearing.reply_by, hearing.notified_by = today, reply_by, self.actor
        hearing.save()
        self.note.update(notified_on=today, reply_by=reply_by)

    @state.transition(
        label=gettext_lazy("Record the respondent's statement"),
        source=C.INVESTIGATING,
        permission=_officer,
    )
    def record_statement(self, *, statement: str, received_on: datetime.date):
        hearing = self._open_hearing()
        text = _require(statement, "statement")
        _not_future(received_on, "received_on")
        if received_on < hearing.notified_on:
            raise ValidationError(
                {"received_on": _("The statement cannot precede the notice to the respondent.")}
            )
        hearing.statement, hearing.received_on, hearing.recorded_by = text, received_on, self.actor
        hearing.save()
        self.note.update(received_on=received_on, statement=text)

    @state.transition(
        label=gettext_lazy("Record that the deadline passed without a statement"),
        source=C.INVESTIGATING,
        permission=_officer,
    )
    def record_lapse(self):
        hearing = self._open_hearing()
        today = timezone.localdate()
        if today <= hearing.reply_by:
            raise ValidationError(
                _("The respondent may reply until %(date)s; record the lapse after that day.")
                % {"date": hearing.reply_by.isoformat()}
            )
        hearing.lapsed_on, hearing.recorded_by = today, self.actor
        hearing.save()
        self.note.update(reply_by=hearing.reply_by, lapsed_on=today)

    @state.transition(
        label=gettext_lazy("Close: no misconduct found"),
        source=C.INVESTIGATING,
        target=C.CLEARED,
        permission=_officer,
    )
    def clear(self, *, reason: str):
        self.note["reason"] = _require(reason)

    # --- the decision (处理决定) ---

    @state.transition(
        label=gettext_lazy("Decide and sanction (处理决定)"),
        source=C.INVESTIGATING,
        target=C.DECIDED,
        permission=_officer,
    )
    def decide(
        self,
        *,
        severity: str,
        measures: Sequence[str],
        decision_no: str,
        reason: str,
        starts_on: datetime.date,
        gates: Sequence[str] = (),
        ends_on: datetime.date | None = None,
        rectify_by: datetime.date | None = None,
        legal_basis: str = "",
        served_on: datetime.date | None = None,
    ):
        """The measures must fit the severity; the register and the veto follow at once."""
        case, today = self.case, timezone.localdate()
        hearing = RespondentHearing.objects.filter(case=case).first()
        if hearing is None or not hearing.heard:
            raise ValidationError(
                _(
                    "Hear the respondent first: record their statement, or that the deadline "
                    "to reply passed without one."
                )
            )
        number = normalise_decision_no(decision_no)
        if not number:
            raise ValidationError({"decision_no": _("Give the decision number.")})
        if decision_no_taken(number, case.pk):
            raise ValidationError(
                {"decision_no": _("The decision number %(no)s is already used.") % {"no": number}}
            )
        served_on = _not_future(served_on or today, "served_on")
        measures = list(measures)
        if Measure.SUSPEND_RECTIFY in measures and rectify_by is not None and rectify_by <= today:
            raise ValidationError({"rectify_by": _("The rectification deadline must be ahead.")})
        if severity == Severity.MINOR:
            # No ban: the record runs to the rectification deadline, or is a one-off.
            ends_on = rectify_by if Measure.SUSPEND_RECTIFY in measures else starts_on
        sanction = record_sanction(
            Sanction(
                subject_kind=case.respondent_kind,
                subject_id=case.respondent_id,
                subject_name=case.respondent_name,
                subject_unit=case.respondent_unit,
                severity=severity,
                measures=measures,
                gates=list(gates),
                decision_no=number,
                reason=_require(reason),
                starts_on=starts_on,
                ends_on=ends_on,
                rectify_by=rectify_by if Measure.SUSPEND_RECTIFY in measures else None,
            ),
            self.actor,
        )
        case.sanction, case.decision_no = sanction, number
        case.legal_basis = (legal_basis or "").strip() or default_legal_basis(case.misconduct)
        case.decided_on, case.served_on = today, served_on
        letter = DecisionLetter.objects.create(case=case, number=number)
        from .letters import generate_letter  # the letter module reads cases' constants

        transaction.on_commit(lambda: generate_letter(letter.pk), robust=True)
        self.note.update(decision=number, severity=severity, measures=measures, served_on=served_on)

    # --- appeal (申诉) and review (复查) ---

    def _challenge(self, kind: str, filed_on, grounds, opens_on, deadline, authority) -> None:
        """File an appeal or a review between `opens_on` and `deadline` (both included)."""
        if deadline is None:
            raise ValidationError(_("There is no decision to challenge."))
        _not_future(filed_on, "filed_on")
        if filed_on < opens_on:
            raise ValidationError(
                {"filed_on": _("It cannot be filed before %(date)s.") % {"date": opens_on}}
            )
        if filed_on > deadline:
            message = (
                _("The appeal period ended on %(date)s; this appeal is too late.")
                if kind == Appeal.Kind.APPEAL
                else _("The review period ended on %(date)s; this request is too late.")
            )
            raise ValidationError({"filed_on": message % {"date": deadline.isoformat()}})
        Appeal.objects.create(
            case=self.case,
            kind=kind,
            filed_on=filed_on,
            grounds=_require(grounds, "grounds"),
            authority=authority,
            recorded_by=self.actor,
        )
        # The veto stays: an appeal or a review is only noted on the sanction.
        self._mark_under_appeal(True)
        self.note.update(kind=kind, filed_on=filed_on, deadline=deadline, grounds=grounds.strip())

    def _answer(self, kind: str, outcome: str, answered_on, reason) -> None:
        appeal = Appeal.objects.select_for_update().get(case=self.case, kind=kind)
        _not_future(answered_on, "answered_on")
        if answered_on < appeal.filed_on:
            raise ValidationError({"answered_on": _("The answer cannot precede the filing.")})
        appeal.outcome, appeal.answered_on = outcome, answered_on
        appeal.answer = _require(reason)
        appeal.save()
        self._mark_under_appeal(False)
        if outcome == Appeal.Outcome.REVOKED:
            self._revoke_sanction(appeal)
        self.note.update(kind=kind, outcome=outcome, answered_on=answered_on, reason=appeal.answer)

    def _mark_under_appeal(self, pending: bool) -> None:
        sanction = Sanction.objects.select_for_update().get(pk=self.case.sanction_id)
        if sanction.status == Sanction.Status.REVOKED or sanction.under_appeal == pending:
            return
        sanction.under_appeal = pending
        record_sanction(sanction, self.actor)

    def _revoke_sanction(self, appeal: Appeal) -> None:
        sanction = Sanction.objects.get(pk=self.case.sanction_id)
        if sanction.status != Sanction.Status.REVOKED:
            reason = f"{appeal.get_kind_display()}: {appeal.answer}"
            revoke_sanction(sanction, reason, self.actor)

    @state.transition(
        label=gettext_lazy("Register an appeal (申诉)"),
        source=C.DECIDED,
        target=C.APPEALED,
        permission=_officer,
    )
    def appeal(self, *, filed_on: datetime.date, grounds: str):
        """Filed with the deciding body within the appeal period; the veto stays meanwhile."""
        bureau = getattr(settings, "BUREAU_NAME", "")
        case = self.case
        self._challenge(
            Appeal.Kind.APPEAL,
            filed_on,
            grounds,
            opens_on=case.served_on,
            deadline=case.appeal_deadline,
            authority=bureau,
        )

    @state.transition(
        label=gettext_lazy("Answer the appeal: uphold (维持)"),
        source=C.APPEALED,
        target=C.APPEAL_ANSWERED,
        permission=_officer,
    )
    def uphold_on_appeal(self, *, answered_on: datetime.date, reason: str):
        self._answer(Appeal.Kind.APPEAL, Appeal.Outcome.UPHELD, answered_on, reason)

    @state.transition(
        label=gettext_lazy("Answer the appeal: revoke (撤销)"),
        source=C.APPEALED,
        target=C.REVOKED,
        permission=_officer,
    )
    def revoke_on_appeal(self, *, answered_on: datetime.date, reason: str):
        """Revokes the sanction: the veto no longer applies."""
        self._answer(Appeal.Kind.APPEAL, Appeal.Outcome.REVOKED, answered_on, reason)

    @state.transition(
        label=gettext_lazy("Register a request for review (复查)"),
        source=C.APPEAL_ANSWERED,
        target=C.UNDER_REVIEW,
        permission=_officer,
    )
    def request_review(self, *, filed_on: datetime.date, grounds: str, authority: str):
        """Filed with the higher authority within the review period; the veto stays meanwhile."""
        appeal = self.case.appeal_of(Appeal.Kind.APPEAL)
        self._challenge(
            Appeal.Kind.REVIEW,
            filed_on,
            grounds,
            opens_on=appeal.answered_on,
            deadline=self.case.review_deadline,
            authority=_require(authority, "authority"),
        )

    @state.transition(
        label=gettext_lazy("Record the review: upheld (维持)"),
        source=C.UNDER_REVIEW,
        target=C.UPHELD,
        permission=_officer,
    )
    def uphold_on_review(self, *, answered_on: datetime.date, reason: str):
        self._answer(Appeal.Kind.REVIEW, Appeal.Outcome.UPHELD, answered_on, reason)

    @state.transition(
        label=gettext_lazy("Record the review: revoked (撤销)"),
        source=C.UNDER_REVIEW,
        target=C.REVOKED,
        permission=_officer,
    )
    def revoke_on_review(self, *, answered_on: datetime.date, reason: str):
        """Revokes the sanction: the veto no longer applies."""
        self._answer(Appeal.Kind.REVIEW, Appeal.Outcome.REVOKED, answered_on, reason)


def _transition_names() -> set[str]:
    return {t.slug for ts in CaseLifecycle.state.get_transitions().values() for t in ts}


def step_labels() -> dict[str, str]:
    labels = {t.slug: t.label for ts in CaseLifecycle.state.get_transitions().values() for t in ts}
    labels.update(
        open=_("Report registered"),
        propose=_("Proposed by the system"),
        letter=_("Decision letter printed"),
    )
    return labels


def case_steps(case: MisconductCase, user) -> list[fsm.Transition]:
    """The steps `user` may take on `case` now, without those its record rules out."""
    lifecycle = CaseLifecycle(case, user)
    hearing = getattr(case, "hearing", None)  # the page loads it with the case
    heard = hearing is not None and hearing.heard
    hidden = set()
    if heard:
        hidden |= {"notify_respondent", "record_statement", "record_lapse"}
    else:
        hidden.add("decide")  # refused until the respondent is heard; the page says why
        if hearing is None:
            hidden |= {"record_statement", "record_lapse"}
        elif timezone.localdate() <= hearing.reply_by:
            hidden.add("record_lapse")
    return [
        t
        for t in CaseLifecycle.state.get_outgoing_transitions(case.status)
        if t.has_perm(lifecycle, user) and t.slug not in hidden
    ]


def take_step(case_id: int, name: str, actor, **kwargs) -> MisconductCase:
    """Take one step in one transaction; a duplicate decision number is a clear error."""
    try:
        return _take_step(case_id, name, actor, **kwargs)
    except IntegrityError as error:  # a concurrent decision took the number first
        if name != "decide":
            raise
        raise ValidationError(
            {
                "decision_no": _("The decision number %(no)s is already used.")
                % {"no": normalise_decision_no(kwargs.get("decision_no", ""))}
            }
        ) from error


@transaction.atomic
def _take_step(case_id: int, name: str, actor, **kwargs) -> MisconductCase:
    case = MisconductCase.objects.select_for_update().filter(pk=case_id).first()
    if case is None:  # a wrong number from a command or a stale page
        raise CaseRefused(_("There is no case number %(n)s.") % {"n": case_id})
    lifecycle = CaseLifecycle(case, actor)
    step = getattr(lifecycle, name, None)
    if step is None or name not in _transition_names() or not step.can_proceed():
        raise CaseRefused(
            _("This case is now “%(s)s”; that step is not possible.")
            % {"s": case.get_status_display()}
        )
    if not step.has_perm(actor):
        raise CaseRefused(_("Only the integrity officer handles misconduct cases."))
    step(**kwargs)
    return case


def _identify(case: MisconductCase) -> None:
    try:
        case.respondent_id = normalise_subject(case.respondent_kind, case.respondent_id)
    except ValidationError as error:
        raise ValidationError({"respondent_id": error.messages}) from None
    if case.respondent_kind == SubjectKind.ORGANISATION and not case.respondent_unit.strip():
        case.respondent_unit = case.respondent_name  # the organisation is its own unit
    if not case.respondent_unit.strip():
        raise ValidationError({"respondent_unit": _("Give the respondent's unit.")})


@transaction.atomic
def open_case(by, case: MisconductCase) -> MisconductCase:
    """Register a report (举报) as a new case; the respondent is identified by number."""
    if not has_role(by, Role.INTEGRITY):
        raise CaseRefused(_("Only the integrity officer handles misconduct cases."))
    _identify(case)
    case.opened_by = by
    case.full_clean()
    case.save()
    record(
        EventKind.CASE_TRANSITION,
        case,
        actor=by,
        after={"status": case.status},
        data={"step": "open", "respondent": case.respondent_id, "misconduct": case.misconduct},
    )
    return case


def propose_case(case: MisconductCase, source_type: str, source_id: str) -> bool:
    """The system proposes a case (status proposed) once per source; False if it had.

    Idempotent under concurrency: the unique (source_type, source_id) constraint makes a
    second, simultaneous proposal fail, which counts as "already proposed".
    """
    case.source_type, case.source_id = source_type, str(source_id)
    if MisconductCase.objects.filter(source_type=source_type, source_id=case.source_id).exists():
        return False
    case.status, case.opened_by = C.PROPOSED, None
    _identify(case)
    case.full_clean(validate_constraints=False)  # the insert itself enforces the unique pair
    try:
        with transaction.atomic():
            case.save()
            record(
                EventKind.CASE_TRANSITION,
                case,
                after={"status": case.status},
                data={
                    "step": "propose",
                    "source": f"{source_type}:{case.source_id}",
                    "respondent": case.respondent_id,
                    "misconduct": case.misconduct,
                },
            )
    except IntegrityError:
        case.pk = None
        return False
    return True


def cases_waiting_for_officer(on_date: datetime.date | None = None) -> QuerySet[MisconductCase]:
    """Cases where the integrity officer's move is next, the system's proposals first,
    then the oldest; a queryset, so a list shows the first few and counts them all: a
    case under investigation waits for the respondent, not the officer, while their
    deadline to reply runs."""
    on_date = on_date or timezone.localdate()
    respondents_turn = Q(
        status=C.INVESTIGATING,
        hearing__isnull=False,
        hearing__received_on__isnull=True,
        hearing__lapsed_on__isnull=True,
        hearing__reply_by__gte=on_date,
    )
    proposal = Case(
        When(status=C.PROPOSED, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return (
        MisconductCase.objects.filter(
            status__in=[C.PROPOSED, C.REPORTED, C.INVESTIGATING, C.APPEALED, C.UNDER_REVIEW]
        )
        .exclude(respondents_turn)
        .select_related("hearing")
        .annotate(proposals_first=proposal)
        .order_by("proposals_first", "opened_at", "pk")
    )
