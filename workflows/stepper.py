"""Guidance on the project page: where the project stands on its lifecycle, what happens
next and who acts, why it came back, and how each action's button looks.

Everything is read from the lifecycle's own definition, never a copy of it: the main
path is `funding.states.ProjectStatus` in its declared order up to `closed` (the states
after it are the side states), the actor is whoever the lifecycle lets fire the step
forward, an action's kind follows from where its transition leads. Only the sentences
saying what happens next are written here, one per state.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow import fsm

from accounts.models import Organisation
from funding.models import Project, TeamMember
from funding.recovery import check_no_outstanding_recovery
from funding.services import call_is_open
from funding.states import TERMINAL_STATES
from funding.states import ProjectStatus as S
from integrity.models import Gate, Sanction, SubjectKind
from integrity.policy import effective_sanctions_q
from oversight import panels
from oversight.models import AcceptanceReview
from trail.kinds import EventKind

from .lifecycle import (
    ProjectLifecycle,
    available_transitions,
    no_objection_standing,
    notice_period_over,
    rectification_deadline_passed,
    reviews_complete,
)


def _main_path() -> tuple[str, ...]:
    values = list(S.values)
    return tuple(values[: values.index(S.CLOSED) + 1])


MAIN_PATH: tuple[str, ...] = _main_path()
SIDE_STATES = frozenset(S.values) - frozenset(MAIN_PATH)
# Where an action leads that ends a project short of its close, or halts it: its button
# is a danger one and asks for confirmation.
STOPPING_STATES = (TERMINAL_STATES - {S.CLOSED}) | {S.SUSPENDED}
LABELS = dict(S.choices)

PRIMARY, NEUTRAL, DANGER = "primary", "neutral", "danger"

# What happens next in each state; who acts comes from the lifecycle (`actors`).
NEXT_STEP = {
    S.DRAFT: gettext_lazy(
        "The applicant completes the application, attaches the papers the call requires, "
        "signs the integrity commitment and submits it."
    ),
    S.UNIT_REVIEW: gettext_lazy(
        "The applicant's unit (承担单位) reviews the application and recommends it to the "
        "bureau, or returns it to the applicant."
    ),
    S.SUBMITTED: gettext_lazy(
        "Bureau staff check that the application is complete and accept it (受理)."
    ),
    S.FORMAL_CHECK: gettext_lazy(
        "Bureau staff make the formal check (形式审查) and assign the reviewing experts."
    ),
    S.EXPERT_REVIEW: gettext_lazy(
        "The assigned experts score the application; once every review is in, bureau staff "
        "conclude the expert review."
    ),
    S.BUDGET_REVIEW: gettext_lazy(
        "Bureau staff review the budget and may cut lines, each with a reason."
    ),
    S.PENDING_APPROVAL: gettext_lazy("Leadership decides on the approval of the project (立项)."),
    S.PUBLIC_NOTICE: gettext_lazy(
        "The approval is on public notice (立项公示); once the period is over and every "
        "objection is settled, bureau staff close the notice."
    ),
    S.APPROVED: gettext_lazy("Bureau staff sign the task contract (任务书) with the project."),
    S.CONTRACTED: gettext_lazy("Bureau staff disburse the first tranche of the funds."),
    S.IN_PROGRESS: gettext_lazy(
        "The project runs: the applicant reports progress and spending, then requests "
        "completion acceptance with the final tech report."
    ),
    S.ACCEPTANCE_REQUESTED: gettext_lazy(
        "Bureau staff arrange the acceptance: a special audit, the acceptance panel, or a "
        "simple filing (结题备案) for small projects."
    ),
    S.UNDER_AUDIT: gettext_lazy(
        "The audit firm's lead auditor audits the fund trail and issues the audit opinion."
    ),
    S.UNDER_ACCEPTANCE: gettext_lazy(
        "The acceptance panel votes; bureau staff record the conclusion."
    ),
    S.ACCEPTED: gettext_lazy(
        "Bureau staff issue the acceptance certificate and archive the project."
    ),
    S.RETURNED: gettext_lazy(
        "The applicant revises the application as asked, then signs the commitment and "
        "submits it again."
    ),
    S.RECONSIDERATION: gettext_lazy(
        "The applicant rectifies what the panel asked for and resubmits for acceptance "
        "before the deadline."
    ),
    S.SUSPENDED: gettext_lazy(
        "Bureau staff decide: resume the project once the reason is settled, or end it."
    ),
}

# The lifecycle's permissions (workflows.lifecycle), as the people they name.
ACTORS = {
    "_pi": gettext_lazy("The applicant (project leader)"),
    "_unit_officer": gettext_lazy("The unit's research office (承担单位)"),
    "_staff_for_unit": gettext_lazy("Bureau staff, for a unit without a research office"),
    "role_staff": gettext_lazy("Bureau staff"),
    "role_leader": gettext_lazy("Leadership"),
    "role_staff_or_leader": gettext_lazy("Bureau staff or leadership"),
    "_staff_or_system": gettext_lazy("Bureau staff"),
    "_lead_auditor": gettext_lazy("The audit firm's lead auditor"),
}

# Conditions that hold later by themselves or by others' work: the action is shown as
# waiting, with the reason. Any other unmet condition (a threshold, the one rectification)
# never comes true for the project, so the action is not shown at all.
WAITS = frozenset(
    {notice_period_over, no_objection_standing, reviews_complete, rectification_deadline_passed}
)


# --- the stepper ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    state: str
    label: str
    status: str  # "done", "current", "todo", or "left": where a side state branched off


@dataclass(frozen=True)
class Stepper:
    steps: list[Step]
    side: str | None = None  # the side state the project is in
    side_label: str = ""
    ended: bool = False  # a side state that ends the project


def last_main_state(visited: Iterable[str]) -> str | None:
    """The last state of the main path in `visited` (oldest first)."""
    last = None
    for state in visited:
        if state in MAIN_PATH:
            last = state
    return last


def statuses_visited(events: Iterable) -> list[str]:
    """The states a project went through, oldest first, from its trail events."""
    visited = []
    for event in events:
        if event.kind == EventKind.PROJECT_TRANSITION:
            visited += [event.before.get("status"), event.after.get("status")]
    return [s for s in visited if s]


def stepper(status: str, left_from: str | None = None) -> Stepper:
    """The main path with `status` placed on it. A side state sits at the main step it
    left (`left_from`, see `last_main_state`); without one it stands alone."""
    side = status if status in SIDE_STATES else None
    at = status if side is None else left_from
    position = MAIN_PATH.index(at) if at in MAIN_PATH else -1
    steps = []
    for i, state in enumerate(MAIN_PATH):
        if i < position:
            shown = "done"
        elif i == position:
            shown = "left" if side else "current"
        else:
            shown = "todo"
        steps.append(Step(state, str(LABELS[state]), shown))
    return Stepper(
        steps=steps,
        side=side,
        side_label=str(LABELS[side]) if side else "",
        ended=side in TERMINAL_STATES,
    )


# --- what happens next ---------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    what: str
    who: list[str] = field(default_factory=list)


def moves_forward(transition: fsm.Transition, status: str) -> bool:
    """Leads from `status` to a later step of the main path (from a side state: back
    onto it)."""
    here = MAIN_PATH.index(status) if status in MAIN_PATH else -1
    return any(
        target in MAIN_PATH and MAIN_PATH.index(target) > here
        for target in transition.declared_targets()
    )


def actors(status: str) -> list[str]:
    """Who may fire a step forward from `status`, as the lifecycle's permissions say."""
    found = []
    for transition in ProjectLifecycle.state.get_outgoing_transitions(status):
        if not moves_forward(transition, status):
            continue
        who = ACTORS.get(getattr(transition.permission, "__name__", ""))
        if who is not None and str(who) not in found:
            found.append(str(who))
    return found


