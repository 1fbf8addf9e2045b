"""The viewflow process that puts each step of a project in the right person's inbox.

The lifecycle decides the state; this flow only follows it. After every step the
`route` gateway looks at the project's state and opens the task for it, from the table
`STEPS` below, so the two can never disagree.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.db import connection
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import Activation, flow
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.split import SplitActivation

from funding.services import reviews_complete
from funding.states import ProjectStatus as S
from oversight.services import current_engagement

from .models import ProjectProcess
from .unit_review import UNIT_TASK

STAFF_TASK, LEADER_TASK = "workflows.staff_task", "workflows.leader_task"


def _project_page(request, **kwargs):
    task = kwargs.get("task")
    return redirect("project", pk=task.process.coerced.project_id) if task else redirect("inbox")


# The task needs only the owner's key: a user instance by key, not a row read per task
# (three reads per formal check with three experts, issue 10).
def _pi(activation):
    return get_user_model()(pk=activation.process.project.pi_id)


def _assigned_expert(activation):
    return get_user_model()(pk=activation.task.data["expert"])


def _lead_auditor(activation):
    return current_engagement(activation.process.project).lead_auditor


def step(title, *, permission: str | None = None, owner=None) -> flow.View:
    node = flow.View(_project_page).Annotation(title=title).Next(this.route)
    return node.Permission(permission) if permission else node.Assign(owner)


class ExpertSplitActivation(SplitActivation):
    """One parallel review task per assigned expert who has not yet reviewed."""

    @Activation.status.super()
    def activate(self):
        node = self.flow_task._activate_next[0][0]
        project = self.process.project
        pending = project.assignments.filter(submitted_at__isnull=True)
        self.next_tasks = [
            (node, {"expert": pk}) for pk in pending.values_list("expert_id", flat=True)
        ]


class ExpertSplit(flow.Split):
    activation_class = ExpertSplitActivation


# state -> the node that handles it. Terminal states fall through to `end`.
STEPS: list[tuple[str, str]] = [
    (S.UNIT_REVIEW, "unit_review"),  # the unit's officers, or staff when it has none
    (S.SUBMITTED, "accept_application"),
    (S.FORMAL_CHECK, "formal_check"),
    (S.RETURNED, "revise"),
    (S.EXPERT_REVIEW, "expert_split"),  # `conclude_review` once every review is in
    (S.BUDGET_REVIEW, "budget_review"),
    (S.PENDING_APPROVAL, "approval"),
    (S.PUBLIC_NOTICE, "public_notice"),
    (S.APPROVED, "sign_contract"),
    (S.CONTRACTED, "first_disbursement"),
    (S.IN_PROGRESS, "request_acceptance"),
    (S.ACCEPTANCE_REQUESTED, "arrange_acceptance"),
    (S.UNDER_AUDIT, "audit"),
    (S.UNDER_ACCEPTANCE, "acceptance_review"),
    (S.RECONSIDERATION, "rectify"),
    (S.ACCEPTED, "issue_certificate"),
    (S.SUSPENDED, "decide_suspension"),
]


def _in_state(state):
    def cond(activation) -> bool:
        return activation.process.project.status == state

    return cond


def _reviews_in(activation) -> bool:
    project = activation.process.project
    return project.status == S.EXPERT_REVIEW and reviews_complete(project)


class Route(flow.Switch):
    """The state's gateway, decided where it is reached and never stored.

    viewflow's Switch writes a task of its own for every step (its insert, its link, a
    savepoint around the conditions and its update: five statements of every action). The
    conditions here only read the project the action holds, so the route opens the next
    task straight from the task just closed: that task links to the next one, and the
    process history reads the same without a gateway row between them (issue 10).
    """

    def _create(self, prev_activation, token, data=None, seed=None):
        for node, condition in self._branches:
            if condition is None or condition(prev_activation):
                return node._create(prev_activation, token)
        raise FlowRuntimeError(f"No next task available for {self.name}")


def _route():
    gateway = Route().Case(this.conclude_review, _reviews_in)
    for state, node in STEPS:
        gateway = gateway.Case(getattr(this, node), _in_state(state))
    return gateway.Default(this.end)


class HeldProjectLock:
    """The flow's lock is the project row lock that workflows.actions already holds."""

    @contextmanager
    def __call__(self, flow_class, process_pk):
        if not connection.in_atomic_block:
            raise RuntimeError("Move projects through workflows.actions, which locks the row.")
        yield


class ProjectFlow(flow.Flow):
    process_class = ProjectProcess
    lock_impl = HeldProjectLock()
    process_title = _("Project")

    start = flow.StartHandle(this.start_process).Next(this.route)
    route = _route()

    unit_review = step(_("Recommend the application (单位推荐)"), permission=UNIT_TASK)
    accept_application = step(_("Accept the application (受理)"), permission=STAFF_TASK)
    formal_check = step(_("Formal check and expert assignment"), permission=STAFF_TASK)
    revise = step(_("Revise and resubmit"), owner=_pi)
    expert_split = ExpertSplit().Next(this.expert_review)
    expert_review = (
        flow.View(_project_page)
        .Annotation(title=_("Review the application"))
        .Assign(_assigned_expert)
        .Next(this.reviews_join)
    )
    reviews_join = flow.Join().Next(this.route)
    conclude_review = step(_("Conclude the expert review"), permission=STAFF_TASK)
    budget_review = step(_("Budget review"), permission=STAFF_TASK)
    approval = step(_("Approve the project (立项)"), permission=LEADER_TASK)
    public_notice = step(_("Close the public notice"), permission=STAFF_TASK)
    sign_contract = step(_("Sign the task contract"), permission=STAFF_TASK)
    first_disbursement = step(_("Disburse the first tranche"), permission=STAFF_TASK)
    request_acceptance = step(_("Report and request acceptance"), owner=_pi)
    arrange_acceptance = step(_("Arrange audit or acceptance"), permission=STAFF_TASK)
    audit = step(_("Audit the fund trail"), owner=_lead_auditor)
    acceptance_review = step(_("Record the acceptance conclusion"), permission=STAFF_TASK)
    rectify = step(_("Rectify and resubmit for acceptance"), owner=_pi)
    issue_certificate = step(_("Issue the acceptance certificate"), permission=STAFF_TASK)
    decide_suspension = step(_("Decide on the suspended project"), permission=STAFF_TASK)

    end = flow.End()

    def start_process(self, activation, project):
        activation.process.project = project
        return activation.process
