"""The misconduct case procedure (DESIGN §4), from report to review, in one place.

`CaseLifecycle` wraps a locked `MisconductCase` with `viewflow.fsm`, like the project
lifecycle: every step names who may take it and what it does, is one transaction and
one trail event. A decision records the sanction in the register (and so the veto).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow import fsm

from accounts.roles import Role, has_role
from trail.kinds import EventKind
from trail.services import record

from .models import CaseStatus as C
from .models import MisconductCase, Sanction, Severity
from .services import normalise_subject, record_sanction

# Ban length in years by severity (DESIGN §4); None: no upper bound (permanent allowed).
BAN_YEARS = {
    Severity.SERIOUS: (1, 3),
    Severity.SEVERE: (3, 5),
    Severity.EXTREME: (5, None),
}


class CaseRefused(Exception):
    """A step that may not be taken now, with the reason for the officer."""


def _officer(lifecycle: CaseLifecycle, user) -> bool:
    return has_role(user, Role.INTEGRITY)


def _years_between(start: datetime.date, end: datetime.date) -> float:
    return (end - start).days / 365.25


def ban_problems(severity: str, starts_on, ends_on, gates: list[str]) -> list[str]:
    """The measures must fit the severity: a minor case bars nothing, the others for years."""
    if severity == Severity.MINOR:
        return [_("A minor case carries no ban; choose no barred actions.")] if gates else []
    if not gates:
        return [_("Choose the actions the sanction bars.")]
    low, high = BAN_YEARS[Severity(severity)]
    if ends_on is None:
        return [] if high is None else [_("Only an especially severe case may be permanent.")]
    years = _years_between(starts_on, ends_on)
    if years < low - 0.01 or (high is not None and years > high + 0.01):
        span = f"{low}–{high}" if high else f"≥ {low}"
        return [_("This severity bans for %(span)s years.") % {"span": span}]
    return []


def _require(text: str) -> str:
    if not (text or "").strip():
        raise ValidationError(_("Please give a reason."))
    return text.strip()


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

    @state.transition(
        label=gettext_lazy("Accept the report (受理)"),
        source=C.REPORTED,
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
        label=gettext_lazy("Add to the investigation record"),
        source=C.INVESTIGATING,
        permission=_officer,
    )
    def add_to_record(self, *, text: str):
        """Findings, and the respondent's own statement of their case."""
        entry = _require(text)
        stamp = datetime.date.today().isoformat()
        self.case.notes = f"{self.case.notes}\n[{stamp}] {entry}".strip()
        self.note["added"] = entry

    @state.transition(
        label=gettext_lazy("Close: no misconduct found"),
        source=C.INVESTIGATING,
        target=C.CLEARED,
        permission=_officer,
    )
    def clear(self, *, reason: str):
        self.note["reason"] = _require(reason)

    @state.transition(
        label=gettext_lazy("Decide and sanction (处理决定)"),
        source=C.INVESTIGATING,
        target=C.DECIDED,
        permission=_officer,
    )
    def decide(self, *, severity, gates, starts_on, ends_on, decision_no, reason):
        problems = ban_problems(severity, starts_on, ends_on, gates)
        if problems:
            raise ValidationError(problems)
        if "respondent states" not in self.case.notes and not self.case.notes.strip():
            raise ValidationError(
                _("Record the investigation, and the respondent's statement, first.")
            )
        sanction = Sanction(
            subject_kind=self.case.respondent_kind,
            subject_id=self.case.respondent_id,
            subject_name=self.case.respondent_name,
            severity=severity,
            gates=list(gates),
            decision_no=_require(decision_no),
            reason=_require(reason),
            starts_on=starts_on,
            ends_on=ends_on,
        )
        self.case.sanction = record_sanction(sanction, self.actor)
        self.note.update(decision=sanction.decision_no, severity=severity)

    @state.transition(
        label=gettext_lazy("Register an appeal (申诉)"),
        source=C.DECIDED,
        target=C.UNDER_REVIEW,
        permission=_officer,
    )
    def appeal(self, *, reason: str):
        """The sanction stays in force while it is reviewed: an appeal does not lift the veto."""
        self.note["reason"] = _require(reason)
        self._edit_sanction(under_appeal=True)

    @state.transition(
        label=gettext_lazy("Uphold the decision"),
        source=C.UNDER_REVIEW,
        target=C.UPHELD,
        permission=_officer,
    )
    def uphold(self, *, reason: str):
        self.note["reason"] = _require(reason)
        self._edit_sanction(under_appeal=False)

    @state.transition(
        label=gettext_lazy("Revoke the decision"),
        source=C.UNDER_REVIEW,
        target=C.REVOKED,
        permission=_officer,
    )
    def revoke(self, *, reason: str):
        self.note["reason"] = _require(reason)
        self._edit_sanction(under_appeal=False, status=Sanction.Status.REVOKED)

    def _edit_sanction(self, **changes) -> None:
        sanction = Sanction.objects.select_for_update().get(pk=self.case.sanction_id)
        for name, value in changes.items():
            setattr(sanction, name, value)
        record_sanction(sanction, self.actor)


def step_labels() -> dict[str, str]:
    return {t.slug: t.label for ts in CaseLifecycle.state.get_transitions().values() for t in ts}


def case_steps(case: MisconductCase, user) -> list[fsm.Transition]:
    lifecycle = CaseLifecycle(case, user)
    return [
        t
        for t in CaseLifecycle.state.get_outgoing_transitions(case.status)
        if t.has_perm(lifecycle, user)
    ]


@transaction.atomic
def take_step(case_id: int, name: str, actor, **kwargs) -> MisconductCase:
    case = MisconductCase.objects.select_for_update().get(pk=case_id)
    lifecycle = CaseLifecycle(case, actor)
    step = getattr(lifecycle, name, None)
    names = {t.slug for ts in CaseLifecycle.state.get_transitions().values() for t in ts}
    if step is None or name not in names or not step.can_proceed():
        raise CaseRefused(
            _("This case is now “%(s)s”; that step is not possible.")
            % {"s": case.get_status_display()}
        )
    if not step.has_perm(actor):
        raise CaseRefused(_("Only the integrity officer handles misconduct cases."))
    step(**kwargs)
    return case


@transaction.atomic
def open_case(by, case: MisconductCase) -> MisconductCase:
    """Register a report (举报) as a new case; the respondent is identified by number."""
    if not has_role(by, Role.INTEGRITY):
        raise CaseRefused(_("Only the integrity officer handles misconduct cases."))
    case.respondent_id = normalise_subject(case.respondent_kind, case.respondent_id)
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
