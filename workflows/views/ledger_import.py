"""Importing the expenditure ledger: the upload, and the page of a large import's job."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from funding.import_jobs import LedgerImportJob
from funding.ledger_jobs import may_see_import_job, start_ledger_import

from ..forms import LedgerImportForm
from .projects import funds_as_typed, visible_project

ERRORS_SHOWN = 20  # row problems shown as messages after a small import


@login_required
@require_POST
def import_expenditures(request, pk: int):
    project = visible_project(request, pk)
    form = LedgerImportForm(request.POST, request.FILES)
    # Refused, the fund trail page again (status 200) with the form and why; a browser
    # never refills a file field, so nothing else was typed.
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("file", [])))
        return funds_as_typed(request, project, import_form=form)
    upload = form.cleaned_data["file"]
    try:
        # Handed over open: a large upload waits in a temporary file and is streamed.
        outcome = start_ledger_import(project, request.user, upload, upload.name)
    except PermissionDenied as refused:
        messages.error(request, str(refused) or _("You may not do this."))
        return funds_as_typed(request, project, import_form=form)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        return funds_as_typed(request, project, import_form=form)
    if isinstance(outcome, LedgerImportJob):
        return redirect("ledger-import-job", pk=pk, job_id=outcome.pk)
    messages.success(request, _("The export has been read."))
    for error in outcome.errors[:ERRORS_SHOWN]:
        messages.error(request, error)
    if len(outcome.errors) > ERRORS_SHOWN:
        messages.error(
            request, _("… and %(n)d more rows.") % {"n": len(outcome.errors) - ERRORS_SHOWN}
        )
    if outcome.errors:
        messages.error(request, _("Nothing was imported: correct the file and upload it again."))
        return funds_as_typed(request, project, import_form=form)
    messages.success(
        request,
        _("%(new)d entries imported, %(old)d already there.")
        % {"new": outcome.imported, "old": outcome.already_there},
    )
    for warning in outcome.warnings:  # spending beyond disbursed or budget (issue 9)
        messages.warning(request, warning)
    return redirect("project-funds", pk=pk)


@login_required
def import_job_page(request, pk: int, job_id: int):
    """The job's progress (the page reloads itself while it runs) and its result."""
    project = visible_project(request, pk)
    job = get_object_or_404(
        LedgerImportJob.objects.select_related("project", "started_by"), pk=job_id, project=project
    )
    if not may_see_import_job(request.user, job):
        raise PermissionDenied
    return render(
        request,
        "workflows/ledger_import_job.html",
        {
            "project": project,
            "job": job,
            "more_problems": max(job.problem_count - len(job.problems), 0),
        },
    )
