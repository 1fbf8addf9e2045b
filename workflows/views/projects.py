from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import Role, has_role
from funding.adjustments import (
    adjustment_rows,
    decide_adjustment,
    request_adjustment,
    withdraw_adjustment,
)
from funding.flags import spending_warnings
from funding.models import BudgetAdjustment
from funding.services import (
    EDITABLE_STATES,
    budget_lines_in_order,
    fund_trail,
    record_expenditure,
)
from integrity.models import VetoOverride
from integrity.overrides import overrides_for
from oversight.access import can_see_fund_trail, projects_visible_to, sees_application
from oversight.certificates import revoke
from oversight.models import Certificate, ProgressReport
from oversight.supervision import submit_report
from trail.services import history_of

from ..actions import perform
from ..forms import (
    AdjustmentForm,
    ExpenditureForm,
    LedgerImportForm,
    OverrideForm,
    form_for,
)
from ..forms_notice import objection_section
from ..lifecycle import transition_labels
from ..stepper import action_rows, guidance, offered_transitions
from ..unit_review import unit_section
from . import documents as papers  # a cycle: its views render this page
from .experts import pool_context, title_only_page
from .feedback import FAILED, attempt
from .panel import acceptance_panel_context
from .project_history import history_rows, refusals_shown


def visible_project(request, pk: int):
    return get_object_or_404(
        projects_visible_to(request.user).select_related("applicant_org", "pi", "call"), pk=pk
    )


def render_project(
    request, project, *, failed=None, override_form=None, review_form=None, typed=None
):
    """The project page; a refused form (`failed`: action name and bound form, or the
    override or review form, or `typed` text of the small forms) comes back as typed."""
    if not sees_application(request.user, project):  # an expert before declaring: the title
        return title_only_page(request, project, review_form)
    offered, waiting = offered_transitions(project, request.user)  # only what can succeed
    if failed and failed[0] not in {t.slug for t in offered}:
        # Refused and now waiting (say, for the panel's votes): the form still comes back
        # with what was typed, above the reason, rather than vanishing with it.
        offered += [w.transition for w in waiting if w.transition.slug == failed[0]]
        waiting = [w for w in waiting if w.transition.slug != failed[0]]

    def form(name):
        return failed[1] if failed and failed[0] == name else form_for(name, project)

    events = list(history_of(project))
    return render(
        request,
        "workflows/project.html",
        {
            "project": project,
            "actions": action_rows(offered, project.status, form),
            "waiting_actions": waiting,
            **guidance(project, events),  # the stepper, what happens next, why it came back
            "history": history_rows(events, request.user, transition_labels()),
            "refusals": refusals_shown(events, request.user),
            "budget": budget_lines_in_order(project),
            "team": project.team.all(),
            "certificate": Certificate.objects.filter(project=project).first(),
            "can_see_funds": can_see_fund_trail(request.user, project),
            "can_revoke": has_role(request.user, Role.STAFF),
            "is_staff_user": has_role(request.user, Role.STAFF),
            "is_leader": has_role(request.user, Role.LEADER),
            "overrides": overrides_for(project).exclude(status=VetoOverride.Status.USED),
            # Only staff ask for overrides; the form reads the refusals, so only for them.
            "override_form": override_form
            or (OverrideForm(project=project) if has_role(request.user, Role.STAFF) else None),
            "progress_reports": project.reports_due.all(),
            "can_edit": request.user.pk == project.pi_id and project.status in EDITABLE_STATES,
            "typed": typed or {},
            **acceptance_panel_context(request.user, project, typed or {}),  # panel, audit
            **unit_section(project, events),  # the unit's review (承担单位)
            **objection_section(project, request.user, typed or {}),  # public notice
            **pool_context(request, project, review_form),  # draw, reviews, summary
            **papers.documents_section(request, project, typed or {}),  # issue 8
            **pending_adjustments_section(request.user, project),  # issue 9
        },
    )


@login_required
def project_page(request, pk: int):
    return render_project(request, visible_project(request, pk))


@login_required
@require_POST
def do_action(request, pk: int, name: str):
    project = visible_project(request, pk)
    form = form_for(name, project, request.POST)
    if not form.is_valid():
        messages.error(request, _("Please correct the fields below."))
        return render_project(request, project, failed=(name, form))
    done = attempt(
        request, lambda: perform(project.pk, name, request.user, **form.transition_kwargs())
    )
    if done is FAILED:  # refused: the form comes back as typed, the message says why
        return render_project(request, visible_project(request, pk), failed=(name, form))
    return redirect("project", pk=pk)


@login_required
def funds_page(request, pk: int):
    project = visible_project(request, pk)
    if not can_see_fund_trail(request.user, project):
        raise PermissionDenied
    is_pi = request.user.pk == project.pi_id
    form = ExpenditureForm(request.POST or None) if is_pi else None
    if form is not None and request.method == "POST" and form.is_valid():
        recorded = attempt(
            request,
            lambda: record_expenditure(project, request.user, form.cleaned_data),
            _("The expenditure has been recorded."),
        )
        if recorded is not FAILED:
            # Beyond what was disbursed or budgeted: recorded, with a warning (issue 9).
            for warning in spending_warnings(project):
                messages.warning(request, warning.message)
            return redirect("project-funds", pk=pk)
    return render_funds(request, project, form)


