"""The task contract page (任务书, issue 8): the terms, their PDF, the signed scan's
presence, and the PI's achieved values at acceptance.

Whoever may read the project's application sees the page; staff and the PI edit the terms
while the project is approved and not contracted; the PI reports achieved values while it
runs or awaits acceptance. The rules are in funding.contracts.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from documents.attachments import current_documents
from funding import contracts
from funding.contract_pdf import task_contract_pdf
from oversight.access import sees_application

from ..forms_contract import AchievedForm, ContractTermsForm
from .projects import visible_project

SIGNED_KIND = "task_contract_signed"


def _project(request, pk: int):
    project = visible_project(request, pk)  # 404 for a project the user may not see
    if not sees_application(request.user, project):
        raise Http404
    return project


def _render(request, project, *, terms_form=None, achieved_form=None, status=200):
    contract = contracts.contract_of(project)
    targets = list(contract.targets.all()) if contract else []
    editable = contracts.may_edit_terms(request.user, project)
    if editable and terms_form is None:
        terms_form = ContractTermsForm(initial=contracts.terms_as_text(project))
    reporting = contracts.may_report_achieved(request.user, project)
    if reporting and achieved_form is None:
        achieved_form = AchievedForm(targets=targets)
    context = {
        "project": project,
        "contract": contract,
        "targets": targets,
        "milestones": list(contract.milestones.all()) if contract else [],
        "tranches": list(contract.tranches.select_related("milestone")) if contract else [],
        "terms_form": terms_form if editable else None,
        "achieved_form": achieved_form if reporting else None,
        "signed_scan": current_documents(project, SIGNED_KIND).first(),
    }
    return render(request, "workflows/contract.html", context, status=status)


@login_required
def contract_page(request, pk: int):
    return _render(request, _project(request, pk))


@login_required
@require_POST
def save_terms(request, pk: int):
    project = _project(request, pk)
    if not contracts.may_edit_terms(request.user, project):
        raise PermissionDenied
    form = ContractTermsForm(request.POST)
    if form.is_valid():
        try:
            contracts.save_contract_terms(
                project,
                request.user,
                form.parsed["targets"],
                form.parsed["milestones"],
                form.parsed["schedule"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The task contract's terms are saved."))
            return redirect("contract", pk=project.pk)
    return _render(request, project, terms_form=form, status=400)


@login_required
@require_POST
def report_achieved(request, pk: int):
    project = _project(request, pk)
    if not contracts.may_report_achieved(request.user, project):
        raise PermissionDenied
    contract = contracts.contract_of(project)
    form = AchievedForm(request.POST, targets=contract.targets.all())
    if form.is_valid():
        try:
            contracts.report_achieved(project, request.user, form.values())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The achieved values are recorded."))
            return redirect("contract", pk=project.pk)
    return _render(request, project, achieved_form=form, status=400)


@login_required
def contract_pdf(request, pk: int):
    project = _project(request, pk)
    response = HttpResponse(task_contract_pdf(project), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="task-contract-{project.pk}.pdf"'
    return response