def next_step(status: str) -> NextStep:
    if status == S.CLOSED:
        return NextStep(_("Nothing more: the project is closed and archived."))
    if status in TERMINAL_STATES:
        return NextStep(_("Nothing more happens on this project: it has ended."))
    return NextStep(str(NEXT_STEP[status]), actors(status))


# --- why it came back ----------------------------------------------------------------------


@dataclass(frozen=True)
class Returned:
    reason: str
    at: datetime.datetime
    by: str
    by_unit: bool  # returned by the applicant's unit, not by the bureau
    from_label: str


def last_return(status: str, events: Iterable) -> Returned | None:
    """Why a returned project came back (the trail's reason), while it is returned."""
    if status != S.RETURNED:
        return None
    last = None
    for event in events:
        if event.kind == EventKind.PROJECT_TRANSITION and event.after.get("status") == S.RETURNED:
            last = event
    if last is None:
        return None
    return Returned(
        reason=last.data.get("reason", ""),
        at=last.at,
        by=last.actor_name,
        by_unit=last.data.get("transition") == "return_by_unit",
        from_label=str(LABELS.get(last.before.get("status"), "")),
    )


# --- the actions offered -------------------------------------------------------------------


def action_kind(transition: fsm.Transition, status: str) -> str:
    """primary: moves the project forward; danger: ends or halts it; neutral: the rest."""
    targets = transition.declared_targets()
    if targets and all(target in STOPPING_STATES for target in targets):
        return DANGER
    return PRIMARY if moves_forward(transition, status) else NEUTRAL


def confirm_text(label: str) -> str:
    return _("“%(action)s”: are you sure? This ends or halts the project.") % {"action": label}


@dataclass(frozen=True)
class Waiting:
    transition: fsm.Transition
    reason: str


# --- refusals the page foresees -----------------------------------------------------------
# Some refusals come from a transition's body, not from a condition, so the lifecycle
# cannot tell them before firing. Those that typing into the action's form cannot fix are
# foreseen here, with the same checks: the action is then listed as waiting, with the
# reason, or (the veto with nobody to veto) not shown at all.


