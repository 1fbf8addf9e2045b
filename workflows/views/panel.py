"""The acceptance panel on the project page: staff draw it, drawn members vote, the PI
answers a qualified audit opinion's findings; the audit opinion is shown where each decides.

Who sees what: staff, the leader and the integrity officer see everything (the draw,
every vote and opinion, the rule's result); a drawn member sees the audit opinion,
findings and report file (and the PI's answer), the tech report and its full text, the
acceptance materials, the task contract's targets against achieved, the fund trail
summary and their own verdict, never the others'; the PI sees the audit opinion and
findings (to answer them) and the panel's remarks and deadline after a reconsideration,
never the members' names or votes.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import Role, has_role
from documents.attachments import current_documents, versions_of
from funding.expert_draw import EXCLUSIONS
from funding.services import fund_trail
from funding.states import ProjectStatus
from oversight.models import AcceptanceReview, AuditEngagement
from oversight.panels import (
    cast_verdict,
    current_panel,
    draw_acceptance_panel,
    latest_engagement,
    tally,
)
from oversight.services import answer_findings

from ..forms_panel import FindingsAnswerForm, PanelDrawForm, VerdictForm
from .feedback import FAILED, attempt
from .project_history import sees_everything

# Where the panel has something to show: under acceptance and after it.
ACCEPTANCE_STATES = frozenset(
    {
        ProjectStatus.UNDER_ACCEPTANCE,
        ProjectStatus.RECONSIDERATION,
        ProjectStatus.ACCEPTED,
        ProjectStatus.FAILED,
        ProjectStatus.CLOSED,
    }
)


def acceptance_panel_context(user, project, typed: dict) -> dict:
    """The project page's panel and audit sections (`typed`: a refused form, as typed)."""
    engagement = latest_engagement(project) if project.audits.exists() else None
    panel = current_panel(project) if project.status in ACCEPTANCE_STATES else None
    decider = sees_everything(user)
    is_pi = user.pk == project.pi_id
    is_member = panel is not None and panel.members.filter(pk=user.pk).exists()
    under_acceptance = project.status == ProjectStatus.UNDER_ACCEPTANCE
    counted = tally(project) if panel is not None and (decider or is_member) else None
    own = None
    if is_member and counted is not None:
        own = next((v for v in counted.verdicts if v.member_id == user.pk), None)
    reviews = list(project.acceptances.order_by("pk")) if (decider or is_pi) else []
    last = reviews[-1] if reviews else None
    shows_audit = engagement is not None and bool(engagement.opinion)
    shows_audit = shows_audit and (decider or is_pi or is_member or _audits(user, engagement))
    qualified = shows_audit and engagement.opinion == AuditEngagement.Opinion.QUALIFIED
    answerable = is_pi and qualified and project.status in _ANSWERABLE
    return {
        "panel_section": {
            "shown": decider or is_member or (is_pi and bool(reviews)),
            "decider": decider,
            "panel": panel if (decider or is_member) else None,
            "excluded": _excluded(panel) if decider and panel is not None else [],
            "tally": counted,
            "is_member": is_member,
            "own_verdict": own,
            "verdict_form": (
                typed.get("verdict") or VerdictForm(initial=_initial(own))
                if is_member and under_acceptance
                else None
            ),
            "draw_form": (
                typed.get("panel_draw") or PanelDrawForm()
                if has_role(user, Role.STAFF) and under_acceptance
                else None
            ),
            "reviews": reviews,
            # Until the PI resubmits; afterwards it stays in the list of conclusions.
            "reconsideration": (
                last
                if project.status == ProjectStatus.RECONSIDERATION
                and last is not None
                and last.conclusion == AcceptanceReview.Conclusion.RECONSIDER
                else None
            ),
            "funds": fund_trail(project) if is_member else None,
            "report": getattr(project, "report", None) if is_member else None,
            # The papers the verdict rests on, where it is given (issue 8).
            "papers": acceptance_papers(project) if panel and (decider or is_member) else None,
        },
        "audit_section": {
            "engagement": engagement if shows_audit else None,
            "answer": getattr(engagement, "answer", None) if qualified else None,
            # The report file follows the opinion: whoever sees the opinion may have it.
            "report_file": (
                current_documents(engagement, "audit_report").first() if shows_audit else None
            ),
            "answer_form": (typed.get("findings") or FindingsAnswerForm()) if answerable else None,
        },
    }


_ANSWERABLE = (ProjectStatus.UNDER_ACCEPTANCE, ProjectStatus.RECONSIDERATION)


def acceptance_papers(project) -> dict:
    """The full tech report, every acceptance material the PI filed (each upload a paper
    of its own, newest first) and the signed task contract, as the panel reads them."""
    materials = versions_of(project, "acceptance_material").filter(removed_at__isnull=True)
    return {
        "report_file": current_documents(project, "tech_report").first(),
        "materials": list(materials),
        "signed_contract": current_documents(project, "task_contract_signed").first(),
    }


def _excluded(panel) -> list[tuple[str, int]]:
    """Who the draw left out, by reason (the pool's own words), and how many."""
    return [(EXCLUSIONS.get(key, key), len(ids)) for key, ids in panel.excluded.items() if ids]


def _audits(user, engagement: AuditEngagement) -> bool:
    return has_role(user, Role.AUDITOR) and user.organisation_id == engagement.firm_id


def _initial(verdict) -> dict:
    if verdict is None:
        return {}
    return {
        "task_verdict": "pass" if verdict.task_passed else "fail",
        "finance_verdict": "pass" if verdict.finance_passed else "fail",
        "opinion": verdict.opinion,
    }


def _again(request, pk: int, key: str, form):
    """The page again with the refused form as typed; the refusal is in the messages (the
    form may not be shown any more, e.g. when the project has moved on)."""
    # Imported here: the project view imports this module for its context.
    from .projects import render_project, visible_project

    return render_project(request, visible_project(request, pk), typed={key: form})


@login_required
@require_POST
def draw_panel(request, pk: int):
    from .projects import visible_project

    project = visible_project(request, pk)
    form = PanelDrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please correct the fields below."))
        return _again(request, pk, "panel_draw", form)
    data = form.cleaned_data
    done = attempt(
        request,
        lambda: draw_acceptance_panel(
            project, request.user, data["size"], data["seed"], data["reason"]
        ),
        _("The acceptance panel has been drawn; the seed and the pool are kept with it."),
    )
    if done is FAILED:
        return _again(request, pk, "panel_draw", form)
    return redirect("project", pk=pk)


@login_required
@require_POST
def vote(request, pk: int):
    from .projects import visible_project

    project = visible_project(request, pk)
    form = VerdictForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a task verdict, a finance verdict and your opinion."))
        return _again(request, pk, "verdict", form)
    done = attempt(
        request,
        lambda: cast_verdict(project, request.user, **form.verdict()),
        _("Your verdict has been recorded."),
    )
    if done is FAILED:
        return _again(request, pk, "verdict", form)
    return redirect("project", pk=pk)


@login_required
@require_POST
def answer(request, pk: int):
    from .projects import visible_project

    project = visible_project(request, pk)
    form = FindingsAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write your answer to the findings."))
        return _again(request, pk, "findings", form)
    done = attempt(
        request,
        lambda: answer_findings(project, request.user, form.cleaned_data["answer"]),
        _("Your answer to the audit findings has been recorded."),
    )
    if done is FAILED:
        return _again(request, pk, "findings", form)
    return redirect("project", pk=pk)