def render_funds(request, project, form, adjustment_form=None, import_form=None):
    """The fund trail page; a refused adjustment (`adjustment_form`) or ledger import
    (`import_form`) comes back as typed."""
    is_pi = request.user.pk == project.pi_id
    trail = fund_trail(project, request.GET.get("page"))  # a page of vouchers, 100 at most
    others = request.GET.copy()
    others.pop("page", None)  # the page links keep the rest of the address
    return render(
        request,
        "workflows/funds.html",
        {
            "project": project,
            "trail": trail,
            "page_query": f"&{others.urlencode()}" if others else "",
            "form": form,
            "adjustment_form": adjustment_form or (AdjustmentForm() if is_pi else None),
            "import_form": (import_form or LedgerImportForm()) if is_pi else None,
            "adjustments": adjustment_rows(project, request.user),
            "can_decide": has_role(request.user, Role.STAFF),
            # The scans of the vouchers shown, in one query (issue 8).
            **papers.voucher_scans_section(request, project, entries=trail["vouchers"]),
        },
    )


@login_required
@require_POST
def submit_progress_report(request, pk: int, report_id: int):
    project = visible_project(request, pk)
    report = get_object_or_404(ProgressReport, pk=report_id, project=project)
    summary = request.POST.get("summary", "")
    done = attempt(
        request,
        lambda: submit_report(report, request.user, summary),
        _("The progress report has been submitted."),
    )
    if done is FAILED:
        typed = {"report": report.pk, "summary": summary}
        return render_project(request, visible_project(request, pk), typed=typed)
    return redirect("project", pk=pk)


def pending_adjustments_section(user, project) -> dict:
    """The project page's pending budget adjustments, for those who keep or see its
    books: the unit officer decides them there, the PI may withdraw them."""
    if not can_see_fund_trail(user, project):
        return {"pending_adjustments": []}
    pending = BudgetAdjustment.Status.PENDING
    return {
        "pending_adjustments": [r for r in adjustment_rows(project, user) if r.status == pending]
    }


@login_required
@require_POST
def request_budget_adjustment(request, pk: int):
    project = visible_project(request, pk)
    form = AdjustmentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose two lines, an amount above zero and a reason."))
        return funds_as_typed(request, project, adjustment_form=form)
    data = form.cleaned_data
    done = attempt(
        request,
        lambda: request_adjustment(
            project,
            request.user,
            data["from_category"],
            data["to_category"],
            data["amount"],
            data["reason"],
        ),
        _("The budget adjustment has been recorded."),
    )
    if done is FAILED:  # refused: the form comes back as typed, the message says why
        return funds_as_typed(request, project, adjustment_form=form)
    return redirect("project-funds", pk=pk)


def funds_as_typed(request, project, *, adjustment_form=None, import_form=None):
    """The fund trail page again after a refused form, that form as typed (status 200: a
    redirect would lose it); the PI keeps the form to record an expenditure."""
    if not can_see_fund_trail(request.user, project):
        raise PermissionDenied
    form = ExpenditureForm() if request.user.pk == project.pi_id else None
    return render_funds(
        request, project, form, adjustment_form=adjustment_form, import_form=import_form
    )


# What the buttons of a pending adjustment send: the unit decides, the PI withdraws.
ADJUSTMENT_ANSWERS = {"approve", "reject", "withdraw"}


@login_required
@require_POST
def decide_budget_adjustment(request, pk: int, adjustment_id: int):
    project = visible_project(request, pk)
    adjustment = get_object_or_404(BudgetAdjustment, pk=adjustment_id, project=project)
    answer = request.POST.get("decision")
    if answer not in ADJUSTMENT_ANSWERS:
        messages.error(request, _("Approve, refuse or withdraw the adjustment."))
    elif answer == "withdraw":
        attempt(
            request,
            lambda: withdraw_adjustment(adjustment, request.user),
            _("The budget adjustment has been withdrawn."),
        )
    else:
        approve = answer == "approve"
        attempt(
            request,
            lambda: decide_adjustment(adjustment, request.user, approve=approve),
            _("The budget adjustment has been approved.")
            if approve
            else _("The budget adjustment has been refused."),
        )
    if request.POST.get("back") == "project":
        return redirect("project", pk=pk)
    if not can_see_fund_trail(request.user, project):
        return redirect("project", pk=pk)
    return redirect("project-funds", pk=pk)


@login_required
@require_POST
def revoke_certificate(request, pk: int):
    project = visible_project(request, pk)
    if not has_role(request.user, Role.STAFF):
        raise PermissionDenied  # a clear 403 here; the service refuses on every path
    certificate = get_object_or_404(Certificate, project=project)
    reason = request.POST.get("reason", "")
    done = attempt(
        request,
        lambda: revoke(certificate, reason, request.user),
        _("The certificate has been revoked."),
    )
    if done is FAILED:
        return render_project(request, visible_project(request, pk), typed={"reason": reason})
    return redirect("project", pk=pk)


@login_required
def certificate_pdf(request, pk: int):
    project = visible_project(request, pk)
    certificate = Certificate.objects.filter(project=project).first()
    if certificate is None or not certificate.pdf:
        raise Http404(_("The certificate is not ready yet."))
    response = HttpResponse(bytes(certificate.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{certificate.serial}.pdf"'
    return response