@dataclass(frozen=True)
class Foreseen:
    reason: str
    shown: bool = True  # listed under "Not possible yet"; False: left out


def someone_to_veto(project: Project) -> bool:
    """Whether the one-vote veto would find someone barred today: the check
    `ProjectLifecycle.veto` makes (`check_veto(veto_subjects(project), Gate.APPLY)`
    blocking), asked in one query on the register's indexed subject_id. The PI and the
    applicant organisation come with the project; the team and the partners are
    subqueries. `test_guidance_actions` bars each subject of `veto_subjects` in turn to
    keep the two in step."""
    partners = Project.partner_orgs.through.objects.filter(project=project).values(
        "organisation_id"
    )
    people = Q(subject_id=project.pi.id_number) | Q(
        subject_id__in=TeamMember.objects.filter(project=project).values("id_number")
    )
    organisations = Q(subject_id=project.applicant_org.credit_code) | Q(
        subject_id__in=Organisation.objects.filter(pk__in=partners).values("credit_code")
    )
    barring = (
        Sanction.objects.filter(effective_sanctions_q(timezone.localdate()))
        .filter(
            (Q(subject_kind=SubjectKind.PERSON) & people)
            | (Q(subject_kind=SubjectKind.ORGANISATION) & organisations)
        )
        .exclude(subject_id="")  # an unidentified subject is not barred by a sanction
        .values_list("gates", flat=True)
    )
    return any(Gate.APPLY.value in gates for gates in barring)


def _veto_foreseen(project: Project) -> Foreseen | None:
    return None if someone_to_veto(project) else Foreseen("", shown=False)


def _submit_foreseen(project: Project) -> Foreseen | None:
    # As ProjectLifecycle.submit: a draft only while its call is open; nobody owing a
    # recovery (追回) applies again until it is refunded.
    if project.status == S.DRAFT and not call_is_open(project.call):
        return Foreseen(_("The call closed on %(d)s.") % {"d": project.call.closes_on})
    try:
        check_no_outstanding_recovery(project)
    except ValidationError as owed:
        return Foreseen(" ".join(owed.messages))
    return None


def _conclusion_foreseen(project: Project) -> Foreseen | None:
    # As ProjectLifecycle.conclude_acceptance: the panel drawn and every member voted.
    # The conclusion the votes give is one the form can choose, so it is not asked here.
    counted = panels.tally(project, in_progress=True)
    C = AcceptanceReview.Conclusion
    try:
        panels.check_conclusion(project, counted, C.PASSED if counted.passes else C.FAILED, "")
    except ValidationError as early:
        return Foreseen(" ".join(early.messages))
    return None


def _disbursement_foreseen(project: Project) -> Foreseen | None:
    # As funding.record_disbursement: never beyond the approved amount. Paid in full, there
    # is nothing left to disburse, and never will be.
    if project.disbursed_total >= (project.approved_amount or 0):
        return Foreseen("", shown=False)
    return None


FORESEEN = {
    "veto": _veto_foreseen,
    "disburse": _disbursement_foreseen,
    "submit": _submit_foreseen,
    "conclude_acceptance": _conclusion_foreseen,
}


def offered_transitions(project, user) -> tuple[list[fsm.Transition], list[Waiting]]:
    """The actions `user` may take now that can succeed, and those waiting for a
    condition that will hold later (with why). An action refused by a condition that
    never comes true for this project (the simple filing above its threshold) is left
    out: the lifecycle would always refuse it. Refusals from a transition's body that
    typing cannot fix are foreseen (`FORESEEN`) the same way."""
    lifecycle = ProjectLifecycle(project, user)
    offered, waiting = [], []
    for transition in available_transitions(project, user):
        unmet = transition.get_unmet_condition(lifecycle)
        if unmet is not None:
            if unmet[0] in WAITS:
                waiting.append(Waiting(transition, getattr(unmet[1], "message", "") or ""))
            continue
        foresee = FORESEEN.get(transition.slug)
        foreseen = foresee(project) if foresee else None
        if foreseen is None:
            offered.append(transition)
        elif foreseen.shown:
            waiting.append(Waiting(transition, foreseen.reason))
    return offered, waiting


def guidance(project, events: list) -> dict:
    """The project page's stepper, next step and return reasons, from its trail `events`."""
    left_from = None
    if project.status in SIDE_STATES:
        left_from = last_main_state(statuses_visited(events))
    return {
        "stepper": stepper(project.status, left_from),
        "next_step": next_step(project.status),
        "returned": last_return(project.status, events),
    }


def action_rows(offered: list[fsm.Transition], status: str, form_for) -> list[dict]:
    """One row per action offered: its form (`form_for(name)`) and how its button looks."""
    rows = []
    for transition in offered:
        kind = action_kind(transition, status)
        rows.append(
            {
                "name": transition.slug,
                "label": transition.label,
                "doc": transition.func.__doc__,
                "form": form_for(transition.slug),
                "kind": kind,
                "confirm": confirm_text(transition.label) if kind == DANGER else "",
            }
        )
    return rows
